/**
 * Functions a read (or write) may never call, per dialect. Matching is
 * case-insensitive and ignores quoting: `"pg_sleep"`, `PG_SLEEP` and
 * `pg_catalog.pg_sleep` are the same function. A name is denied by exact
 * name, by prefix (a family such as `pg_advisory_*`), or because its schema
 * is denied (`aws_s3.*`) — whatever schema a bare name is qualified with,
 * so a user function named `public.pg_sleep` is refused too.
 *
 * These lists are the floor: a FunctionPolicy can add names (the source's
 * user-defined or volatile functions) but never remove one of these.
 *
 * Above the floor, default deny: a call is accepted only when the function
 * is on the dialect's list of functions that compute only on their
 * arguments (function-lists/), or the operator allows it by name
 * (FunctionPolicy.allow, from sources.<id>.functions.allow). Every other
 * function is refused, system functions included: a deny list of the
 * functions that read server state, other sessions, settings, files or the
 * catalog would always miss one (pg_stat_get_activity, current_setting,
 * pg_get_functiondef, to_regclass were all accepted before). The refusal
 * says what the function reads when its family is known.
 */
import { MYSQL_EXPOSURES, MYSQL_FUNCTIONS } from './function-lists/mysql.js';
import { ODBC_EXPOSURES, ODBC_FUNCTIONS } from './function-lists/odbc.js';
import { POSTGRES_EXPOSURES, POSTGRES_FUNCTIONS } from './function-lists/postgres.js';
import type { Dialect, FunctionPolicy, FunctionReference } from './types.js';

interface DenyList {
  readonly names: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  readonly schemas: ReadonlySet<string>;
  readonly schemaPrefixes: readonly string[];
}

const POSTGRES: DenyList = {
  names: new Set([
    // file and program access
    'pg_read_file',
    'pg_read_binary_file',
    'pg_stat_file',
    'pg_current_logfile',
    'loread',
    'lowrite',
    // SQL in a string: runs a query (or reads a table) the guard never saw
    'query_to_xml',
    'query_to_xml_and_xmlschema',
    'query_to_xmlschema',
    'table_to_xml',
    'table_to_xml_and_xmlschema',
    'table_to_xmlschema',
    'cursor_to_xml',
    'cursor_to_xmlschema',
    'schema_to_xml',
    'schema_to_xml_and_xmlschema',
    'schema_to_xmlschema',
    'database_to_xml',
    'database_to_xml_and_xmlschema',
    'database_to_xmlschema',
    'ts_stat',
    'ts_rewrite', // ts_rewrite(query, 'SELECT ...') runs the SELECT
    // settings and administration
    'set_config',
    'pg_reload_conf',
    'pg_rotate_logfile',
    'pg_log_backend_memory_contexts',
    'pg_switch_wal',
    'pg_promote',
    'pg_backup_start',
    'pg_backup_stop',
    'pg_start_backup',
    'pg_stop_backup',
    'pg_import_system_collations',
    'pg_export_snapshot',
    'pg_stat_statements_reset',
    'pg_log_standby_snapshot',
    'pg_sync_replication_slots',
    'pg_truncate_visibility_map',
    'brin_desummarize_range',
    'gin_clean_pending_list',
    'pg_prewarm',
    // sequences, transaction ids and session state
    'nextval',
    'setval',
    'setseed',
    'txid_current',
    'txid_current_if_assigned',
    'pg_current_xact_id',
    'pg_current_xact_id_if_assigned',
    // notification
    'pg_notify',
  ]),
  prefixes: [
    'pg_ls_', // pg_ls_dir, pg_ls_logdir, pg_ls_waldir, pg_ls_tmpdir...
    'pg_file_', // adminpack: pg_file_write, pg_file_unlink...
    'lo_', // large objects: lo_import, lo_export, lo_create, lo_from_bytea...
    'dblink', // dblink, dblink_exec, dblink_connect...
    'postgres_fdw_',
    'pg_sleep', // pg_sleep, pg_sleep_for, pg_sleep_until
    'pg_advisory', // pg_advisory_lock, pg_advisory_xact_lock...
    'pg_try_advisory',
    'pg_terminate_',
    'pg_cancel_',
    'pg_signal_',
    'pg_create_', // restore points and replication slots
    'pg_copy_', // replication slots
    'pg_logical_', // logical messages and slots
    'pg_replication_',
    'pg_wal_replay_',
    'pg_xlog_replay_',
    'pg_stat_reset',
    'pg_drop_', // replication slots
    'pg_switch_', // pg_switch_wal, pg_switch_xlog
    'pg_restore_', // PostgreSQL 18: pg_restore_relation_stats... (write statistics)
    'pg_clear_', // pg_clear_relation_stats, pg_clear_attribute_stats
    'brin_summarize_', // index maintenance
    'pg_buffercache_evict',
    'hypopg', // hypothetical indexes: session state
  ],
  schemas: new Set(['aws_s3', 'aws_lambda', 'aws_commons', 'dblink']),
  schemaPrefixes: [],
};

