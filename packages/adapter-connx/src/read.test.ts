import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mariadbTarget, type OdbcTarget, postgresTarget } from './test-support.js';

const LIMITS = { maxRows: 1000, maxBytes: 1_000_000, timeoutMs: 5000 };

describe.each([
  ['psqlODBC', postgresTarget],
  ['MariaDB ODBC', mariadbTarget],
])('reads over %s', (_name, makeTarget) => {
  let target: OdbcTarget;
  beforeAll(async () => {
    target = await makeTarget();
    await target.admin('CREATE TABLE items (id INTEGER PRIMARY KEY, label VARCHAR(40) NOT NULL)');
    await target.admin(
      `INSERT INTO items (id, label) VALUES ${Array.from({ length: 50 }, (_, i) => `(${i + 1}, 'item ${i + 1}')`).join(', ')}`,
    );
  });
  afterAll(async () => target.drop());

  it('reads every row, with parameters, in the worker', async () => {
    const { adapter, host } = target.adapter();
    const result = await adapter.read({
      sql: 'SELECT id, label FROM items WHERE id > ? ORDER BY id',
      params: [10],
      limits: LIMITS,
      signal: new AbortController().signal,
    });
    expect(result.rowCount).toBe(40);
    expect(result.rows[0]).toEqual([11, 'item 11']);
    expect(result.truncated).toBe(false);
    expect(result.columns.map((c) => c.name)).toEqual(['id', 'label']);
    expect(host.pid).toBeTypeOf('number');
    expect(host.pid).not.toBe(process.pid);
  });
});
