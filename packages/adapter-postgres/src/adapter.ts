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
 *
 * Faults (docs/postgres.md, "Connection loss and recovery"): every driver
 * object that can emit 'error' has a listener from the moment it exists
 * (the pool from its construction, each client from the pool's 'connect'
 * event, before pg-pool hands it out; the CancelRequest socket in
 * cancel.ts). A connection that fails under a call fails that call alone,
 * with DB_UNAVAILABLE, and is discarded. Every await of a call, not only
 * its statement, is under the call's deadline (CallWatch): a database or a
 * network that stops answering ends the call by its time limit plus the
 * cancel grace, never later.
 */

import {
  databaseUnavailable,
  FRAME_SLACK_BYTES,
  type FrameProtocol,
  installFrameGate,
  OutageLog,
  outcomeUnknown,
  sourceBusy,
  writeLimitExceeded,
} from '@sqlwarden/adapter-kit';
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
import { type OperatorLogger, SqlwardenError, serializeError } from '@sqlwarden/core';
import { sendCancelRequest } from './cancel.js';
import {
  type PgModule,
  type PgPool,
  type PgPoolClient,
  type PostgresAdapterConfig,
  pgSslOption,
} from './config.js';
import { isConnectionError, mapPostgresError } from './errors.js';
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
/** pg-pool's words for a call that waited its whole connectionTimeoutMillis in the queue. */
const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect';
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

/**
 * One call's hold on a connection, from checkout to release: its deadline
 * (the time limit plus DEADLINE_SLACK_MS) and its abort signal. Either one
 * stops the call: `cancel` (a CancelRequest for whatever runs), then, when
 * nothing has settled CANCEL_GRACE_MS later (a server or a network that
 * stopped answering), `destroy` (the socket), and `guard` rejects whatever
 * the call still awaits. So every await of a call, set-up statements, the
 * statement, type look-ups, COMMIT, is bounded, whatever the driver does.
 */
class CallWatch {
  /** What stopped the call, if anything did. */
  reason: 'timeout' | 'abort' | null = null;
  /** The grace after the cancel ran out: nothing answered, the socket was destroyed. */
  unanswered = false;
  readonly #failed: Promise<never>;
  #deadline: NodeJS.Timeout | undefined;
  #grace: NodeJS.Timeout | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: () => void;

