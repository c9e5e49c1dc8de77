/**
 * Catalog queries: tables, one table's description, the function catalog
 * for the guard, and the least-privilege report. Each is one statement of
 * ours with bound values, sent over the extended protocol, in the same
 * read-only session as the reads. Names are never interpolated.
 */
import type {
  FunctionCatalog,
  PrivilegeReport,
  PrivilegeReportRequest,
  TableDescription,
  TableKind,
  TableSummary,
  ViewDependency,
} from '@sqlwarden/core';
import type { PgClient } from './config.js';

async function rows<R>(client: PgClient, text: string, values: unknown[]): Promise<R[]> {
  const result = await client.query<R>({ text, values, queryMode: 'extended' } as never);
  return result.rows;
}

const KIND: Readonly<Record<string, TableKind>> = {
  r: 'table',
  p: 'table',
  v: 'view',
  m: 'materialized_view',
  f: 'foreign_table',
};

const SYSTEM_SCHEMAS =
  "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/** Tables, views and materialized views of the given schemas (all user schemas when none given). */
export async function listTables(
  client: PgClient,
  schemas: readonly string[] | undefined,
): Promise<TableSummary[]> {
  const result = await rows<{
    schema: string;
    name: string;
    kind: string;
    estimated: string | null;
    comment: string | null;
  }>(
    client,
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind,
            CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS estimated,
            pg_catalog.obj_description(c.oid, 'pg_class') AS comment
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
        AND ${SYSTEM_SCHEMAS}
        AND ($1::text[] IS NULL OR n.nspname = ANY($1::text[]))
      ORDER BY 1, 2`,
    [schemas === undefined ? null : [...schemas]],
  );
  return result.map((r) => ({
    schema: r.schema,
    name: r.name,
    kind: KIND[r.kind] ?? 'other',
    estimatedRows: r.estimated === null ? null : Number(r.estimated),
    comment: r.comment,
  }));
}

/** One table with columns, keys and indexes, in one round trip (a JSON document), or null. */
export async function describeTable(
  client: PgClient,
  schema: string,
  name: string,
): Promise<TableDescription | null> {
  const result = await rows<{ doc: TableDescription | null }>(
    client,
    `SELECT json_build_object(
        'schema', n.nspname, 'name', c.relname,
        'kind', c.relkind,
        'estimatedRows', CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END,
        'comment', pg_catalog.obj_description(c.oid, 'pg_class'),
        'columns', COALESCE((
          SELECT json_agg(json_build_object(
                   'name', a.attname,
                   'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
                   'nullable', NOT a.attnotnull,
                   'default', pg_catalog.pg_get_expr(d.adbin, d.adrelid),
                   'comment', pg_catalog.col_description(a.attrelid, a.attnum)) ORDER BY a.attnum)
            FROM pg_catalog.pg_attribute a
            LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::json),
        'indexes', COALESCE((
          SELECT json_agg(json_build_object(
                   'name', i.relname, 'unique', x.indisunique, 'primary', x.indisprimary,
                   'columns', (SELECT COALESCE(json_agg(a.attname ORDER BY k.ord), '[]'::json)
                                 FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                                 JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum))
                   ORDER BY i.relname)
            FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
           WHERE x.indrelid = c.oid), '[]'::json),
        'foreignKeys', COALESCE((
          SELECT json_agg(json_build_object(
                   'name', con.conname,
                   'columns', (SELECT json_agg(a.attname ORDER BY k.ord)
                                 FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                                 JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
                   'references', json_build_object(
                      'schema', fn.nspname, 'name', fc.relname,
                      'columns', (SELECT json_agg(a.attname ORDER BY k.ord)
                                    FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                                    JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum)))
                   ORDER BY con.conname)
            FROM pg_catalog.pg_constraint con
            JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
            JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
           WHERE con.conrelid = c.oid AND con.contype = 'f'), '[]'::json)
      ) AS doc
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [schema, name],
  );
  const doc = result[0]?.doc;
  if (doc === undefined || doc === null) return null;
  const raw = doc as unknown as Record<string, unknown> & {
    kind: string;
    estimatedRows: unknown;
    indexes: Array<{ primary: boolean; columns: string[] }>;
  };
  const primary = raw.indexes.find((index) => index.primary);
  return {
    ...(doc as TableDescription),
    kind: KIND[raw.kind] ?? 'other',
    estimatedRows: raw.estimatedRows === null ? null : Number(raw.estimatedRows),
    primaryKey: primary?.columns ?? [],
  };
}

/**
 * What each view and materialized view of the given schemas reads, from
 * the dependencies of its rewrite rule (pg_depend): per relation, the
 * columns it references. A reference to the whole relation (a whole-row
 * value, `count(*)`) lists no column: then any column (null). A view that
 * calls a function outside the system schemas (which could read any
 * table) cannot be judged from its dependencies: its reads are not
 * reported (`definition: null`), so it counts as reading everything.
 */
export async function viewDependencies(
  client: PgClient,
  schemas: readonly string[] | undefined,
): Promise<ViewDependency[]> {
  const result = await rows<{
    view_schema: string;
    view_name: string;
    user_functions: boolean;
    schema: string | null;
    name: string | null;
    columns: string[] | null;
    whole: boolean | null;
  }>(
    client,
    `SELECT vn.nspname AS view_schema, v.relname AS view_name,
            EXISTS (SELECT 1 FROM pg_catalog.pg_depend fd
                      JOIN pg_catalog.pg_proc p ON p.oid = fd.refobjid
                      JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
                     WHERE fd.classid = 'pg_catalog.pg_rewrite'::regclass AND fd.objid = r.oid
                       AND fd.refclassid = 'pg_catalog.pg_proc'::regclass
                       AND pn.nspname NOT IN ('pg_catalog', 'information_schema')) AS user_functions,
            tn.nspname AS schema, t.relname AS name,
            array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attname IS NOT NULL) AS columns,
            bool_or(d.refobjsubid = 0) AS whole
       FROM pg_catalog.pg_rewrite r
       JOIN pg_catalog.pg_class v ON v.oid = r.ev_class
       JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace
       LEFT JOIN pg_catalog.pg_depend d
         ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
        AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> v.oid
       LEFT JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
       LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
       LEFT JOIN pg_catalog.pg_attribute a
         ON a.attrelid = t.oid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0
      WHERE v.relkind IN ('v', 'm') AND ${SYSTEM_SCHEMAS.replaceAll('n.nspname', 'vn.nspname')}
        AND ($1::text[] IS NULL OR vn.nspname = ANY($1::text[]))
      GROUP BY r.oid, vn.nspname, v.relname, tn.nspname, t.relname`,
    [schemas === undefined ? null : [...schemas]],
  );
  const views = new Map<
    string,
    {
      view: { schema: string; name: string };
      opaque: boolean;
      reads: Array<{ schema: string; name: string; columns: string[] | null }>;
    }
  >();
  for (const r of result) {
    const key = JSON.stringify([r.view_schema, r.view_name]);
    let entry = views.get(key);
    if (entry === undefined) {
      entry = { view: { schema: r.view_schema, name: r.view_name }, opaque: false, reads: [] };
      views.set(key, entry);
    }
    if (r.user_functions) entry.opaque = true;
    if (r.schema === null || r.name === null) continue;
    entry.reads.push({
      schema: r.schema,
      name: r.name,
      columns: r.whole === true ? null : (r.columns ?? []),
    });
  }
  // Partitions and inheritance children hold rows of their parents: reading
  // one directly reads the parent's columns, policies and all. Each is given
  // as a relation that reads its parent whole, so a child of a protected
  // table is refused as one object, as a view over it is.
  const children = await rows<{
    schema: string;
    name: string;
    parent_schema: string;
    parent: string;
  }>(
    client,
    `SELECT cn.nspname AS schema, c.relname AS name, pn.nspname AS parent_schema, p.relname AS parent
       FROM pg_catalog.pg_inherits i
       JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
       JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
       JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
       JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
      WHERE ($1::text[] IS NULL OR cn.nspname = ANY($1::text[]))`,
    [schemas === undefined ? null : [...schemas]],
  );
  const inherited = new Map<
    string,
    ViewDependency & { reads: ViewDependency['reads'] & object[] }
  >();
  for (const child of children) {
    const key = JSON.stringify([child.schema, child.name]);
    let entry = inherited.get(key);
    if (entry === undefined) {
      entry = { view: { schema: child.schema, name: child.name }, reads: [] };
      inherited.set(key, entry);
    }
    entry.reads.push({ schema: child.parent_schema, name: child.parent, columns: null });
  }
  return [
    ...[...views.values()].map((entry) =>
      entry.opaque
        ? { view: entry.view, definition: null }
        : { view: entry.view, reads: entry.reads },
    ),
    ...inherited.values(),
  ];
}

/**
 * Which function names the guard must refuse, as PostgreSQL resolves them:
 * an unqualified call finds pg_catalog first, then the search path. So a
 * bare name is volatile when the function it resolves to is, and is a
 * user-defined function only when pg_catalog has no function of that name
 * (a user function `public.upper` does not make `upper(x)` refused). A
 * qualified name is judged in its own schema.
 */
export async function functionCatalog(client: PgClient): Promise<FunctionCatalog> {
  const result = await rows<{ schema: string; name: string; volatile: boolean; system: boolean }>(
    client,
    `SELECT n.nspname AS schema, p.proname AS name, bool_or(p.provolatile = 'v') AS volatile,
            n.nspname IN ('pg_catalog', 'information_schema') AS system
       FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE $1::boolean
      GROUP BY 1, 2, 4`,
    [true],
  );
  const systemNames = new Set<string>();
  const system = new Set<string>();
  const volatileSystem = new Set<string>();
  for (const r of result) {
    if (!r.system) continue;
    systemNames.add(r.name.toLowerCase());
    system.add(r.name.toLowerCase());
    system.add(`${r.schema.toLowerCase()}.${r.name.toLowerCase()}`);
    if (r.volatile) volatileSystem.add(r.name.toLowerCase());
  }
  const volatile = new Set<string>(volatileSystem);
  const userDefined = new Set<string>();
  for (const r of result) {
    const name = r.name.toLowerCase();
    const qualified = `${r.schema.toLowerCase()}.${name}`;
    if (r.volatile) volatile.add(qualified);
    if (!r.system) {
      userDefined.add(qualified);
      if (!systemNames.has(name)) {
        userDefined.add(name);
        if (r.volatile) volatile.add(name);
      }
    }
  }
  return {
    volatile: [...volatile].sort(),
    userDefined: [...userDefined].sort(),
    system: [...system].sort(),
  };
}

/** What is wrong with the role a source connects as, and how to fix it. */
export async function privilegeReport(
  client: PgClient,
  source: string,
  request: PrivilegeReportRequest,
): Promise<PrivilegeReport> {
  const [role] = await rows<{
    name: string;
    superuser: boolean;
    bypassrls: boolean;
    fileRoles: string[] | null;
  }>(
    client,
    `SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
            (SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_catalog.pg_roles g
              WHERE g.rolname IN ('pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program')
                AND pg_catalog.pg_has_role(current_user, g.oid, 'MEMBER')) AS "fileRoles"
       FROM pg_catalog.pg_roles r WHERE r.rolname = current_user AND $1::boolean`,
    [true],
  );
  const warnings: string[] = [];
  const fix =
    'see docs/postgres.md#least-privilege for a role with SELECT only and default_transaction_read_only = on';
  if (role === undefined) return { warnings };
  if (role.superuser) {
    warnings.push(
      `Source ${source} connects as ${role.name}, a superuser: it can read every table and file and lift any setting; connect as a dedicated read-only role instead (${fix}).`,
    );
  }
  const fileRoles = (role.fileRoles ?? []).filter((r) => typeof r === 'string');
  if (!role.superuser && fileRoles.length > 0) {
    warnings.push(
      `Source ${source} connects as ${role.name}, a member of ${fileRoles.join(', ')}: revoke that membership (${fix}).`,
    );
  }
  if (request.readOnly) {
    const writable = await rows<{ schema: string; name: string }>(
      client,
      `SELECT n.nspname AS schema, c.relname AS name
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'f') AND ${SYSTEM_SCHEMAS} AND $1::boolean
          AND (pg_catalog.has_table_privilege(c.oid, 'INSERT') OR pg_catalog.has_table_privilege(c.oid, 'UPDATE')
               OR pg_catalog.has_table_privilege(c.oid, 'DELETE') OR pg_catalog.has_table_privilege(c.oid, 'TRUNCATE'))
        ORDER BY 1, 2`,
      [true],
    );
    const served = writable
      .filter((t) => request.serves(t.schema, t.name))
      .map((t) => `${t.schema}.${t.name}`);
    if (served.length > 0 && !role.superuser) {
      const shown =
        served.slice(0, 5).join(', ') + (served.length > 5 ? ` and ${served.length - 5} more` : '');
      warnings.push(
        `Source ${source} is read-only but its role ${role.name} can write ${served.length} of the tables it serves (${shown}): grant it SELECT only (${fix}).`,
      );
    }
  }
  return { warnings };
}
