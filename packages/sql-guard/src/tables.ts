/**
 * Table allow lists: `schema.table` patterns where `*` stands for a whole
 * name (`public.*`, `*.orders` is not allowed: a wildcard schema would
 * reach system catalogs), and the resolution of unqualified names.
 *
 * Matching is exact on names as the dialect folds them (PostgreSQL lowers
 * unquoted names, so patterns are written in lower case; MySQL compares
 * names as written, which is what a case-sensitive server does).
 */
import {
  parseTablePattern,
  TABLE_PATTERN_PROBLEM,
  type TablePattern,
  tablePatternMatches,
} from '@sqlwarden/core';
import type { Dialect, ResolvedTable, TableReference } from './types.js';

const compiledPatterns = new WeakMap<readonly string[], readonly TablePattern[]>();

/** Throws on a malformed pattern: patterns come from configuration, not clients. */
export function compilePatterns(patterns: readonly string[]): readonly TablePattern[] {
  let compiled = compiledPatterns.get(patterns);
  if (compiled === undefined) {
    compiled = patterns.map((text) => {
      const pattern = parseTablePattern(text);
      if (pattern === undefined) {
        throw new TypeError(`Invalid table pattern "${text}": ${TABLE_PATTERN_PROBLEM}`);
      }
      return pattern;
    });
    compiledPatterns.set(patterns, compiled);
  }
  return compiled;
}

export function isAllowed(
  patterns: readonly TablePattern[],
  schema: string,
  table: string,
): boolean {
  return patterns.some((pattern) => tablePatternMatches(pattern, schema, table));
}

/**
 * Whether `schema.table` matches one of the allow-list patterns, with the
 * same rules as the checks (throws TypeError on a malformed pattern).
 */
export function tableAllowed(patterns: readonly string[], schema: string, table: string): boolean {
  return isAllowed(compilePatterns(patterns), schema, table);
}

/**
 * The schema an unqualified table resolves to. PostgreSQL searches
 * pg_catalog before the search path, and every system relation there is
 * named pg_*, so an unqualified `pg_shadow` is pg_catalog.pg_shadow however
 * the allow list reads. Returns null when there is no default schema.
 */
export function resolveSchema(
  dialect: Dialect,
  ref: TableReference,
  defaultSchema: string | undefined,
): string | null {
  if (ref.schema !== null) return ref.schema;
  if ((dialect === 'postgres' || dialect === 'odbc') && ref.name.startsWith('pg_'))
    return 'pg_catalog';
  return defaultSchema ?? null;
}

export function resolveTables(
  dialect: Dialect,
  tables: readonly TableReference[],
  defaultSchema: string | undefined,
): Array<ResolvedTable & { readonly schema: string | null }> {
  return tables.map((ref) => ({
    schema: resolveSchema(dialect, ref, defaultSchema),
    name: ref.name,
    access: ref.access,
  }));
}
