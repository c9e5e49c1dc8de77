/**
 * A guard with a verdict cache: statements that differ only in literal
 * values get the verdict already computed for their shape.
 *
 * Soundness is by construction, not by a list of cases. The key is not
 * taken from the text by a scanner of our own: it is what the guard itself
 * read, serialised, and the verdict is computed from that and nothing else
 * (guard.ts `stage` and `judge`; the uncached checks run the same path):
 *  - PostgreSQL: the parse tree from libpg-query (the server's grammar and
 *    scanner), with every position and every constant's value removed
 *    (postgres.ts `parsePostgres`), plus whether the scanner found a stray
 *    `;`. The rules and the fingerprint are computed from that masked tree.
 *    A literal whose value decides more than a value never becomes a
 *    constant of the tree, so it stays in the key: the UESCAPE string of
 *    U&"..." (it decodes the identifier, which is in the tree), a float(p)
 *    precision (it picks float4 or float8), an EXPLAIN option written as a
 *    string. A reg* cast keeps its type in the tree; the guard refuses it
 *    whatever the literal.
 *  - MySQL and ODBC: the guard's own lexer's tokens in canonical form
 *    (canonical.ts): plain string literals and plain integers abstracted,
 *    everything else as written, and where whitespace was. The parsers, the
 *    walkers, the token checks and the fingerprint read only the canonical
 *    text, which the key determines.
 * So two texts with the same key get the same verdict and the same
 * fingerprint: a cached acceptance carries the fingerprint of the statement
 * asked, never of the one that filled the cache. Length and characters,
 * which the key does not show, are checked on every call (`stage` runs
 * `preflight` first). Only acceptances are cached.
 *
 * Why not a key from libpg-query's scanner (`scanSync`): measured, it costs
 * more than a whole parse (its JSON names every token's keyword class), so
 * every cache hit would be slower than no cache at all; and the tree is the
 * scanner's output after the grammar, so nothing the scanner decides is
 * lost (docs/sql-guard.md, "The verdict cache").
 * tests: cache.differential.test.ts (the corpora and their look-alikes,
 * asked in every order), cache.fuzz.test.ts (100,000 generated inputs).
 */
import { judge, type Staged, stage } from './guard.js';
import type { GuardResult, WriteGuardOptions } from './types.js';

/** The cache key of a statement (undefined: not cached), for tests. */
export function cacheKey(
  sql: string,
  options: { readonly dialect: WriteGuardOptions['dialect']; readonly maxLength?: number },
): string | undefined {
  return stage(sql, options).key();
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

  function cached(mode: 'read' | 'write', sql: string): GuardResult {
    const staged: Staged = stage(sql, options);
    const keyed = size > 0 ? staged.key() : undefined;
    if (keyed === undefined) {
      uncached += 1;
      return judge(staged, mode, sql, options);
    }
    const key = `${mode === 'read' ? 'r' : 'w'}${keyed}`;
    const found = cache.get(key);
    if (found !== undefined) {
      hits += 1;
      cache.delete(key);
      cache.set(key, found);
      return found;
    }
    misses += 1;
    const result = deepFreeze(judge(staged, mode, sql, options));
    // Only acceptances are remembered: refusals are not the hot path.
    if (result.ok) {
      cache.set(key, result);
      if (cache.size > size) cache.delete(cache.keys().next().value as string);
    }
    return result;
  }

  return {
    checkRead: (sql) => cached('read', sql),
    checkWrite: (sql) => cached('write', sql),
    stats: () => ({ hits, misses, uncached, size: cache.size }),
  };
}
