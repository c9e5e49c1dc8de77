/**
 * The MySQL / MariaDB adapter: a pool per source (pool.ts), reads as one
 * prepared statement in a read-only session (session.ts, read.ts), KILL
 * QUERY on timeout, abort or an early stop (kill.ts), controlled writes in
 * their own READ WRITE transaction, catalog queries (introspect.ts), and
 * errors mapped to codes (errors.ts).
 *
 * Round trips per read, steady state: one (COM_STMT_EXECUTE of a statement
 * this connection prepared before: mysql2 caches prepared statements per
 * connection, by text). A text the connection has not prepared yet costs
 * one more (COM_STMT_PREPARE; mysql2 waits for its answer before it sends
 * the execute). A connection's session is set up once (one round trip when
 * the pool opens it; the first connection of a source also asks for the
 * server's version); a call whose time limit differs from the session's
 * sets it first (one more, only when the value changes).
 *
 * Stopping a statement: MySQL has no cursor to close and no out-of-band
 * cancel. When the rows or bytes limit is reached, the adapter stops
 * reading (pause), destroys the socket (a server blocked writing rows to
 * it ends at once) and sends KILL QUERY from a second connection (for a
 * server still computing, which would notice the closed socket only when
 * it next writes). On timeout or abort it does the same. The connection
 * is never returned to the pool mid-result.
 *
 * Faults (docs/mysql.md, "Connection loss and recovery"): every connection
 * (pooled or for a KILL) has an 'error' listener from its creation, before
 * it connects. A connection that fails under a call fails that call alone,
 * with DB_UNAVAILABLE, and is destroyed. Every await of a call, not only
 * its statement, is under the call's deadline (CallWatch): a server or a
 * network that stops answering ends the call by its time limit plus the
 * kill grace, never later; a KILL the server did not answer makes that an
 * outage (DB_UNAVAILABLE), not a slow statement (QUERY_TIMEOUT).
 */

