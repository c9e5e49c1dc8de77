import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mariadbTarget, type OdbcTarget, postgresTarget } from './test-support.js';
import { plainDecimal } from './values.js';

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

  it('right-trims fixed-width CHAR values when the source says trimChar, and nothing else', async () => {
    const result = await target.adapter({ connection: { trimChar: true } }).adapter.read({
      sql: "SELECT c, CAST('x  ' AS varchar(5)) AS v FROM v ORDER BY i DESC",
      params: [],
      limits: { maxRows: 100, maxBytes: 1_000_000, timeoutMs: 5000 },
      signal: new AbortController().signal,
    });
    expect(result.rows).toEqual([
      ['ab', 'x  '],
      ['abcde', 'x  '],
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

describe.each([
  ['psqlODBC', postgresTarget, 'numeric'],
  ['MariaDB ODBC', mariadbTarget, 'decimal'],
])('decimals past 15 digits over %s', (name, makeTarget, type) => {
  let target: OdbcTarget;
  beforeAll(async () => {
    target = await makeTarget();
    await target.admin(`CREATE TABLE money (id int, m ${type}(30,4), s ${type}(10,2))`);
    await target.admin(
      'INSERT INTO money VALUES (1, 12.5, 0.1), (2, 123456789012345678.1234, 99999999.99), (3, 1e21, -0.05)',
    );
  });
  afterAll(async () => target.drop());

  const codeAndMessage = async (sql: string) => {
    try {
      await read(target, sql);
      return 'ok';
    } catch (error) {
      return `${(error as { code?: string }).code}: ${(error as Error).message}`;
    }
  };

  it('sends exact text where a double keeps every digit, padded to the scale', async () => {
    const result = await read(target, 'SELECT m, s FROM money WHERE id IN (1, 3) ORDER BY id');
    expect(result.rows).toEqual([
      ['12.5000', '0.10'],
      ['1000000000000000000000.0000', '-0.05'],
    ]);
  });

  it('refuses a decimal whose double lost digits, naming the column and the way out', async () => {
    const refused = await codeAndMessage('SELECT id, m AS amount FROM money WHERE id = 2');
    expect(refused).toMatch(/^QUERY_FAILED: Column "amount" holds a decimal of more than 15/);
    expect(refused).toContain('CAST(amount AS VARCHAR(40))');
    expect(refused).not.toContain('123456789');
    // The way out the message gives works, and the text is exact.
    const cast = await read(target, 'SELECT CAST(m AS CHAR(40)) AS m FROM money WHERE id = 2');
    expect(String(cast.rows[0]?.[0]).trim()).toBe('123456789012345678.1234');
  });

  it('sends a numeric without declared precision as its text on psqlODBC (NumericAs), and refuses it where it arrives as a double', async () => {
    const sql = 'SELECT 12345678901234567890.123456789 AS a, sum(m) AS total FROM money';
    if (name === 'psqlODBC') {
      expect((await read(target, sql)).rows).toEqual([
        ['12345678901234567890.123456789', '1000123456789012345690.6234'],
      ]);
    } else {
      // MariaDB ODBC has no such option: the sum's double lost digits.
      expect(await codeAndMessage(sql)).toMatch(/^QUERY_FAILED: Column "a" holds a decimal/);
    }
  });
});

describe('plainDecimal', () => {
  it('is the shortest text of the double, without exponent, for generated values', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20_000; i++) {
      const value = (random() - 0.5) * 10 ** Math.floor(random() * 50 - 25);
      const { text, digits } = plainDecimal(value);
      expect(text).toMatch(/^-?\d+(\.\d+)?$/);
      expect(Number(text)).toBe(value);
      // Significant digits of JavaScript's own shortest text: no leading or trailing zeros.
      const shortest = String(Math.abs(value)).replace(/e.*$/, '').replace('.', '');
      expect(digits).toBe(shortest.replace(/^0+/, '').replace(/0+$/, '').length || 1);
    }
    expect(plainDecimal(1e21)).toEqual({ text: '1000000000000000000000', digits: 1 });
    expect(plainDecimal(-0.000125)).toEqual({ text: '-0.000125', digits: 3 });
    expect(plainDecimal(0)).toEqual({ text: '0', digits: 1 });
  });
});
