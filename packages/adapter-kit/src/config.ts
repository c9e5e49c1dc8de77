/**
 * What every source's configuration holds whatever its engine, checked and
 * defaulted once (parse, normalize, validate: STYLE.md). An engine's
 * configuration adds its connection; its normalizer collects its own
 * problems and these, and reports them all at once (ConfigError), each
 * naming its key.
 */
import type { AdapterSource } from '@sqlwarden/core';

/** Connections at most per source unless configured (as node-postgres). */
export const POOL_DEFAULTS = {
  max: 10,
  /** Idle connections close after this. */
  idleTimeoutMs: 30_000,
  /** Waiting longer than this for a connection, or for one to open, fails the call. */
  connectionTimeoutMs: 5_000,
} as const;

export interface PoolSettings {
  /** Connections at most (default 10: enough for parallel tool calls without queueing them). */
  readonly max?: number;
  /** Idle connections close after this (default 30 s). */
  readonly idleTimeoutMs?: number;
  /**
   * Waiting longer than this for a free connection is SOURCE_BUSY; for a new
   * one to open, session set-up included, DB_UNAVAILABLE (default 5 s).
   */
  readonly connectionTimeoutMs?: number;
}

/** The engine-independent part of a source's configuration, as a caller writes it. */
export interface SourceSettings {
  /** The source id from the configuration. */
  readonly source: string;
  /** The schema (MySQL: the database) unqualified names resolve to. */
  readonly defaultSchema: string;
  /**
   * The source's statement time limit, set on every session: the ceiling.
   * A call may ask for less (set per call when it differs), never more.
   */
  readonly statementTimeoutMs: number;
  readonly pool?: PoolSettings;
  /**
   * Whether write() may run (default false: it answers READ_ONLY). Reads
   * stay in read-only sessions either way; a write opens its own READ
   * WRITE transaction.
   */
  readonly allowWrites?: boolean;
  /** How the source's sessions name themselves to the server (default "sqlwarden"). */
  readonly applicationName?: string;
}

/** The same, checked, with its defaults. */
export interface NormalizedSource {
  readonly source: string;
  readonly defaultSchema: string;
  readonly statementTimeoutMs: number;
  readonly allowWrites: boolean;
  readonly applicationName: string;
  readonly pool: {
    readonly max: number;
    readonly idleTimeoutMs: number;
    readonly connectionTimeoutMs: number;
  };
}

const isPositiveInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

/**
 * Checks the engine-independent settings and applies their defaults. Every
 * problem found is pushed to `problems` (the caller throws them all at
 * once); what is returned is only meaningful when none was.
 */
export function normalizeSource(config: SourceSettings, problems: string[]): NormalizedSource {
  if (typeof config.source !== 'string' || config.source === '')
    problems.push('source: must be a non-empty string');
  if (typeof config.defaultSchema !== 'string' || config.defaultSchema === '')
    problems.push('defaultSchema: must name the schema unqualified names resolve to');
  if (!isPositiveInteger(config.statementTimeoutMs))
    problems.push('statementTimeoutMs: must be a positive integer (milliseconds)');
  const pool = config.pool ?? {};
  for (const key of ['max', 'idleTimeoutMs', 'connectionTimeoutMs'] as const) {
    if (pool[key] !== undefined && !isPositiveInteger(pool[key]))
      problems.push(`pool.${key}: must be a positive integer`);
  }
  if (config.allowWrites !== undefined && typeof config.allowWrites !== 'boolean')
    problems.push('allowWrites: must be true or false');
  if (config.applicationName !== undefined && typeof config.applicationName !== 'string')
    problems.push('applicationName: must be a string');
  return {
    source: config.source,
    defaultSchema: config.defaultSchema,
    statementTimeoutMs: config.statementTimeoutMs,
    allowWrites: config.allowWrites ?? false,
    applicationName: config.applicationName ?? 'sqlwarden',
    pool: {
      max: pool.max ?? POOL_DEFAULTS.max,
      idleTimeoutMs: pool.idleTimeoutMs ?? POOL_DEFAULTS.idleTimeoutMs,
      connectionTimeoutMs: pool.connectionTimeoutMs ?? POOL_DEFAULTS.connectionTimeoutMs,
    },
  };
}

/** The settings every source has, from the runtime's checked source (a plugin's `create`). */
export function sourceSettings(source: AdapterSource): SourceSettings {
  return {
    source: source.id,
    defaultSchema: source.defaultSchema,
    statementTimeoutMs: source.statementTimeoutMs,
    pool: source.pool,
    allowWrites: source.allowWrites,
  };
}

/**
 * The connection fields every engine takes under the same names (the URL
 * goes under the engine's own key); secrets stay functions, called when a
 * connection opens.
 */
export function connectionFields(source: AdapterSource) {
  const c = source.connection;
  return {
    ...(c.host !== undefined && { host: c.host }),
    ...(c.port !== undefined && { port: c.port }),
    ...(c.database !== undefined && { database: c.database }),
    ...(c.user !== undefined && { user: c.user }),
    ...(c.password !== undefined && { password: c.password }),
    ...(c.ssl !== undefined && { ssl: c.ssl }),
  };
}
