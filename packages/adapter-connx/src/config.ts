/**
 * Configuration of an ODBC source, its normalization, and the driver
 * options each profile sets (docs/connx.md, "Driver options").
 */
import {
  type NormalizedSource,
  normalizeSource,
  type SourceSettings,
} from '@sqlwarden/adapter-kit';
import { ConfigError } from '@sqlwarden/core';
import { DEFAULT_WORKER_MEMORY_MB } from './host.js';
import type { OdbcProfile } from './protocol.js';

export type { OdbcProfile } from './protocol.js';
export const ODBC_PROFILES: readonly OdbcProfile[] = ['connx', 'postgres', 'mariadb', 'generic'];

export interface OdbcConnectionOptions {
  /**
   * The ODBC connection string (`DSN=...;UID=...;PWD=...`,
   * `DRIVER={PostgreSQL Unicode};SERVER=...`). A function keeps the secret
   * out of the config object: it is called each time a connection opens.
   */
  readonly connectionString: string | (() => string);
  /** Which driver it is: the options and session set-up the adapter adds (default `generic`). */
  readonly profile?: OdbcProfile;
  /** Rows per fetch where the driver's block fetch is sound (postgres, connx, generic). */
  readonly fetchSize?: number;
  /**
   * Right-trims fixed-width CHAR values (the CONNX sample wraps every column
   * in RTRIM); default false: values as the database returns them.
   */
  readonly trimChar?: boolean;
  /**
   * The worker process's memory limit in MB (resident set; default 512):
   * past it the worker is killed and the calls in flight fail. A driver
   * that buffers whole results (MariaDB ODBC) needs it.
   */
  readonly workerMemoryMb?: number;
}

/** An ODBC source: the settings every source has (the kit's SourceSettings), and its connection. */
export interface ConnxAdapterConfig extends SourceSettings {
  readonly connection: OdbcConnectionOptions;
}

export interface NormalizedConfig extends NormalizedSource {
  readonly connectionString: () => string;
  readonly profile: OdbcProfile;
  readonly fetchSize: number;
  readonly trimChar: boolean;
  readonly workerMemoryMb: number;
}

/** Default rows per fetch, per profile. */
const FETCH_DEFAULTS: Record<OdbcProfile, number> = {
  postgres: 100,
  // MariaDB ODBC 3.1: with a fetch size above 1 the second fetch returns no rows.
  mariadb: 1,
  connx: 1,
  generic: 1,
};

export function normalizeConfig(config: ConnxAdapterConfig): NormalizedConfig {
  const problems: string[] = [];
  const source = normalizeSource(config, problems);
  const c = config.connection ?? ({} as OdbcConnectionOptions);
  const cs = c.connectionString;
  if (typeof cs !== 'function' && (typeof cs !== 'string' || cs.trim() === '')) {
    problems.push('connection.connectionString: give the ODBC connection string (DSN=...;UID=...)');
  }
  const profile = c.profile ?? 'generic';
  if (!ODBC_PROFILES.includes(profile)) {
    problems.push(`connection.profile: must be one of ${ODBC_PROFILES.join(', ')}`);
  }
  const fetchSize = c.fetchSize ?? FETCH_DEFAULTS[profile] ?? 1;
  if (!Number.isSafeInteger(fetchSize) || fetchSize < 1 || fetchSize > 10_000) {
    problems.push('connection.fetchSize: must be an integer from 1 to 10000');
  } else if (profile === 'mariadb' && fetchSize !== 1) {
    problems.push(
      'connection.fetchSize: MariaDB ODBC loses rows with a fetch size above 1; leave it out',
    );
  }
  const workerMemoryMb = c.workerMemoryMb ?? DEFAULT_WORKER_MEMORY_MB;
  if (!Number.isSafeInteger(workerMemoryMb) || workerMemoryMb < 64 || workerMemoryMb > 65_536) {
    problems.push('connection.workerMemoryMb: must be a whole number of MB from 64 to 65536');
  }
  if (c.trimChar !== undefined && typeof c.trimChar !== 'boolean') {
    problems.push('connection.trimChar: must be true or false');
  }
  if (problems.length > 0)
    throw new ConfigError(`Invalid ODBC source ${String(config.source)}`, problems);
  return {
    ...source,
    connectionString: typeof cs === 'function' ? cs : () => cs,
    profile,
    fetchSize,
    trimChar: c.trimChar === true,
    workerMemoryMb,
  };
}

/** `KEY=value` pairs of a connection string; braces (`{...}`) may hold `;`. */
export function connectionStringPairs(connectionString: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let i = 0;
  while (i < connectionString.length) {
    const eq = connectionString.indexOf('=', i);
    if (eq < 0) break;
    const key = connectionString.slice(i, eq).trim();
    let value: string;
    let next: number;
    if (connectionString[eq + 1] === '{') {
      const close = connectionString.indexOf('}', eq + 2);
      const end = close < 0 ? connectionString.length : close + 1;
      value = connectionString.slice(eq + 1, end);
      const semi = connectionString.indexOf(';', end);
      next = semi < 0 ? connectionString.length : semi + 1;
    } else {
      const semi = connectionString.indexOf(';', eq + 1);
      const end = semi < 0 ? connectionString.length : semi;
      value = connectionString.slice(eq + 1, end);
      next = end + 1;
    }
    if (key !== '') pairs.push([key, value]);
    i = next;
  }
  return pairs;
}

