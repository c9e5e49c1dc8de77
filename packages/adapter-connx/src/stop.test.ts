import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOTH_DRIVERS, codeOf, eventually, type OdbcTarget, SLOW } from './test-support.js';

describe.each(BOTH_DRIVERS)('stopping a statement over %s', (_name, makeTarget) => {
  let target: OdbcTarget;
  beforeAll(async () => {
    target = await makeTarget();
  });
  afterAll(async () => target.drop());

  it('a statement past its time limit gets QUERY_TIMEOUT and ends on the server', async () => {
    const { adapter } = target.adapter();
    const marker = `timeout_${Date.now()}`;
    const started = Date.now();
    const failure = adapter.read({
      sql: SLOW[target.profile](marker),
      params: [],
      limits: { maxRows: 10, maxBytes: 10_000, timeoutMs: 1000 },
      signal: new AbortController().signal,
    });
    expect(await codeOf(failure)).toBe('QUERY_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(4000);
    expect(await eventually(async () => (await target.running(marker)) === 0)).toBe(true);
  });

  it("the client's cancel gets QUERY_CANCELLED and ends the statement on the server", async () => {
    const { adapter } = target.adapter();
    const marker = `cancel_${Date.now()}`;
    const controller = new AbortController();
    const call = codeOf(
      adapter.read({
        sql: SLOW[target.profile](marker),
        params: [],
        limits: { maxRows: 10, maxBytes: 10_000, timeoutMs: 5000 },
        signal: controller.signal,
      }),
    );
    expect(await eventually(async () => (await target.running(marker)) === 1)).toBe(true);
    controller.abort();
    expect(await call).toBe('QUERY_CANCELLED');
    expect(await eventually(async () => (await target.running(marker)) === 0)).toBe(true);
    // The source still serves.
    const next = await adapter.read({
      sql: 'SELECT 1',
      params: [],
      limits: { maxRows: 10, maxBytes: 10_000, timeoutMs: 5000 },
      signal: new AbortController().signal,
    });
    expect(next.rows).toEqual([[1]]);
  });
});

describe.each(BOTH_DRIVERS)('sessions ended by the server, over %s', (_name, makeTarget) => {
  let target: OdbcTarget;
  beforeAll(async () => {
    target = await makeTarget();
  });
  afterAll(async () => target.drop());

  const KILL = {
    postgres: (marker: string) =>
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND pid <> pg_backend_pid()`,
    mariadb: async (marker: string) => {
      const rows = (await target.admin(
        `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE INFO LIKE '%${marker}%' AND ID <> CONNECTION_ID()`,
      )) as Array<{ id: number }>;
      for (const row of rows) await target.admin(`KILL ${Number(row.id)}`);
    },
  };

  it('a read whose session is killed gets DB_UNAVAILABLE, a write in the session READ_ONLY, and the source still serves', async () => {
    const { adapter } = target.adapter({ pool: { max: 1 } });
    const marker = `killed_${Date.now()}`;
    const call = codeOf(
      adapter.read({
        sql: SLOW[target.profile](marker),
        params: [],
        limits: { maxRows: 10, maxBytes: 10_000, timeoutMs: 5000 },
        signal: new AbortController().signal,
      }),
    );
    expect(await eventually(async () => (await target.running(marker)) === 1)).toBe(true);
    if (target.profile === 'postgres') await target.admin(KILL.postgres(marker));
    else await KILL.mariadb(marker);
    expect(await call).toBe('DB_UNAVAILABLE');
    const read = (sql: string) =>
      adapter.read({
        sql,
        params: [],
        limits: { maxRows: 10, maxBytes: 10_000, timeoutMs: 5000 },
        signal: new AbortController().signal,
      });
    // The dead connection was discarded: the one connection of the pool is a new one.
    expect((await read('SELECT 1')).rows).toEqual([[1]]);
    expect((await adapter.health()).ok).toBe(true);
    await target.admin('CREATE TABLE t (id INTEGER)');
    expect(await codeOf(read('INSERT INTO t VALUES (1)'))).toBe('READ_ONLY');
    expect(await target.admin('SELECT count(*) AS n FROM t')).toEqual([
      target.profile === 'postgres' ? { n: '0' } : { n: 0 },
    ]);
  });
});