const MYSQL: DenyList = {
  names: new Set([
    'load_file',
    'sleep',
    'benchmark',
    'get_lock',
    'release_lock',
    'release_all_locks',
    'master_pos_wait',
    'source_pos_wait',
    'master_gtid_wait',
    'wait_for_executed_gtid_set',
    'wait_until_sql_thread_after_gtids',
    'wsrep_sync_wait_upto_gtid', // waits, like the replication waits above
    'last_insert_id',
    'nextval',
    'setval',
    // lib_mysqludf_sys: command execution
    'sys_exec',
    'sys_eval',
    'sys_get',
    'sys_set',
  ]),
  prefixes: ['lib_mysqludf'],
  schemas: new Set(['sys', 'mysql']),
  schemaPrefixes: [],
};

/** ODBC reaches unknown back ends: everything above, plus SQL Server, Oracle and DB2 escape hatches. */
const ODBC: DenyList = {
  names: new Set([
    ...POSTGRES.names,
    ...MYSQL.names,
    'openquery',
    'openrowset',
    'opendatasource',
    'openxml',
    'httpuritype',
  ]),
  prefixes: [...POSTGRES.prefixes, ...MYSQL.prefixes, 'xp_', 'sp_'],
  schemas: new Set([...POSTGRES.schemas, ...MYSQL.schemas, 'sysproc', 'sysibmadm', 'ctxsys']),
  schemaPrefixes: ['dbms_', 'utl_'],
};

const DENY_LISTS: Record<Dialect, DenyList> = { postgres: POSTGRES, mysql: MYSQL, odbc: ODBC };

/** Volatile functions that are harmless to call (random numbers and clocks). */
export const DEFAULT_ALLOWED_VOLATILE = Object.freeze([
  'random',
  'random_normal',
  'clock_timestamp',
  'timeofday',
  'gen_random_uuid',
  'uuidv4',
  'uuidv7',
]);

function isBuiltinDenied(list: DenyList, fn: FunctionReference): boolean {
  const name = fn.name.toLowerCase();
  if (list.names.has(name)) return true;
  if (list.prefixes.some((prefix) => name.startsWith(prefix))) return true;
  if (fn.schema !== null) {
    const schema = fn.schema.toLowerCase();
    if (list.schemas.has(schema)) return true;
    if (list.schemaPrefixes.some((prefix) => schema.startsWith(prefix))) return true;
  }
  return false;
}

/** A FunctionPolicy prepared for lookups; cached per policy object. */
interface CompiledPolicy {
  readonly deny: ReadonlySet<string>;
  readonly allow: ReadonlySet<string>;
  readonly volatile: ReadonlySet<string>;
  readonly allowVolatile: ReadonlySet<string>;
  readonly known: ReadonlySet<string> | undefined;
}

