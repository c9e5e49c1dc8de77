import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGuard, verdictKey } from './cache.js';
import { checkRead, checkWrite, loadSqlGuard } from './guard.js';
import { CORPUS_OPTIONS, dialectsOf, loadCorpus } from './test-support.js';
import type { Dialect } from './types.js';

beforeAll(() => loadSqlGuard());

const corpus = loadCorpus();
const DIALECTS: readonly Dialect[] = ['postgres', 'mysql', 'odbc'];
const optionsOf = (dialect: Dialect) => CORPUS_OPTIONS[dialect];

/** Replaces each keyed literal by another literal of the same kind. */
function refill(
  sql: string,
  literals: ReadonlyArray<readonly [number, number]>,
  values: readonly string[],
  numbers: readonly number[],
): string {
  let out = '';
  let at = 0;
  literals.forEach(([start, end], i) => {
    const isString = sql[start] === "'";
    const replacement = isString
      ? `'${(values[i % values.length] ?? '').replaceAll("'", "''")}'`
      : String(numbers[i % numbers.length]);
    out += sql.slice(at, start) + replacement;
    at = end;
  });
  return out + sql.slice(at);
}

const safeString = fc
  .string({ maxLength: 30 })
  .filter(
    (s) =>
      !s.includes('\\') &&
      !s.includes('\u0000') &&
      (s as unknown as { isWellFormed(): boolean }).isWellFormed(),
  );

describe('the verdict cache key', () => {
  it('replaces only literals every reader agrees on', () => {
    expect(
      verdictKey("SELECT * FROM t WHERE a = 'x''y' AND b = 42 AND c = 1.5", 'postgres')?.key,
    ).toBe('SELECT * FROM t WHERE a = ? AND b = ? AND c = ?');
    expect(verdictKey('SELECT t1.c2, $1, "it\'s" FROM t1', 'postgres')?.key).toBe(
      'SELECT t1.c2, $1, "it\'s" FROM t1',
    );
    expect(verdictKey('SELECT 1e5, 0x1F, x1', 'postgres')?.key).toBe('SELECT 1e5, 0x1F, x1');
  });

  it('gives no key to text it cannot read with certainty', () => {
    for (const sql of [
      "SELECT E'a'",
      "SELECT N'a'",
      "SELECT U&'a'",
      "SELECT X'1F'",
      "SELECT 'a\\'b'",
      'SELECT $$a$$',
      'SELECT 1 -- c',
      'SELECT /* c */ 1',
      'SELECT 1;',
      "SELECT 'open",
    ]) {
      expect(verdictKey(sql, 'postgres')).toBeUndefined();
    }
    for (const sql of ['SELECT 1 # c', 'SELECT "a"', "SELECT _utf8'a'"])
      expect(verdictKey(sql, 'mysql')).toBeUndefined();
  });

  it('keeps whitespace: PostgreSQL joins strings across a newline but not on one line', () => {
    const joined = verdictKey("SELECT 'a'\n'b'", 'postgres')?.key;
    const split = verdictKey("SELECT 'a' 'b'", 'postgres')?.key;
    expect(joined).not.toBe(split);
    expect(checkRead("SELECT 'a'\n'b'", optionsOf('postgres')).ok).not.toBe(
      checkRead("SELECT 'a' 'b'", optionsOf('postgres')).ok,
    );
  });

  // The soundness property: texts that share a key get the same verdict.
  it.each(DIALECTS)(
    '%s: any two texts with the same key get the same verdict (corpus, literals refilled)',
    (dialect) => {
      const statements = corpus
        .filter(
          (e) => e.dialect === 'any' || dialectsOf(e).includes(dialect as 'postgres' | 'mysql'),
        )
        .map((e) => e.sql);
      fc.assert(
        fc.property(
          fc.constantFrom(...statements),
          fc.array(safeString, { minLength: 1, maxLength: 4 }),
          fc.array(fc.nat({ max: 10_000_000 }), { minLength: 1, maxLength: 4 }),
          (sql, values, numbers) => {
            const keyed = verdictKey(sql, dialect);
            if (keyed === undefined) return;
            const other = refill(sql, keyed.literals, values, numbers);
            expect(verdictKey(other, dialect)?.key).toBe(keyed.key);
            const options = optionsOf(dialect);
            for (const check of [checkRead, checkWrite]) {
              const a = check(sql, options);
              const b = check(other, options);
              // Length and characters are checked before the cache; everything else must agree.
              if (!a.ok && (a.reason === 'TOO_LONG' || a.reason === 'INVALID_CHARACTER')) continue;
              if (!b.ok && (b.reason === 'TOO_LONG' || b.reason === 'INVALID_CHARACTER')) continue;
              // Acceptances (the only verdicts cached) must be equal in full, fingerprint included.
              if (a.ok || b.ok) expect(b).toEqual(a);
              else
                expect({ reason: b.reason, message: b.message }).toEqual({
                  reason: a.reason,
                  message: a.message,
                });
            }
          },
        ),
        { numRuns: 2000 },
      );
    },
  );
});