/** The options the adapter sets for a profile (they replace the same keys of the source's string). */
export function driverOptions(
  profile: OdbcProfile,
  fetchSize: number,
  allowWrites = false,
): Array<[string, string]> {
  switch (profile) {
    case 'connx':
      // CONNX's own read-only connection (its documentation's READONLY key),
      // unless the source writes. Not verified on a CONNX installation.
      return allowWrites ? [] : [['READONLY', '1']];
    case 'postgres':
      // psqlODBC buffers the whole result unless it reads through a server
      // cursor, Fetch rows at a time; BoolsAsChar=0 reports booleans as BIT;
      // NumericAs=-1 sends a numeric without declared precision (sums,
      // averages, numeric literals) as text, so that it stays exact.
      return [
        ['UseDeclareFetch', '1'],
        ['Fetch', String(fetchSize)],
        ['BoolsAsChar', '0'],
        ['NumericAs', '-1'],
      ];
    default:
      return [];
  }
}

/** The connection string the worker opens: the source's, with the profile's options in place. */
export function effectiveConnectionString(config: NormalizedConfig): string {
  const ours = driverOptions(config.profile, config.fetchSize, config.allowWrites);
  const overridden = new Set(ours.map(([k]) => k.toLowerCase()));
  const pairs = connectionStringPairs(config.connectionString()).filter(
    ([k]) => !overridden.has(k.toLowerCase()),
  );
  return [...pairs, ...ours].map(([k, v]) => `${k}=${v}`).join(';');
}

/**
 * MariaDB's sql_mode on an ODBC source: the strings and quotes the guard's
 * odbc dialect reads (ANSI: `"` quotes a name, a backslash is a character,
 * and the guard refuses backslashes anyway), ONLY_FULL_GROUP_BY as on the
 * mysql adapter (a non-grouped column is an error, not an arbitrary row's
 * value), strict and explicit otherwise.
 */
export const MARIADB_ODBC_SQL_MODE =
  'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

/**
 * Statements of sqlwarden's own run on each new connection: the session
 * made read-only, and unqualified names resolving in `defaultSchema` (what
 * the guard assumes), and the source's statement time limit on the server
 * itself (`statement_timeout`, `max_statement_time`): a statement whose
 * worker died has nobody left to cancel it, and MariaDB ODBC ignores
 * SQL_ATTR_QUERY_TIMEOUT (the kit's deadline cancels shorter limits). On
 * MariaDB also the sql_mode above, UTC and autocommit.
 */
export function sessionSetup(
  profile: OdbcProfile,
  defaultSchema: string,
  statementTimeoutMs = 0,
): string[] {
  switch (profile) {
    case 'postgres':
      return [
        'SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY',
        // The source's limit on the server itself: a statement whose worker
        // died (nobody left to cancel it) still ends there.
        ...(statementTimeoutMs > 0
          ? [`SET statement_timeout = ${Math.ceil(statementTimeoutMs)}`]
          : []),
        // PostgreSQL 14+: a backend whose client went away (a worker killed
        // mid-fetch, when psqlODBC's own per-statement timeout is no longer
        // set) ends its statement within a second; older servers have no
        // such setting, and the statement matches no row there.
        "SELECT set_config('client_connection_check_interval', '1000', false) FROM pg_settings WHERE name = 'client_connection_check_interval'",
        `SET search_path TO "${defaultSchema.replaceAll('"', '""')}"`,
      ];
    case 'mariadb':
      return [
        [
          `SET SESSION sql_mode = '${MARIADB_ODBC_SQL_MODE}'`,
          "time_zone = '+00:00'",
          'autocommit = 1',
          ...(statementTimeoutMs > 0
            ? [`max_statement_time = ${(Math.ceil(statementTimeoutMs) / 1000).toFixed(3)}`]
            : []),
        ].join(', '),
        'SET SESSION TRANSACTION READ ONLY',
        `USE \`${defaultSchema.replaceAll('`', '``')}\``,
      ];
    default:
      // CONNX and unknown drivers: no portable statement; the account must be
      // read-only, and its default schema the source's (docs/connx.md).
      return [];
  }
}

/**
 * Statements that make one write transaction writable in the session that
 * sessionSetup made read-only (run first in the transaction, after
 * autocommit is turned off). CONNX and unknown drivers: none; their
 * account's rights decide (docs/connx.md, "Writes").
 */
export function writeSetup(profile: OdbcProfile): string[] {
  switch (profile) {
    case 'postgres':
    case 'mariadb':
      return ['SET TRANSACTION READ WRITE'];
    default:
      return [];
  }
}
