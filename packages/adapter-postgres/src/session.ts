/**
 * What a PostgreSQL connection runs before the agent's statements, in two
 * forms:
 *
 * `sessionSetup`: the session every pooled connection gets before its
 * first use, in one round trip per connection (not per read):
 *  - default_transaction_read_only = on: every read is a read-only
 *    transaction, so a write the guard missed fails with 25006;
 *  - statement_timeout: the source's ceiling, enforced by the server;
 *  - search_path: exactly the source's default schema (pg_catalog is
 *    searched first anyway), as the guard resolves unqualified names;
 *  - standard_conforming_strings = on: a backslash in '...' is a plain
 *    character, as the guard's parser reads it;
 *  - TimeZone UTC and DateStyle ISO: values come back in one format;
 *  - what one statement may take of the server, as far as a session can
 *    say: work_mem (per sort or hash node) and hash_mem_multiplier are
 *    lowered to SESSION_MEMORY_CAPS, never raised (a role set lower keeps
 *    its value); idle_in_transaction_session_timeout ends a write
 *    transaction this process would leave open. What a session cannot set
 *    (temp_file_limit, a connection limit) is the role's: the
 *    least-privilege recipe in docs/postgres.md sets it.
 * This text is ours (never client input); identifiers are quoted.
 *
 * `transactionSetup`: the same, transaction-locally, for each read and
 * write, where the session cannot be trusted: behind a pooler in
 * transaction mode (PgBouncer's pool_mode=transaction) each transaction
 * may run on another server connection, whose session another client set
 * up (or set on purpose: `SET default_transaction_read_only = off`,
 * `SET search_path = theirs`, `SET statement_timeout = 0`,
 * `SET standard_conforming_strings = off`). docs/postgres.md, "Behind
 * PgBouncer".
 *
 * `identitySettings`: a call's database identity (core's
 * `DatabaseIdentity`), in that same one statement of ours, for the same
 * transaction only; on a trusted session too, where it is then the whole
 * set-up (`callSetup`).
 */
import type { DatabaseIdentity } from '@sqlwarden/core';
import type { PgConnection, PgSubmittable } from './config.js';
import { SettlingSubmittable } from './settling.js';

/** Ceilings on the session's memory settings: lowered to these, never raised. */
export const SESSION_MEMORY_CAPS = { workMem: '16MB', hashMemMultiplier: 2 } as const;
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function sessionSetup(options: {
  readonly statementTimeoutMs: number;
  readonly defaultSchema: string;
  readonly applicationName: string;
}): string {
  const timeout = Math.floor(options.statementTimeoutMs);
  if (!Number.isSafeInteger(timeout) || timeout <= 0)
    throw new RangeError('statementTimeoutMs must be a positive integer');
  return [
    'SET default_transaction_read_only = on',
    `SET statement_timeout = ${timeout}`,
    `SET search_path = ${quoteIdent(options.defaultSchema)}`,
    'SET standard_conforming_strings = on',
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    `SET application_name = '${options.applicationName.replaceAll("'", "''")}'`,
    `SET idle_in_transaction_session_timeout = ${timeout + 5000}`,
    // set_config with the lower of the role's value and the cap (SET takes no expression).
    `SELECT pg_catalog.set_config('work_mem', CASE WHEN pg_catalog.pg_size_bytes(pg_catalog.current_setting('work_mem')) > pg_catalog.pg_size_bytes('${SESSION_MEMORY_CAPS.workMem}') THEN '${SESSION_MEMORY_CAPS.workMem}' ELSE pg_catalog.current_setting('work_mem') END, false), pg_catalog.set_config('hash_mem_multiplier', LEAST(pg_catalog.current_setting('hash_mem_multiplier')::float8, ${SESSION_MEMORY_CAPS.hashMemMultiplier})::text, false)`,
  ].join('; ');
}

/**
 * One statement of ours that sets, with set_config(..., true), for the
 * current transaction only (never the session: behind a pooler a session
 * setting of ours would stay on a server connection other clients get
 * next), everything a statement's safety and meaning depend on:
 *  - reads: transaction_read_only = on (a write the guard missed fails
 *    with 25006; once the set-up has run, the transaction has a snapshot,
 *    so nothing later in it can set it back: PostgreSQL refuses
 *    read-write "after any query");
 *  - statement_timeout ($1): the call's time limit. PostgreSQL (13 and
 *    later) stops the statement timer after each Execute and starts it
 *    with the value in force at the next message, so the agent's
 *    statement, parsed after the set-up in the same batch, runs under it;
 *  - search_path ($2): exactly the source's schema, as the guard resolves
 *    names (the agent's text is parsed after the set-up);
 *  - standard_conforming_strings = on: the Parse of the agent's statement,
 *    which comes after, reads a backslash in '...' as the guard did;
 *  - TimeZone UTC, DateStyle ISO: values come back in one format;
 *  - work_mem and hash_mem_multiplier lowered to SESSION_MEMORY_CAPS from
 *    whatever the server connection has (another client may have raised
 *    them), never raised;
 *  - writes also: idle_in_transaction_session_timeout ($3), so a write
 *    transaction this process would leave open ends.
 *
 * It returns no row (its WHERE is false: concat of the set_config results
 * is never NULL, and PostgreSQL evaluates a volatile qual, every argument
 * of it, once): a read's frame gate and row budget see only the read's
 * rows. It runs first, in the same batch as the statement (before one
 * Sync, so in the same implicit transaction, on the same server
 * connection: a pooler in transaction mode hands the connection back only
 * at ReadyForQuery 'I'). If it fails, the server skips the rest of the
 * batch: the statement never runs without it.
 *
 * Its text is constant and parsed under the server connection's settings,
 * which may be another client's: every function, operator and type is
 * schema-qualified (a search_path another client set cannot reach it), it
 * holds no backslash (it reads the same under either
 * standard_conforming_strings), and the values (the schema, the time
 * limit) are bound parameters, never quoted into the text.
 */
