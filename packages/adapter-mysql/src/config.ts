/**
 * Configuration of a MySQL or MariaDB source, its normalization, and the
 * structural subset of `mysql2` the adapter uses (the driver is a peer
 * dependency; tests or embedders may pass their own module of the same
 * shape).
 *
 * Parse, normalize, validate (STYLE.md): `MysqlAdapterConfig` is what a
 * caller writes, `NormalizedConfig` what the adapter runs with, and
 * `normalizeConfig` reports every problem at once (the connection's here,
 * the settings every source has from the kit's `normalizeSource`), each
 * naming its key.
 */
import type { EventEmitter } from 'node:events';
import {
  type NormalizedSource,
  normalizeSource,
  type SourceSettings,
} from '@sqlwarden/adapter-kit';
import { ConfigError, type TlsOptions } from '@sqlwarden/core';

export interface MysqlConnectionOptions {
  /**
   * `mysql://user@host:port/database` (or `mariadb://`). Only these parts
   * are read: a query string is refused, because mysql2 would turn
   * `?multipleStatements=true` into a driver option. Its password, if any,
   * should come from the environment.
   */
  readonly uri?: string;
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  /** The database to open; when given it must be `defaultSchema` (the two are one thing in MySQL). */
  readonly database?: string;
  /** A function keeps the secret out of the config object: it is called each time a connection opens. */
  readonly password?: () => string | Promise<string>;
  /** TLS: `true` verifies the certificate and the host name. */
  readonly ssl?: boolean | TlsOptions;
}

/**
 * A MySQL or MariaDB source: the settings every source has (the kit's
 * `SourceSettings`: source, defaultSchema, which is the database every
 * connection opens in, statementTimeoutMs, pool, allowWrites,
 * applicationName, sent as the `program_name` connection attribute), and
 * its connection.
 */
export interface MysqlAdapterConfig extends SourceSettings {
  readonly connection: MysqlConnectionOptions;
}

/** A column of a result set, as mysql2 describes it (ColumnDefinition). */
export interface MysqlField {
  readonly name: string;
  readonly columnType: number;
  readonly characterSet: number;
  readonly columnLength: number;
  readonly flags: number;
  readonly decimals: number;
  /** MariaDB extended metadata: `uuid`, `inet6`, `point`... */
  readonly extendedTypeName?: string;
  /** MariaDB extended metadata: `json` for JSON columns (LONGTEXT on the wire). */
  readonly extendedFormat?: string;
}

/** The OK packet of a statement without a result set. */
export interface MysqlResultHeader {
  readonly affectedRows: number;
}

/**
 * One command (a prepared statement's execution) in event mode: mysql2
 * emits `fields` (undefined for an OK packet), `result` per row (or the OK
 * packet), `error` and `end`; no rows are accumulated.
 */
export interface MysqlCommand extends EventEmitter {
  /** Set by mysql2 when the command starts; read only to attach a parser option (driver.ts). */
  options?: Record<string, unknown>;
}

/** A mysql2 connection (callback API). */
export interface MysqlConnection extends EventEmitter {
  /** The server's connection id (what KILL takes), known once the handshake is done. */
  readonly threadId: number | null;
  connect(callback: (error: unknown) => void): void;
  /**
   * A prepared statement (binary protocol): prepared once per connection
   * and text (mysql2 caches it), then executed. Without a callback, rows
   * are emitted one by one and not kept; with one, they are collected.
   */
  execute(
    options: { sql: string; values: unknown[]; rowsAsArray: boolean },
    callback?: (error: unknown, rows: unknown) => void,
  ): MysqlCommand;
  /** The text protocol: for sqlwarden's own fixed texts only (session setup, KILL, COMMIT). */
  query(
    options: string | { sql: string; rowsAsArray?: boolean },
    callback: (error: unknown, result: unknown) => void,
  ): unknown;
  /** Stops handing packets to commands (they are queued). */
  pause(): void;
  /** Marks the connection closing and ends the socket (FIN); later packets are ignored. */
  destroy(): void;
  /** Sends COM_QUIT, then closes. */
  end(callback?: (error: unknown) => void): void;
  /** The socket. Destroying it stops a server blocked writing a result (KILL QUERY does not). */
  readonly stream?: { destroy(): void; getPeerCertificate?(detailed?: boolean): unknown };
}

export interface MysqlModule {
  createConnection(options: Record<string, unknown>): MysqlConnection;
}

/** The configuration the adapter runs with: defaults applied, URI taken apart, checked. */
export interface NormalizedConfig extends NormalizedSource {
  readonly host: string;
  readonly port: number;
  readonly user: string | undefined;
  /** A password written in the URI (percent-decoded), if any. */
  readonly uriPassword: string | undefined;
  readonly password: (() => string | Promise<string>) | undefined;
  readonly ssl: boolean | TlsOptions | undefined;
}

