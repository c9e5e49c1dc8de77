/**
 * Catalog queries: tables, one table's description and the function catalog
 * for the guard (the least-privilege report, from SHOW GRANTS, is
 * grants.ts). Each is a fixed statement of ours, run as a prepared
 * statement with names as bound values (never interpolated), in the same
 * read-only session as the reads.
 *
 * information_schema compares names with a case-insensitive collation;
 * MySQL on Linux stores `Items` and `items` as two tables. So every name
 * filter is repeated exactly, in code.
 */
import type {
  ColumnInfo,
  FunctionCatalog,
  IndexInfo,
  TableDescription,
  TableKind,
  TableSummary,
  ViewDependency,
} from '@sqlwarden/core';
import type { ServerFlavor } from './session.js';

export interface CatalogClient {
  /** One prepared statement of ours with bound values; rows as arrays. */
  rows(sql: string, values: readonly unknown[]): Promise<unknown[][]>;
  /** One fixed text of ours over the text protocol; rows as arrays. */
  text(sql: string): Promise<unknown[][]>;
}

export const SYSTEM_SCHEMAS = "('mysql', 'sys', 'information_schema', 'performance_schema')";

/** information_schema text, whatever the server's column charset made of it. */
export function str(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return String(value);
}

const emptyToNull = (value: unknown) => {
  const text = str(value);
  return text === null || text === '' ? null : text;
};

const count = (value: unknown) => {
  const text = str(value);
  if (text === null) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
};

export function tableKind(tableType: string | null): TableKind {
  switch (tableType) {
    case 'BASE TABLE':
    case 'SYSTEM VERSIONED':
      return 'table';
    case 'VIEW':
    case 'SYSTEM VIEW':
      return 'view';
    default:
      return 'other';
  }
}