export interface TransactionSetup extends OwnStatement {
  readonly values: readonly string[];
  /** The call's database identity, when the set-up takes it (its failure then says so). */
  readonly identity?: DatabaseIdentity;
}

/** A statement of ours with its values (as text), for OwnStatements. */
export interface OwnStatement {
  readonly text: string;
  readonly values: ReadonlyArray<string | null>;
}

const LOCAL_SETTINGS = [
  "pg_catalog.set_config('statement_timeout', $1, true)",
  "pg_catalog.set_config('search_path', $2, true)",
  "pg_catalog.set_config('standard_conforming_strings', 'on', true)",
  "pg_catalog.set_config('TimeZone', 'UTC', true)",
  "pg_catalog.set_config('DateStyle', 'ISO, YMD', true)",
  `pg_catalog.set_config('work_mem', CASE WHEN pg_catalog.pg_size_bytes(pg_catalog.current_setting('work_mem')) OPERATOR(pg_catalog.>) pg_catalog.pg_size_bytes('${SESSION_MEMORY_CAPS.workMem}') THEN '${SESSION_MEMORY_CAPS.workMem}' ELSE pg_catalog.current_setting('work_mem') END, true)`,
  `pg_catalog.set_config('hash_mem_multiplier', LEAST(pg_catalog.current_setting('hash_mem_multiplier')::pg_catalog.float8, ${SESSION_MEMORY_CAPS.hashMemMultiplier})::pg_catalog.text, true)`,
];

const setupText = (settings: readonly string[]) =>
  `SELECT WHERE pg_catalog.concat(${settings.join(', ')}) IS NULL`;

const READ_SETTINGS = [
  "pg_catalog.set_config('transaction_read_only', 'on', true)",
  ...LOCAL_SETTINGS,
];
const WRITE_SETTINGS = [
  ...LOCAL_SETTINGS,
  "pg_catalog.set_config('idle_in_transaction_session_timeout', $3, true)",
];
const READ_SETUP = setupText(READ_SETTINGS);
const WRITE_SETUP = setupText(WRITE_SETTINGS);

export function transactionSetup(options: {
  /** A read (read-only) or a write (after BEGIN READ WRITE). */
  readonly kind: 'read' | 'write';
  readonly timeLimitMs: number;
  readonly defaultSchema: string;
  /** The call's database identity (`identitySettings`), set last in the same statement. */
  readonly identity?: DatabaseIdentity;
}): TransactionSetup {
  const timeout = Math.floor(options.timeLimitMs);
  if (!Number.isSafeInteger(timeout) || timeout <= 0)
    throw new RangeError('timeLimitMs must be a positive integer');
  const base = [String(timeout), quoteIdent(options.defaultSchema)];
  const values = options.kind === 'read' ? base : [...base, String(timeout + 5000)];
  const text = options.kind === 'read' ? READ_SETUP : WRITE_SETUP;
  if (options.identity === undefined) return { text, values };
  const settings = options.kind === 'read' ? READ_SETTINGS : WRITE_SETTINGS;
  const identity = identitySettings(options.identity, values.length + 1);
  return {
    text: setupText([...settings, ...identity.settings]),
    values: [...values, ...identity.values],
    identity: options.identity,
  };
}

/**
 * A call's database identity (core's `DatabaseIdentity`) as settings of its
 * own transaction, for the set-up statement, numbered from `$first`:
 *  - `sqlwarden.subject`: the verified subject, a bound value, so
 *    row-level-security policies read it with
 *    `current_setting('sqlwarden.subject', true)`;
 *  - `role`: exactly `SET LOCAL ROLE "<role>"` (SET ROLE is this setting),
 *    but with the name a bound value, never SQL text: no quoting to get
 *    wrong, whatever the name holds. PostgreSQL checks on the spot that
 *    the role exists and that the session's user may take it (22023,
 *    42501: the batch stops, the statement never runs); from then on the
 *    transaction's privileges and row-level security are the role's, even
 *    when the source connects as a superuser (superusers bypass RLS, the
 *    role does not).
 * Both are transaction-local (is_local = true): they end with the
 * transaction (the read's Sync, the write's COMMIT or ROLLBACK), so the
 * pooled connection goes back as the source's own user with no subject.
 * The agent cannot change either from SQL: the guard refuses SET, RESET,
 * SET ROLE, SET SESSION AUTHORIZATION and set_config (docs/governance.md).
 */