/** Checks a source's configuration and applies the defaults; throws ConfigError with every problem. */
export function normalizeConfig(config: MysqlAdapterConfig): NormalizedConfig {
  const problems: string[] = [];
  const connection = config.connection ?? {};
  let host = connection.host;
  let port = connection.port;
  let user = connection.user;
  let database = connection.database;
  let uriPassword: string | undefined;
  if (connection.uri !== undefined) {
    if (host !== undefined || port !== undefined || user !== undefined || database !== undefined)
      problems.push('connection.uri: give either a URI or host/port/user/database, not both');
    let url: URL | undefined;
    try {
      url = new URL(connection.uri);
    } catch {
      problems.push('connection.uri: not a valid URL');
    }
    if (url !== undefined) {
      if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:')
        problems.push('connection.uri: the scheme must be mysql:// or mariadb://');
      // mysql2 turns every query parameter into a driver option (multipleStatements,
      // flags, typeCast...), and an option set in the URI would beat ours: refused.
      if (url.search !== '')
        problems.push(
          'connection.uri: query parameters are not allowed (driver options come from the configuration, never the URL)',
        );
      host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      port = url.port === '' ? undefined : Number(url.port);
      user = url.username === '' ? undefined : decodeURIComponent(url.username);
      uriPassword = url.password === '' ? undefined : decodeURIComponent(url.password);
      database = url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined;
    }
  }
  if (database !== undefined && database !== config.defaultSchema)
    problems.push(
      `connection.database: the connection opens in defaultSchema (${config.defaultSchema}); the database given (${database}) must be the same`,
    );
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
    problems.push('connection.port: must be an integer from 1 to 65535');
  if (connection.password !== undefined && typeof connection.password !== 'function')
    problems.push(
      'connection.password: must be a function returning the secret (never the secret itself)',
    );
  const source = normalizeSource(config, problems);
  if (problems.length > 0) throw new ConfigError(`MySQL source ${String(config.source)}`, problems);
  return {
    ...source,
    host: host ?? 'localhost',
    port: port ?? 3306,
    user,
    uriPassword,
    password: connection.password,
    ssl: connection.ssl,
  };
}

/**
 * The mysql2 options of one new connection. Fixed here, whatever the
 * configuration says:
 *  - no multipleStatements, and the MULTI_STATEMENTS capability removed: a
 *    text with `;` can never run as several statements;
 *  - LOCAL_FILES removed: the server cannot ask for a client file (LOAD
 *    DATA LOCAL);
 *  - MULTI_RESULTS removed: a CALL that returns result sets fails (1312)
 *    instead of streaming several;
 *  - IGNORE_SPACE removed: the session's sql_mode is ours (session.ts);
 *  - FOUND_ROWS kept: an UPDATE reports the rows it matched, so the write
 *    ceiling counts every row the statement touched;
 *  - values as the result contract wants them (types.ts): BIGINT and
 *    DECIMAL as decimal text, dates as text, JSON as text.
 * The password function is called here, once per connection.
 */
export async function connectionOptions(
  config: NormalizedConfig,
): Promise<Record<string, unknown>> {
  const password = config.password !== undefined ? await config.password() : config.uriPassword;
  return {
    host: config.host,
    port: config.port,
    ...(config.user !== undefined && { user: config.user }),
    ...(password !== undefined && { password }),
    database: config.defaultSchema,
    ...(config.ssl !== undefined && config.ssl !== false && { ssl: mysqlSslOption(config.ssl) }),
    connectTimeout: config.pool.connectionTimeoutMs,
    charset: 'UTF8MB4_UNICODE_CI',
    multipleStatements: false,
    flags: ['-MULTI_STATEMENTS', '-LOCAL_FILES', '-MULTI_RESULTS', '-IGNORE_SPACE'],
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    dateStrings: true,
    jsonStrings: true,
    timezone: 'Z',
    // Each cached statement holds a server-side prepared statement; the server's
    // max_prepared_stmt_count (16382 by default) is shared by every client.
    maxPreparedStatements: 64,
    connectAttributes: { program_name: config.applicationName },
  };
}

/**
 * mysql2's `ssl` option. mysql2 checks the host name only when told to
 * (`verifyIdentity`); `true` here means what it means for PostgreSQL: the
 * chain and the host name are verified.
 */
export function mysqlSslOption(ssl: true | TlsOptions): Record<string, unknown> {
  const options: TlsOptions = ssl === true ? {} : ssl;
  const rejectUnauthorized = options.rejectUnauthorized !== false;
  return {
    ...(options.ca !== undefined && { ca: options.ca }),
    ...(options.cert !== undefined && { cert: options.cert }),
    ...(options.key !== undefined && { key: options.key }),
    rejectUnauthorized,
    verifyIdentity: rejectUnauthorized && options.verifyHostname !== false,
  };
}