const compiled = new WeakMap<FunctionPolicy, CompiledPolicy>();
const lowerSet = (names: Iterable<string> | undefined) =>
  new Set([...(names ?? [])].map((name) => name.toLowerCase()));

function compile(policy: FunctionPolicy): CompiledPolicy {
  let result = compiled.get(policy);
  if (result === undefined) {
    result = {
      deny: lowerSet(policy.deny),
      allow: lowerSet(policy.allow),
      volatile: lowerSet(policy.volatile),
      allowVolatile: lowerSet(policy.allowVolatile ?? DEFAULT_ALLOWED_VOLATILE),
      known: policy.known === undefined ? undefined : lowerSet(policy.known),
    };
    compiled.set(policy, result);
  }
  return result;
}

function inSet(set: ReadonlySet<string>, fn: FunctionReference): boolean {
  const name = fn.name.toLowerCase();
  if (set.has(name)) return true;
  return fn.schema !== null && set.has(`${fn.schema.toLowerCase()}.${name}`);
}

/** Exact membership: a bare name against bare entries, a qualified one against qualified entries. */
function isKnown(known: ReadonlySet<string>, fn: FunctionReference): boolean {
  const name = fn.name.toLowerCase();
  return known.has(fn.schema === null ? name : `${fn.schema.toLowerCase()}.${name}`);
}

export type FunctionVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /**
       * side-effect: on the built-in deny list (nothing lifts it); denied: in
       * the policy's deny list (a user-defined function); system: not on the
       * dialect's list of functions that compute only on their arguments;
       * unknown: not in the catalog read at start-up; volatile: the catalog
       * says it can change state.
       */
      readonly why: 'side-effect' | 'denied' | 'system' | 'unknown' | 'volatile';
      /** For `system`: what the function reads, when its family is known. */
      readonly exposes?: string;
    };

/** The dialect's functions that compute only on their arguments (function-lists/). */
interface SystemList {
  readonly names: ReadonlySet<string>;
  /** Whether names compare case-insensitively (MySQL) or as the parser wrote them. */
  readonly foldCase: boolean;
  /** The schema a qualified call may name and still be a built-in (null: none). */
  readonly schema: string | null;
  readonly exposures: ReadonlyArray<readonly [RegExp, string]>;
}

const setOf = (lists: Readonly<Record<string, readonly string[]>>) =>
  new Set(Object.values(lists).flat());

const SYSTEM_LISTS: Record<Dialect, SystemList> = {
  postgres: {
    names: setOf(POSTGRES_FUNCTIONS),
    foldCase: false,
    schema: 'pg_catalog',
    exposures: POSTGRES_EXPOSURES,
  },
  mysql: {
    names: setOf(MYSQL_FUNCTIONS),
    foldCase: true,
    schema: null,
    exposures: MYSQL_EXPOSURES,
  },
  odbc: {
    names: setOf(ODBC_FUNCTIONS),
    foldCase: false,
    schema: 'pg_catalog',
    exposures: [...ODBC_EXPOSURES, ...POSTGRES_EXPOSURES, ...MYSQL_EXPOSURES],
  },
};

/**
 * Whether a call is to a built-in function that computes only on its
 * arguments. PostgreSQL and ODBC compare names as the parser produced them
 * (a quoted "LOWER" is another function, which a user may have created);
 * MySQL's built-in names are case-insensitive. A qualified call counts
 * only when qualified with pg_catalog (PostgreSQL, and the names the
 * PostgreSQL grammar writes for ODBC's SQL syntax); in MySQL a qualified
 * name is a stored function.
 */
export function isComputeOnly(dialect: Dialect, fn: FunctionReference): boolean {
  const list = SYSTEM_LISTS[dialect];
  if (fn.schema !== null && fn.schema !== list.schema) return false;
  return list.names.has(list.foldCase ? fn.name.toLowerCase() : fn.name);
}

