/**
 * The guard's lists of functions that compute only on their arguments
 * (ALLOWED_FUNCTIONS), checked against the real catalogs, so that a list
 * cannot silently claim what the server does not have or drift into
 * functions that read server state.
 *
 * PostgreSQL 15 (pg_proc), for every allowed name and every overload in
 * pg_catalog: it exists (or is marked newer than 15); it is not SECURITY
 * DEFINER; it is immutable or stable, unless it is one of the named
 * volatile exceptions (clocks and random numbers); it is parallel safe
 * unless named; it takes no argument that names an object (reg* types but
 * regconfig, oid, xid) nor `internal`; a function without arguments is one
 * of the named constants, clocks or constructors; an aggregate or window
 * function is one; a SQL-language body reads no table and calls only
 * allowed functions; and no allowed name belongs to the families that read
 * server state (pg_stat*, pg_get*, pg_ls*, current_setting, has_*privilege,
 * to_reg*, txid_*, pg_*_size...).
 *
 * MariaDB 10.11 (its help tables, mysql.help_topic, by category): every
 * function documented in a computing category (numbers, strings, dates,
 * aggregates, control flow, bits, geometry) is allowed, but the named ones;
 * no allowed name is documented in an information, administration or
 * plugin category, but the named ones that describe their argument; and
 * every function documented as reading the session or other sessions is
 * refused by the guard.
 */
import { ALLOWED_FUNCTIONS, analyze, checkRead, loadSqlGuard } from '@sqlwarden/sql-guard';
import { mysqlTestUrl, postgresTestUrl } from '@sqlwarden/testing';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let pgClient: pg.Client | undefined;
let myConnection: mysql.Connection | undefined;

beforeAll(async () => {
  await loadSqlGuard();
  pgClient = new pg.Client({ connectionString: postgresTestUrl() });
  await pgClient.connect();
  myConnection = await mysql.createConnection({ uri: mysqlTestUrl() });
});

afterAll(async () => {
  await pgClient?.end();
  await myConnection?.end();
});

const allowedNames = (dialect: 'postgres' | 'mysql' | 'odbc') =>
  new Set(Object.values(ALLOWED_FUNCTIONS[dialect]).flat());

