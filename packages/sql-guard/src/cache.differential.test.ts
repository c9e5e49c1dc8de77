/**
 * The verdict cache never changes a verdict: for every statement of the
 * corpora and every look-alike of it, the cached guard answers exactly what
 * the uncached checks answer, call for call, fingerprint included, whatever
 * the cache was filled with before (each family is asked in several orders,
 * so every member is asked both cold and after its look-alikes were cached).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from './cache.js';
import { checkRead, checkWrite, fingerprint, loadSqlGuard } from './guard.js';
import { lookAlikes, SEEDS } from './look-alikes.js';
import {
  CORPUS_OPTIONS,
  loadCorpus,
  loadOdbcNamesCorpus,
  ODBC_NAMES_OPTIONS,
} from './test-support.js';
import type { Dialect, GuardResult, WriteGuardOptions } from './types.js';

beforeAll(() => loadSqlGuard());

const DIALECTS: readonly Dialect[] = ['postgres', 'mysql', 'odbc'];
const corpus = loadCorpus();

/** The options of the attack: a narrow allow list, so that a wrong table shows. */
const OPTIONS: Record<Dialect, WriteGuardOptions> = {
  postgres: {
    dialect: 'postgres',
    defaultSchema: 'app',
    allowedTables: ['app.customers', 'app.orders'],
  },
  mysql: { dialect: 'mysql', defaultSchema: 'app', allowedTables: ['app.customers', 'app.orders'] },
  odbc: { dialect: 'odbc', defaultSchema: 'app', allowedTables: ['app.customers', 'app.orders'] },
};

function statementsOf(dialect: Dialect): string[] {
  const own = corpus
    .filter((e) =>
      dialect === 'mysql' ? e.dialect !== 'postgres' : e.dialect !== 'mysql' || dialect === 'odbc',
    )
    .map((e) => e.sql);
  return [...SEEDS[dialect], ...own];
}

/** What must agree: the whole acceptance, or the refusal's reason, message and fingerprint. */
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

function families(dialect: Dialect): string[][] {
  return statementsOf(dialect).map((sql) => [sql, ...lookAlikes(sql, dialect)]);
}

function askInOrder(dialect: Dialect, options: WriteGuardOptions, family: readonly string[]) {
  const guard = createGuard({ ...options, allowReturning: false });
  family.forEach((sql, i) => {
    // Reads for every member; writes (the same path, another rule set) for every third.
    const modes = [
      ['read', guard.checkRead],
      ['write', guard.checkWrite],
    ] as const;
    for (const [mode, check] of i % 3 === 0 ? modes : modes.slice(0, 1)) {
      const cached = check(sql);
      const uncached =
        mode === 'read'
          ? checkRead(sql, options)
          : checkWrite(sql, { ...options, allowReturning: false });
      expect({ dialect, mode, sql, verdict: comparable(cached) }).toEqual({
        dialect,
        mode,
        sql,
        verdict: comparable(uncached),
      });
      // The audit fingerprint is that of the statement asked, never a look-alike's.
      if (cached.ok) expect(cached.analysis.fingerprint).toBe(fingerprint(sql, { dialect }));
    }
  });
}

describe('the cached guard answers what the uncached checks answer', () => {
  it('the attack: a UESCAPE look-alike cached first does not open app.secrets', () => {
    const guard = createGuard(OPTIONS.postgres);
    const attack = `WITH "#0073ecrets" AS (SELECT 0 AS id, 'decoy' AS secret) SELECT * FROM U&"#0073ecrets" UESCAPE '#'`;
    const decoy = attack.replace("UESCAPE '#'", "UESCAPE '!'");
    expect(guard.checkRead(attack)).toMatchObject({ ok: false, reason: 'TABLE_NOT_ALLOWED' });
    const accepted = guard.checkRead(decoy);
    expect(accepted.ok).toBe(true);
    const again = guard.checkRead(attack);
    expect(again).toMatchObject({ ok: false, reason: 'TABLE_NOT_ALLOWED' });
    expect(!again.ok && again.message).toContain('app.secrets is not allowed');
  });

  it.each(DIALECTS)(
    '%s: every corpus statement and look-alike, asked first and last in its family',
    (dialect) => {
      // Forward with the attack's narrow allow list, backward with the corpus's
      // wide one: every member is asked on a cold cache and after its look-alikes.
      for (const family of families(dialect)) {
        askInOrder(dialect, OPTIONS[dialect], family);
        askInOrder(dialect, CORPUS_OPTIONS[dialect], [...family].reverse());
      }
    },
    // Tens of thousands of uncached parses: seconds alone, minutes on a loaded machine.
    180_000,
  );

  it.each(DIALECTS)('%s: families asked in random orders, sharing one cache', (dialect) => {
    const all = families(dialect).filter((f) => f.length > 1);
    fc.assert(
      fc.property(
        fc.constantFrom(...all),
        fc.array(fc.nat(), { minLength: 2, maxLength: 12 }),
        (family, picks) => {
          askInOrder(
            dialect,
            OPTIONS[dialect],
            picks.map((p) => family[p % family.length] as string),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  // ODBC sources that name catalogs (CONNX): a three-part name, `..`, a
  // default catalog or schema, quoting and case are all in the key, so no
  // resolution answers for another.
  const CATALOG_OPTIONS: WriteGuardOptions = {
    dialect: 'odbc',
    defaultCatalog: 'shop',
    defaultSchema: 'app',
    allowedTables: ['shop.app.customers', 'shop.app.orders'],
  };
  const { defaultCatalog: _catalog, ...withoutDefaultCatalog } = CATALOG_OPTIONS;
  const catalogFamilies = (): string[][] => [
    ...[...SEEDS.odbc, ...statementsOf('odbc').slice(0, 120)].map((sql) => [
      sql,
      ...lookAlikes(sql, 'odbc'),
    ]),
    ...loadOdbcNamesCorpus().map((e) => [
      e.sql,
      ...lookAlikes(e.sql, 'odbc', 40, { catalog: 'daea', schema: 'dbo' }),
    ]),
  ];

  it('odbc with catalogs: every statement and look-alike, asked first and last in its family', () => {
    const all = catalogFamilies();
    // The generated look-alikes do reach three-part names and `..`, accepted and refused.
    const members = all.flat();
    expect(members.some((sql) => sql.includes('..'))).toBe(true);
    expect(members.filter((sql) => checkRead(sql, CATALOG_OPTIONS).ok).length).toBeGreaterThan(10);
    expect(
      members.filter((sql) => checkRead(sql, ODBC_NAMES_OPTIONS).ok && /\w\.\.\w/.test(sql)).length,
    ).toBeGreaterThan(5);
    for (const family of all) {
      askInOrder('odbc', CATALOG_OPTIONS, family);
      askInOrder('odbc', ODBC_NAMES_OPTIONS, [...family].reverse());
      askInOrder('odbc', withoutDefaultCatalog, family);
    }
  });

  it('odbc with catalogs: families asked in random orders, sharing one cache', () => {
    const all = catalogFamilies().filter((f) => f.length > 1);
    fc.assert(
      fc.property(
        fc.constantFrom(...all),
        fc.array(fc.nat(), { minLength: 2, maxLength: 12 }),
        fc.constantFrom(CATALOG_OPTIONS, ODBC_NAMES_OPTIONS),
        (family, picks, options) => {
          askInOrder(
            'odbc',
            options,
            picks.map((p) => family[p % family.length] as string),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
