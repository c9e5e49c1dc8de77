import { beforeAll, describe, expect, it } from 'vitest';
import { cacheKey, createGuard } from './cache.js';
import { checkRead, loadSqlGuard } from './guard.js';
import { CORPUS_OPTIONS } from './test-support.js';
import type { Dialect } from './types.js';

beforeAll(() => loadSqlGuard());

const optionsOf = (dialect: Dialect) => CORPUS_OPTIONS[dialect];
const key = (sql: string, dialect: Dialect) => cacheKey(sql, { dialect });

describe('the verdict cache key', () => {
  it.each([
    [
      'postgres',
      "SELECT * FROM t WHERE a = 'x''y' AND b = 42 AND c = 1.5 AND d = E'\\n' AND e = $$z$$",
      "SELECT * FROM t WHERE a = 'other' AND b = 7 AND c = 99.25 AND d = 'q' AND e = 'w'",
    ],
    ['postgres', "SELECT 'a'\n'b' FROM t", "SELECT 'ab' FROM t"],
    ['postgres', 'SELECT * FROM t WHERE id IN (1, 2, 3)', 'SELECT * FROM t WHERE id IN (4, 5, 6)'],
    ['postgres', 'SELECT 1;', 'SELECT 1'],
    [
      'mysql',
      "SELECT * FROM t WHERE a = 'x' AND b = 42 AND c = 1.5",
      'SELECT * FROM t WHERE a = "y\\\'z" AND b = 7 AND c = 0.25',
    ],
    ['odbc', "SELECT * FROM t WHERE a = 'x' AND b = 42", "SELECT * FROM t WHERE a = 'y' AND b = 7"],
  ] as const)('%s: abstracts a value: %s ~ %s', (dialect, a, b) => {
    expect(key(a, dialect)).toBeDefined();
    expect(key(a, dialect)).toBe(key(b, dialect));
  });

  // Each pair differs only in a literal that decides more than a value.
  it.each([
    // The escape character decodes the identifier: the CTE, or the real table.
    [
      'postgres',
      `WITH "#0073ecrets" AS (SELECT 1) SELECT * FROM U&"#0073ecrets" UESCAPE '#'`,
      `WITH "#0073ecrets" AS (SELECT 1) SELECT * FROM U&"#0073ecrets" UESCAPE '!'`,
    ],
    // float(p) is float4 up to 24 bits, float8 above.
    ['postgres', 'SELECT 1::float(24)', 'SELECT 1::float(25)'],
    // An EXPLAIN option written as a string is an option, not a constant.
    ['postgres', "EXPLAIN (FORMAT 'json') SELECT 1", "EXPLAIN (FORMAT 'xml') SELECT 1"],
    // A prefix, an introducer, a collation name: kept as written.
    ['mysql', "SELECT _utf8mb4'a'", "SELECT _utf8mb4'b'"],
    ['mysql', "SELECT _binary 'a'", "SELECT _binary 'b'"],
    ['mysql', "SELECT 'a' COLLATE 'utf8mb4_bin'", "SELECT 'a' COLLATE 'utf8mb4_general_ci'"],
    ['mysql', "SELECT X'41'", "SELECT X'42'"],
    // A number after a dot is a name in MySQL.
    ['mysql', 'SELECT t.1 FROM t', 'SELECT t.2 FROM t'],
    ['mysql', 'SELECT 1e5', 'SELECT 1e6'],
    ['mysql', 'SELECT 0x1F', 'SELECT 0x2F'],
    ['odbc', "SELECT {d '2024-01-01'} FROM t", "SELECT {d '2024-01-02'} FROM t"],
    // Whitespace where tokens touched: another statement for the server.
    ['mysql', 'SELECT 1.5', 'SELECT 1 .5'],
  ] as const)('%s: keeps what decides more than a value: %s / %s', (dialect, a, b) => {
    expect(key(a, dialect)).not.toBe(key(b, dialect));
  });

  it('gives no key to what is refused before a tree or a token list exists', () => {
    for (const sql of ["SELECT 'open", 'SELEC 1', 'SELECT \u0000', '']) {
      expect(key(sql, 'postgres')).toBeUndefined();
    }
    for (const sql of ['SELECT 1--1', "SELECT 'open", 'SELECT /*! 1 */']) {
      expect(key(sql, 'mysql')).toBeUndefined();
    }
  });

  it('keeps whitespace where PostgreSQL decides by it: strings join across a newline only', () => {
    // One string constant, or a syntax error: the key follows the parse.
    expect(key("SELECT 'a'\n'b'", 'postgres')).toBeDefined();
    expect(key("SELECT 'a' 'b'", 'postgres')).toBeUndefined();
    expect(checkRead("SELECT 'a' 'b'", optionsOf('postgres')).ok).toBe(false);
  });
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

  it('judges texts with semicolons on the same path: a stray one is in the key, a terminator is not', () => {
    const guard = createGuard({ ...optionsOf('postgres') });
    for (const sql of [
      'SELECT * FROM orders WHERE id = 1;',
      'SELECT * FROM orders WHERE id = 2; -- x',
      'SELECT * FROM orders WHERE id = 3;;',
      'SELECT * FROM orders WHERE id = 4',
    ]) {
      expect(guard.checkRead(sql)).toEqual(checkRead(sql, optionsOf('postgres')));
    }
    expect(key('SELECT 1;', 'postgres')).not.toBe(key('SELECT 1;;', 'postgres'));
    // Accepted, refused (;;, not cached), then a hit for the terminator-less text.
    expect(guard.stats()).toMatchObject({ hits: 2, misses: 2, uncached: 0 });
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
