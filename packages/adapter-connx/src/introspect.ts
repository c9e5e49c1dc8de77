/**
 * The catalog through ODBC's catalog functions (SQLTables, SQLColumns,
 * SQLPrimaryKeys, SQLForeignKeys), which every driver answers whatever its
 * SQL. Where the driver's catalog is the database and its schema is empty
 * (MariaDB ODBC), sqlwarden's schema is the ODBC catalog (`catalogIsSchema`).
 */
import type {
  ForeignKeyInfo,
  TableDescription,
  TableKind,
  TableRef,
  TableSummary,
} from '@sqlwarden/core';
import type { OdbcSession } from './driver.js';

type Row = Record<string, unknown>;

const str = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);

function kindOf(type: unknown): TableKind | undefined {
  const t = String(type ?? '').toUpperCase();
  if (t === 'TABLE' || t === 'BASE TABLE') return 'table';
  if (t === 'VIEW' || t === 'SYSTEM VIEW') return 'view';
  return undefined;
}

/** Catalog and schema arguments for a schema of sqlwarden's. */
function where(schema: string | null, catalogIsSchema: boolean): [string | null, string | null] {
  return catalogIsSchema ? [schema, null] : [null, schema];
}

function schemaOf(row: Row, catalogIsSchema: boolean): string {
  return (catalogIsSchema ? str(row.TABLE_CAT) : str(row.TABLE_SCHEM)) ?? '';
}

/**
 * A table's comment from SQLTables' REMARKS. MariaDB ODBC (`catalogIsSchema`)
 * reads information_schema's TABLE_COMMENT, which says `VIEW` for every
 * view: MariaDB views have no comments, so a view's is null.
 */
function commentOf(row: Row, kind: TableKind, catalogIsSchema: boolean): string | null {
  if (catalogIsSchema && kind === 'view') return null;
  return str(row.REMARKS) || null;
}

/**
 * A column's default from SQLColumns' COLUMN_DEF. MariaDB ODBC reads
 * information_schema's COLUMN_DEFAULT, which is the text `NULL` for a
 * nullable column without a default (a string default is quoted there,
 * `'NULL'`, so the two do not meet): no default.
 */
function defaultOf(row: Row, catalogIsSchema: boolean): string | null {
  const text = str(row.COLUMN_DEF);
  return catalogIsSchema && text === 'NULL' ? null : text;
}

export async function listTables(
  session: OdbcSession,
  schemas: readonly string[] | undefined,
  catalogIsSchema: boolean,
  catalogs?: readonly string[],
): Promise<TableSummary[]> {
  const tables: TableSummary[] = [];
  // A source that names catalogs (CONNX: catalog.schema.table): each served
  // catalog is asked for, and every table carries its catalog.
  const named = catalogs !== undefined && catalogs.length > 0 && !catalogIsSchema;
  for (const catalog of named ? catalogs : [null]) {
    for (const schema of schemas ?? [null]) {
      const [cat, sch] = named ? [catalog, schema] : where(schema, catalogIsSchema);
      const rows = await session.catalog('tables', [cat, sch, null, null]);
      for (const row of rows) {
        const kind = kindOf(row.TABLE_TYPE);
        if (kind === undefined) continue;
        tables.push({
          ...(named && { catalog: str(row.TABLE_CAT) ?? (catalog as string) }),
          schema: schemaOf(row, catalogIsSchema),
          name: String(row.TABLE_NAME),
          kind,
          estimatedRows: null,
          comment: commentOf(row, kind, catalogIsSchema),
        });
      }
    }
  }
  return tables.sort(
    (a, b) =>
      (a.catalog ?? '').localeCompare(b.catalog ?? '') ||
      a.schema.localeCompare(b.schema) ||
      a.name.localeCompare(b.name),
  );
}