import {
  databaseUnavailable,
  type FrameProtocol,
  type GatedStream,
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
import {
  connectionOptions,
  type MysqlAdapterConfig,
  type MysqlConnection,
  type MysqlField,
  type MysqlModule,
  type MysqlResultHeader,
  type NormalizedConfig,
  normalizeConfig,
} from './config.js';
import { isConnectionError, mapMysqlError } from './errors.js';
import {
  type CatalogClient,
  describeTable,
  functionCatalog,
  listTables,
  privilegeReport,
} from './introspect.js';
import { killQuery } from './kill.js';
import { ConnectionPool, destroyConnection } from './pool.js';
import { BoundedRead, geometryAsBytes, hasGeometry, toBindValue } from './read.js';
import { flavorOf, type ServerFlavor, sessionSetup, setTimeoutStatement } from './session.js';
import { assertServerIdentity } from './tls.js';

/** What a call refused for a busy source is told to wait before it tries again. */
const SOURCE_BUSY_RETRY_MS = 1000;
/** How long past its time limit a statement may run before the adapter kills it itself. */
const DEADLINE_SLACK_MS = 250;
/** How long a kill (connect, KILL QUERY) may take before the adapter stops waiting for it. */
const KILL_GRACE_MS = 2000;

interface SessionState {
  readonly flavor: ServerFlavor;
  /** The time limit the session has now. */
  timeoutMs: number;
}

/**
 * One call's hold on a connection, from checkout to release: its deadline
 * (the time limit plus DEADLINE_SLACK_MS) and its abort signal. Either one
 * stops the call: `stop` destroys the connection's socket and sends KILL
 * QUERY from a second connection, and `guard` then rejects whatever the
 * call still awaits (mysql2 does not fail a command whose connection was
 * destroyed on purpose). Once COMMIT is sent, the signal no longer stops
 * the call: its answer is awaited (a COMMIT cannot be taken back), under
 * the deadline only.
 */
class CallWatch {
  /** What stopped the call, if anything did. */
  reason: 'timeout' | 'abort' | null = null;
  /** The server did not answer the KILL within the grace: it stopped answering. */
  unanswered = false;
  readonly #stopped: Promise<never>;
  readonly #deadline: NodeJS.Timeout;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: () => void;

  constructor(options: {
    readonly signal: AbortSignal | undefined;
    readonly timeoutMs: number;
    /** Destroys the connection and kills its statement; resolves to whether the server answered the kill. */
    readonly stop: (reason: 'timeout' | 'abort') => Promise<boolean>;
  }) {
    let reject!: (error: Error) => void;
    this.#stopped = new Promise<never>((_resolve, fail) => {
      reject = fail;
    });
    this.#stopped.catch(() => {});
    const fire = (reason: 'timeout' | 'abort') => {
      if (this.reason !== null) return;
      this.reason = reason;
      void options.stop(reason).then((answered) => {
        this.unanswered = !answered;
        reject(new Error(`statement stopped (${reason})`));
      });
    };
    this.#signal = options.signal;
    this.#onAbort = () => fire('abort');
    this.#deadline = setTimeout(() => fire('timeout'), options.timeoutMs + DEADLINE_SLACK_MS);
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (this.#signal?.aborted === true) fire('abort');
  }

  /** `work`, or a rejection once the call was stopped. */
  guard<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#stopped]);
  }

  /** COMMIT was sent: from now on only the deadline stops the call. */
  committing(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  dispose(): void {
    clearTimeout(this.#deadline);
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}

/** What a statement's result is fed to, as it streams. */
interface Sink {
  fields(fields: readonly MysqlField[]): void;
  /** False stops the transfer here. */
  row(row: unknown[]): boolean;
  header(header: MysqlResultHeader): void;
}

/** How a streamed statement ended: all of it, or stopped by the sink (the connection is paused mid-result). */
type StreamEnd = 'complete' | 'stopped';

/** Lets the frame gate end the streamed statement it stopped (set by `stream` while it runs). */
interface StreamControl {
  stop?: (error: Error | undefined) => void;
}

/**
 * MySQL's framing: a 3-byte little-endian payload length and a sequence
 * number. A payload of 0xFFFFFF bytes continues in the next packet.
 */
const MYSQL_FRAMES: FrameProtocol = {
  headerLength: 4,
  bodyLength: (header) => header.readUIntLE(0, 3),
};
const MAX_PACKET_PAYLOAD = 0xffffff;
/**
 * The largest logical packet a connection takes outside a bounded read
 * (session set-up, catalog queries, writes): their rows are small; a larger
 * one means something is wrong, and the connection is stopped.
 */
const IDLE_PACKET_LIMIT = 64 * 1024 * 1024;

/** The frame gate's view of one connection. */
interface WireState {
  /** The bounded read running on the connection, asked about each packet. */
  read: BoundedRead | undefined;
  /** The statement being streamed, which a stop ends. */
  control: StreamControl | undefined;
  stopped(): boolean;
}

export interface MysqlAdapterOptions {
  readonly config: MysqlAdapterConfig;
  /** The `mysql2` module (default: the peer dependency). */
  readonly mysql: MysqlModule;
  readonly logger?: OperatorLogger;
}

export class MysqlAdapter implements DatabaseAdapter {
  readonly dialect = 'mysql' as const;
  readonly source: string;
  readonly #config: NormalizedConfig;
  readonly #mysql: MysqlModule;
  readonly #logger: OperatorLogger | undefined;
  readonly #pool: ConnectionPool;
  readonly #sessions = new WeakMap<MysqlConnection, Promise<SessionState>>();
  readonly #wire = new WeakMap<MysqlConnection, WireState>();
  /** Kills in flight (close waits for them). */
  readonly #kills = new Set<Promise<boolean>>();
  #flavor: Promise<ServerFlavor> | undefined;
  readonly #outages: OutageLog;
  #catalog: Promise<FunctionCatalog> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: MysqlAdapterOptions) {
    this.#config = normalizeConfig(options.config);
    this.source = this.#config.source;
    this.#mysql = options.mysql;
    this.#logger = options.logger;
    this.#outages = new OutageLog(this.source, options.logger);
    this.#pool = new ConnectionPool({
      open: () => this.#open(),
      max: this.#config.pool.max,
      idleTimeoutMs: this.#config.pool.idleTimeoutMs,
      acquireTimeoutMs: this.#config.pool.connectionTimeoutMs,
      onIdleError: (error) =>
        this.#logger?.warn(
          { source: this.source, err: serializeError(error) },
          'idle database connection lost',
        ),
    });
  }

  /** Opens one connection (handshake and authentication done). Used by the pool and by kills. */
  async #open(): Promise<MysqlConnection> {
    let connection: MysqlConnection | undefined;
    try {
      connection = this.#mysql.createConnection(await connectionOptions(this.#config));
      // Errors reach whoever uses the connection (pool, read, kill); an
      // 'error' event without a listener would crash the process.
      connection.on('error', () => {});
      const opened = connection;
      await new Promise<void>((resolve, reject) =>
        opened.connect((error) => (error ? reject(error) : resolve())),
      );
      assertServerIdentity(this.#config, connection);
      this.#gate(connection);
      return connection;
    } catch (error) {
      if (connection !== undefined) destroyConnection(connection);
      this.#outages.unavailable(error);
      throw error;
    }
  }

  /**
   * The frame gate (the kit's wire.ts) on a connection that just finished its
   * handshake (TLS included: the stream is then the TLS socket): no packet
   * is parsed past what the running call may receive.
   */
  #gate(connection: MysqlConnection) {
    const state: WireState = { read: undefined, control: undefined, stopped: () => false };
    const stream = connection.stream as GatedStream | undefined;
    if (stream !== undefined && typeof stream.listeners === 'function') {
      // The length of the logical packet being read (a chain of full packets, then the rest).
      let chained = 0;
      state.stopped = installFrameGate(stream, MYSQL_FRAMES, {
        admit: (_header, length) => {
          const logical = chained + length;
          chained = length === MAX_PACKET_PAYLOAD ? logical : 0;
          return state.read !== undefined
            ? state.read.admit(logical)
            : logical <= IDLE_PACKET_LIMIT;
        },
        onStop: (error) => {
          state.read?.stop();
          if (state.control?.stop !== undefined) state.control.stop(error);
          else if (error !== undefined)
            this.#logger?.warn(
              { source: this.source, err: serializeError(error) },
              'a connection was stopped',
            );
        },
      });
    }
    this.#wire.set(connection, state);
  }

  /** A connection with its session set up, or DB_UNAVAILABLE / QUERY_CANCELLED. */
  async #checkout(signal: AbortSignal | undefined): Promise<{
    connection: MysqlConnection;
    session: SessionState;
  }> {
    if (this.#closed !== undefined)
      throw new SqlwardenError('DB_UNAVAILABLE', 'The source is closed.');
    let connection: MysqlConnection;
    try {
      connection = await this.#pool.acquire(signal);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'POOL_ABORTED') {
        throw new SqlwardenError('QUERY_CANCELLED', 'The call was cancelled before it ran.', {
          cause: error,
        });
      }
      if (code === 'POOL_TIMEOUT' && this.#pool.leasedCount >= this.#config.pool.max) {
        // Calls held every connection for as long as this one could wait: a
        // healthy database, a busy source, never an outage. Slots held by
        // connections still opening (a server that does not answer) are one.
        throw sourceBusy(this.#config.pool.max, SOURCE_BUSY_RETRY_MS);
      }
      // No connection could be opened: whatever the server answered (a refused
      // connection, 1045, 1049, even 1044), the source cannot serve.
      this.#outages.unavailable(error);
      throw databaseUnavailable(error);
    }
    let session = this.#sessions.get(connection);
    if (session === undefined) {
      session = bounded(
        this.#setUp(connection),
        this.#config.pool.connectionTimeoutMs,
        'the session set-up was not answered in time',
      );
      this.#sessions.set(connection, session);
    }
    try {
      const state = await session;
      this.#outages.answered();
      return { connection, session: state };
    } catch (error) {
      // A session we could not set up is never used: it might not be read-only.
      this.#pool.discard(connection);
      this.#outages.unavailable(error);
      throw databaseUnavailable(error);
    }
  }

  async #setUp(connection: MysqlConnection): Promise<SessionState> {
    if (this.#flavor === undefined) {
      const detected = text(connection, 'SELECT VERSION()').then((rows) =>
        flavorOf(String(rows[0]?.[0] ?? '')),
      );
      this.#flavor = detected;
      detected.catch(() => {
        if (this.#flavor === detected) this.#flavor = undefined;
      });
    }
    const flavor = await this.#flavor;
    await text(
      connection,
      sessionSetup({ flavor, statementTimeoutMs: this.#config.statementTimeoutMs }),
    );
    return { flavor, timeoutMs: this.#config.statementTimeoutMs };
  }

  async #applyTimeout(connection: MysqlConnection, session: SessionState, timeoutMs: number) {
    if (session.timeoutMs === timeoutMs) return;
    await text(connection, setTimeoutStatement(session.flavor, timeoutMs));
    session.timeoutMs = timeoutMs;
  }

  #kill(threadId: number | null): Promise<boolean> {
    if (threadId === null) return Promise.resolve(true);
    const kill: Promise<boolean> = killQuery({
      open: () => this.#open(),
      threadId,
      graceMs: KILL_GRACE_MS,
    }).finally(() => this.#kills.delete(kill));
    this.#kills.add(kill);
    return kill;
  }

  /**
   * The watch of one call on `connection` (see CallWatch). Stopping it
   * destroys the socket first (a statement not sent yet, such as the
   * EXECUTE behind a PREPARE, is then never sent, and a server writing rows
   * stops at once), then KILL QUERY goes from a second connection (a server
   * still computing). The connection is gone from the pool.
   */
  #watch(
    connection: MysqlConnection,
    signal: AbortSignal | undefined,
    timeoutMs: number,
  ): CallWatch {
    return new CallWatch({
      signal,
      timeoutMs,
      stop: () => {
        const threadId = connection.threadId;
        this.#pool.discard(connection);
        return this.#kill(threadId);
      },
    });
  }

  /**
   * What a call that failed under `watch` answers. A stop whose KILL the
   * server did not answer is an outage: the server (or the network to it)
   * stopped answering, and narrowing the statement would not help.
   */
  #failure(
    error: unknown,
    watch: CallWatch,
    context: { readonly timeoutMs: number; readonly sql?: string; readonly paramCount?: number },
  ): SqlwardenError {
    if (watch.unanswered && watch.reason === 'timeout') {
      this.#outages.unavailable(error);
      return databaseUnavailable(error);
    }
    if (watch.reason === null && isConnectionError(error)) this.#outages.unavailable(error);
    return mapMysqlError(error, {
      stopped: watch.reason,
      timeoutMs: context.timeoutMs,
      ...(context.sql !== undefined && { sql: context.sql }),
      ...(context.paramCount !== undefined && { paramCount: context.paramCount }),
    });
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const values = bindValues(request.params);
    const timeoutMs = Math.min(request.limits.timeoutMs, this.#config.statementTimeoutMs);
    const { connection, session } = await this.#checkout(request.signal);
    const wire = this.#wire.get(connection);
    const watch = this.#watch(connection, request.signal, timeoutMs);
    let discard = false;
    try {
      await watch.guard(this.#applyTimeout(connection, session, timeoutMs));
      const read = new BoundedRead({
        maxRows: request.limits.maxRows,
        maxBytes: request.limits.maxBytes,
      });
      const control: StreamControl = {};
      if (wire !== undefined) {
        wire.read = read;
        wire.control = control;
      }
      let end: StreamEnd;
      try {
        end = await watch.guard(
          stream(
            connection,
            request.sql,
            values,
            {
              fields: (fields) => read.fields(fields),
              row: (row) => read.row(row),
              header: () => {},
            },
            control,
          ),
        );
      } finally {
        if (wire !== undefined) {
          wire.read = undefined;
          wire.control = undefined;
        }
      }
      if (end === 'stopped') {
        // A limit was reached mid-result: the rest of the result must never reach
        // the next caller. The socket goes first (a server blocked writing rows ends
        // at once); the kill, for a server still computing, runs in the background.
        discard = true;
        const threadId = connection.threadId;
        this.#pool.discard(connection);
        void this.#kill(threadId);
      } else if (!read.resultSet) {
        // Not a query (SET, DO...): the statement may have changed the session,
        // so the connection is not reused. The guard lets no such statement through.
        discard = true;
      }
      return read.result();
    } catch (error) {
      if (wire?.stopped() === true) {
        // The gate stopped the connection under a failing parser: this call fails, alone.
        discard = true;
        void this.#kill(connection.threadId);
      } else if (isConnectionError(error)) {
        discard = true;
      }
      throw this.#failure(error, watch, {
        timeoutMs,
        sql: request.sql,
        paramCount: request.params.length,
      });
    } finally {
      watch.dispose();
      if (discard || watch.reason !== null || wire?.stopped() === true)
        this.#pool.discard(connection);
      else this.#pool.release(connection);
    }
  }

  /**
   * One INSERT, UPDATE or DELETE in its own transaction: START TRANSACTION
   * READ WRITE (the session stays read-only for everything else), the
   * statement prepared with its values, then COMMIT, or ROLLBACK for a dry
   * run or a count over the ceiling. A timeout or abort kills the
   * statement and discards the connection: the server rolls back the open
   * transaction when the connection goes. Once COMMIT is sent the adapter
   * waits for its answer (a COMMIT cannot be taken back).
   */
  async write(request: WriteRequest): Promise<WriteResult> {
    if (!this.#config.allowWrites) {
      throw new SqlwardenError(
        'READ_ONLY',
        'This source is read-only; writes are not enabled for it.',
      );
    }
    const values = bindValues(request.params);
    const timeoutMs = Math.min(request.timeoutMs, this.#config.statementTimeoutMs);
    const { connection, session } = await this.#checkout(request.signal);
    const watch = this.#watch(connection, request.signal, timeoutMs);
    let discard = false;
    let open = false;
    let committing = false;
    try {
      await watch.guard(this.#applyTimeout(connection, session, timeoutMs));
      await watch.guard(text(connection, 'START TRANSACTION READ WRITE'));
      open = true;
      let affected = 0;
      let rows = 0;
      let resultSet = false;
      await watch.guard(
        stream(connection, request.sql, values, {
          // RETURNING (MariaDB) sends rows instead of a count: they are counted, not kept.
          fields: () => {
            resultSet = true;
          },
          row: () => {
            rows++;
            return true;
          },
          header: (header) => {
            affected = header.affectedRows;
          },
        }),
      );
      const affectedRows = resultSet ? rows : affected;
      if (affectedRows > request.maxAffectedRows) {
        await watch.guard(text(connection, 'ROLLBACK'));
        open = false;
        throw writeLimitExceeded(affectedRows, request.maxAffectedRows);
      }
      if (request.dryRun) {
        await watch.guard(text(connection, 'ROLLBACK'));
        open = false;
        return { affectedRows, committed: false };
      }
      committing = true;
      watch.committing();
      await watch.guard(text(connection, 'COMMIT'));
      open = false;
      return { affectedRows, committed: true };
    } catch (error) {
      const lost = watch.reason !== null || isConnectionError(error);
      if (lost) {
        discard = true;
        if (committing) {
          // COMMIT was sent and no answer came back: it may have been applied.
          if (watch.reason === null || watch.unanswered) this.#outages.unavailable(error);
          throw outcomeUnknown(error);
        }
      } else if (open) {
        // A statement that failed (a duplicate key, a lock wait) leaves its
        // transaction open; nothing of it may be committed later.
        try {
          await watch.guard(text(connection, 'ROLLBACK'));
        } catch {
          discard = true;
        }
      }
      throw this.#failure(error, watch, {
        timeoutMs,
        sql: request.sql,
        paramCount: request.params.length,
      });
    } finally {
      watch.dispose();
      // A stopped write's connection goes: the server rolls back its open transaction.
      if (discard || watch.reason !== null) this.#pool.discard(connection);
      else this.#pool.release(connection);
    }
  }

  /**
   * Runs catalog queries on a checked-out connection, under the source's
   * time limit and the call's signal, mapping errors like reads do.
   */
  async #catalogQuery<T>(
    signal: AbortSignal | undefined,
    run: (client: CatalogClient, session: SessionState) => Promise<T>,
  ): Promise<T> {
    const { connection, session } = await this.#checkout(signal);
    const timeoutMs = this.#config.statementTimeoutMs;
    const watch = this.#watch(connection, signal, timeoutMs);
    let discard = false;
    try {
      return await watch.guard(
        run(
          {
            rows: (sql, values) => collect(connection, sql, values),
            text: (sql) => text(connection, sql),
          },
          session,
        ),
      );
    } catch (error) {
      discard = isConnectionError(error);
      throw this.#failure(error, watch, { timeoutMs });
    } finally {
      watch.dispose();
      if (discard || watch.reason !== null) this.#pool.discard(connection);
      else this.#pool.release(connection);
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
    return this.#catalogQuery(request.signal, (client, session) =>
      describeTable(client, request.table.schema, request.table.name, session.flavor),
    );
  }

  /** Loaded once per source; a failed load is retried on the next call. */
  functionCatalog(): Promise<FunctionCatalog> {
    if (this.#catalog === undefined) {
      const loading = this.#catalogQuery(undefined, (client) =>
        functionCatalog(client, isConnectionError),
      );
      this.#catalog = loading;
      loading.catch(() => {
        if (this.#catalog === loading) this.#catalog = undefined;
      });
    }
    return this.#catalog;
  }

  privilegeReport(request: PrivilegeReportRequest): Promise<PrivilegeReport> {
    return this.#catalogQuery(undefined, (client) =>
      privilegeReport(
        client,
        { source: this.source, defaultSchema: this.#config.defaultSchema },
        request,
      ),
    );
  }

  async health(): Promise<HealthStatus> {
    const started = performance.now();
    try {
      await this.#catalogQuery(undefined, (client) => client.rows('SELECT 1', []));
      return { ok: true, latencyMs: performance.now() - started };
    } catch {
      return { ok: false, latencyMs: performance.now() - started };
    }
  }

  /** Closes the pool and waits for kills in flight; idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#pool.end();
      await Promise.allSettled([...this.#kills]);
    })().catch((error: unknown) => {
      this.#logger?.warn(
        { source: this.source, err: serializeError(error) },
        'closing the pool failed',
      );
    });
    return this.#closed;
  }
}

/**
 * `work`, or past `ms` a connection error (for the session set-up, which
 * runs before any call's deadline; the caller then destroys the connection).
 */
