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
 */
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
  | { readonly ok: false; readonly why: 'denied' | 'volatile' | 'unknown' };

export function checkFunction(
  dialect: Dialect,
  fn: FunctionReference,
  policy: FunctionPolicy | undefined,
  options: { readonly builtin: boolean; readonly call: boolean } = { builtin: true, call: true },
): FunctionVerdict {
  if (options.builtin && isBuiltinDenied(DENY_LISTS[dialect], fn))
    return { ok: false, why: 'denied' };
  if (policy === undefined) return { ok: true };
  const p = compile(policy);
  if (inSet(p.allow, fn)) return { ok: true };
  if (inSet(p.deny, fn)) return { ok: false, why: 'denied' };
  // Only calls: a field selection (t.f) is usually a column, not a function.
  if (options.call && p.known !== undefined && !isKnown(p.known, fn)) {
    return { ok: false, why: 'unknown' };
  }
  if (inSet(p.volatile, fn) && !inSet(p.allowVolatile, fn)) return { ok: false, why: 'volatile' };
  return { ok: true };
}

/** Every built-in denied name of a dialect, for the token-level check. */
export function isDeniedName(dialect: Dialect, name: string): boolean {
  return isBuiltinDenied(DENY_LISTS[dialect], { schema: null, name });
}
