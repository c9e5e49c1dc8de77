/**
 * Table allow lists: `schema.table` patterns where `*` stands for a whole
 * name (`public.*`, `*.orders` is not allowed: a wildcard schema would
 * reach system catalogs), and the resolution of unqualified names.
 *
 * Matching is exact on names as the dialect folds them (PostgreSQL lowers
 * unquoted names, so patterns are written in lower case; MySQL compares
 * names as written, which is what a case-sensitive server does).
 *
 * ODBC sources may also name tables `catalog.schema.table` (CONNX): their
 * patterns may have three parts (`catalog.schema.table`, `catalog.schema.*`),
 * and `resolveOdbcTable` gives every reference its full name from the
 * defaults, or says which default is missing.
 */
import {
  CATALOG_TABLE_PATTERN_PROBLEM,
  parseTablePattern,
  TABLE_PATTERN_PROBLEM,
  type TablePattern,
  tablePatternMatches,
} from '@sqlwarden/core';
import type { Dialect, ResolvedTable, TableReference } from './types.js';

/**
 * What the parser is given for the schema of `catalog..table` (ODBC): a
 * quoted name no statement may write (the guard refuses a text that holds
 * it), recognised in the tree as "no schema".
 */
export const SKIPPED_SCHEMA = 'sqlwarden:skipped-schema';

const compiledPatterns = new WeakMap<readonly string[], readonly TablePattern[]>();
const compiledCatalogPatterns = new WeakMap<readonly string[], readonly TablePattern[]>();

/**
 * Throws on a malformed pattern: patterns come from configuration, not
 * clients. Three-part patterns only with `catalogs` (ODBC sources).
 */
export function compilePatterns(
  patterns: readonly string[],
  catalogs = false,
): readonly TablePattern[] {
  const cache = catalogs ? compiledCatalogPatterns : compiledPatterns;
  let compiled = cache.get(patterns);
  if (compiled === undefined) {
    compiled = patterns.map((text) => {
      const pattern = parseTablePattern(text, { catalogs });
      if (pattern === undefined) {
        const problem = catalogs ? CATALOG_TABLE_PATTERN_PROBLEM : TABLE_PATTERN_PROBLEM;
        throw new TypeError(`Invalid table pattern "${text}": ${problem}`);
      }
      return pattern;
    });
    cache.set(patterns, compiled);
  }
  return compiled;
}

export function isAllowed(
  patterns: readonly TablePattern[],
  schema: string,
  table: string,
  catalog?: string,
): boolean {
  return patterns.some((pattern) => tablePatternMatches(pattern, schema, table, catalog));
}

/**
 * Whether `schema.table` (of `catalog`, for a table named with one)
 * matches one of the allow-list patterns, with the same rules as the checks
 * (throws TypeError on a malformed pattern). Three-part patterns are read
 * here whatever the source; they match only tables of their catalog.
 */
export function tableAllowed(
  patterns: readonly string[],
  schema: string,
  table: string,
  catalog?: string,
): boolean {
  return isAllowed(compilePatterns(patterns, true), schema, table, catalog);
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

/** Whether a source's patterns name catalogs (any three-part pattern). */
export function patternsNameCatalogs(patterns: readonly TablePattern[] | undefined): boolean {
  return patterns?.some((pattern) => pattern.catalog !== undefined) ?? false;
}

/** Where an ODBC table resolved, or what it lacks to resolve. */
export type OdbcResolution =
  | { readonly ok: true; readonly catalog: string; readonly schema: string }
  | { readonly ok: false; readonly missing: 'catalog' | 'schema' };

/**
 * The full (catalog, schema) of a table on a source that names catalogs:
 * `catalog.schema.table` as written, `schema.table` in the default catalog,
 * `catalog..table` in the default schema, `table` in both defaults (an
 * unqualified `pg_*` in pg_catalog, as everywhere on ODBC). Never a guess:
 * a default that is not configured is reported missing.
 */
export function resolveOdbcTable(
  ref: TableReference,
  defaults: { readonly defaultCatalog?: string; readonly defaultSchema?: string },
): OdbcResolution {
  const catalog = ref.catalog ?? defaults.defaultCatalog;
  if (catalog === undefined) return { ok: false, missing: 'catalog' };
  const schema = resolveSchema('odbc', ref, defaults.defaultSchema);
  if (schema === null) return { ok: false, missing: 'schema' };
  return { ok: true, catalog, schema };
}