describe('createGuard', () => {
  it('answers a statement of a known shape from the cache, with the same verdict', () => {
    const guard = createGuard({ ...optionsOf('postgres') });
    const first = guard.checkRead("SELECT * FROM orders WHERE id = 1 AND note = 'a'");
    const second = guard.checkRead("SELECT * FROM orders WHERE id = 999 AND note = 'b'");
    expect(second).toEqual(first);
    expect(guard.stats()).toMatchObject({ hits: 1, misses: 1 });
    // Refusals are checked in full every time.
    guard.checkRead("SELECT pg_sleep(1), 'x'");
    guard.checkRead("SELECT pg_sleep(2), 'y'");
    expect(guard.stats()).toMatchObject({ hits: 1, misses: 3 });
  });

  it('gives a text with a semicolon no key: it gets the uncached verdict, checked in full', () => {
    const guard = createGuard({ ...optionsOf('postgres') });
    for (const sql of [
      'SELECT * FROM orders WHERE id = 1;',
      'SELECT * FROM orders WHERE id = 2; -- x',
      'SELECT * FROM orders WHERE id = 3;;',
    ]) {
      expect(verdictKey(sql, 'postgres')).toBeUndefined();
      expect(guard.checkRead(sql)).toEqual(checkRead(sql, optionsOf('postgres')));
    }
    expect(guard.stats()).toMatchObject({ hits: 0, misses: 0, uncached: 3 });
  });

  it('still checks length and characters on every call', () => {
    const guard = createGuard({ ...optionsOf('postgres'), maxLength: 40 });
    expect(guard.checkRead("SELECT * FROM orders WHERE note = 'a'").ok).toBe(true);
    expect(guard.checkRead(`SELECT * FROM orders WHERE note = '${'x'.repeat(40)}'`)).toMatchObject({
      reason: 'TOO_LONG',
    });
    expect(guard.checkRead("SELECT * FROM orders WHERE note = '\u0000'")).toMatchObject({
      reason: 'INVALID_CHARACTER',
    });
  });

  it('keeps reads and writes apart, and stays within its size', () => {
    const guard = createGuard({ ...optionsOf('postgres'), cacheSize: 2 });
    expect(guard.checkWrite("UPDATE orders SET note = 'a' WHERE id = 1").ok).toBe(true);
    expect(guard.checkRead("UPDATE orders SET note = 'a' WHERE id = 2").ok).toBe(false);
    guard.checkRead('SELECT 1');
    guard.checkRead('SELECT * FROM orders');
    expect(guard.stats().size).toBe(2);
  });

  it('returns frozen verdicts, so a caller cannot alter what the next one gets', () => {
    const guard = createGuard({ ...optionsOf('postgres') });
    const verdict = guard.checkRead('SELECT * FROM orders WHERE id = 1');
    expect(Object.isFrozen(verdict)).toBe(true);
    expect(verdict.ok && Object.isFrozen(verdict.analysis.resolvedTables)).toBe(true);
  });
});