describe('PostgreSQL: every allowed function is what the list claims, in pg_proc', () => {
  interface Overload {
    name: string;
    signature: string;
    kind: string;
    volatility: string;
    parallel: string;
    secdef: boolean;
    language: string;
    args: string[];
    body: string | null;
  }

  // Volatile, and harmless: clocks and random numbers (DEFAULT_ALLOWED_VOLATILE).
  const VOLATILE = new Set(['random', 'clock_timestamp', 'timeofday', 'gen_random_uuid']);
  // Not parallel safe, and why that is harmless.
  const NOT_PARALLEL_SAFE: Record<string, string> = {
    random: 'the random seed is per process',
    age: 'age(xid) counts transactions since the current one: a number, not data',
  };
  // Arguments that name objects, where the function only computes on the value.
  const OBJECT_ARGUMENTS: Record<string, string> = {
    int8: 'int8(oid) is the number',
    max: 'max(oid) compares numbers',
    min: 'min(oid) compares numbers',
    age: 'age(xid) counts transactions (a number)',
  };
  // Functions of no argument that read nothing: constants, clocks, random values, empty constructors.
  const NO_ARGUMENTS = new Set([
    'pi',
    'now',
    'clock_timestamp',
    'statement_timestamp',
    'transaction_timestamp',
    'timeofday',
    'random',
    'gen_random_uuid',
    'count',
    'row_number',
    'rank',
    'dense_rank',
    'percent_rank',
    'cume_dist',
    'json_build_array',
    'json_build_object',
    'jsonb_build_array',
    'jsonb_build_object',
    'int4multirange',
    'int8multirange',
    'nummultirange',
    'datemultirange',
    'tsmultirange',
    'tstzmultirange',
  ]);
  // An independent statement of the families that read server state (not the guard's table).
  const STATE_FAMILIES =
    /^(pg_stat|pg_get|pg_ls|pg_read|pg_file|pg_control|pg_current|pg_last|pg_wal|pg_backend|pg_postmaster|pg_conf|pg_show|pg_settings|pg_hba|pg_ident|pg_blocking|pg_lock|pg_is_|pg_relation|pg_table|pg_total|pg_indexes|pg_database|pg_tablespace|pg_describe|pg_identify|pg_has_role|pg_sequence|pg_input|current_setting|current_user|current_schema|current_database|current_query|session_user|system_user|has_.*privilege|to_reg|txid|inet_client|inet_server|version$|currval|lastval|nextval|setval|set_config|obj_description|col_description|format_type|enum_)/;
  const STATE_FAMILY_EXCEPTIONS = new Set([
    'pg_typeof',
    'pg_column_size',
    'pg_collation_for',
    'pg_size_pretty',
    'pg_size_bytes',
  ]);
  const OBJECT_TYPES = new Set([
    'oid',
    'xid',
    'xid8',
    'internal',
    'regclass',
    'regcollation',
    'regnamespace',
    'regoper',
    'regoperator',
    'regproc',
    'regprocedure',
    'regrole',
    'regtype',
  ]);

  let overloads: Map<string, Overload[]>;

  beforeAll(async () => {
    const client = pgClient as pg.Client;
    const { rows } = await client.query<Overload>(
      `SELECT p.proname AS name, pg_get_function_identity_arguments(p.oid) AS signature,
              p.prokind::text AS kind, p.provolatile::text AS volatility,
              p.proparallel::text AS parallel, p.prosecdef AS secdef, l.lanname AS language,
              ARRAY(SELECT t::regtype::text FROM unnest(p.proargtypes::oid[]) t) AS args,
              CASE WHEN l.lanname = 'sql'
                   THEN coalesce(pg_get_function_sqlbody(p.oid), p.prosrc) END AS body
         FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname = ANY($1)`,
      [[...allowedNames('postgres')]],
    );
    overloads = new Map();
    for (const row of rows) {
      const list = overloads.get(row.name) ?? [];
      list.push(row);
      overloads.set(row.name, list);
    }
  });

  it('has every allowed name in pg_catalog, but newer ones', () => {
    const newer = new Set<string>(ALLOWED_FUNCTIONS.postgres.newer ?? []);
    const missing = [...allowedNames('postgres')].filter(
      (name) => !overloads.has(name) && !newer.has(name),
    );
    expect(missing).toEqual([]);
    // ...and what the list calls newer really is newer (absent from this 15).
    expect([...newer].filter((name) => overloads.has(name))).toEqual([]);
  });

  it('has no SECURITY DEFINER overload, and only the named volatile or parallel-unsafe ones', () => {
    const problems: string[] = [];
    for (const [name, list] of overloads) {
      for (const o of list) {
        const at = `${name}(${o.signature})`;
        if (o.secdef) problems.push(`${at}: SECURITY DEFINER`);
        if (o.volatility === 'v' && !VOLATILE.has(name)) problems.push(`${at}: volatile`);
        if (o.parallel !== 's' && NOT_PARALLEL_SAFE[name] === undefined)
          problems.push(`${at}: parallel ${o.parallel}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('takes no argument that names an object, and nothing internal', () => {
    const problems: string[] = [];
    for (const [name, list] of overloads) {
      for (const o of list) {
        const named = o.args.filter((t) => OBJECT_TYPES.has(t.replace(/\[\]$/, '')));
        if (named.length > 0 && OBJECT_ARGUMENTS[name] === undefined)
          problems.push(`${name}(${o.signature})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('reads nothing when it takes no argument: constants, clocks, random values, constructors', () => {
    const problems: string[] = [];
    for (const [name, list] of overloads) {
      if (list.some((o) => o.args.length === 0) && !NO_ARGUMENTS.has(name)) problems.push(name);
    }
    expect(problems).toEqual([]);
  });

  it('is an aggregate or window function where the list says so', () => {
    const problems: string[] = [];
    for (const name of ALLOWED_FUNCTIONS.postgres.aggregates ?? []) {
      for (const o of overloads.get(name) ?? [])
        if (o.kind !== 'a') problems.push(`${name}: ${o.kind}`);
    }
    for (const name of ALLOWED_FUNCTIONS.postgres.window ?? []) {
      for (const o of overloads.get(name) ?? [])
        if (o.kind !== 'w' && o.kind !== 'a') problems.push(`${name}: ${o.kind}`);
    }
    expect(problems).toEqual([]);
  });

  it('has SQL bodies that read no table and call only allowed functions', () => {
    const problems: string[] = [];
    let bodies = 0;
    for (const [name, list] of overloads) {
      for (const o of list) {
        if (o.body === null) continue;
        bodies += 1;
        const sql = o.body.replace(/^\s*RETURN\b/i, 'SELECT').replace(/\$(\d+)/g, '1');
        const analysis = analyze(sql, { dialect: 'postgres' });
        if (!analysis.ok) {
          problems.push(`${name}(${o.signature}): body does not parse`);
          continue;
        }
        if (analysis.analysis.tables.length > 0) problems.push(`${name}: reads a table`);
        for (const fn of analysis.analysis.functions) {
          if (!allowedNames('postgres').has(fn.name)) problems.push(`${name}: calls ${fn.name}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(bodies).toBeGreaterThan(10);
  });

  it('has no name in the families that read server state', () => {
    const names = [...allowedNames('postgres')].filter(
      (name) => STATE_FAMILIES.test(name) && !STATE_FAMILY_EXCEPTIONS.has(name),
    );
    expect(names).toEqual([]);
  });

  it('refuses every pg_catalog function that is not on the list, naming it', async () => {
    // All of them, by name: the default deny is the list's complement.
    const { rows } = await (pgClient as pg.Client).query<{ name: string }>(
      `SELECT DISTINCT proname AS name FROM pg_proc
        WHERE pronamespace = 'pg_catalog'::regnamespace AND proname ~ '^[a-z_][a-z0-9_]*$'`,
    );
    const allowed = allowedNames('postgres');
    const accepted: string[] = [];
    let refused = 0;
    for (const { name } of rows) {
      if (allowed.has(name)) continue;
      const result = checkRead(`SELECT ${name}(1)`, { dialect: 'postgres' });
      if (result.ok) accepted.push(name);
      else if (result.reason === 'FORBIDDEN_FUNCTION' && result.message.includes(name))
        refused += 1;
    }
    expect(accepted).toEqual([]);
    expect(refused).toBeGreaterThan(1500);
  });
});

describe('MariaDB: the list against the help tables', () => {
  let byCategory: Map<string, string[]>;

  // Topics that are syntax, operators or overviews, not functions a call names.
  const SYNTAX = new Set(['div', 'like', 'rlike', 'regexp', 'cast', 'parentheses']);
  const notAFunction = (topic: string) =>
    /\s|^[^A-Za-z]|OPERATOR|Operator|Overview/.test(topic.replace(/ Function$| FUNCTION$/, '')) ||
    SYNTAX.has(topic.toLowerCase());
  const nameOf = (topic: string) =>
    topic
      .replace(/ Function$| FUNCTION$/, '')
      .replaceAll('\\', '')
      .toLowerCase();

  const COMPUTING = [
    'Numeric Functions',
    'String Functions',
    'Date and Time Functions',
    'Functions and Modifiers for Use with GROUP BY',
    'Control flow functions',
    'Bit Functions',
    'Geographic Features',
    'Geometry constructors',
    'Geometry properties',
    'Geometry relations',
    'Point properties',
    'LineString properties',
    'Polygon properties',
    'GeometryCollection properties',
    'MBR',
    'WKB',
    'WKT',
  ];
  // Documented in a computing category, and refused on purpose.
  const REFUSED_COMPUTING = new Set(['load_file']);
  // Documented as information or miscellany, and allowed: they describe their argument or compute.
  const ALLOWED_ELSEWHERE = new Set([
    'charset',
    'coercibility',
    'collation',
    'default',
    'last_value',
    'rownum',
    'format_bytes',
    'inet6_aton',
    'inet6_ntoa',
    'inet_aton',
    'inet_ntoa',
    'is_ipv4',
    'is_ipv4_compat',
    'is_ipv4_mapped',
    'is_ipv6',
    'name_const',
    'uuid_v4',
    'uuid_v7',
    'values',
    'value',
  ]);

  beforeAll(async () => {
    const [rows] = await (myConnection as mysql.Connection).query(
      `SELECT c.name AS category, t.name AS topic
         FROM mysql.help_topic t JOIN mysql.help_category c USING (help_category_id)`,
    );
    byCategory = new Map();
    for (const { category, topic } of rows as Array<{ category: string; topic: string }>) {
      const list = byCategory.get(category) ?? [];
      list.push(topic);
      byCategory.set(category, list);
    }
  });

  it('allows every function of the computing categories (the list is complete)', () => {
    const allowed = allowedNames('mysql');
    const missing: string[] = [];
    let seen = 0;
    for (const category of COMPUTING) {
      for (const topic of byCategory.get(category) ?? []) {
        if (notAFunction(topic)) continue;
        const name = nameOf(topic);
        seen += 1;
        if (!allowed.has(name) && !REFUSED_COMPUTING.has(name))
          missing.push(`${category}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
    expect(seen).toBeGreaterThan(250);
  });

  // Categories of statements and functions that read or change the server, sessions or accounts.
  const RISKY = [
    'Information Functions',
    'Miscellaneous Functions',
    'Administration',
    'Account Management',
    'Plugins',
    'Table Maintenance',
    'Utility',
    'Transactions',
    'Procedures',
    'Compound Statements',
    'User-Defined Functions',
  ];

  it('allows no function documented in a category that reads the server, but the named ones', () => {
    const allowed = allowedNames('mysql');
    const strays: string[] = [];
    for (const category of RISKY) {
      for (const topic of byCategory.get(category) ?? []) {
        const name = nameOf(topic);
        if (allowed.has(name) && !ALLOWED_ELSEWHERE.has(name)) strays.push(`${category}: ${name}`);
      }
    }
    expect(strays).toEqual([]);
  });

  it('refuses the uncategorised functions that read sequences, the cluster or key files', () => {
    const risky = (byCategory.get('Contents') ?? [])
      .map(nameOf)
      .filter((name) => /^(wsrep_|des_|lastval$|nextval$|setval$)/.test(name));
    expect(risky.length).toBeGreaterThan(5);
    expect(risky.filter((name) => checkRead(`SELECT ${name}(1)`, { dialect: 'mysql' }).ok)).toEqual(
      [],
    );
  });

  it('refuses every information, lock and identity function the help tables document', () => {
    const accepted: string[] = [];
    let checked = 0;
    for (const category of ['Information Functions', 'Miscellaneous Functions']) {
      for (const topic of byCategory.get(category) ?? []) {
        if (notAFunction(topic)) continue;
        const name = nameOf(topic);
        if (ALLOWED_ELSEWHERE.has(name)) continue;
        checked += 1;
        const result = checkRead(`SELECT ${name}(1)`, { dialect: 'mysql' });
        if (result.ok) accepted.push(name);
      }
    }
    expect(accepted).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });
});
