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
 *  - TimeZone UTC and DateStyle ISO: values come back in one format.
 * This text is ours (never client input); identifiers are quoted.
 */
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
  ].join('; ');
}
