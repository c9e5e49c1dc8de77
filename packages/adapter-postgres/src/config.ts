/**
 * Configuration of a PostgreSQL source, and the structural subset of `pg`
 * the adapter uses: its `Client` (the driver is a peer dependency; tests or
 * embedders may pass their own module of the same shape). The pool is the
 * adapter kit's, not pg-pool (docs/architecture.md, "The adapter kit").
 */
import type { EventEmitter } from 'node:events';
import {
  type GatedStream,
  type NormalizedSource,
  normalizeSource,
  type SourceSettings,
} from '@sqlwarden/adapter-kit';
import { ConfigError, type TlsOptions } from '@sqlwarden/core';

export interface PostgresConnectionOptions {
  /** A libpq-style URL (postgres://user@host:port/db). Its password, if any, should come from the environment. */
  readonly connectionString?: string;
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly database?: string;
  /** A function keeps the secret out of the config object: it is called when a connection opens. */
  readonly password?: string | (() => string | Promise<string>);
  /** TLS: `true` verifies the certificate and the host name (Node's defaults). */
  readonly ssl?: boolean | TlsOptions;
  /**
   * What stands between the adapter and the server (docs/postgres.md,
   * "Behind PgBouncer"): `session` (default) a direct connection or a
   * pooler in session mode; `transaction` a pooler in transaction mode
   * (PgBouncer's pool_mode=transaction); `statement` is refused.
   */
  readonly pooling?: PostgresPooling;
}

/** The pooling modes a source may name, as PgBouncer names them. */
export const POOLING_MODES = ['session', 'transaction', 'statement'] as const;
export type PostgresPooling = (typeof POOLING_MODES)[number];

/**
 * Why a pooling mode cannot be used, or undefined when it can. Statement
 * pooling gives the server connection back after every statement: a write
 * (BEGIN, the statement, COMMIT) would run its three statements on three
 * backends, and nothing set for a read (read-only, the time limit, the
 * search_path) could be kept with it. Refused rather than run unsafely.
 */
export function poolingProblem(pooling: unknown): string | undefined {
  if (pooling === undefined || pooling === 'session' || pooling === 'transaction') return undefined;
  if (pooling === 'statement')
    return 'statement pooling cannot be made safe: the pooler ends the transaction after every statement, so a write (BEGIN, the statement, COMMIT) cannot run in one transaction and the per-transaction set-up that keeps each read read-only, time-limited and on its search_path cannot stay with the read. Set pool_mode = transaction for this database in PgBouncer and pooling: transaction here (or session for a direct connection)';
  return `must be one of ${POOLING_MODES.join(', ')}`;
}

/** The `ssl` option of node-postgres (it passes the object to `tls.connect`). */
export function pgSslOption(ssl: boolean | TlsOptions | undefined): boolean | object | undefined {
  if (ssl === undefined || typeof ssl === 'boolean') return ssl;
  const { verifyHostname, ...options } = ssl;
  return {
    ...options,
    rejectUnauthorized: ssl.rejectUnauthorized !== false,
    // verify-ca: the chain is verified, the host name is not.
    ...(verifyHostname === false && { checkServerIdentity: () => undefined }),
  };
}

/**
 * A PostgreSQL source: the settings every source has (the kit's
 * `SourceSettings`: source, defaultSchema, which is the session's
 * search_path, statementTimeoutMs, pool, allowWrites, applicationName,
 * shown in pg_stat_activity), and its connection.
 */
export interface PostgresAdapterConfig extends SourceSettings {
  readonly connection: PostgresConnectionOptions;
}

/** The configuration the adapter runs with: checked, defaults applied. */
export interface NormalizedConfig extends NormalizedSource {
  readonly connection: PostgresConnectionOptions;
  /**
   * `transaction`: every read, estimate and write sets up its own
   * transaction (session.ts, `transactionSetup`) and nothing is set for the
   * session. Only then: on a direct connection the set-up costs about 0.1 ms
   * per read, measured (docs/postgres.md, "Behind PgBouncer").
   */
  readonly pooling: 'session' | 'transaction';
}

/** Checks a source's configuration and applies the defaults; throws ConfigError with every problem. */
export function normalizeConfig(config: PostgresAdapterConfig): NormalizedConfig {
  const problems: string[] = [];
  const connection = config.connection ?? {};
  const { port, password } = connection;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
    problems.push('connection.port: must be an integer from 1 to 65535');
  if (password !== undefined && typeof password !== 'string' && typeof password !== 'function')
    problems.push('connection.password: must be a string or a function returning the secret');
  const pooling = poolingProblem(connection.pooling);
  if (pooling !== undefined) problems.push(`connection.pooling: ${pooling}`);
  const source = normalizeSource(config, problems);
  if (problems.length > 0)
    throw new ConfigError(`PostgreSQL source ${String(config.source)}`, problems);
  return {
    ...source,
    connection,
    pooling: connection.pooling === 'transaction' ? 'transaction' : 'session',
  };
}

/** The options of one new `pg.Client` of this source. */
export function clientOptions(config: NormalizedConfig): Record<string, unknown> {
  const connection = config.connection;
  return {
    ...(connection.connectionString !== undefined && {
      connectionString: connection.connectionString,
    }),
    ...(connection.host !== undefined && { host: connection.host }),
    ...(connection.port !== undefined && { port: connection.port }),
    ...(connection.user !== undefined && { user: connection.user }),
    ...(connection.database !== undefined && { database: connection.database }),
    // A function is called by pg each time a connection opens.
    ...(connection.password !== undefined && { password: connection.password }),
    ...(connection.ssl !== undefined && { ssl: pgSslOption(connection.ssl) }),
    application_name: config.applicationName,
  };
}

export interface PgFieldDescription {
  readonly name: string;
  readonly dataTypeID: number;
}

export interface PgConnection {
  readonly stream?: { cork?(): void; uncork?(): void };
  parse(query: { text: string; name?: string; types?: number[] }): void;
  bind(config: { portal?: string; statement?: string; values?: Array<string | null> }): void;
  describe(message: { type: 'P' | 'S'; name?: string }): void;
  execute(config: { portal?: string; rows?: number }): void;
  sync(): void;
  flush(): void;
  sendCopyFail(message: string): void;
}

/** A custom query object pg drives message by message (its documented "Submittable"). */
export interface PgSubmittable {
  submit(connection: PgConnection): void;
}

/** A `pg.Client`: one connection, driven by the kit through driver.ts. */
export interface PgClient extends EventEmitter {
  connect(): Promise<void>;
  query<R = unknown>(config: {
    text: string;
    values?: unknown[];
    rowMode?: 'array';
    /** 'extended': Parse/Bind/Execute even without values (never the simple protocol). */
    queryMode?: 'extended';
  }): Promise<{ rows: R[]; rowCount?: number | null }>;
  query(text: string): Promise<unknown>;
  query<S extends PgSubmittable>(submittable: S): S;
  /** Sends Terminate and waits for the connection to end. */
  end(): Promise<void>;
  readonly processID?: number | null;
  readonly secretKey?: number | null;
  readonly host?: string;
  readonly port?: number;
  /** node-postgres's Connection: its socket carries the frame gate (the kit's wire.ts). */
  readonly connection?: { readonly stream: GatedStream };
}

export interface PgModule {
  readonly Client: new (config: Record<string, unknown>) => PgClient;
}
