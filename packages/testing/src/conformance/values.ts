/** The value contract (result.ts): types and values, exactly. (conformance suite, docs/conformance.md) */
import { describe, expect, it } from 'vitest';
import { type ConformanceContext, LIMITS, signal } from './context.js';
import {
  CONFORMANCE_JSON,
  CONFORMANCE_TEXT,
  type ConformanceFixture,
  TYPE_COLUMNS,
} from './target.js';

type Expected = unknown | { readonly json: unknown };

const json = (text: string) => ({ json: JSON.parse(text) as unknown });
const isJsonExpectation = (value: unknown): value is { json: unknown } =>
  typeof value === 'object' && value !== null && 'json' in value;

/** The rows of `cf_types` under the value contract (result.ts), by target capabilities. */
function expectedTypeRows(fixture: ConformanceFixture, zonedTimestamps: boolean): Expected[][] {
  // Without zonedTimestamps (target.ts): the same instant in UTC, without its offset.
  const tz = (text: string) => (zonedTimestamps ? text : text.replace(/\+00$/, ''));
  const yes = fixture.nativeBoolean ? true : 1;
  const no = fixture.nativeBoolean ? false : 0;
  const nulls = (id: number, float: unknown = null): Expected[] => [
    id,
    null,
    null,
    null,
    float,
    ...Array.from({ length: TYPE_COLUMNS.length - 5 }, () => null),
  ];
  const rows: Expected[][] = [
    [
      1,
      2147483647,
      '9007199254740993',
      '12345678901234567890.123456789',
      1.5,
      '2024-02-29',
      '2024-02-29 13:45:06.123456',
      tz('2024-02-29 11:45:06.123456+00'),
      '23:59:58.123456',
      '\\x00ff10',
      json(CONFORMANCE_JSON),
      CONFORMANCE_TEXT,
      yes,
    ],
    [
      2,
      -2147483648,
      '-9223372036854775808',
      '-0.000000001',
      -2.25,
      '1970-01-01',
      '1969-12-31 23:59:59.999999',
      tz('2001-09-09 01:46:40.654321+00'),
      '00:00:00.000001',
      '\\x',
      json('[]'),
      '',
      no,
    ],
    [
      3,
      0,
      '1',
      '0.000000000',
      0.1,
      '9999-12-31',
      '9999-12-31 23:59:59.999999',
      tz('1999-12-31 22:00:00.000001+00'),
      '12:30:00.100001',
      '\\x00',
      json('null'),
      'plain',
      yes,
    ],
    nulls(4),
  ];
  if (fixture.floatSpecials)
    rows.push(nulls(5, 'NaN'), nulls(6, 'Infinity'), nulls(7, '-Infinity'));
  return rows;
}

/** The decimal of row 1 (38 digits): past what a double keeps. */
const WIDE_DECIMAL = '12345678901234567890.123456789';

export function describeValueContract(ctx: ConformanceContext): void {
  const { target, read, can } = ctx;
  describe('the value contract', () => {
    const select = `SELECT ${TYPE_COLUMNS.join(', ')} FROM cf_types`;
    const sql = `${select} ORDER BY id`;
    // Without exactDecimals (target.ts), a read holding row 1's n_dec may be
    // refused: the rows are read without it, and it is checked on its own.
    const withoutWideDecimal = can.exactDecimals ? '' : ' AND id <> 1';

    /**
     * Row 1's n_dec on its own, for a target without exactDecimals: exactly
     * its text, or the read refused with QUERY_FAILED; never another value.
     */
    const wideDecimalOutcome = async (): Promise<void> => {
      const outcome = await ctx.adapter
        .read({
          sql: 'SELECT n_dec FROM cf_types WHERE id = 1',
          params: [],
          limits: LIMITS,
          signal: signal(),
        })
        .then(
          (result) => ({ code: 'ok', rows: result.rows }),
          (error: unknown) => ({ code: (error as { code?: string }).code, rows: [] }),
        );
      if (outcome.code === 'ok') expect(outcome.rows).toEqual([[WIDE_DECIMAL]]);
      else expect(outcome.code).toBe('QUERY_FAILED');
    };

    /** The rows of cf_types as the adapter reads them (row 1's n_dec as expected once checked on its own). */
    const typeRows = async (): Promise<unknown[][]> => {
      if (can.exactDecimals) return (await read(sql)).rows;
      await wideDecimalOutcome();
      const others = (await read(`${select} WHERE id <> 1 ORDER BY id`)).rows;
      const columns = TYPE_COLUMNS.filter((c) => c !== 'n_dec');
      const first = (await read(`SELECT ${columns.join(', ')} FROM cf_types WHERE id = 1`)).rows;
      const decAt = TYPE_COLUMNS.indexOf('n_dec');
      const one = first.map((row) => [...row.slice(0, decAt), WIDE_DECIMAL, ...row.slice(decAt)]);
      return [...one, ...others];
    };

    it("reports each column's type as the target names it", async () => {
      const result = await read(can.exactDecimals ? sql : `${select} WHERE id <> 1 ORDER BY id`);
      expect(result.columns).toEqual(
        TYPE_COLUMNS.map((name) => ({ name, type: target.expected.resultTypes[name] })),
      );
    });

    it('maps every value as the contract says: exact text for 64-bit integers, decimals, dates, times, binary and JSON', async () => {
      const rows = await typeRows();
      const expected = expectedTypeRows(target.fixture, can.zonedTimestamps);
      expect(rows.map((row) => row[0])).toEqual(expected.map((row) => row[0]));
      expected.forEach((row, r) => {
        row.forEach((want, c) => {
          const label = `row ${String(row[0])}, ${TYPE_COLUMNS[c]}`;
          const got = rows[r]?.[c];
          if (isJsonExpectation(want)) {
            expect.soft(typeof got, `${label}: JSON comes as text`).toBe('string');
            if (typeof got === 'string') expect.soft(JSON.parse(got), label).toEqual(want.json);
          } else {
            expect.soft(got, label).toStrictEqual(want);
          }
        });
      });
    });

    it("a column's JSON type never depends on the row: 64-bit integers and decimals are always strings", async () => {
      const result = await read(
        `SELECT n_big, n_dec FROM cf_types WHERE n_big IS NOT NULL${withoutWideDecimal} ORDER BY id`,
      );
      expect(result.rows.length).toBeGreaterThanOrEqual(2);
      for (const row of result.rows) {
        expect(row.map((v) => typeof v)).toEqual(['string', 'string']);
      }
    });

    it('returns the columns of an empty result, and no rows', async () => {
      const result = await read('SELECT id, s_text FROM cf_types WHERE id < 0');
      expect(result).toEqual({
        columns: [
          { name: 'id', type: target.expected.resultTypes.id },
          { name: 's_text', type: target.expected.resultTypes.s_text },
        ],
        rows: [],
        rowCount: 0,
        truncated: false,
      });
    });
  });
}
