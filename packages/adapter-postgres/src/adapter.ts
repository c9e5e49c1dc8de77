/**
 * The PostgreSQL adapter: a pool per source, reads as one bounded
 * extended-protocol round trip in a read-only session (read.ts, session.ts),
 * server-side cancellation on timeout or abort, catalog queries
 * (introspect.ts), and errors mapped to codes (errors.ts).
 *
 * Round trips per read, steady state: one. A connection's session is set
 * up once (one more round trip, when the pool opens it); a read whose time
 * limit is lower than the session's sets statement_timeout first (one
 * more, only when the value changes); a result with column types outside
 * the built-in table looks their names up once per source.
 *
 * Timeout and cancellation: the server's statement_timeout normally stops a
 * statement first (57014, the connection stays healthy and is reused). The
 * adapter also keeps its own deadline a little past it, and listens to the
 * call's AbortSignal (MCP cancellation): either sends a CancelRequest and
 * discards the connection, so a late cancel can never hit the next query
 * on it. After a grace period the socket is closed regardless.
 */
import type {
  DatabaseAdapter,
  FunctionCatalog,
  HealthStatus,
  PrivilegeReport,
  PrivilegeReportRequest,
  ReadRequest,
  ReadResult,
  TableDescription,
  TableRef,
  TableSummary,
  WriteRequest,
  WriteResult,
} from '@sqlwarden/core';
import { OutageLog, SqlwardenError, writeLimitExceeded } from '@sqlwarden/core';
import { sendCancelRequest } from './cancel.js';
import type {
  AdapterLogger,
  PgModule,
  PgPool,
  PgPoolClient,
  PostgresAdapterConfig,
} from './config.js';
import { isConnectionError, mapPostgresError, type StopReason } from './errors.js';
import { describeTable, functionCatalog, listTables, privilegeReport } from './introspect.js';
import { BoundedRead, toReadResult, toWireValue } from './read.js';
import { sessionSetup } from './session.js';
import { TypeNames } from './types.js';

/** How long past its time limit a statement may run before the adapter cancels it itself. */
const DEADLINE_SLACK_MS = 250;
/** How long a cancelled statement may take to stop before its socket is closed. */
const CANCEL_GRACE_MS = 2000;
/** Rows past the byte budget still streaming: cancel once this much was dropped. */
const OVERFLOW_CANCEL_BYTES = 8 * 1024 * 1024;

interface ClientState {
  /** The statement_timeout the session has now. */
  timeoutMs: number;
  setup: Promise<void>;
}

export interface PostgresAdapterOptions {
  readonly config: PostgresAdapterConfig;
  /** The `pg` module (default: the peer dependency). */
  readonly pg: PgModule;
  readonly logger?: AdapterLogger;
}