/** What a refused system function reads, when its family is known. */
export function exposureOf(dialect: Dialect, name: string): string | undefined {
  const lower = name.toLowerCase();
  return SYSTEM_LISTS[dialect].exposures.find(([family]) => family.test(lower))?.[1];
}

/**
 * The verdict on one called function, in this order: the built-in deny
 * list (side effects; nothing lifts it), the operator's allow list, the
 * policy's deny list (user-defined functions), the dialect's list of
 * functions that compute only on their arguments (default deny for every
 * other function, system functions included), then the catalog's `known`
 * and `volatile` sets.
 *
 * For a field selection (`options.call` false: `t.f` may be f(t), but is
 * usually a column) only the policy's lists apply.
 */
export function checkFunction(
  dialect: Dialect,
  fn: FunctionReference,
  policy: FunctionPolicy | undefined,
  options: { readonly builtin: boolean; readonly call: boolean } = { builtin: true, call: true },
): FunctionVerdict {
  if (options.builtin && isBuiltinDenied(DENY_LISTS[dialect], fn))
    return { ok: false, why: 'side-effect' };
  const p = policy === undefined ? undefined : compile(policy);
  if (p !== undefined && inSet(p.allow, fn)) return { ok: true };
  if (p !== undefined && inSet(p.deny, fn)) return { ok: false, why: 'denied' };
  if (!options.call) {
    return p !== undefined && inSet(p.volatile, fn) && !inSet(p.allowVolatile, fn)
      ? { ok: false, why: 'volatile' }
      : { ok: true };
  }
  if (!isComputeOnly(dialect, fn)) {
    const exposes = exposureOf(dialect, fn.name);
    return exposes === undefined
      ? { ok: false, why: 'system' }
      : { ok: false, why: 'system', exposes };
  }
  if (p === undefined) return { ok: true };
  if (p.known !== undefined && !isKnown(p.known, fn)) return { ok: false, why: 'unknown' };
  if (inSet(p.volatile, fn) && !inSet(p.allowVolatile, fn)) return { ok: false, why: 'volatile' };
  return { ok: true };
}

/**
 * A system variable read (MySQL `@@datadir`, `@@global.hostname`; `@@x` on
 * ODBC sources, where SQL Server and MySQL back ends read it so): refused
 * unless the operator allows it by name (`@@datadir`). None is harmless by
 * default: the set is open-ended (plugins add their own), many hold paths,
 * host names, versions or replication state, and none answers a question
 * about the data.
 */
export function checkVariable(name: string, policy: FunctionPolicy | undefined): boolean {
  if (policy === undefined) return false;
  return compile(policy).allow.has(`@@${name.toLowerCase()}`);
}

/** Every built-in denied name of a dialect, for the token-level check. */
export function isDeniedName(dialect: Dialect, name: string): boolean {
  return isBuiltinDenied(DENY_LISTS[dialect], { schema: null, name });
}

/**
 * Why an entry of an operator's allow list (sources.<id>.functions.allow)
 * can never take effect, or undefined when it can: a function on the
 * built-in deny list (side effects; nothing lifts it), a system variable
 * on a PostgreSQL source (it has none), or an entry that is not a name.
 */
export function allowEntryProblem(dialect: Dialect, entry: string): string | undefined {
  if (entry.startsWith('@@')) {
    if (dialect === 'postgres') return 'PostgreSQL has no @@ system variables';
    return /^@@[\w$]+$/.test(entry)
      ? undefined
      : 'write a system variable as @@name, without scope or quotes';
  }
  if (!/^[^.\s]+(\.[^.\s]+)?$/.test(entry)) return 'write a function as name or schema.name';
  const dot = entry.indexOf('.');
  const fn =
    dot < 0
      ? { schema: null, name: entry }
      : { schema: entry.slice(0, dot), name: entry.slice(dot + 1) };
  return isBuiltinDenied(DENY_LISTS[dialect], fn)
    ? 'it has side effects or reaches outside the database; nothing allows it'
    : undefined;
}
