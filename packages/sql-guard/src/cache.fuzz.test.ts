/**
 * The guard under 100,000+ generated inputs over the three dialects: none
 * throws, and the cached guard (one per dialect, small, so entries are
 * evicted and refilled all run long) answers every input exactly as the
 * uncached checks do, fingerprint included. Inputs come in families:
 * corpus statements and their look-alikes (look-alikes.ts), the same with
 * the characters lexers trip on inserted or removed, token soup from a SQL
 * vocabulary (Unicode identifiers, UESCAPE, prefixed and dollar-quoted
 * strings, comments, `;`), and arbitrary strings. Its time is printed;
 * the budget is a few tens of seconds on two cores.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from './cache.js';
import { checkRead, checkWrite, loadSqlGuard } from './guard.js';
import {
  lookAlikes,
  nameLookAlikes,
  SEEDS,
  UESCAPE_CHARS,
  unicodeIdentifier,
} from './look-alikes.js';
import { loadCorpus, loadOdbcNamesCorpus } from './test-support.js';
import type { Dialect, GuardResult, WriteGuardOptions } from './types.js';

beforeAll(() => loadSqlGuard());

/** Per dialect: 3 x 34,000 = 102,000 inputs. */
const RUNS = 34_000;
const corpus = loadCorpus();

const OPTIONS: Record<Dialect, WriteGuardOptions> = {
  postgres: {
    dialect: 'postgres',
    defaultSchema: 'app',
    allowedTables: ['app.orders', 'app.customers'],
  },
  mysql: { dialect: 'mysql', defaultSchema: 'app', allowedTables: ['app.orders', 'app.customers'] },
  odbc: { dialect: 'odbc', defaultSchema: 'app', allowedTables: ['app.orders', 'app.customers'] },
};

/** An ODBC source that names catalogs (CONNX), fuzzed with the name look-alikes. */
const CATALOG_OPTIONS: WriteGuardOptions = {
  dialect: 'odbc',
  defaultCatalog: 'shop',
  defaultSchema: 'app',
  allowedTables: ['shop.app.orders', 'shop.app.customers', 'daea.dbo.*', 'vsam.dbo.customers'],
};

const CASES: ReadonlyArray<readonly [string, Dialect, WriteGuardOptions, boolean]> = [
  ['postgres', 'postgres', OPTIONS.postgres, false],
  ['mysql', 'mysql', OPTIONS.mysql, false],
  ['odbc', 'odbc', OPTIONS.odbc, false],
  ['odbc with catalogs', 'odbc', CATALOG_OPTIONS, true],
];

const HOSTILE = [
  ';',
  "'",
  "''",
  '"',
  '`',
  '-',
  '--',
  '-- ',
  '#',
  '/*',
  '*/',
  '!',
  '$',
  '$$',
  '\\',
  '\n',
  ' ',
  '(',
  ')',
  '?',
  'E',
  'U&',
  'N',
  'X',
  '_utf8',
  'UESCAPE',
  '::',
  '.',
  '..',
  ',',
  '@@',
  '{d ',
  '}',
];

const VOCABULARY = [
  'SELECT',
  'FROM',
  'WHERE',
  'WITH',
  'AS',
  'UNION',
  'ALL',
  'AND',
  'OR',
  'IN',
  'ORDER BY',
  'LIMIT',
  'EXPLAIN',
  'VALUES',
  'INTO',
  'FOR UPDATE',
  '(',
  ')',
  ',',
  '*',
  '=',
  '::',
  '.',
  ';',
  '1',
  '42',
  '1.5',
  '0x1F',
  "'a'",
  "'b'",
  "E'\\''",
  "N'x'",
  "X'41'",
  '$$x$$',
  '$q$y$q$',
  "U&'d\\0061t'",
  'UESCAPE',
  "'#'",
  "'!'",
  '"orders"',
  'orders',
  'customers',
  'secrets',
  'pg_authid',
  'app.orders',
  'app.secrets',
  'lower(',
  'count(',
  'pg_sleep(',
  'current_setting(',
  'to_regclass(',
  "'x'::regclass",
  'float(24)',
  'float(53)',
  '@@datadir',
  '@x',
  '_utf8mb4',
  'COLLATE',
  '/* c */',
  '-- c\n',
  '# c\n',
  '{d',
  '}',
  '?',
  '$1',
  'TABLE',
  'LATERAL',
  ...UESCAPE_CHARS.map((e) => unicodeIdentifier('secrets', e)),
];