export class PostgresAdapter implements DatabaseAdapter {
  readonly dialect = 'postgres' as const;
  readonly source: string;
  readonly #config: PostgresAdapterConfig;
  readonly #pool: PgPool;
  readonly #logger: AdapterLogger | undefined;
  readonly #outages: OutageLog;
  readonly #types = new TypeNames();
  readonly #clients = new WeakMap<PgPoolClient, ClientState>();
  #catalog: Promise<FunctionCatalog> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: PostgresAdapterOptions) {
    const { config } = options;
    this.source = config.source;
    this.#config = config;
    this.#logger = options.logger;
    this.#outages = new OutageLog(this.source, options.logger);
    const connection = config.connection;
    this.#pool = new options.pg.Pool({
      ...(connection.connectionString !== undefined && {
        connectionString: connection.connectionString,
      }),
      ...(connection.host !== undefined && { host: connection.host }),
      ...(connection.port !== undefined && { port: connection.port }),
      ...(connection.user !== undefined && { user: connection.user }),
      ...(connection.database !== undefined && { database: connection.database }),
      ...(connection.password !== undefined && { password: connection.password }),
      ...(connection.ssl !== undefined && { ssl: connection.ssl }),
      application_name: config.applicationName ?? 'sqlwarden',
      max: config.pool?.max ?? 10,
      idleTimeoutMillis: config.pool?.idleTimeoutMs ?? 30_000,
      connectionTimeoutMillis: config.pool?.connectionTimeoutMs ?? 5_000,
    });
    // An idle connection that dies (server restart) emits here; without a
    // listener the process would crash. The pool replaces it on next use.
    this.#pool.on('error', (error: unknown) => {
      this.#logger?.warn({ source: this.source, err: error }, 'idle database connection lost');
    });
  }

  async #checkout(signal: AbortSignal | undefined): Promise<PgPoolClient> {
    if (this.#closed !== undefined)
      throw new SqlwardenError('DB_UNAVAILABLE', 'The source is closed.');
    let client: PgPoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      this.#outages.unavailable(error);
      throw mapPostgresError(error, { timeoutMs: this.#config.statementTimeoutMs });
    }
    if (signal?.aborted) {
      client.release();
      throw mapPostgresError(new Error('aborted'), { stopped: 'abort', timeoutMs: 0 });
    }
    let state = this.#clients.get(client);
    if (state === undefined) {
      const setup = client.query(
        sessionSetup({
          statementTimeoutMs: this.#config.statementTimeoutMs,
          defaultSchema: this.#config.defaultSchema,
          applicationName: this.#config.applicationName ?? 'sqlwarden',
        }),
      ) as Promise<unknown>;
      state = { timeoutMs: this.#config.statementTimeoutMs, setup: setup.then(() => undefined) };
      this.#clients.set(client, state);
    }
    try {
      await state.setup;
    } catch (error) {
      // A session we could not set up is never used: it might not be read-only.
      client.release(true);
      if (isConnectionError(error)) this.#outages.unavailable(error);
      throw mapPostgresError(error, { timeoutMs: this.#config.statementTimeoutMs });
    }
    this.#outages.answered();
    return client;
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    let values: Array<string | null>;
    try {
      values = request.params.map(toWireValue);
    } catch (error) {
      throw new SqlwardenError('INVALID_INPUT', `Invalid parameter: ${(error as Error).message}.`);
    }
    const timeoutMs = Math.min(request.limits.timeoutMs, this.#config.statementTimeoutMs);
    const client = await this.#checkout(request.signal);
    let discard = false;
    let stopped: StopReason = null;
    try {
      await this.#applyTimeout(client, timeoutMs);
      const read = new BoundedRead(request.sql, values, {
        maxRows: request.limits.maxRows,
        maxBytes: request.limits.maxBytes,
      });
      const stop = (reason: Exclude<StopReason, null>) => {
        if (stopped !== null) return;
        stopped = reason;
        discard = true;
        void this.#cancel(client);
      };
      read.onOverflow = (dropped) => {
        // The byte budget is spent and rows keep streaming: stop the transfer.
        if (dropped > OVERFLOW_CANCEL_BYTES) {
          discard = true;
          void this.#cancel(client);
        }
      };
      const outcome = await this.#supervise(
        () => {
          client.query(read);
          return read.done;
        },
        request.signal,
        timeoutMs,
        stop,
      );
      const oids = outcome.fields.map((f) => f.dataTypeID);
      await this.#types.resolve(client, oids);
      return toReadResult(outcome, (oid) => this.#types.name(oid));
    } catch (error) {
      if (isConnectionError(error)) {
        discard = true;
        if (stopped === null) this.#outages.unavailable(error);
      }
      throw mapPostgresError(error, { stopped, timeoutMs, sql: request.sql });
    } finally {
      client.release(discard);
    }
  }

  /** Runs a statement under the adapter's own deadline and the call's signal. */
  async #supervise<T>(
    start: () => Promise<T>,
    signal: AbortSignal,
    timeoutMs: number,
    stop: (reason: 'timeout' | 'abort') => void,
  ): Promise<T> {
    let grace: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    let abort: (() => void) | undefined;
    const closeSocket = new Promise<never>((_resolve, reject) => {
      const onStop = (reason: 'timeout' | 'abort') => {
        stop(reason);
        // A statement that ignores the cancel (or a dead network) must not hold the call.
        grace ??= setTimeout(
          () => reject(new Error('cancelled statement did not stop')),
          CANCEL_GRACE_MS,
        );
      };
      deadline = setTimeout(() => onStop('timeout'), timeoutMs + DEADLINE_SLACK_MS);
      abort = () => onStop('abort');
      signal.addEventListener('abort', abort, { once: true });
      if (signal.aborted) onStop('abort');
    });
    closeSocket.catch(() => {});
    const running = start();
    try {
      return await Promise.race([running, closeSocket]);
    } finally {
      clearTimeout(deadline);
      clearTimeout(grace);
      if (abort !== undefined) signal.removeEventListener('abort', abort);
    }
  }

  async #applyTimeout(client: PgPoolClient, timeoutMs: number) {
    const state = this.#clients.get(client);
    if (state === undefined || state.timeoutMs === timeoutMs) return;
    await client.query({ text: `SET statement_timeout = ${Math.floor(timeoutMs)}`, values: [] });
    state.timeoutMs = timeoutMs;
  }

  async #cancel(client: PgPoolClient) {
    const target = client as PgPoolClient & { host?: string; port?: number };
    if (typeof target.processID !== 'number' || typeof target.secretKey !== 'number') return;
    await sendCancelRequest({
      host: target.host ?? 'localhost',
      port: target.port ?? 5432,
      processID: target.processID,
      secretKey: target.secretKey,
    });
  }

  /** Runs a catalog query on a checked-out client, mapping errors like reads do. */
  async #catalogQuery<T>(
    signal: AbortSignal | undefined,
    run: (client: PgPoolClient) => Promise<T>,
  ): Promise<T> {
    const client = await this.#checkout(signal);
    let discard = false;
    try {
      return await run(client);
    } catch (error) {
      discard = isConnectionError(error);
      throw mapPostgresError(error, { timeoutMs: this.#config.statementTimeoutMs });
    } finally {
      client.release(discard);
    }
  }

  listTables(request: {
    readonly schemas?: readonly string[];
    readonly signal: AbortSignal;
  }): Promise<TableSummary[]> {
    return this.#catalogQuery(request.signal, (client) => listTables(client, request.schemas));
  }

  describeTable(request: {
    readonly table: TableRef;
    readonly signal: AbortSignal;
  }): Promise<TableDescription | null> {
    return this.#catalogQuery(request.signal, (client) =>
      describeTable(client, request.table.schema, request.table.name),
    );
  }

  /** Loaded once per source; a failed load is retried on the next call. */
  functionCatalog(): Promise<FunctionCatalog> {
    if (this.#catalog === undefined) {
      this.#catalog = this.#catalogQuery(undefined, functionCatalog);
      this.#catalog.catch(() => {
        this.#catalog = undefined;
      });
    }
    return this.#catalog;
  }

  privilegeReport(request: PrivilegeReportRequest): Promise<PrivilegeReport> {
    return this.#catalogQuery(undefined, (client) => privilegeReport(client, this.source, request));
  }

  /**
   * One INSERT, UPDATE or DELETE in a READ WRITE transaction of its own (the
   * session stays read-only for reads): BEGIN READ WRITE, the statement over
   * the extended protocol, then COMMIT, or ROLLBACK for a dry run, for more
   * affected rows than the ceiling, and on any failure. A connection that
   * cannot be rolled back, or whose statement was cancelled, is discarded,
   * so no transaction outlives the call. Three round trips (four when the
   * call's timeout differs from the session's).
   */
  async write(request: WriteRequest): Promise<WriteResult> {
    if (this.#config.allowWrites !== true) {
      throw new SqlwardenError(
        'READ_ONLY',
        'This source is read-only; writes are not enabled for it.',
      );
    }
    let values: Array<string | null>;
    try {
      values = request.params.map(toWireValue);
    } catch (error) {
      throw new SqlwardenError('INVALID_INPUT', `Invalid parameter: ${(error as Error).message}.`);
    }
    const timeoutMs = Math.min(request.timeoutMs, this.#config.statementTimeoutMs);
    const client = await this.#checkout(request.signal);
    let discard = false;
    let stopped: StopReason = null;
    let open = false;
    try {
      await this.#applyTimeout(client, timeoutMs);
      await client.query('BEGIN READ WRITE');
      open = true;
      const stop = (reason: Exclude<StopReason, null>) => {
        if (stopped !== null) return;
        stopped = reason;
        discard = true;
        void this.#cancel(client);
      };
      const result = await this.#supervise(
        () => client.query({ text: request.sql, values, queryMode: 'extended' }),
        request.signal,
        timeoutMs,
        stop,
      );
      const affectedRows = result.rowCount ?? 0;
      if (affectedRows > request.maxAffectedRows) {
        await client.query('ROLLBACK');
        open = false;
        throw writeLimitExceeded(affectedRows, request.maxAffectedRows);
      }
      await client.query(request.dryRun ? 'ROLLBACK' : 'COMMIT');
      open = false;
      return { affectedRows, committed: !request.dryRun };
    } catch (error) {
      if (open && !discard) {
        try {
          await client.query('ROLLBACK');
        } catch {
          discard = true;
        }
      }
      if (isConnectionError(error)) {
        discard = true;
        if (stopped === null) this.#outages.unavailable(error);
      }
      throw mapPostgresError(error, { stopped, timeoutMs, sql: request.sql });
    } finally {
      client.release(discard);
    }
  }

  async health(): Promise<HealthStatus> {
    const started = performance.now();
    try {
      await this.#catalogQuery(undefined, (client) =>
        client.query({ text: 'SELECT $1::int', values: [1] }),
      );
      return { ok: true, latencyMs: performance.now() - started };
    } catch {
      return { ok: false, latencyMs: performance.now() - started };
    }
  }

  close(): Promise<void> {
    this.#closed ??= this.#pool.end().catch((error: unknown) => {
      this.#logger?.warn({ source: this.source, err: error }, 'closing the pool failed');
    });
    return this.#closed;
  }
}
