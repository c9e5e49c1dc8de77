/**
 * A guard with a verdict cache: statements that differ only in literal
 * values get the verdict already computed for their shape, without a parse.
 *
 * Soundness rests on the cache key. It is the statement text with only the
 * literals EVERY reader agrees on replaced by "?":
 *  - a '...' string (with '' escapes) not glued to a prefix (E'', N'',
 *    X'', B'', U&'', _charset'') and not touching another quote;
 *  - an unsigned decimal number not touching an identifier character or a
 *    dot on either side.
 * Everything else is copied as written, whitespace included (PostgreSQL
 * joins 'a' and 'b' across a newline but not on one line: folding
 * whitespace would merge two different statements). A text the key cannot
 * read with certainty gets no key and is checked in full: a backslash
 * (escapes differ between dialects and modes), a comment, a $ other than a
 * $n parameter (dollar quoting), a ';', an unterminated quote, and in MySQL
 * also # and "..." strings. So two texts share a key only when they differ
 * inside such literals, and the guard's verdict never depends on a
 * literal's contents (it judges statements, functions and tables), except
 * for length and characters, which are checked before every lookup. Only
 * acceptances are cached; a cached one carries the fingerprint of the first
 * statement of its key, which (differing only in literals) it shares.
 * tests: cache.test.ts (the property "same key, same verdict").
 */
import { checkRead, checkWrite, preflight } from './guard.js';
import { isWordChar } from './lexer.js';
import type { Dialect, GuardResult, WriteGuardOptions } from './types.js';

const MAX_KEY_LENGTH = 8192;

const isIdentChar = isWordChar;
const isDigit = (c: number) => c >= 48 && c <= 57;

/** The spans a key replaced, for tests. */
export interface KeyedText {
  readonly key: string;
  /** [start, end) of each replaced literal, in order. */
  readonly literals: ReadonlyArray<readonly [number, number]>;
}

/** The cache key of a statement, or undefined when it cannot be read with certainty. */
export function verdictKey(sql: string, dialect: Dialect): KeyedText | undefined {
  if (sql.length > MAX_KEY_LENGTH) return undefined;
  const mysql = dialect === 'mysql';
  const literals: Array<readonly [number, number]> = [];
  let key = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = sql.charCodeAt(i + 1);
    if (c === 92 /* \ */ || c === 59 /* ; */ || c === 0) return undefined;
    if ((c === 45 && next === 45) || (c === 47 && next === 42)) return undefined; // -- and /*
    if (mysql && (c === 35 /* # */ || c === 34) /* " */) return undefined;
    if (c === 39 /* ' */) {
      const before = i > 0 ? sql.charCodeAt(i - 1) : 32;
      if (isIdentChar(before) || before === 38 /* & */ || before === 39) return undefined;
      let j = i + 1;
      for (;;) {
        if (j >= n) return undefined;
        // A backslash inside a string escapes in MySQL (and E'' strings): no certainty, no key.
        if (sql.charCodeAt(j) === 92) return undefined;
        if (sql.charCodeAt(j) === 39) {
          if (sql.charCodeAt(j + 1) === 39) {
            j += 2;
            continue;
          }
          break;
        }
        j += 1;
      }
      literals.push([i, j + 1]);
      key += '?';
      i = j + 1;
      continue;
    }
    // Quoted identifiers are copied whole: a quote inside them is not a string.
    if (c === 34 /* " */ || (mysql && c === 96) /* ` */) {
      let j = i + 1;
      for (;;) {
        if (j >= n) return undefined;
        if (sql.charCodeAt(j) === 92) return undefined;
        if (sql.charCodeAt(j) === c) {
          if (sql.charCodeAt(j + 1) === c) {
            j += 2;
            continue;
          }
          break;
        }
        j += 1;
      }
      key += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === 36 /* $ */) {
      // $n parameters are structure (their count matters): copied as written.
      if (!isDigit(next)) return undefined;
      let j = i + 1;
      while (j < n && isDigit(sql.charCodeAt(j))) j += 1;
      key += sql.slice(i, j);
      i = j;
      continue;
    }
    if (
      isDigit(c) &&
      !(i > 0 && (isIdentChar(sql.charCodeAt(i - 1)) || sql.charCodeAt(i - 1) === 46))
    ) {
      let j = i;
      while (j < n && isDigit(sql.charCodeAt(j))) j += 1;
      if (sql.charCodeAt(j) === 46 && isDigit(sql.charCodeAt(j + 1))) {
        j += 1;
        while (j < n && isDigit(sql.charCodeAt(j))) j += 1;
      }
      const after = sql.charCodeAt(j);
      if (isIdentChar(after) || after === 46 /* . */) {
        key += sql.slice(i, j); // 1e5, 0x1F, 1.2.3: not certain, kept as written
      } else {
        literals.push([i, j]);
        key += '?';
      }
      i = j;
      continue;
    }
    key += sql[i];
    i += 1;
  }
  return { key, literals };
}

export interface Guard {
  checkRead(sql: string): GuardResult;
  checkWrite(sql: string): GuardResult;
  /** Cache counters, for health pages and benchmarks. */
  stats(): {
    readonly hits: number;
    readonly misses: number;
    readonly uncached: number;
    readonly size: number;
  };
}

export interface GuardFactoryOptions extends WriteGuardOptions {
  /** Verdicts kept at most (least recently used go first); 0 turns the cache off (default 1000). */
  readonly cacheSize?: number;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** A guard bound to one source's options, with a verdict cache. */
export function createGuard(options: GuardFactoryOptions): Guard {
  const size = options.cacheSize ?? 1000;
  const cache = new Map<string, GuardResult>();
  let hits = 0;
  let misses = 0;
  let uncached = 0;

  function cached(mode: 'r' | 'w', sql: string, check: () => GuardResult): GuardResult {
    // Length and characters depend on the literals: checked on every call.
    const early = preflight(sql, options.maxLength);
    if (early !== null) return early;
    const keyed = size > 0 ? verdictKey(sql, options.dialect) : undefined;
    if (keyed === undefined) {
      uncached += 1;
      return check();
    }
    const key = `${mode}${keyed.key}`;
    const found = cache.get(key);
    if (found !== undefined) {
      hits += 1;
      cache.delete(key);
      cache.set(key, found);
      return found;
    }
    misses += 1;
    const result = deepFreeze(check());
    // Only acceptances are remembered: refusals are not the hot path, and some
    // statements a read refuses (COPY ... FROM 'file') keep a literal outside
    // the tree's constants, which would then colour their fingerprint.
    if (result.ok) {
      cache.set(key, result);
      if (cache.size > size) cache.delete(cache.keys().next().value as string);
    }
    return result;
  }

  return {
    checkRead: (sql) => cached('r', sql, () => checkRead(sql, options)),
    checkWrite: (sql) => cached('w', sql, () => checkWrite(sql, options)),
    stats: () => ({ hits, misses, uncached, size: cache.size }),
  };
}