function mutate(sql: string, steps: ReadonlyArray<readonly [number, number, string]>): string {
  let out = sql;
  for (const [at, length, text] of steps) {
    const i = out.length === 0 ? 0 : at % (out.length + 1);
    out = out.slice(0, i) + text + out.slice(i + (length % 4));
  }
  return out;
}

function inputs(dialect: Dialect, names: boolean): fc.Arbitrary<string> {
  const plain = [
    ...SEEDS[dialect],
    ...corpus
      .filter((e) => (dialect === 'mysql' ? e.dialect !== 'postgres' : e.dialect !== 'mysql'))
      .map((e) => e.sql),
    ...(names ? loadOdbcNamesCorpus().map((e) => e.sql) : []),
  ];
  // With catalogs, every way of writing the first table name of a seed or of
  // the names corpus is a base of its own, whose literals then vary.
  const named = names
    ? [...SEEDS.odbc, ...loadOdbcNamesCorpus().map((e) => e.sql)].flatMap((sql) => [
        ...nameLookAlikes(sql),
        ...nameLookAlikes(sql, { catalog: 'daea', schema: 'dbo' }),
      ])
    : [];
  const bases = [...plain, ...named];
  // Look-alikes computed once per base, lazily.
  const alikes = new Map<string, string[]>();
  const lookAlikeOf = (sql: string, pick: number) => {
    let list = alikes.get(sql);
    if (list === undefined) {
      list = [sql, ...lookAlikes(sql, dialect, 40, false)];
      alikes.set(sql, list);
    }
    return list[pick % list.length] as string;
  };
  const step = fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(...HOSTILE));
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.constantFrom(...bases), fc.nat())
        .map(([sql, pick]) => lookAlikeOf(sql, pick)),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...bases), fc.nat(), fc.array(step, { minLength: 1, maxLength: 3 }))
        .map(([sql, pick, steps]) => mutate(lookAlikeOf(sql, pick), steps)),
    },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.constantFrom(...VOCABULARY), { minLength: 1, maxLength: 14 })
        .chain((words) =>
          fc
            .array(fc.constantFrom(' ', '', '\n'), {
              minLength: words.length,
              maxLength: words.length,
            })
            .map((gaps) => words.map((w, i) => w + (gaps[i] ?? ' ')).join('')),
        ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  );
}

function comparable(result: GuardResult) {
  return result.ok
    ? result
    : {
        ok: false,
        reason: result.reason,
        message: result.message,
        fingerprint: result.fingerprint,
      };
}

const figures: string[] = [];
afterAll(() => {
  // Measured figures, printed (never asserted on time).
  for (const line of figures) process.stdout.write(`${line}\n`);
});

describe('the guard under generated input', () => {
  it.each(CASES)(
    `%s: ${RUNS} inputs, no exception, cached and uncached verdicts equal`,
    (label, dialect, options, names) => {
      const guard = createGuard({ ...options, cacheSize: 256 });
      let accepted = 0;
      const started = performance.now();
      fc.assert(
        fc.property(inputs(dialect, names), fc.nat(7), (sql, which) => {
          const cached = guard.checkRead(sql);
          const uncached = checkRead(sql, options);
          expect({ sql, verdict: comparable(cached) }).toEqual({
            sql,
            verdict: comparable(uncached),
          });
          if (cached.ok) accepted += 1;
          // Writes too, on one input in eight (the write rules share the cache's path).
          if (which === 0) {
            expect({ sql, verdict: comparable(guard.checkWrite(sql)) }).toEqual({
              sql,
              verdict: comparable(checkWrite(sql, options)),
            });
          }
        }),
        { numRuns: RUNS },
      );
      const seconds = (performance.now() - started) / 1000;
      const stats = guard.stats();
      figures.push(
        `guard fuzz ${label}: ${RUNS} inputs in ${seconds.toFixed(1)} s, ${accepted} accepted, cache hits ${stats.hits}, misses ${stats.misses}, uncached ${stats.uncached}`,
      );
      // The run must reach the cache, with acceptances to cache.
      expect(accepted).toBeGreaterThan(RUNS / 20);
      expect(stats.hits).toBeGreaterThan(RUNS / 20);
    },
    180_000,
  );
});
