/**
 * The catalog through ODBC's catalog functions (SQLTables, SQLColumns,
 * SQLPrimaryKeys, SQLForeignKeys), which every driver answers whatever its
 * SQL. Where the driver's catalog is the database and its schema is empty
 * (MariaDB ODBC), sqlwarden's schema is the ODBC catalog (`catalogIsSchema`).
 */
import type { TableDescription, TableKind, TableRef, TableSummary } from '@sqlwarden/core';
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
          comment: str(row.REMARKS) || null,
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
  return {
    ...(table.catalog !== undefined && !catalogIsSchema && { catalog: table.catalog }),
    schema: table.schema,
    name: table.name,
    kind: kindOf(summary.TABLE_TYPE) ?? 'table',
    estimatedRows: null,
    comment: str(summary.REMARKS) || null,
    columns: columns
      .sort((a, b) => Number(a.ORDINAL_POSITION) - Number(b.ORDINAL_POSITION))
      .map((row) => ({
        name: String(row.COLUMN_NAME),
        type: String(row.TYPE_NAME ?? '').toLowerCase(),
        nullable: Number(row.NULLABLE) !== 0,
        default: str(row.COLUMN_DEF),
        comment: str(row.REMARKS) || null,
      })),
    primaryKey,
    // Foreign keys and indexes through ODBC: not read yet (docs/connx.md).
    foreignKeys: [],
    indexes: [],
  };
}
