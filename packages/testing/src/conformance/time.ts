/** Time limits, cancellation, connection loss, and closing. (conformance suite, docs/conformance.md) */
import { describe, expect, it } from 'vitest';
import {
  type ConformanceContext,
  codeOf,
  eventually,
  FIXTURE_TABLES,
  LIMITS,
  marker,
  POOL_SIZE,
  START_MS,
  signal,
} from './context.js';

export function describeTimeAndCancellation(ctx: ConformanceContext): void {
  const { target, p, read, attempt, running, settled, started, makeAdapter } = ctx;
  describe('time limits, cancellation, connection loss', () => {
    it('ends a statement past its time limit with QUERY_TIMEOUT and leaves nothing running', async () => {
      const mark = marker('timeout');
      expect(await attempt(target.heavyQuery(mark), [], { timeoutMs: 1000 })).toBe('QUERY_TIMEOUT');
      expect(await settled(mark), 'the statement left the server').toBe(true);
      expect((await read('SELECT id FROM cf_parent ORDER BY id')).rows).toEqual([[1], [2]]);
    });

    it("never lets a call raise the source's statement timeout", async () => {
      const strict = await makeAdapter({ statementTimeoutMs: 1000 });
      const mark = marker('ceiling');
      expect(
        await attempt(target.heavyQuery(mark), [], { timeoutMs: 60_000 }, { on: strict }),
      ).toBe('QUERY_TIMEOUT');
      expect(await settled(mark), 'the statement left the server').toBe(true);
    });

    it('ends a call whose signal is aborted mid-query with QUERY_CANCELLED and leaves nothing running', async () => {
      const mark = marker('abort');
      const controller = new AbortController();
      const pending = attempt(target.heavyQuery(mark), [], {}, { signal: controller.signal });
      expect(await started(mark), 'the statement reached the server').toBe(true);
      controller.abort();
      expect(await pending).toBe('QUERY_CANCELLED');
      expect(await settled(mark), 'the statement left the server').toBe(true);
      expect((await read('SELECT id FROM cf_parent ORDER BY id')).rows).toEqual([[1], [2]]);
    });

    it('answers SOURCE_BUSY with retryAfterMs when every connection stays busy, and no outage', async () => {
      const small = await makeAdapter({ poolSize: 1, acquireTimeoutMs: 300 });
      // Its one connection open first: on a loaded machine opening one can
      // take longer than the 300 ms this pool allows (an outage, not the point).
      const open = async () =>
        (await attempt('SELECT id FROM cf_parent', [], {}, { on: small })) === 'ok';
      expect(await eventually(open, START_MS), 'the pool opened its connection').toBe(true);
      const mark = marker('busy');
      const controller = new AbortController();
      const holding = attempt(
        target.heavyQuery(mark),
        [],
        {},
        { signal: controller.signal, on: small },
      );
      expect(await started(mark), 'the statement reached the server').toBe(true);
      const error = await small
        .read({
          sql: 'SELECT id FROM cf_parent',
          params: [],
          limits: LIMITS,
          signal: new AbortController().signal,
        })
        .then(
          () => undefined,
          (caught: unknown) => caught as { code?: string; retryAfterMs?: number },
        );
      expect(error?.code).toBe('SOURCE_BUSY');
      expect(error?.retryAfterMs).toBeGreaterThan(0);
      controller.abort();
      expect(await holding).toBe('QUERY_CANCELLED');
      expect(await attempt('SELECT id FROM cf_parent', [], {}, { on: small })).toBe('ok');
    });

    it('does not run a read whose signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      const mark = marker('preabort');
      expect(await attempt(target.heavyQuery(mark), [], {}, { signal: controller.signal })).toBe(
        'QUERY_CANCELLED',
      );
      expect(await running(mark)).toBe(0);
    });

    it('reports DB_UNAVAILABLE when the session of a running read is killed, and the next read succeeds', async () => {
      const mark = marker('kill');
      const pending = attempt(target.heavyQuery(mark));
      expect(await started(mark), 'the statement reached the server').toBe(true);
      expect(await target.killSession(ctx.ns, mark)).toBeGreaterThanOrEqual(1);
      expect(await pending).toBe('DB_UNAVAILABLE');
      expect(await settled(mark)).toBe(true);
      expect((await read('SELECT id FROM cf_parent ORDER BY id')).rows).toEqual([[1], [2]]);
    });

    it('still answers afterwards: health is ok and parallel reads past the pool size all succeed', async () => {
      expect(await ctx.adapter.health()).toMatchObject({ ok: true });
      const results = await Promise.all(
        Array.from({ length: POOL_SIZE * 3 }, (_, i) =>
          read(`SELECT id FROM cf_many WHERE id = ${p(1)}`, [i + 1]),
        ),
      );
      expect(results.map((r) => r.rows)).toEqual(
        Array.from({ length: POOL_SIZE * 3 }, (_, i) => [[i + 1]]),
      );
      const tables = await ctx.adapter.listTables({ schemas: [ctx.ns.name], signal: signal() });
      expect(tables.length).toBe(FIXTURE_TABLES.length + 3);
    });
  });

  describe('closing', () => {
    it('is idempotent, and a closed adapter answers DB_UNAVAILABLE', async () => {
      const closing = await makeAdapter();
      expect((await read('SELECT id FROM cf_victim', [], {}, closing)).rows).toEqual([[1]]);
      await closing.close();
      await closing.close();
      expect(await attempt('SELECT id FROM cf_victim', [], {}, { on: closing })).toBe(
        'DB_UNAVAILABLE',
      );
      expect(await codeOf(closing.listTables({ schemas: [ctx.ns.name], signal: signal() }))).toBe(
        'DB_UNAVAILABLE',
      );
      expect(
        await codeOf(
          closing.describeTable({
            table: { schema: ctx.ns.name, name: 'cf_parent' },
            signal: signal(),
          }),
        ),
      ).toBe('DB_UNAVAILABLE');
      expect(await closing.health()).toMatchObject({ ok: false });
    });
  });
}