export async function describeTable(
  session: OdbcSession,
  table: TableRef,
  catalogIsSchema: boolean,
): Promise<TableDescription | null> {
  const [catalog, schema] =
    table.catalog !== undefined && !catalogIsSchema
      ? [table.catalog, table.schema]
      : where(table.schema, catalogIsSchema);
  const found = await session.catalog('tables', [catalog, schema, table.name, null]);
  const summary = found.find(
    (row) => String(row.TABLE_NAME) === table.name && kindOf(row.TABLE_TYPE) !== undefined,
  );
  if (summary === undefined) return null;
  const columns = await session.catalog('columns', [catalog, schema, table.name, null]);
  const keys = await session.catalog('primaryKeys', [catalog, schema, table.name]);
  const primaryKey = keys
    .sort((a, b) => Number(a.KEY_SEQ) - Number(b.KEY_SEQ))
    .map((row) => String(row.COLUMN_NAME));
  // SQLForeignKeys with only the foreign-key table named: the keys this table
  // holds (its references to others), one row per column.
  const references = await session.catalog('foreignKeys', [
    null,
    null,
    null,
    catalog,
    schema,
    table.name,
  ]);
  return {
    ...(table.catalog !== undefined && !catalogIsSchema && { catalog: table.catalog }),
    schema: table.schema,
    name: table.name,
    kind: kindOf(summary.TABLE_TYPE) ?? 'table',
    estimatedRows: null,
    comment: commentOf(summary, kindOf(summary.TABLE_TYPE) ?? 'table', catalogIsSchema),
    columns: columns
      .sort((a, b) => Number(a.ORDINAL_POSITION) - Number(b.ORDINAL_POSITION))
      .map((row) => ({
        name: String(row.COLUMN_NAME),
        type: String(row.TYPE_NAME ?? '').toLowerCase(),
        nullable: Number(row.NULLABLE) !== 0,
        default: defaultOf(row, catalogIsSchema),
        comment: str(row.REMARKS) || null,
      })),
    primaryKey,
    foreignKeys: foreignKeysOf(
      references,
      catalogIsSchema,
      table.catalog !== undefined && !catalogIsSchema,
    ),
    // SQLStatistics (indexes) is not in the `odbc` package's API: none are
    // reported rather than a guess (docs/connx.md, "Catalog").
    indexes: [],
  };
}

/**
 * SQLForeignKeys rows (one per column) grouped into keys: by FK_NAME where
 * the driver names the key, else by the referenced table. Columns in
 * KEY_SEQ order (drivers need not return a key's rows in order); keys
 * sorted by name. The referenced table's schema is read the way the
 * table's own is (`catalogIsSchema`: MariaDB ODBC's catalog); with
 * `withCatalog` (a source that names catalogs) it carries its catalog.
 */
export function foreignKeysOf(
  rows: readonly Row[],
  catalogIsSchema: boolean,
  withCatalog = false,
): ForeignKeyInfo[] {
  const keys = new Map<
    string,
    { name: string; schema: string; table: string; catalog: string | null; parts: Row[] }
  >();
  for (const row of rows) {
    const schema = (catalogIsSchema ? str(row.PKTABLE_CAT) : str(row.PKTABLE_SCHEM)) ?? '';
    const table = String(row.PKTABLE_NAME);
    const name = str(row.FK_NAME) ?? '';
    const id = name !== '' ? `n:${name}` : `t:${schema}.${table}`;
    const entry = keys.get(id) ?? { name, schema, table, catalog: str(row.PKTABLE_CAT), parts: [] };
    entry.parts.push(row);
    keys.set(id, entry);
  }
  return [...keys.values()]
    .map((entry) => {
      const parts = entry.parts.sort((a, b) => Number(a.KEY_SEQ) - Number(b.KEY_SEQ));
      return {
        name: entry.name,
        columns: parts.map((row) => String(row.FKCOLUMN_NAME)),
        references: {
          ...(withCatalog && entry.catalog !== null && { catalog: entry.catalog }),
          schema: entry.schema,
          name: entry.table,
          columns: parts.map((row) => String(row.PKCOLUMN_NAME)),
        },
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
