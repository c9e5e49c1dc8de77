/**
 * Catalog queries: tables, one table's description, the function catalog
 * for the guard, and the least-privilege report. Each is a fixed statement
 * of ours, run as a prepared statement with names as bound values (never
 * interpolated), in the same read-only session as the reads. The one
 * exception is `SHOW GRANTS`, a fixed text without values.
 *
 * information_schema compares names with a case-insensitive collation;
 * MySQL on Linux stores `Items` and `items` as two tables. So every name
 * filter is repeated exactly, in code.
 */
import type {
  ColumnInfo,
  FunctionCatalog,
  IndexInfo,
  PrivilegeReport,
  PrivilegeReportRequest,
  TableDescription,
  TableKind,
  TableSummary,
} from '@sqlwarden/core';
import type { ServerFlavor } from './session.js';

export interface CatalogClient {
  /** One prepared statement of ours with bound values; rows as arrays. */
  rows(sql: string, values: readonly unknown[]): Promise<unknown[][]>;
  /** One fixed text of ours over the text protocol; rows as arrays. */
  text(sql: string): Promise<unknown[][]>;
}

const SYSTEM_SCHEMAS = "('mysql', 'sys', 'information_schema', 'performance_schema')";

/** information_schema text, whatever the server's column charset made of it. */
function str(value: unknown): string | null {
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

/** One line of SHOW GRANTS, as far as the report needs it. */
export interface Grant {
  /** Upper case, column lists removed: `SELECT`, `INSERT`, `ALL PRIVILEGES`... */
  readonly privileges: readonly string[];
  readonly target:
    | { readonly level: 'global' }
    | { readonly level: 'schema'; readonly pattern: string }
    | { readonly level: 'table'; readonly schema: string; readonly table: string };
}

/** Splits at `separator` outside backticks, quotes and parentheses. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote !== null) {
      if (ch === quote) {
        if (text[i + 1] === quote) i++;
        else quote = null;
      }
      continue;
    }
    if (ch === '`' || ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
      i += separator.length - 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(identifier: string): string {
  const trimmed = identifier.trim();
  for (const q of ['`', '"', "'"]) {
    if (trimmed.length >= 2 && trimmed.startsWith(q) && trimmed.endsWith(q))
      return trimmed.slice(1, -1).replaceAll(q + q, q);
  }
  return trimmed;
}

/**
 * Reads one SHOW GRANTS line: `GRANT <privileges> ON <target> TO ...`.
 * Lines granting roles, PROXY, or privileges on routines are not table
 * grants and give null. The rest of the line (the account, a password
 * hash on old servers) is never kept.
 */
export function parseGrant(line: string): Grant | null {
  if (!line.startsWith('GRANT ')) return null;
  const [privilegeText, rest] = splitTopLevel(line.slice('GRANT '.length), ' ON ');
  if (privilegeText === undefined || rest === undefined) return null;
  const [targetText] = splitTopLevel(rest, ' TO ');
  if (targetText === undefined || /^(FUNCTION|PROCEDURE|PACKAGE)\b/i.test(targetText)) return null;
  const privileges = splitTopLevel(privilegeText, ',')
    .map((p) =>
      p
        .replace(/\(.*\)\s*$/s, '')
        .trim()
        .toUpperCase(),
    )
    .filter((p) => p !== '');
  if (privileges.includes('PROXY')) return null;
  const target = targetText.replace(/^TABLE\s+/i, '').trim();
  if (target === '*.*' || target === '*') return { privileges, target: { level: 'global' } };
  const [schemaPart, tablePart] = splitTopLevel(target, '.');
  if (schemaPart === undefined || tablePart === undefined) return null;
  if (tablePart.trim() === '*')
    return { privileges, target: { level: 'schema', pattern: unquote(schemaPart) } };
  return {
    privileges,
    target: { level: 'table', schema: unquote(schemaPart), table: unquote(tablePart) },
  };
}

/** Whether a schema-level grant's name (LIKE-style: `_` and `%` wildcards, `\` escapes) covers a schema. */
export function schemaPatternMatches(pattern: string, schema: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\' && i + 1 < pattern.length) {
      source += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (ch === '%') source += '.*';
    else if (ch === '_') source += '.';
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su').test(schema);
}

const WRITE_PRIVILEGES = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'ALTER',
  'ALL',
  'ALL PRIVILEGES',
]);
const writes = (grant: Grant) => grant.privileges.some((p) => WRITE_PRIVILEGES.has(p));

/** What is wrong with the account a source connects as, and how to fix it. */
export async function privilegeReport(
  client: CatalogClient,
  options: { readonly source: string; readonly defaultSchema: string },
  request: PrivilegeReportRequest,
): Promise<PrivilegeReport> {
  const [[account] = []] = await client.rows('SELECT CURRENT_USER()', []);
  const who = str(account) ?? 'its account';
  // MariaDB's SHOW GRANTS includes the privileges of the enabled roles;
  // information_schema's privilege tables do not.
  const grants = (await client.text('SHOW GRANTS'))
    .map(([line]) => parseGrant(str(line) ?? ''))
    .filter((grant): grant is Grant => grant !== null);
  const global = new Set(
    grants.filter((g) => g.target.level === 'global').flatMap((g) => g.privileges),
  );
  const { source, defaultSchema } = options;
  const fix = `see docs/mysql.md#least-privilege: CREATE USER 'sqlwarden_ro'@'%' IDENTIFIED BY '...'; GRANT SELECT ON \`${defaultSchema.replaceAll('`', '``')}\`.* TO 'sqlwarden_ro'@'%'`;
  const warnings: string[] = [];
  if (global.has('ALL PRIVILEGES') || global.has('ALL')) {
    warnings.push(
      `Source ${source} connects as ${who}, which has ALL PRIVILEGES on *.*: it can read every table and server file, write anything and lift any setting; connect as a dedicated read-only account instead (${fix}).`,
    );
    return { warnings };
  }
  if (global.has('SUPER')) {
    warnings.push(
      `Source ${source} connects as ${who}, which has SUPER: it can change global settings, stop other sessions and write on a read-only server; revoke it (${fix}).`,
    );
  }
  if (global.has('FILE')) {
    warnings.push(
      `Source ${source} connects as ${who}, which has FILE: it can read and write files on the database server; revoke it (${fix}).`,
    );
  }
  if (request.readOnly) {
    const tables = await client.rows(
      `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
        WHERE TABLE_SCHEMA NOT IN ${SYSTEM_SCHEMAS}`,
      [],
    );
    const writeGrants = grants.filter(writes);
    const served = tables
      .map(([schema, table]) => [str(schema) ?? '', str(table) ?? ''] as const)
      .filter(([schema, table]) => request.serves(schema, table))
      .filter(([schema, table]) =>
        writeGrants.some((grant) => {
          const target = grant.target;
          if (target.level === 'global') return true;
          if (target.level === 'schema') return schemaPatternMatches(target.pattern, schema);
          return target.schema === schema && target.table === table;
        }),
      )
      .map(([schema, table]) => `${schema}.${table}`)
      .sort();
    if (served.length > 0) {
      const shown =
        served.slice(0, 5).join(', ') + (served.length > 5 ? ` and ${served.length - 5} more` : '');
      warnings.push(
        `Source ${source} is read-only but its account ${who} can write ${served.length} of the tables it serves (${shown}): grant it SELECT only (${fix}).`,
      );
    }
  }
  return { warnings };
}