function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(what), { code: 'PROTOCOL_CONNECTION_LOST' })),
      ms,
    );
  });
  late.catch(() => {});
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function bindValues(params: readonly unknown[]): Array<string | number | boolean | null> {
  try {
    return params.map(toBindValue);
  } catch (error) {
    throw new SqlwardenError('INVALID_INPUT', `Invalid parameter: ${(error as Error).message}.`);
  }
}

/**
 * Executes one prepared statement and feeds its result to `sink` as it
 * arrives (mysql2's event mode: no rows are collected). Settles once: at
 * the end of the result, at the first error (of the statement, or of the
 * connection: mysql2 reports a lost connection on the connection, not on a
 * command without a callback), or when the sink says stop; the connection
 * is then paused mid-result and must be discarded.
 */
function stream(
  connection: MysqlConnection,
  sql: string,
  values: readonly unknown[],
  sink: Sink,
  control?: StreamControl,
): Promise<StreamEnd> {
  return new Promise<StreamEnd>((resolve, reject) => {
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      connection.removeListener('error', onConnectionError);
      finish();
    };
    if (control !== undefined) {
      // The frame gate stopped the transfer: the rows kept so far are the answer,
      // or the parser failed under it and the call fails.
      control.stop = (error) =>
        settle(() => (error === undefined ? resolve('stopped') : reject(error)));
    }
    const onConnectionError = (error: unknown) => settle(() => reject(error));
    connection.on('error', onConnectionError);
    let command: ReturnType<MysqlConnection['execute']>;
    try {
      command = connection.execute({ sql, values: [...values], rowsAsArray: true });
    } catch (error) {
      settle(() => reject(error));
      return;
    }
    // Stays attached after settling: a late error must not be an unhandled 'error' event.
    command.on('error', (error: unknown) => settle(() => reject(error)));
    command.on('fields', (fields: readonly MysqlField[] | undefined, index?: number) => {
      if (settled || fields === undefined || (index ?? 0) > 0) return;
      if (hasGeometry(fields) && command.options !== undefined)
        command.options.typeCast = geometryAsBytes;
      sink.fields(fields);
    });
    command.on('result', (row: unknown, index?: number) => {
      if (settled || (index ?? 0) > 0) return;
      if (!Array.isArray(row)) {
        sink.header(row as MysqlResultHeader);
        return;
      }
      if (!sink.row(row)) {
        // Stop handing packets over; the caller discards the connection.
        connection.pause();
        settle(() => resolve('stopped'));
      }
    });
    command.on('end', () => settle(() => resolve('complete')));
  });
}

/** One prepared statement of ours, all rows collected (catalog queries: small results). */
function collect(
  connection: MysqlConnection,
  sql: string,
  values: readonly unknown[],
): Promise<unknown[][]> {
  const rows: unknown[][] = [];
  return stream(connection, sql, values, {
    fields: () => {},
    row: (row) => {
      rows.push(row);
      return true;
    },
    header: () => {},
  }).then(() => rows);
}

/** One fixed text of ours over the text protocol (setup, SET, START TRANSACTION, COMMIT, SHOW GRANTS). */
function text(connection: MysqlConnection, sql: string): Promise<unknown[][]> {
  return new Promise((resolve, reject) => {
    connection.query({ sql, rowsAsArray: true }, (error, result) => {
      if (error) reject(error);
      else resolve(Array.isArray(result) ? (result as unknown[][]) : []);
    });
  });
}
