/** Writes: commit, dry run, ceiling, rollback, binding. (conformance suite, docs/conformance.md) */
import type { DatabaseAdapter, WriteRequest } from '@sqlwarden/core';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ATTACKS,
  type ConformanceContext,
  codeOf,
  LIMITS,
  LITERAL_CANARY,
  marker,
  outcomeOf,
  PARAM_CANARY,
  signal,
} from './context.js';

export function describeWrites(ctx: ConformanceContext): void {
  const { target, p, attempt, adminCount, makeAdapter, settled, started } = ctx;
  describe('writes', () => {
    const write = (on: DatabaseAdapter, request: Partial<WriteRequest> & { sql: string }) =>
      on.write({
        params: [],
        maxAffectedRows: 100,
        timeoutMs: LIMITS.timeoutMs,
        signal: signal(),
        dryRun: false,
        ...request,
      });
    const values = async () =>
      (await ctx.ns.exec('SELECT id, v FROM cf_writes ORDER BY id')).map((row) => row.map(Number));
    const initial = [
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [5, 0],
    ];

    beforeEach(async () => {
      await ctx.ns.exec('DELETE FROM cf_writes');
      await ctx.ns.exec(
        'INSERT INTO cf_writes (id, v) VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0)',
      );
    });

    // Holds for every ctx.adapter, write() implemented or not.
    it('refuses every write with READ_ONLY when the source does not allow writes, and nothing changes', async () => {
      expect(await codeOf(write(ctx.adapter, { sql: 'UPDATE cf_writes SET v = 1' }))).toBe(
        'READ_ONLY',
      );
      expect(
        await codeOf(write(ctx.adapter, { sql: 'UPDATE cf_writes SET v = 1', dryRun: true })),
      ).toBe('READ_ONLY');
      expect(await values()).toEqual(initial);
    });

    describe.skipIf(!ctx.supportsWrites)('with writes allowed', () => {
      let writer: DatabaseAdapter;
      beforeAll(async () => {
        writer = await makeAdapter({ allowWrites: true });
      });

      it('commits a write and reports the affected rows', async () => {
        const result = await write(writer, {
          sql: `UPDATE cf_writes SET v = v + 1 WHERE id <= ${p(1)}`,
          params: [2],
        });
        expect(result).toEqual({ affectedRows: 2, committed: true });
        expect(await values()).toEqual([
          [1, 1],
          [2, 1],
          [3, 0],
          [4, 0],
          [5, 0],
        ]);
      });

      it('counts and rolls back a dry run', async () => {
        const result = await write(writer, {
          sql: 'DELETE FROM cf_writes WHERE id >= 4',
          dryRun: true,
        });
        expect(result).toEqual({ affectedRows: 2, committed: false });
        expect(await values()).toEqual(initial);
      });

      it('allows exactly maxAffectedRows rows', async () => {
        const result = await write(writer, {
          sql: 'UPDATE cf_writes SET v = 7',
          maxAffectedRows: 5,
        });
        expect(result).toEqual({ affectedRows: 5, committed: true });
      });

      it('rolls back a write over maxAffectedRows with WRITE_LIMIT_EXCEEDED, and nothing changes', async () => {
        expect(
          await codeOf(write(writer, { sql: 'UPDATE cf_writes SET v = 9', maxAffectedRows: 3 })),
        ).toBe('WRITE_LIMIT_EXCEEDED');
        expect(
          await outcomeOf(write(writer, { sql: 'DELETE FROM cf_writes', maxAffectedRows: 4 })),
        ).toEqual({
          code: 'WRITE_LIMIT_EXCEEDED',
          message:
            'The statement would change 5 rows, more than the limit of 4; nothing was changed. Narrow the WHERE clause.',
        });
        expect(await values()).toEqual(initial);
      });

      it('leaves nothing half-applied when a write fails part-way', async () => {
        const code = await codeOf(
          write(writer, { sql: 'INSERT INTO cf_writes (id, v) VALUES (10, 0), (1, 0)' }),
        );
        expect(code).toBe('QUERY_FAILED');
        expect(await values()).toEqual(initial);
      });

      it('binds write parameters: an injection is stored as text', async () => {
        const attack = ATTACKS[0];
        const result = await write(writer, {
          sql: `INSERT INTO cf_writes (id, v, note) VALUES (${p(1)}, ${p(2)}, ${p(3)})`,
          params: [6, 0, attack],
        });
        expect(result).toEqual({ affectedRows: 1, committed: true });
        expect(await ctx.ns.exec(`SELECT note FROM cf_writes WHERE id = ${p(1)}`, [6])).toEqual([
          [attack],
        ]);
        expect(await adminCount('cf_victim')).toBe(1);
      });

      it('refuses stacked statements sent straight to write() and runs none of them', async () => {
        const code = await codeOf(
          write(writer, { sql: 'UPDATE cf_writes SET v = 1; DROP TABLE cf_victim' }),
        );
        expect(code).not.toBe('ok');
        expect(code).not.toMatch(/^not a SqlwardenError/);
        expect(await values()).toEqual(initial);
        expect(await adminCount('cf_victim')).toBe(1);
      });

      it('says a write divides by zero, and nothing changes', async () => {
        expect(
          await outcomeOf(write(writer, { sql: 'INSERT INTO cf_writes (id, v) VALUES (50, 1/0)' })),
        ).toEqual({
          code: 'QUERY_FAILED',
          message:
            'The statement divides by zero: guard the divisor, for example with NULLIF(x, 0).',
        });
        expect(await values()).toEqual(initial);
      });

      it('never echoes the value of a parameter or a literal that the column refused', async () => {
        const cases: Array<[string, unknown[]]> = [
          [`INSERT INTO cf_writes (id, v) VALUES (${p(1)}, ${p(2)})`, [51, PARAM_CANARY]],
          [`INSERT INTO cf_writes (id, v) VALUES (52, '${LITERAL_CANARY}')`, []],
          [`UPDATE cf_writes SET v = ${p(1)} WHERE id = 1`, [PARAM_CANARY]],
          [`INSERT INTO cf_writes (id, v, note) VALUES (1, 0, ${p(1)})`, [PARAM_CANARY]],
        ];
        for (const [sql, params] of cases) {
          const outcome = await outcomeOf(write(writer, { sql, params }));
          expect(outcome.code, sql).toBe('QUERY_FAILED');
          expect(outcome.message.toLowerCase(), sql).not.toContain('canary');
        }
        expect(await values()).toEqual(initial);
      });

      it('leaves the connection clean after a failed write: the next write on it commits its own row only', async () => {
        const single = await makeAdapter({ allowWrites: true, poolSize: 1 });
        expect(
          await codeOf(
            write(single, { sql: 'INSERT INTO cf_writes (id, v) VALUES (10, 0), (1, 0)' }),
          ),
        ).toBe('QUERY_FAILED');
        expect(
          await write(single, { sql: 'INSERT INTO cf_writes (id, v) VALUES (11, 0)' }),
        ).toEqual({ affectedRows: 1, committed: true });
        expect(await values()).toEqual([...initial, [11, 0]]);
      });

      describe('a write that runs too long', () => {
        // The target's heavy query as a condition: a write that computes for minutes.
        const slowWrite = (mark: string) =>
          `UPDATE cf_writes SET v = 99 WHERE id = 1 AND 0 < (${target.heavyQuery(mark)})`;

        it('ends with QUERY_TIMEOUT past its time limit, commits nothing and leaves nothing running', async () => {
          const mark = marker('write_timeout');
          expect(await codeOf(write(writer, { sql: slowWrite(mark), timeoutMs: 1000 }))).toBe(
            'QUERY_TIMEOUT',
          );
          expect(await settled(mark), 'the statement left the server').toBe(true);
          expect(await values()).toEqual(initial);
        });

        it('ends with QUERY_CANCELLED when the call is aborted, commits nothing and leaves nothing running', async () => {
          const mark = marker('write_abort');
          const controller = new AbortController();
          const pending = codeOf(
            write(writer, { sql: slowWrite(mark), signal: controller.signal }),
          );
          expect(await started(mark), 'the statement reached the server').toBe(true);
          controller.abort();
          expect(await pending).toBe('QUERY_CANCELLED');
          expect(await settled(mark), 'the statement left the server').toBe(true);
          expect(await values()).toEqual(initial);
        });
      });

      it('still reads in read-only sessions on a write-enabled source', async () => {
        await write(writer, { sql: 'UPDATE cf_writes SET v = 2 WHERE id = 1' });
        expect(
          await attempt(
            "INSERT INTO cf_victim (id, label) VALUES (3, 'leak')",
            [],
            {},
            {
              on: writer,
            },
          ),
        ).toBe('READ_ONLY');
        expect(await adminCount('cf_victim')).toBe(1);
      });
    });
  });
}