  constructor(options: {
    readonly signal: AbortSignal | undefined;
    readonly timeoutMs: number;
    readonly cancel: () => void;
    readonly destroy: () => void;
  }) {
    let fail!: (error: Error) => void;
    this.#failed = new Promise<never>((_resolve, reject) => {
      fail = reject;
    });
    this.#failed.catch(() => {});
    const stop = (reason: 'timeout' | 'abort') => {
      if (this.reason !== null) return;
      this.reason = reason;
      options.cancel();
      this.#grace = setTimeout(() => {
        this.unanswered = true;
        options.destroy();
        fail(new Error('the database did not answer a cancel'));
      }, CANCEL_GRACE_MS);
    };
    this.#signal = options.signal;
    this.#onAbort = () => stop('abort');
    this.#deadline = setTimeout(() => stop('timeout'), options.timeoutMs + DEADLINE_SLACK_MS);
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (this.#signal?.aborted === true) stop('abort');
  }

  /** `work`, or a rejection once the call was stopped and nothing answered. */
  guard<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#failed]);
  }

  /** COMMIT was sent: from now on only the deadline stops the call (a COMMIT cannot be taken back). */
  committing(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  dispose(): void {
    clearTimeout(this.#deadline);
    clearTimeout(this.#grace);
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}

export interface PostgresAdapterOptions {
  readonly config: PostgresAdapterConfig;
  /** The `pg` module (default: the peer dependency). */
  readonly pg: PgModule;
  readonly logger?: OperatorLogger;
}

export class PostgresAdapter implements DatabaseAdapter {
  readonly dialect = 'postgres' as const;
  readonly source: string;
  readonly #config: PostgresAdapterConfig;
  readonly #pool: PgPool;
  readonly #logger: OperatorLogger | undefined;
  readonly #outages: OutageLog;
  readonly #types = new TypeNames();
  readonly #clients = new WeakMap<PgPoolClient, ClientState>();
  /** Clients checked out by calls now (SOURCE_BUSY only when these fill the pool). */
  readonly #leased = new Set<PgPoolClient>();
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
      this.#logger?.warn(
        { source: this.source, err: serializeError(error) },
        'idle database connection lost',
      );
    });
    // A client emits 'error' when its socket fails, even with a query running
    // (pg's _handleErrorEvent), and pg-pool listens only while the client is
    // idle. pg-pool emits 'connect' for a new client before it takes its own
    // idle listener off and hands the client out, so from here on the client
    // is never without one. (While it connects, pg gives errors to the
    // connect callback, and pg-pool listens from the callback on.)
    this.#pool.on('connect', (client: PgPoolClient) => {
      client.on('error', () => {
        // The call in flight gets the error through its query; an idle
        // connection is dropped by the pool. Nothing else to do here.
      });
    });
  }

  async #checkout(signal: AbortSignal | undefined): Promise<PgPoolClient> {
    if (this.#closed !== undefined)
      throw new SqlwardenError('DB_UNAVAILABLE', 'The source is closed.');
    let client: PgPoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      // Waited in the queue as long as allowed while every connection served a
      // call: a healthy database, a busy source (never an outage). Slots held
      // by connections still opening, and every other failure (refused,
      // reset, a connection that did not open in time), are an outage.
      const max = this.#config.pool?.max ?? DEFAULT_POOL_SIZE;
      if ((error as Error | undefined)?.message === POOL_WAIT_TIMEOUT && this.#leased.size >= max) {
        throw sourceBusy(max, SOURCE_BUSY_RETRY_MS);
      }
      this.#outages.unavailable(error);
      throw mapPostgresError(error, { timeoutMs: this.#config.statementTimeoutMs });
    }
    this.#leased.add(client);
    if (signal?.aborted) {
      this.#release(client, false);
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
      state.setup = this.#bounded(
        client,
        setup.then(() => undefined),
        this.#config.pool?.connectionTimeoutMs ?? 5_000,
      );
    }
    try {
      await state.setup;
    } catch (error) {
      // A session we could not set up is never used: it might not be read-only.
      this.#release(client, true);
      if (isConnectionError(error)) this.#outages.unavailable(error);
      throw mapPostgresError(error, { timeoutMs: this.#config.statementTimeoutMs });
    }
    this.#outages.answered();
    return client;
  }

  /**
   * `work` on `client`, or, past `ms`, the socket destroyed and a connection
   * error: for the session set-up, which runs before any call's deadline.
   */
  #bounded<T>(client: PgPoolClient, work: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        client.connection?.stream.destroy();
        reject(new Error('Connection terminated: the session set-up was not answered in time'));
      }, ms);
    });
    late.catch(() => {});
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }

  /** Gives a client back to the pool, or ends it (`discard`). */
  #release(client: PgPoolClient, discard: boolean): void {
    this.#leased.delete(client);
    client.release(discard);
  }

  /** The watch of one call on `client` (see CallWatch). */
  #watch(client: PgPoolClient, signal: AbortSignal | undefined, timeoutMs: number): CallWatch {
    return new CallWatch({
      signal,
      timeoutMs,
      cancel: () => void this.#cancel(client),
      destroy: () => client.connection?.stream.destroy(),
    });
  }

  /**
   * What a call that failed under `watch` answers. A stop whose cancel went
   * unanswered is an outage: the database (or the network to it) stopped
   * answering, and narrowing the statement would not help.
   */
  #failure(error: unknown, watch: CallWatch, timeoutMs: number, sql?: string): SqlwardenError {
    if (watch.unanswered && watch.reason === 'timeout') {
      this.#outages.unavailable(error);
      return databaseUnavailable(error);
    }
    if (watch.reason === null && isConnectionError(error)) this.#outages.unavailable(error);
    return mapPostgresError(error, {
      stopped: watch.reason,
      timeoutMs,
      ...(sql !== undefined && { sql }),
    });
  }

  /**
   * A connection's first checkout: its state, and the frame gate on its
   * socket (the kit's wire.ts). (Its error listener came with the pool's
   * 'connect' event.)
   */
  #track(client: PgPoolClient): ClientState {
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
            this.#logger?.warn(
              { source: this.source, err: serializeError(error) },
              'a connection was stopped',
            );
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
    const watch = this.#watch(client, request.signal, timeoutMs);
    let discard = false;
    try {
      await watch.guard(this.#applyTimeout(client, timeoutMs));
      const read = new BoundedRead(request.sql, values, {
        maxRows: request.limits.maxRows,
        maxBytes: request.limits.maxBytes,
      });
      if (state !== undefined) state.read = read;
      let outcome: ReadOutcome;
      try {
        client.query(read);
        outcome = await watch.guard(read.done);
      } finally {
        if (state !== undefined) state.read = undefined;
      }
      if (state?.stopped() === true) {
        // The gate stopped the transfer mid-result: the connection's parser
        // stands mid-message, so it goes, and the server stops computing.
        discard = true;
        void this.#cancel(client);
      } else {
        await watch.guard(
          this.#types.resolve(
            client,
            outcome.fields.map((f) => f.dataTypeID),
          ),
        );
      }
      return toReadResult(outcome, (oid) => this.#types.name(oid));
    } catch (error) {
      if (state?.stopped() === true || isConnectionError(error)) discard = true;
      throw this.#failure(error, watch, timeoutMs, request.sql);
    } finally {
      watch.dispose();
      // A stopped call's connection never goes back: a late cancel must not hit the next query.
      this.#release(client, discard || watch.reason !== null);
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

  /**
   * Runs a catalog query on a checked-out client, under the source's time
   * limit and the call's signal, mapping errors like reads do.
   */
  async #catalogQuery<T>(
    signal: AbortSignal | undefined,
    run: (client: PgPoolClient) => Promise<T>,
  ): Promise<T> {
    const client = await this.#checkout(signal);
    const timeoutMs = this.#config.statementTimeoutMs;
    const watch = this.#watch(client, signal, timeoutMs);
    let discard = false;
    try {
      return await watch.guard(run(client));
    } catch (error) {
      discard = isConnectionError(error);
      throw this.#failure(error, watch, timeoutMs);
    } finally {
      watch.dispose();
      this.#release(client, discard || watch.reason !== null);
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
    const watch = this.#watch(client, request.signal, timeoutMs);
    let discard = false;
    let open = false;
    let committing = false;
    try {
      await watch.guard(this.#applyTimeout(client, timeoutMs));
      await watch.guard(client.query('BEGIN READ WRITE'));
      open = true;
      const result = await watch.guard(
        client.query({ text: request.sql, values, queryMode: 'extended' }),
      );
      const affectedRows = result.rowCount ?? 0;
      if (affectedRows > request.maxAffectedRows) {
        await watch.guard(client.query('ROLLBACK'));
        open = false;
        throw writeLimitExceeded(affectedRows, request.maxAffectedRows);
      }
      committing = !request.dryRun;
      if (committing) watch.committing();
      await watch.guard(client.query(request.dryRun ? 'ROLLBACK' : 'COMMIT'));
      open = false;
      return { affectedRows, committed: !request.dryRun };
    } catch (error) {
      const lost = isConnectionError(error) || watch.unanswered;
      if (lost) discard = true;
      if (committing && lost) {
        // COMMIT was sent and no answer came back: it may have been applied.
        if (watch.reason === null || watch.unanswered) this.#outages.unavailable(error);
        throw outcomeUnknown(error);
      }
      if (open && !discard && watch.reason === null) {
        try {
          await watch.guard(client.query('ROLLBACK'));
        } catch {
          discard = true;
        }
      }
      throw this.#failure(error, watch, timeoutMs, request.sql);
    } finally {
      watch.dispose();
      // A stopped write's connection goes: the server rolls back its open transaction.
      this.#release(client, discard || watch.reason !== null);
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

  /**
   * Ends the pool: idle connections at once, connections in use when their
   * call releases them (every call is bounded by its deadline). It does not
   * wait for a silent server: node-postgres half-closes the socket and
   * Node closes it without the server's answer (checked with the fault
   * suite's stalled proxy: 1 ms). Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= this.#pool.end().catch((error: unknown) => {
      this.#logger?.warn(
        { source: this.source, err: serializeError(error) },
        'closing the pool failed',
      );
    });
    return this.#closed;
  }
}
