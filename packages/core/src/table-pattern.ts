/**
 * Table patterns: `schema.table`, or `schema.*` for every table of a schema,
 * as a source's `tables` and `writable`, the guard's allow lists and the
 * `read:`/`write:` capabilities write them. One parser for all of them.
 *
 * A `*` stands for a whole table name only: `sales.*`. A wildcard schema
 * (`*.orders`) is not a pattern (it would reach system catalogs), nor is a
 * partial wildcard (`sales.ord*`) or a name without a schema. Names are
 * compared exactly, as the database reports them.
 *
 * Sources that name tables `catalog.schema.table` (ODBC sources such as
 * CONNX, where the catalog is a logical database) write three-part
 * patterns, `catalog.schema.table` or `catalog.schema.*`, when the parser
 * is asked for them (`{ catalogs: true }`); the wildcard is still only the
 * whole last part. A three-part pattern matches only tables of its catalog,
 * and a two-part pattern only tables named without one: a pattern never
 * reaches into a catalog it does not name.
 */

export interface TablePattern {
  /** Present on three-part patterns only (`catalog.schema.table`). */
  readonly catalog?: string;
  readonly schema: string;
  /** A table name, or `*` for every table of the schema. */
  readonly table: string;
}

/** What is wrong with a pattern, in a sentence an operator can act on. */
export const TABLE_PATTERN_PROBLEM =
  'must be schema.table or schema.* (a wildcard stands for the whole table name)';

/** The same, for sources whose patterns may name a catalog (`{ catalogs: true }`). */
export const CATALOG_TABLE_PATTERN_PROBLEM =
  'must be catalog.schema.table, catalog.schema.*, schema.table or schema.* (a wildcard stands for the whole table name)';

/**
 * The pattern, or undefined when the text is not one. Three-part patterns
 * are read only with `{ catalogs: true }`; otherwise only two-part ones.
 */
export function parseTablePattern(
  text: string,
  options: { readonly catalogs?: boolean } = {},
): TablePattern | undefined {
  if (typeof text !== 'string' || /\s/.test(text)) return undefined;
  const parts = text.split('.');
  const three = parts.length === 3 && options.catalogs === true;
  if (parts.length !== 2 && !three) return undefined;
  const table = parts.at(-1) as string;
  const qualifiers = parts.slice(0, -1);
  if (table.length === 0 || (table.includes('*') && table !== '*')) return undefined;
  if (qualifiers.some((part) => part.length === 0 || part.includes('*'))) return undefined;
  if (three) {
    const [catalog, schema] = qualifiers as [string, string];
    return { catalog, schema, table };
  }
  return { schema: qualifiers[0] as string, table };
}

/**
 * Whether `schema.table` (of `catalog`, when the table's name has one) is
 * one of the pattern's tables. A three-part pattern matches only tables of
 * its catalog; a two-part pattern only tables without a catalog.
 */
export function tablePatternMatches(
  pattern: TablePattern,
  schema: string,
  table: string,
  catalog?: string,
): boolean {
  return (
    pattern.catalog === catalog &&
    pattern.schema === schema &&
    (pattern.table === '*' || pattern.table === table)
  );
}

/**
 * Whether two patterns can name a common table (`*` on either side matches
 * any name there, as a schema or a table; catalogs must be equal, or both
 * absent): a grant that overlaps none of a source's patterns can never
 * apply.
 */
export function tablePatternsOverlap(a: TablePattern, b: TablePattern): boolean {
  const catalog = a.catalog === b.catalog;
  const schema = a.schema === '*' || b.schema === '*' || a.schema === b.schema;
  const table = a.table === '*' || b.table === '*' || a.table === b.table;
  return catalog && schema && table;
}
