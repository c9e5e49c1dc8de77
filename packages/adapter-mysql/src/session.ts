/**
 * The session every pooled connection gets before its first use, as ONE
 * statement (a single SET with a list of assignments: one round trip, and
 * no multi-statement text):
 *  - sql_mode: an explicit, known value. Without ANSI_QUOTES ("..." is a
 *    string, as the guard's lexer reads it) and without
 *    NO_BACKSLASH_ESCAPES (a backslash escapes inside '...', as the lexer
 *    reads it). A server default or an init_connect that set either would
 *    make the server end a literal where the guard did not. With
 *    ONLY_FULL_GROUP_BY: a selected column that is neither grouped nor
 *    aggregated is an error (1055/1140) rather than the value of an
 *    arbitrary row, as on PostgreSQL (docs/mysql.md, "The session").
 *  - NAMES utf8mb4: the connection character set. A multi-byte set such as
 *    GBK or SJIS can swallow a backslash into a character, which reopens a
 *    string the guard saw closed. (The handshake asks for utf8mb4 too; a
 *    server with character-set-client-handshake off ignores that.)
 *  - time_zone '+00:00': TIMESTAMP values come back in UTC (read.ts appends
 *    `+00`).
 *  - autocommit = 1: each read is its own transaction; a server whose
 *    default is 0 would keep one open across reads.
 *  - read only: the session's transaction access mode (`tx_read_only` on
 *    MariaDB, `transaction_read_only` on MySQL, the variables behind
 *    `SET SESSION TRANSACTION READ ONLY`), so every statement runs in a
 *    read-only transaction and a write the guard missed fails with 1792.
 *    The write path opens its transactions with START TRANSACTION READ
 *    WRITE, which applies to that transaction only.
 *  - the time limit: MariaDB `max_statement_time` (seconds, fractional, every
 *    statement); MySQL `max_execution_time` (milliseconds, read-only SELECTs
 *    only).
 *  - what one statement may take of the server, as far as a session can say
 *    (SESSION_CAPS): in-memory temporary tables, sort and join buffers,
 *    GROUP_CONCAT's result, and on MariaDB the on-disk temporary tables
 *    (`tmp_disk_table_size`). Each is lowered to its cap, never raised (an
 *    account or server set lower keeps its value). What a session cannot set
 *    (connections per account, MySQL's temporary disk space) is the
 *    account's or the server's: see the least-privilege recipe in docs/mysql.md.
 * The text is ours: fixed words and integers (never client input).
 */

/** Ceilings on per-statement resources, in bytes: each is lowered to these, never raised. */
export const SESSION_CAPS = {
  tmp_table_size: 16 * 1024 * 1024,
  max_heap_table_size: 16 * 1024 * 1024,
  sort_buffer_size: 2 * 1024 * 1024,
  join_buffer_size: 1024 * 1024,
  group_concat_max_len: 1024 * 1024,
} as const;
/** MariaDB only: the on-disk temporary tables of one statement. */
export const MARIADB_TMP_DISK_CAP = 1024 * 1024 * 1024;

export type ServerFlavor = 'mariadb' | 'mysql';

/** The flavor behind a `SELECT VERSION()` answer ("10.11.6-MariaDB-0+deb12u1", "8.0.36"). */
export function flavorOf(version: string): ServerFlavor {
  return /mariadb/i.test(version) ? 'mariadb' : 'mysql';
}

/** The sql_mode every session runs with. */
export const SESSION_SQL_MODE =
  'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

function checkTimeout(timeoutMs: number): number {
  const ms = Math.floor(timeoutMs);
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new RangeError('statementTimeoutMs must be a positive integer');
  return ms;
}

/** The assignment of the server-side time limit, for `SET SESSION ...`. */
export function timeoutAssignment(flavor: ServerFlavor, timeoutMs: number): string {
  const ms = checkTimeout(timeoutMs);
  return flavor === 'mariadb'
    ? `max_statement_time = ${(ms / 1000).toFixed(3)}`
    : `max_execution_time = ${ms}`;
}

/**
 * `name = min(current, cap)`. With IF, not LEAST: in a SET, MariaDB 10.11
 * evaluates LEAST of an unsigned 2^64-1 (tmp_disk_table_size's "no limit")
 * and a signed number as -1 (and clamps it to the minimum).
 */
function lowered(name: string, cap: number): string {
  return `${name} = IF(@@SESSION.${name} > ${cap}, ${cap}, @@SESSION.${name})`;
}

export function sessionSetup(options: {
  readonly flavor: ServerFlavor;
  readonly statementTimeoutMs: number;
}): string {
  const readOnly = options.flavor === 'mariadb' ? 'tx_read_only = 1' : 'transaction_read_only = 1';
  return [
    `SET SESSION sql_mode = '${SESSION_SQL_MODE}'`,
    'NAMES utf8mb4',
    "time_zone = '+00:00'",
    'autocommit = 1',
    readOnly,
    timeoutAssignment(options.flavor, options.statementTimeoutMs),
    ...Object.entries(SESSION_CAPS).map(([name, cap]) => lowered(name, cap)),
    ...(options.flavor === 'mariadb' ? [lowered('tmp_disk_table_size', MARIADB_TMP_DISK_CAP)] : []),
  ].join(', ');
}

/** The statement that changes the time limit of a session (one round trip, when a call's differs). */
export function setTimeoutStatement(flavor: ServerFlavor, timeoutMs: number): string {
  return `SET SESSION ${timeoutAssignment(flavor, timeoutMs)}`;
}

/** A MySQL identifier in backticks (for tests and operators; the adapter binds names as values). */
export function quoteIdent(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}
