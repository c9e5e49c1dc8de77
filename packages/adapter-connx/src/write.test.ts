import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOTH_DRIVERS, codeOf, type OdbcTarget } from './test-support.js';

/** One write request with the defaults a tool would give it. */
function request(sql: string, params: unknown[] = [], overrides: Record<string, unknown> = {}) {
  return {
    sql,
    params,
    maxAffectedRows: 100,
    timeoutMs: 5000,
    signal: new AbortController().signal,
    dryRun: false,
    ...overrides,
  };
}

describe.each(BOTH_DRIVERS)('writes over %s', (_name, makeTarget) => {
  let target: OdbcTarget;
  const labels = async () =>
    (await target.admin('SELECT id, label FROM items ORDER BY id')).map((row) => {
      const r = row as { id: number | string; label: string };
      return `${Number(r.id)}:${r.label}`;
    });

  beforeAll(async () => {
    target = await makeTarget();
    await target.admin(
      'CREATE TABLE items (id INTEGER PRIMARY KEY, label VARCHAR(40) NOT NULL UNIQUE)',
    );
  });
  afterAll(async () => target.drop());

  it('commits one INSERT, UPDATE and DELETE, each in a transaction of its own', async () => {
    await target.admin('DELETE FROM items');
    const { adapter } = target.adapter({ allowWrites: true });
    expect(
      await adapter.write(
        request('INSERT INTO items (id, label) VALUES (?, ?), (?, ?)', [1, 'a', 2, 'b']),
      ),
    ).toEqual({ affectedRows: 2, committed: true });
    expect(
      await adapter.write(request('UPDATE items SET label = ? WHERE id = ?', ['c', 2])),
    ).toEqual({ affectedRows: 1, committed: true });
    expect(await adapter.write(request('DELETE FROM items WHERE id = ?', [1]))).toEqual({
      affectedRows: 1,
      committed: true,
    });
    expect(await labels()).toEqual(['2:c']);
  });

  it('counts a dry run and rolls it back', async () => {
    await target.admin('DELETE FROM items');
    await target.admin("INSERT INTO items VALUES (1, 'a'), (2, 'b')");
    const { adapter } = target.adapter({ allowWrites: true });
    expect(
      await adapter.write(request('DELETE FROM items WHERE id > ?', [0], { dryRun: true })),
    ).toEqual({ affectedRows: 2, committed: false });
    expect(await labels()).toEqual(['1:a', '2:b']);
  });

  it('rolls back a write past its ceiling: WRITE_LIMIT_EXCEEDED, nothing changed', async () => {
    await target.admin('DELETE FROM items');
    await target.admin("INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    const { adapter } = target.adapter({ allowWrites: true });
    expect(
      await codeOf(
        adapter.write(
          request("UPDATE items SET label = CONCAT(label, 'x')", [], { maxAffectedRows: 2 }),
        ),
      ),
    ).toBe('WRITE_LIMIT_EXCEEDED');
    expect(await labels()).toEqual(['1:a', '2:b', '3:c']);
    // The connection is clean after the rollback: the next write commits alone.
    expect(await adapter.write(request("UPDATE items SET label = 'z' WHERE id = 3"))).toEqual({
      affectedRows: 1,
      committed: true,
    });
    expect(await labels()).toEqual(['1:a', '2:b', '3:z']);
  });

  it('rolls back a failing write and keeps the session read-only for reads', async () => {
    await target.admin('DELETE FROM items');
    await target.admin("INSERT INTO items VALUES (1, 'a')");
    const { adapter } = target.adapter({
      allowWrites: true,
      pool: { max: 1, connectionTimeoutMs: 5000 },
    });
    expect(
      await codeOf(adapter.write(request('INSERT INTO items (id, label) VALUES (?, ?)', [2, 'a']))),
    ).toBe('QUERY_FAILED');
    expect(await labels()).toEqual(['1:a']);
    // The one connection wrote: its session is read-only again for a read.
    expect(
      await codeOf(
        adapter.read({
          sql: "INSERT INTO items (id, label) VALUES (9, 'sneaked')",
          params: [],
          limits: { maxRows: 10, maxBytes: 100_000, timeoutMs: 5000 },
          signal: new AbortController().signal,
        }),
      ),
    ).toBe('READ_ONLY');
    expect(await labels()).toEqual(['1:a']);
  });

  it('refuses every write on a source without allowWrites, before the database', async () => {
    await target.admin('DELETE FROM items');
    const { adapter } = target.adapter();
    expect(await codeOf(adapter.write(request("INSERT INTO items VALUES (1, 'a')")))).toBe(
      'READ_ONLY',
    );
    expect(await labels()).toEqual([]);
  });
});
