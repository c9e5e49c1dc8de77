import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOTH_DRIVERS, type OdbcTarget } from './test-support.js';

const LIMITS = { maxRows: 1000, maxBytes: 1_000_000, timeoutMs: 5000 };

describe.each(BOTH_DRIVERS)('reads over %s', (_name, makeTarget) => {
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

describe.each(BOTH_DRIVERS)('limits over %s', (_name, makeTarget) => {
  let target: OdbcTarget;
  beforeAll(async () => {
    target = await makeTarget();
    await target.admin('CREATE TABLE wide (id INTEGER PRIMARY KEY, body VARCHAR(2000) NOT NULL)');
    await target.admin(
      `INSERT INTO wide (id, body) VALUES ${Array.from({ length: 600 }, (_, i) => `(${i + 1}, '${'x'.repeat(1000)}')`).join(', ')}`,
    );
  });
  afterAll(async () => target.drop());

  const read = (
    adapter: ReturnType<OdbcTarget['adapter']>['adapter'],
    limits: { maxRows: number; maxBytes: number },
  ) =>
    adapter.read({
      sql: 'SELECT id, body FROM wide ORDER BY id',
      params: [],
      limits: { ...limits, timeoutMs: 5000 },
      signal: new AbortController().signal,
    });

  it('stops at maxRows, over several chunks, and the connection serves the next call', async () => {
    const { adapter } = target.adapter({ pool: { max: 1 } });
    const result = await read(adapter, { maxRows: 300, maxBytes: 10_000_000 });
    expect(result.rowCount).toBe(300);
    expect(result.truncated).toBe(true);
    expect(result.truncatedReason).toBe('maxRows');
    expect(result.rows.at(-1)?.[0]).toBe(300);
    // The one connection: its cursor was closed before this read ran.
    const next = await read(adapter, { maxRows: 2, maxBytes: 10_000_000 });
    expect(next.rows.map((r) => r[0])).toEqual([1, 2]);
  });

  it('takes from the worker no more rows than the budget asks for (and one to see the cut)', async () => {
    const { adapter, host } = target.adapter();
    let received = 0;
    const start = host.read.bind(host);
    host.read = (request) => {
      const stream = start(request);
      const count = (chunk: Awaited<typeof stream.first>) => {
        received += chunk.rows.length;
        return chunk;
      };
      return {
        first: stream.first.then(count),
        more: (want) => stream.more(want).then(count),
        stop: () => stream.stop(),
      };
    };
    const result = await read(adapter, { maxRows: 7, maxBytes: 10_000_000 });
    expect(result.rowCount).toBe(7);
    expect(result.truncatedReason).toBe('maxRows');
    expect(received).toBe(8);
  });

  it('never hands the server a row that would pass maxBytes, whatever its size', async () => {
    const { adapter, host } = target.adapter();
    const sizes: number[] = [];
    const start = host.read.bind(host);
    host.read = (request) => {
      const stream = start(request);
      const count = (chunk: Awaited<typeof stream.first>) => {
        sizes.push(...chunk.rows.map((row) => JSON.stringify(row).length));
        return chunk;
      };
      return {
        first: stream.first.then(count),
        more: (want) => stream.more(want).then(count),
        stop: () => stream.stop(),
      };
    };
    const result = await adapter.read({
      sql: "SELECT 1 AS n, 'small' AS v UNION ALL SELECT 2, repeat('x', 2000000) ORDER BY n",
      params: [],
      limits: { maxRows: 10, maxBytes: 10_000, timeoutMs: 5000 },
      signal: new AbortController().signal,
    });
    expect(result.rows).toEqual([[1, 'small']]);
    expect(result.truncatedReason).toBe('maxBytes');
    // The 2 MB value stayed in the worker.
    expect(sizes).toEqual([11]);
  });

  it('stops at maxBytes without keeping the row that passes it', async () => {
    const { adapter } = target.adapter();
    const result = await read(adapter, { maxRows: 1000, maxBytes: 10_500 });
    expect(result.truncated).toBe(true);
    expect(result.truncatedReason).toBe('maxBytes');
    expect(result.rowCount).toBe(10);
  });

  it('reads a whole result that fits, across chunks', async () => {
    const { adapter } = target.adapter();
    const result = await read(adapter, { maxRows: 600, maxBytes: 10_000_000 });
    expect(result.rowCount).toBe(600);
    expect(result.truncated).toBe(false);
  });
});