export function identitySettings(
  identity: DatabaseIdentity,
  first: number,
): { readonly settings: string[]; readonly values: string[] } {
  if (typeof identity.subject !== 'string' || identity.subject === '')
    throw new RangeError('a database identity needs a subject');
  const settings = [`pg_catalog.set_config('sqlwarden.subject', $${first}, true)`];
  const values = [identity.subject];
  if (identity.role !== undefined) {
    // "none" is not a role to PostgreSQL: SET ROLE none goes back to the session's user.
    if (identity.role === '' || identity.role.toLowerCase() === 'none')
      throw new RangeError(`"${identity.role}" cannot be a database role of a call`);
    settings.push(`pg_catalog.set_config('role', $${first + 1}, true)`);
    values.push(identity.role);
  }
  return { settings, values };
}

/**
 * The set-up of one read or write: the transaction's own (`pooling:
 * transaction`, `transaction` given) with the identity in it, the identity
 * alone on a trusted session, or undefined when there is nothing to set
 * (a trusted session, no identity: no statement, no round trip).
 */
export function callSetup(options: {
  readonly kind: 'read' | 'write';
  readonly transaction?: { readonly timeLimitMs: number; readonly defaultSchema: string };
  readonly identity?: DatabaseIdentity;
}): TransactionSetup | undefined {
  const { kind, transaction, identity } = options;
  if (transaction !== undefined)
    return transactionSetup({ kind, ...transaction, ...(identity !== undefined && { identity }) });
  if (identity === undefined) return undefined;
  const settings = identitySettings(identity, 1);
  return { text: setupText(settings.settings), values: settings.values, identity };
}

/**
 * A statement's messages without Sync, for a batch: Parse, Bind and
 * Execute of the unnamed statement and portal, no Describe (the set-up
 * returns no row; the statement after it replaces both).
 */
export function sendStatement(connection: PgConnection, statement: OwnStatement): void {
  connection.parse({ text: statement.text, types: [] });
  connection.bind({ values: [...statement.values] });
  connection.execute({ portal: '', rows: 0 });
}

/**
 * Statements of ours run in one round trip, as one batch (one Sync): the
 * set-up and an EXPLAIN, or BEGIN READ WRITE and the set-up. Each over the
 * extended protocol (one statement per Parse). `rows` holds the rows of
 * all of them as text; the set-up gives none.
 */
export class OwnStatements extends SettlingSubmittable implements PgSubmittable {
  readonly rows: Array<Array<string | null>> = [];
  readonly #statements: readonly OwnStatement[];
  /** CommandCompletes so far: the statement an error answers is the next one. */
  #completed = 0;

  constructor(statements: readonly OwnStatement[]) {
    super();
    this.#statements = statements;
  }

  submit(connection: PgConnection): void {
    connection.stream?.cork?.();
    try {
      for (const statement of this.#statements) sendStatement(connection, statement);
      connection.sync();
    } finally {
      connection.stream?.uncork?.();
    }
  }

  handleRowDescription(): void {}

  override handleCommandComplete(): void {
    this.#completed += 1;
  }

  override handleError(error: unknown): void {
    const failed = this.#statements[this.#completed] as TransactionSetup | undefined;
    super.handleError(identityFailure(failed, error));
  }

  handleDataRow(message: { fields: Array<string | null> }): void {
    this.rows.push(message.fields);
  }

  handlePortalSuspended(): void {}
}

/**
 * The server refused a call's database identity in the set-up, before the
 * statement ran: the role does not exist (22023) or the source's user may
 * not take it (42501). errors.ts words it (FORBIDDEN, with what to do); the
 * server's error stays the cause, for the operator log.
 */
export class IdentityRefused extends Error {
  readonly role: string;
  readonly reason: 'no-such-role' | 'not-a-member';

  constructor(role: string, reason: IdentityRefused['reason'], cause: unknown) {
    super("the database refused the call's identity", { cause });
    this.name = 'IdentityRefused';
    this.role = role;
    this.reason = reason;
  }
}

/**
 * `error` as the failure of `setup`, the statement it answered: an
 * IdentityRefused when it is the set-up of an identity with a role and the
 * server refused the role; otherwise `error` itself (a stop, a lost
 * connection, anything else keeps its own meaning).
 */
export function identityFailure(setup: TransactionSetup | undefined, error: unknown): unknown {
  const role = setup?.identity?.role;
  if (role === undefined || typeof error !== 'object' || error === null) return error;
  const code = (error as { code?: unknown }).code;
  if (code === '42501') return new IdentityRefused(role, 'not-a-member', error);
  if (code === '22023') return new IdentityRefused(role, 'no-such-role', error);
  return error;
}
