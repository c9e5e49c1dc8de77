/**
 * The session every pooled connection gets before its first use, in one
 * round trip per connection (not per read):
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
 */

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
