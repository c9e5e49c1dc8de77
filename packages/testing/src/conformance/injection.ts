/** Injection: bound parameters, quoted names, stacked statements, writes sent to read(). (conformance suite, docs/conformance.md) */
import { describe, expect, it } from 'vitest';
import {
  APOSTROPHE_TABLE,
  ATTACKS,
  type ConformanceContext,
  SPACE_TABLE,
  signal,
} from './context.js';

export function describeInjection(ctx: ConformanceContext): void {
  const { target, q, p, read, attempt, adminCount } = ctx;
  describe('injection', () => {
    it('binds a parameter holding a quote: it matches the row with that value', async () => {
      const result = await read(`SELECT id FROM cf_parent WHERE code = ${p(1)}`, ["o'brien"]);
      expect(result.rows).toEqual([[2]]);
    });

    it("binds a parameter that is an injection ('; DROP TABLE ...): no rows, and the table keeps its rows", async () => {
      for (const attack of ATTACKS) {
        const result = await read(`SELECT id FROM cf_victim WHERE label = ${p(1)}`, [attack]);
        expect(result.rows, attack).toEqual([]);
      }
      expect(await adminCount('cf_victim')).toBe(1);
      expect((await read('SELECT id, label FROM cf_victim')).rows).toEqual([[1, 'keep']]);
    });

    it('reads tables whose names hold a quote, an apostrophe or a space through quoted identifiers', async () => {
      for (const name of [target.fixture.quoteTable, APOSTROPHE_TABLE, SPACE_TABLE]) {
        const result = await read(`SELECT id, label FROM ${q(ctx.ns.name)}.${q(name)}`);
        expect(result.rows, name).toEqual([[1, 'odd']]);
      }
    });

    it('refuses stacked statements sent straight to read() (bypassing the guard) and runs none of them', async () => {
      const stacked: Array<[string, unknown[]]> = [
        ['SELECT 1 AS a; DROP TABLE cf_victim', []],
        [`SELECT id FROM cf_victim WHERE id = ${p(1)}; DROP TABLE cf_victim`, [1]],
        ["SELECT 1 AS a; INSERT INTO cf_victim (id, label) VALUES (2, 'stacked')", []],
        ['SELECT 1 AS a; SELECT 2 AS b', []],
      ];
      for (const [sql, params] of stacked) {
        const code = await attempt(sql, params);
        expect(code, sql).not.toBe('ok');
        expect(code, sql).not.toMatch(/^not a SqlwardenError/);
      }
      expect(await adminCount('cf_victim')).toBe(1);
    });

    it('refuses a parameter that is an object or not a finite number with INVALID_INPUT, and runs nothing', async () => {
      for (const value of [{ a: 1 }, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(await attempt(`SELECT id FROM cf_victim WHERE id = ${p(1)}`, [value])).toBe(
          'INVALID_INPUT',
        );
      }
    });

    it('refuses DDL sent to read() with READ_ONLY, and creates nothing', async () => {
      expect(await attempt('CREATE TABLE cf_sneaky (id int)')).toBe('READ_ONLY');
      const tables = await ctx.adapter.listTables({ schemas: [ctx.ns.name], signal: signal() });
      expect(tables.map((t) => t.name)).not.toContain('cf_sneaky');
    });

    it('refuses a write sent to read() with READ_ONLY, and nothing changes', async () => {
      expect(await attempt("INSERT INTO cf_victim (id, label) VALUES (2, 'written')")).toBe(
        'READ_ONLY',
      );
      expect(await attempt("UPDATE cf_victim SET label = 'changed'")).toBe('READ_ONLY');
      expect(await attempt('DELETE FROM cf_victim')).toBe('READ_ONLY');
      expect((await read('SELECT id, label FROM cf_victim')).rows).toEqual([[1, 'keep']]);
    });
  });
}
