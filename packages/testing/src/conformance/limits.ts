/** Limits and truncation: rows, bytes, one value wider than the call may receive. (conformance suite, docs/conformance.md) */
import { rowBytes } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './context.js';

export function describeLimits(ctx: ConformanceContext): void {
  const { target, p, read } = ctx;
  describe('limits and truncation', () => {
    it('stops at maxRows: exactly maxRows rows, truncated for maxRows', async () => {
      const result = await read('SELECT id FROM cf_many ORDER BY id', [], { maxRows: 100 });
      expect(result.rows).toEqual(Array.from({ length: 100 }, (_, i) => [i + 1]));
      expect(result).toMatchObject({
        rowCount: 100,
        truncated: true,
        truncatedReason: 'maxRows',
      });
    });

    it('is not truncated when the result has exactly maxRows rows', async () => {
      const result = await read(`SELECT id FROM cf_many WHERE id <= ${p(1)} ORDER BY id`, [100], {
        maxRows: 100,
      });
      expect(result).toMatchObject({ rowCount: 100, truncated: false });
    });

    it('answers an unbounded SELECT * with maxRows rows', async () => {
      const result = await read('SELECT * FROM cf_many', [], { maxRows: 1000 });
      expect(result).toMatchObject({
        rowCount: 1000,
        truncated: true,
        truncatedReason: 'maxRows',
      });
    });

    it('stops at maxBytes: the longest prefix whose rowBytes sum stays within maxBytes (bytes, not characters)', async () => {
      const all = await read('SELECT id, payload FROM cf_wide ORDER BY id');
      expect(all).toMatchObject({ rowCount: 200, truncated: false });
      for (const maxBytes of [10_500, 25_000, 100_001]) {
        let used = 0;
        let fits = 0;
        while (fits < all.rows.length) {
          const size = rowBytes(all.rows[fits] as unknown[]);
          if (used + size > maxBytes) break;
          used += size;
          fits += 1;
        }
        const result = await read('SELECT id, payload FROM cf_wide ORDER BY id', [], {
          maxBytes,
        });
        expect(result.rows, `maxBytes ${maxBytes}`).toEqual(all.rows.slice(0, fits));
        expect(result).toMatchObject({ truncated: true, truncatedReason: 'maxBytes' });
        const total = result.rows.reduce((sum: number, row) => sum + rowBytes(row), 0);
        expect(total).toBeLessThanOrEqual(maxBytes);
      }
    });

    it('keeps rows that fill maxBytes exactly, and truncates only when one more does not fit', async () => {
      const first = await read(
        `SELECT id, payload FROM cf_wide WHERE id <= ${p(1)} ORDER BY id`,
        [10],
      );
      const exact = first.rows.reduce((sum: number, row) => sum + rowBytes(row), 0);
      const fitting = await read(
        `SELECT id, payload FROM cf_wide WHERE id <= ${p(1)} ORDER BY id`,
        [10],
        { maxBytes: exact },
      );
      expect(fitting).toMatchObject({ rowCount: 10, truncated: false });
      const cut = await read('SELECT id, payload FROM cf_wide ORDER BY id', [], {
        maxBytes: exact,
      });
      expect(cut).toMatchObject({ rowCount: 10, truncated: true, truncatedReason: 'maxBytes' });
    });

    it('answers the rows that fit when later rows pass maxBytes (100 kB rows, 1 MiB)', async () => {
      const result = await read(
        `SELECT id, ${target.wideText(100_000)} AS v FROM cf_many WHERE id <= 200 ORDER BY id`,
      );
      expect(result.rows.map((row) => row[0])).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      expect(result).toMatchObject({ truncated: true, truncatedReason: 'maxBytes' });
      expect((await read('SELECT id FROM cf_many WHERE id = 1')).rows).toEqual([[1]]);
    });

    it('never reads a value wider than the call may receive (one 10 MB value), and goes on', async () => {
      const result = await read(
        `SELECT id, ${target.wideText(10_000_000)} AS v FROM cf_many WHERE id <= 3 ORDER BY id`,
        [],
        { timeoutMs: 30_000 },
      );
      expect(result).toMatchObject({
        rows: [],
        truncated: true,
        truncatedReason: 'maxBytes',
      });
      expect((await read('SELECT id FROM cf_many WHERE id = 2')).rows).toEqual([[2]]);
    }, 60_000);

    it('keeps the rows before a row too wide to fit, and stops there', async () => {
      const result = await read(
        `SELECT id, CASE WHEN id = 3 THEN ${target.wideText(5_000_000)} ELSE 'small' END AS v
           FROM cf_many WHERE id <= 5 ORDER BY id`,
        [],
        { timeoutMs: 30_000 },
      );
      expect(result.rows).toEqual([
        [1, 'small'],
        [2, 'small'],
      ]);
      expect(result).toMatchObject({ truncated: true, truncatedReason: 'maxBytes' });
      expect((await read('SELECT id FROM cf_many WHERE id = 4')).rows).toEqual([[4]]);
    }, 60_000);

    it('returns no rows, truncated, when the first row alone is over maxBytes', async () => {
      const result = await read('SELECT id, payload FROM cf_wide ORDER BY id', [], {
        maxBytes: 100,
      });
      expect(result).toMatchObject({
        rows: [],
        rowCount: 0,
        truncated: true,
        truncatedReason: 'maxBytes',
      });
    });
  });
}