const byName = (a: { readonly name: string }, b: { readonly name: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** Tables and views of the given schemas (all user schemas when none given). */
export async function listTables(
  client: CatalogClient,
  schemas: readonly string[] | undefined,
): Promise<TableSummary[]> {
  if (schemas !== undefined && schemas.length === 0) return [];
  const filter =
    schemas === undefined ? '' : ` AND TABLE_SCHEMA IN (${schemas.map(() => '?').join(', ')})`;
  const rows = await client.rows(
    `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_ROWS, TABLE_COMMENT
       FROM information_schema.TABLES
      WHERE TABLE_SCHEMA NOT IN ${SYSTEM_SCHEMAS}${filter}`,
    schemas ?? [],
  );
  const wanted = schemas === undefined ? undefined : new Set(schemas);
  const tables: TableSummary[] = [];
  for (const [schema, name, type, estimate, comment] of rows) {
    const s = str(schema) ?? '';
    if (wanted !== undefined && !wanted.has(s)) continue;
    const kind = tableKind(str(type));
    tables.push({
      schema: s,
      name: str(name) ?? '',
      kind,
      estimatedRows: kind === 'view' ? null : count(estimate),
      // MySQL writes 'VIEW' as every view's comment; views have no comments.
      comment: kind === 'view' ? null : emptyToNull(comment),
    });
  }
  return tables.sort((a, b) =>
    a.schema === b.schema ? byName(a, b) : a.schema < b.schema ? -1 : 1,
  );
}

/**
 * One table with columns, keys and indexes, in one statement (four parts
 * under UNION ALL, told apart by the first column), or null.
 */
export async function describeTable(
  client: CatalogClient,
  schema: string,
  name: string,
  flavor: ServerFlavor,
): Promise<TableDescription | null> {
  const rows = await client.rows(
    `SELECT 't', TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_COMMENT, CAST(TABLE_ROWS AS CHAR), NULL, NULL, 0
       FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
     UNION ALL
     SELECT 'c', TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT, ORDINAL_POSITION
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
     UNION ALL
     SELECT 'i', TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME, CAST(NON_UNIQUE AS CHAR), NULL, NULL, SEQ_IN_INDEX
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
     UNION ALL
     SELECT 'f', TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME, ORDINAL_POSITION
       FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL`,
    [schema, name, schema, name, schema, name, schema, name],
  );
  let table: { kind: TableKind; comment: string | null; estimatedRows: number | null } | undefined;
  const columns: Array<ColumnInfo & { position: number }> = [];
  const indexes = new Map<string, { unique: boolean; parts: Array<[number, string]> }>();
  const keys = new Map<
    string,
    { schema: string; table: string; parts: Array<[number, string, string]> }
  >();
  for (const row of rows) {
    const [part, s, t, a, b, c, d, e] = row.slice(0, 8).map(str);
    if (s !== schema || t !== name) continue;
    const position = Number(row[8]);
    switch (part) {
      case 't': {
        const kind = tableKind(a ?? null);
        table = {
          kind,
          comment: kind === 'view' ? null : emptyToNull(b),
          estimatedRows: kind === 'view' ? null : count(c),
        };
        break;
      }
      case 'c':
        columns.push({
          name: a ?? '',
          type: b ?? '',
          nullable: c === 'YES',
          // MariaDB reports a nullable column without a default as the text NULL
          // (its defaults are expressions: strings come quoted, so 'NULL' is not this).
          default: flavor === 'mariadb' && d === 'NULL' ? null : (d ?? null),
          comment: emptyToNull(e),
          position,
        });
        break;
      case 'i': {
        const index = a ?? '';
        let entry = indexes.get(index);
        if (entry === undefined) {
          entry = { unique: c === '0', parts: [] };
          indexes.set(index, entry);
        }
        // A functional key part (MySQL 8) has no column.
        entry.parts.push([position, b ?? '(expression)']);
        break;
      }
      case 'f': {
        const constraint = a ?? '';
        let entry = keys.get(constraint);
        if (entry === undefined) {
          entry = { schema: c ?? '', table: d ?? '', parts: [] };
          keys.set(constraint, entry);
        }
        entry.parts.push([position, b ?? '', e ?? '']);
        break;
      }
    }
  }
  if (table === undefined) return null;
  const ordered = <T extends unknown[]>(parts: T[]) =>
    [...parts].sort((x, y) => (x[0] as number) - (y[0] as number));
  const indexList: IndexInfo[] = [...indexes.entries()]
    .map(([indexName, entry]) => ({
      name: indexName,
      columns: ordered(entry.parts).map((p) => p[1]),
      unique: entry.unique,
      primary: indexName === 'PRIMARY',
    }))
    .sort(byName);
  return {
    schema,
    name,
    kind: table.kind,
    estimatedRows: table.estimatedRows,
    comment: table.comment,
    columns: columns
      .sort((x, y) => x.position - y.position)
      .map(({ position: _position, ...column }) => column),
    primaryKey: indexList.find((index) => index.primary)?.columns ?? [],
    foreignKeys: [...keys.entries()]
      .map(([keyName, entry]) => {
        const parts = ordered(entry.parts);
        return {
          name: keyName,
          columns: parts.map((p) => p[1]),
          references: { schema: entry.schema, name: entry.table, columns: parts.map((p) => p[2]) },
        };
      })
      .sort(byName),
    indexes: indexList,
  };
}

/**
 * The names the guard must refuse. MySQL's native functions are in no
 * table, so there is no `system` list (FunctionCatalog.system is
 * optional). What can be listed:
 *  - stored functions and procedures outside the system schemas
 *    (information_schema.ROUTINES shows those the account may use): every
 *    one is user-defined, as `schema.name` and as the bare name (a bare
 *    call resolves in the default database; listing every bare name
 *    refuses a little more than needed, never less); those that declare
 *    MODIFIES SQL DATA are volatile as well;
 *  - loadable functions (CREATE FUNCTION ... SONAME, in mysql.func): bare,
 *    user-defined and volatile (native code: anything is possible). Read
 *    only when the account may read mysql.func; a least-privilege account
 *    may not, which is fine: the guard's built-in list has the known
 *    dangerous ones (sys_exec, sys_eval...).
 */
export async function functionCatalog(
  client: CatalogClient,
  isConnectionError: (error: unknown) => boolean,
): Promise<FunctionCatalog> {
  const routines = await client.rows(
    `SELECT ROUTINE_SCHEMA, ROUTINE_NAME, SQL_DATA_ACCESS
       FROM information_schema.ROUTINES
      WHERE ROUTINE_SCHEMA NOT IN ${SYSTEM_SCHEMAS}`,
    [],
  );
  const volatile = new Set<string>();
  const userDefined = new Set<string>();
  for (const [schema, routine, access] of routines) {
    const name = (str(routine) ?? '').toLowerCase();
    const qualified = `${(str(schema) ?? '').toLowerCase()}.${name}`;
    userDefined.add(name);
    userDefined.add(qualified);
    if (str(access) === 'MODIFIES SQL DATA') {
      volatile.add(name);
      volatile.add(qualified);
    }
  }
  let loadable: unknown[][] = [];
  try {
    loadable = await client.rows('SELECT name FROM mysql.func', []);
  } catch (error) {
    if (isConnectionError(error)) throw error;
  }
  for (const [udf] of loadable) {
    const name = (str(udf) ?? '').toLowerCase();
    if (name === '') continue;
    userDefined.add(name);
    volatile.add(name);
  }
  return { volatile: [...volatile].sort(), userDefined: [...userDefined].sort() };
}

/**
 * What each view of the given schemas reads (column policies): the tables
 * information_schema.VIEW_TABLE_USAGE lists (MySQL 8.0.13 and later; any
 * column of each), or else the view's definition, which the caller
 * searches for protected tables' names. A definition the account may not
 * read (information_schema shows it empty without SHOW VIEW), or one that
 * names a stored routine (which could read any table), is reported as
 * unreadable: the view then counts as reading everything.
 */
export async function viewDependencies(
  client: CatalogClient,
  schemas: readonly string[] | undefined,
  isConnectionError: (error: unknown) => boolean,
): Promise<ViewDependency[]> {
  if (schemas !== undefined && schemas.length === 0) return [];
  const filter = (column: string) =>
    schemas === undefined ? '' : ` AND ${column} IN (${schemas.map(() => '?').join(', ')})`;
  const views = await client.rows(
    `SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS
      WHERE TABLE_SCHEMA NOT IN ${SYSTEM_SCHEMAS}${filter('TABLE_SCHEMA')}`,
    schemas ?? [],
  );
  let usage: unknown[][] | undefined;
  try {
    usage = await client.rows(
      `SELECT VIEW_SCHEMA, VIEW_NAME, TABLE_SCHEMA, TABLE_NAME FROM information_schema.VIEW_TABLE_USAGE
        WHERE VIEW_SCHEMA NOT IN ${SYSTEM_SCHEMAS}${filter('VIEW_SCHEMA')}`,
      schemas ?? [],
    );
  } catch (error) {
    // MariaDB and MySQL before 8.0.13 have no such table: the definitions are searched instead.
    if (isConnectionError(error)) throw error;
  }
  const routines = (
    await client.rows(
      `SELECT DISTINCT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA NOT IN ${SYSTEM_SCHEMAS}`,
      [],
    )
  ).map(([name]) => (str(name) ?? '').toLowerCase());
  const callsRoutine = (definition: string) => {
    const words = new Set(definition.toLowerCase().split(/[^a-z0-9_$\u0080-\uffff]+/u));
    return routines.some((name) => name !== '' && words.has(name));
  };
  const wanted = schemas === undefined ? undefined : new Set(schemas);
  const out: ViewDependency[] = [];
  for (const [schema, name, text] of views) {
    const view = { schema: str(schema) ?? '', name: str(name) ?? '' };
    if (wanted !== undefined && !wanted.has(view.schema)) continue;
    const definition = emptyToNull(text);
    if (definition === null || callsRoutine(definition)) {
      out.push({ view, definition: null });
      continue;
    }
    if (usage === undefined) {
      out.push({ view, definition });
      continue;
    }
    const reads = usage
      .filter(([s, n]) => str(s) === view.schema && str(n) === view.name)
      .map(([, , s, n]) => ({ schema: str(s) ?? '', name: str(n) ?? '', columns: null }));
    out.push({ view, reads });
  }
  return out;
}
