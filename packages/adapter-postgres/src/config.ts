/**
 * Configuration of a PostgreSQL source, and the structural subset of `pg`
 * the adapter uses (the driver is a peer dependency; tests or embedders may
 * pass their own module of the same shape).
 */
import type { EventEmitter } from 'node:events';
import type { GatedStream } from '@sqlwarden/adapter-kit';
import type { TlsOptions } from '@sqlwarden/core';

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

export interface PostgresPoolOptions {
  /** Connections at most (default 10, as pg: enough for parallel tool calls without queueing them). */
  readonly max?: number;
  /** Idle connections close after this (default 30 s). */
  readonly idleTimeoutMs?: number;
  /** Giving up on a new connection after this is DB_UNAVAILABLE (default 5 s). */
  readonly connectionTimeoutMs?: number;
}

export interface PostgresAdapterConfig {
  /** The source id from the configuration. */
  readonly source: string;
  readonly connection: PostgresConnectionOptions;
  /** The schema unqualified names resolve to (the session's search_path). */
  readonly defaultSchema: string;
  /**
   * The source's statement timeout, set on every session: the ceiling. A
   * call may ask for less (set per read when it differs), never more.
   */
  readonly statementTimeoutMs: number;
  readonly pool?: PostgresPoolOptions;
  /** Shown in pg_stat_activity (default "sqlwarden"). */
  readonly applicationName?: string;
  /**
   * Whether write() may run (default false: it answers READ_ONLY). Reads stay
   * in read-only sessions either way; a write opens its own READ WRITE
   * transaction.
   */
  readonly allowWrites?: boolean;
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

export interface PgPoolClient extends EventEmitter {
  query<R = unknown>(config: {
    text: string;
    values?: unknown[];
    rowMode?: 'array';
    /** 'extended': Parse/Bind/Execute even without values (never the simple protocol). */
    queryMode?: 'extended';
  }): Promise<{ rows: R[]; rowCount?: number | null }>;
  query(text: string): Promise<unknown>;
  query<S extends PgSubmittable>(submittable: S): S;
  release(destroy?: boolean | Error): void;
  readonly processID?: number | null;
  readonly secretKey?: number | null;
  /** node-postgres's Connection: its socket carries the frame gate (the kit's wire.ts). */
  readonly connection?: { readonly stream: GatedStream };
}

export interface PgPool extends EventEmitter {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
  readonly totalCount: number;
  readonly idleCount: number;
}

export interface PgModule {
  readonly Pool: new (config: Record<string, unknown>) => PgPool;
}
