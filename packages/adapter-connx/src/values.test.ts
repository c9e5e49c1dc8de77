import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mariadbTarget, type OdbcTarget, postgresTarget } from './test-support.js';

const read = (target: OdbcTarget, sql: string) =>
  target.adapter().adapter.read({
    sql,
    params: [],
    limits: { maxRows: 100, maxBytes: 1_000_000, timeoutMs: 5000 },
    signal: new AbortController().signal,
  });

describe('values over psqlODBC', () => {
  let target: OdbcTarget;
  beforeAll(async () => {
    target = await postgresTarget();
    await target.admin(
      `CREATE TABLE v (n numeric(12,3), b bigint, t timestamp(6), f boolean, c char(5), d date, y bytea, r double precision, i integer, z integer)`,
    );
    await target.admin(
      `INSERT INTO v VALUES (123456789.125, 9007199254740993, '2024-01-02 03:04:05.123456', true, 'ab', '2024-02-29', '\\xdeadbeef', 1.5, 42, NULL), (-0.5, -1, '2024-01-02 03:04:05', false, 'abcde', '2024-01-01', '\\x', -2.25, -7, NULL)`,
    );
  });
  afterAll(async () => target.drop());

  it('maps every value to the cross-adapter contract', async () => {
    const result = await read(target, 'SELECT n, b, t, f, c, d, y, r, i, z FROM v ORDER BY i DESC');
    expect(result.rows).toEqual([
      [
        '123456789.125',
        '9007199254740993',
        '2024-01-02 03:04:05.123456',
        true,
        'ab   ',
        '2024-02-29',
        '\\xdeadbeef',
        1.5,
        42,
        null,
      ],
      ['-0.500', '-1', '2024-01-02 03:04:05', false, 'abcde', '2024-01-01', '\\x', -2.25, -7, null],
    ]);
  });
});

describe('values over MariaDB ODBC', () => {
  let target: OdbcTarget;
  beforeAll(async () => {
    target = await mariadbTarget();
    await target.admin(
      `CREATE TABLE v (n decimal(12,3), b bigint, t datetime(6), c char(5), d date, y varbinary(8), r double, i int, z int)`,
    );
    await target.admin(
      `INSERT INTO v VALUES (123456789.125, 9007199254740993, '2024-01-02 03:04:05.123456', 'ab', '2024-02-29', x'deadbeef', 1.5, 42, NULL), (-0.5, -1, '2024-01-02 03:04:05', 'abcde', '2024-01-01', x'', -2.25, -7, NULL)`,
    );
  });
  afterAll(async () => target.drop());

  it('maps every value to the cross-adapter contract', async () => {
    const result = await read(target, 'SELECT n, b, t, c, d, y, r, i, z FROM v ORDER BY i DESC');
    expect(result.rows).toEqual([
      [
        '123456789.125',
        '9007199254740993',
        '2024-01-02 03:04:05.123456',
        'ab',
        '2024-02-29',
        '\\xdeadbeef',
        1.5,
        42,
        null,
      ],
      ['-0.500', '-1', '2024-01-02 03:04:05', 'abcde', '2024-01-01', '\\x', -2.25, -7, null],
    ]);
  });
});
