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
import {
  FRAME_SLACK_BYTES,
  type FrameProtocol,
  installFrameGate,
  OutageLog,
  SqlwardenError,
  sourceBusy,
  writeLimitExceeded,
} from '@sqlwarden/core';
import { sendCancelRequest } from './cancel.js';
import {
  type AdapterLogger,
  type PgModule,
  type PgPool,
  type PgPoolClient,
  type PostgresAdapterConfig,
  pgSslOption,
} from './config.js';
import { isConnectionError, mapPostgresError, type StopReason } from './errors.js';
import { describeTable, functionCatalog, listTables, privilegeReport } from './introspect.js';
import { BoundedRead, type ReadOutcome, toReadResult, toWireValue } from './read.js';
import { sessionSetup } from './session.js';
import { TypeNames } from './types.js';

/** How long past its time limit a statement may run before the adapter cancels it itself. */
const DEADLINE_SLACK_MS = 250;
/** Connections per source unless configured (as node-postgres). */
const DEFAULT_POOL_SIZE = 10;
/** What a call refused for a busy source is told to wait before it tries again. */
const SOURCE_BUSY_RETRY_MS = 1000;
/** How long a cancelled statement may take to stop before its socket is closed. */
const CANCEL_GRACE_MS = 2000;
/**
 * The largest message a connection takes outside a bounded read (catalog
 * queries, writes, session set-up): their results are small; a larger one
 * means something is wrong, and the connection is stopped.
 */
const IDLE_MESSAGE_LIMIT = 64 * 1024 * 1024;
/** Every message type a PostgreSQL server sends (protocol 3.0, "Message Formats"). */
const BACKEND_TYPES = new Set([...'123ACDEGHIKNRSTVWZcdnstv'].map((c) => c.charCodeAt(0)));
const DATA_ROW = 'D'.charCodeAt(0);

/** PostgreSQL's framing: a type byte and a 4-byte length that counts itself. */
const PG_FRAMES: FrameProtocol = {
  headerLength: 5,
  bodyLength(header) {
    const length = header.readInt32BE(1);
    return BACKEND_TYPES.has(header[0] as number) && length >= 4 ? length - 4 : undefined;
  },
};

interface ClientState {
  /** The statement_timeout the session has now. */
  timeoutMs: number;
  setup: Promise<void>;
  /** The bounded read running on the connection, which the frame gate asks about each row. */
  read: BoundedRead | undefined;
  /** Whether the frame gate stopped the connection (it is then never reused). */
  stopped(): boolean;
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
      ...(connection.ssl !== undefined && { ssl: pgSslOption(connection.ssl) }),
      application_name: config.applicationName ?? 'sqlwarden',
      max: config.pool?.max ?? DEFAULT_POOL_SIZE,
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
      // Waited for a free connection as long as allowed, with every one busy:
      // a healthy database, a busy source (never an outage).
      const max = this.#config.pool?.max ?? DEFAULT_POOL_SIZE;
      if (this.#pool.totalCount >= max && this.#pool.idleCount === 0) {
        throw sourceBusy(max, SOURCE_BUSY_RETRY_MS);
      }
      this.#outages.unavailable(error);
      throw mapPostgresError(error, { timeoutMs: this.#config.statementTimeoutMs });
    }
    if (signal?.aborted) {
      client.release();
      throw mapPostgresError(new Error('aborted'), { stopped: 'abort', timeoutMs: 0 });
    }
    let state = this.#clients.get(client);
    if (state === undefined) {
      state = this.#track(client);
      const setup = client.query(
        sessionSetup({
          statementTimeoutMs: this.#config.statementTimeoutMs,
          defaultSchema: this.#config.defaultSchema,
          applicationName: this.#config.applicationName ?? 'sqlwarden',
        }),
      ) as Promise<unknown>;
      state.setup = setup.then(() => undefined);
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

  /**
   * A connection seen for the first time: an error listener for its life (a
   * server that goes away sends a FATAL message to an idle connection too;
   * node-postgres emits it as an 'error' event, which without a listener ends
   * the process), and the frame gate on its socket (core's wire.ts).
   */
  #track(client: PgPoolClient): ClientState {
    client.on('error', () => {
      // The call in flight gets the error through its query; an idle
      // connection is dropped by the pool. Nothing else to do here.
    });
    let stopped: () => boolean = () => false;
    const state: ClientState = {
      timeoutMs: this.#config.statementTimeoutMs,
      setup: Promise.resolve(),
      read: undefined,
      stopped: () => stopped(),
    };
    const stream = client.connection?.stream;
    if (stream !== undefined) {
      stopped = installFrameGate(stream, PG_FRAMES, {
        admit: (header, bodyLength) => {
          const read = state.read;
          if (read !== undefined && header[0] === DATA_ROW) return read.admit(bodyLength);
          return bodyLength <= IDLE_MESSAGE_LIMIT + (read === undefined ? 0 : FRAME_SLACK_BYTES);
        },
        onStop: (error) => {
          if (state.read !== undefined) state.read.finish(error);
          else if (error !== undefined)
            this.#logger?.warn({ source: this.source, err: error }, 'a connection was stopped');
        },
      });
    }
    this.#clients.set(client, state);
    return state;
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
    const state = this.#clients.get(client);
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
      if (state !== undefined) state.read = read;
      let outcome: ReadOutcome;
      try {
        outcome = await this.#supervise(
          () => {
            client.query(read);
            return read.done;
          },
          request.signal,
          timeoutMs,
          stop,
        );
      } finally {
        if (state !== undefined) state.read = undefined;
      }
      if (state?.stopped() === true) {
        // The gate stopped the transfer mid-result: the connection's parser
        // stands mid-message, so it goes, and the server stops computing.
        discard = true;
        void this.#cancel(client);
      } else {
        await this.#types.resolve(
          client,
          outcome.fields.map((f) => f.dataTypeID),
        );
      }
      return toReadResult(outcome, (oid) => this.#types.name(oid));
    } catch (error) {
      if (state?.stopped() === true) discard = true;
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
