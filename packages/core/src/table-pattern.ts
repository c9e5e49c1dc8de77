/**
 * Table patterns: `schema.table`, or `schema.*` for every table of a schema,
 * as a source's `tables` and `writable`, the guard's allow lists and the
 * `read:`/`write:` capabilities write them. One parser for all of them.
 *
 * A `*` stands for a whole table name only: `sales.*`. A wildcard schema
 * (`*.orders`) is not a pattern (it would reach system catalogs), nor is a
 * partial wildcard (`sales.ord*`) or a name without a schema. Names are
 * compared exactly, as the database reports them.
 */

export interface TablePattern {
  readonly schema: string;
  /** A table name, or `*` for every table of the schema. */
  readonly table: string;
}

/** What is wrong with a pattern, in a sentence an operator can act on. */
export const TABLE_PATTERN_PROBLEM =
  'must be schema.table or schema.* (a wildcard stands for the whole table name)';

/** The pattern, or undefined when the text is not one. */
export function parseTablePattern(text: string): TablePattern | undefined {
  const dot = text.indexOf('.');
  if (dot <= 0) return undefined;
  const schema = text.slice(0, dot);
  const table = text.slice(dot + 1);
  if (table.length === 0 || schema.includes('*')) return undefined;
  if (table.includes('*') && table !== '*') return undefined;
  if (/\s/.test(text) || table.includes('.')) return undefined;
  return { schema, table };
}

/** Whether `schema.table` is one of the pattern's tables. */
export function tablePatternMatches(pattern: TablePattern, schema: string, table: string): boolean {
  return pattern.schema === schema && (pattern.table === '*' || pattern.table === table);
}

/**
 * Whether two patterns can name a common table (`*` on either side matches
 * any name there): a grant that overlaps none of a source's patterns can
 * never apply.
 */
export function tablePatternsOverlap(a: TablePattern, b: TablePattern): boolean {
  const schema = a.schema === '*' || b.schema === '*' || a.schema === b.schema;
  const table = a.table === '*' || b.table === '*' || a.table === b.table;
  return schema && table;
}
