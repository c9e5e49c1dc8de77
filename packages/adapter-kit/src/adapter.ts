/**
 * The one `DatabaseAdapter` of every engine. An engine gives its `Dialect`
 * (dialect.ts: a driver, an error mapper, an introspector); this class
 * owns everything else, once:
 *
 *  - the pool (pool.ts) and its one rule for SOURCE_BUSY: a call that waited
 *    its whole connectionTimeoutMs while calls held every connection; every
 *    other failure to get a connection is DB_UNAVAILABLE and an outage;
 *  - the supervision of every call (supervise.ts): deadline, abort, cancel
 *    on the server, grace, and an outage when the cancel goes unanswered;
 *  - the session's time limit per call (lowered for a call that asks for
 *    less, never raised), set only when it changes;
 *  - the row and byte budget of reads (budget.ts) and the frame gate on
 *    every connection's socket (wire.ts): the engine's read answers for its
 *    own messages, the kit applies the idle limit to everything else;
 *  - write transactions (transaction.ts): ceiling, dry run, rollback,
 *    OUTCOME_UNKNOWN;
 *  - catalog queries under the same supervision, the function catalog
 *    loaded once per source, health and close;
 *  - the outage log and every other word to the operator, errors
 *    serialized (outage.ts): an engine never logs;
 *  - telemetry (telemetry.ts): a span per read and write of a traced call,
 *    the pool's wait time and connections, through the OpenTelemetry API.
 *
 * Errors: an engine's error is read in one order (`mapDriverError`): a stop
 * of the kit's, a lost connection, then the server's refusal, which the
 * engine words. Nothing a driver said reaches a client.
 */

import type { Span } from '@opentelemetry/api';
import type {
  CostCeiling,
  CostEstimate,
  DatabaseAdapter,
  DatabaseIdentity,
  FunctionCatalog,
  HealthStatus,
  OperatorLogger,
  PrivilegeReport,
  PrivilegeReportRequest,
  ReadAnswer,
  ReadRequest,
  SqlDialect,
  TableDescription,
  TableRef,
  TableSummary,
  ViewDependency,
  WriteRequest,
  WriteResult,
} from '@sqlwarden/core';
import { SqlwardenError, unreadableViews } from '@sqlwarden/core';
import { RowBudget } from './budget.js';
import type { NormalizedSource } from './config.js';
import { costRefusal, noEstimate } from './cost.js';
import type {
  BoundStatement,
  Dialect,
  DriverConnection,
  ErrorContext,
  FrameAdmission,
} from './dialect.js';
import {
  cancelledBeforeRun,
  databaseUnavailable,
  identityUnsupported,
  invalidParameter,
  mapDriverError,
  sourceBusy,
  sourceClosed,
  sourceReadOnly,
} from './failures.js';
import { OutageLog, warnOperator } from './outage.js';
import {
  ConnectionPool,
  PoolAbortedError,
  PoolClosedError,
  type PoolResource,
  PoolTimeoutError,
} from './pool.js';
import { CallSupervisor } from './supervise.js';
import {
  describeRead,
  describeWrite,
  type SourceEndpoint,
  SourceTelemetry,
  traced,
} from './telemetry.js';
import { writeTransaction } from './transaction.js';
import { type GatedStream, IDLE_MESSAGE_LIMIT, installFrameGate } from './wire.js';

/** What a call refused for a busy source is told to wait before it tries again. */
export const SOURCE_BUSY_RETRY_MS = 1000;

/** The frame gate's view of one connection. */
interface GateState {
  /** The read running on the connection, which the gate asks about each message. */
  admission: FrameAdmission | undefined;
  /** Whether the gate stopped the connection (it is then never reused). */
  stopped(): boolean;
}

/** A connection in the pool, with what the kit knows of it. */
class Pooled<C extends DriverConnection> implements PoolResource {
  readonly connection: C;
  readonly gate: GateState;
  /** The statement time limit the session has now (NaN: unknown, set it before use). */
  timeLimitMs: number;

  constructor(connection: C, gate: GateState, timeLimitMs: number) {
    this.connection = connection;
    this.gate = gate;
    this.timeLimitMs = timeLimitMs;
  }

  destroy(): void {
    try {
      this.connection.destroy();
    } catch {}
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

/** One call's hold on a connection. */
interface Lease<C extends DriverConnection> {
  readonly pooled: Pooled<C>;
  readonly connection: C;
  readonly call: CallSupervisor;
  /** The connection is not given back to the pool. */
  discard(): void;
  /** The server may still send or compute: cancel it (in the background) and discard the connection. */
  stop(): void;
}

/**
 * What an adapter on the kit is: a `DatabaseAdapter` whose optional parts
 * (the function catalog, the least-privilege report, what views read) are
 * always there.
 */
export type SourceAdapter = DatabaseAdapter &
  Required<Pick<DatabaseAdapter, 'functionCatalog' | 'privilegeReport' | 'viewDependencies'>>;

export interface DialectAdapterOptions<C extends DriverConnection> {
  readonly dialect: Dialect<C>;
  readonly config: NormalizedSource;
  readonly logger?: OperatorLogger | undefined;
  /**
   * Where the source lives, for the statements' spans (server.address,
   * server.port, db.namespace; docs/observability.md): only what the
   * engine knows from its configuration, never a connection string.
   */
  readonly endpoint?: SourceEndpoint | undefined;
}

export class DialectAdapter<C extends DriverConnection = DriverConnection>
  implements SourceAdapter
{
  readonly dialect: SqlDialect;
  readonly source: string;
  readonly #engine: Dialect<C>;
  readonly #config: NormalizedSource;
  readonly #logger: OperatorLogger | undefined;
  readonly #outages: OutageLog;
  readonly #pool: ConnectionPool<Pooled<C>>;
  readonly #telemetry: SourceTelemetry;
  /** Cancels sent in the background (a read stopped mid-result): close waits for them. */
  readonly #cancels = new Set<Promise<boolean>>();
  #catalog: Promise<FunctionCatalog> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: DialectAdapterOptions<C>) {
    this.#engine = options.dialect;
    this.#config = options.config;
    this.dialect = options.dialect.name;
    this.source = options.config.source;
    this.#logger = options.logger;
    this.#outages = new OutageLog(this.source, options.logger);
    const pool = options.config.pool;
    this.#pool = new ConnectionPool<Pooled<C>>({
      open: (lost, signal) => this.#open(lost, signal),
      max: pool.max,
      idleTimeoutMs: pool.idleTimeoutMs,
      acquireTimeoutMs: pool.connectionTimeoutMs,
      openTimeoutMs: pool.connectionTimeoutMs,
      onIdleError: (error) =>
        warnOperator(this.#logger, this.source, 'database connection lost between calls', error),
    });
    this.#telemetry = new SourceTelemetry({
      dialect: this.dialect,
      source: this.source,
      endpoint: options.endpoint,
      pool: {
        used: () => this.#pool.leasedCount,
        idle: () => this.#pool.idleCount,
      },
    });
  }

  /** One connection from the driver, its frame gate installed by the driver's call to `gate`. */
  async #open(lost: (error: unknown) => void, signal: AbortSignal): Promise<Pooled<C>> {
    const gate: GateState = { admission: undefined, stopped: () => false };
    const connection = await this.#engine.driver.open({
      signal,
      lost,
      gate: (stream) => {
        gate.stopped = this.#installGate(stream, gate);
      },
    });
    return new Pooled(connection, gate, this.#config.statementTimeoutMs);
  }

  /**
   * The frame gate (wire.ts) on a connection's socket: no message is parsed
   * past what the running call may receive. A read answers for its own
   * messages; outside a read, a message over IDLE_MESSAGE_LIMIT stops the
   * connection (catalog queries, writes and session set-up have small
   * results: a larger one means something is wrong).
   */
  #installGate(stream: GatedStream, state: GateState): () => boolean {
    if (typeof stream.listeners !== 'function') return () => false;
    const framing = this.#engine.driver.framing;
    const length = framing.reader?.() ?? ((_header: Buffer, bodyLength: number) => bodyLength);
    return installFrameGate(stream, framing.protocol, {
      admit: (header, bodyLength) => {
        const message = length(header, bodyLength);
        const read = state.admission;
        return read === undefined ? message <= IDLE_MESSAGE_LIMIT : read.admit(header, message);
      },
      onStop: (error) => {
        if (state.admission !== undefined) state.admission.stopped(error);
        else if (error !== undefined)
          warnOperator(this.#logger, this.source, 'a connection was stopped', error);
      },
    });
  }

  /**
   * A connection with its session set up, or DB_UNAVAILABLE / SOURCE_BUSY /
   * QUERY_CANCELLED. How long it took goes to the pool wait metric (and the
   * statement's span), whether a connection came or not.
   */
  async #checkout(signal: AbortSignal | undefined, span: Span | undefined): Promise<Pooled<C>> {
    if (this.#closed !== undefined) throw sourceClosed();
    let pooled: Pooled<C>;
    const waiting = performance.now();
    try {
      pooled = await this.#pool.acquire(signal);
    } catch (error) {
      this.#telemetry.waited((performance.now() - waiting) / 1000, span);
      if (error instanceof PoolAbortedError) throw cancelledBeforeRun(error);
      if (error instanceof PoolClosedError) throw sourceClosed();
      if (error instanceof PoolTimeoutError && this.#pool.leasedCount >= this.#pool.max) {
        // Calls held every connection for as long as this one could wait: a
        // healthy database, a busy source, never an outage. Slots held by
        // connections still opening (a server that does not answer) are one.
        throw sourceBusy(this.#pool.max, SOURCE_BUSY_RETRY_MS);
      }
      // No connection could be opened (a refused connection, a failed
      // authentication, a session that could not be set up, a server that
      // did not answer in time): whatever the server said, the source cannot serve.
      this.#outages.unavailable(error);
      throw databaseUnavailable(error);
    }
    this.#telemetry.waited((performance.now() - waiting) / 1000, span);
    this.#outages.answered();
    return pooled;
  }

  /**
   * Runs `work` on a checked-out connection under the call's supervision,
   * with the session's time limit set to `timeoutMs`; maps what fails;
   * gives the connection back, or discards it when it may not be reused.
   * `span`: the statement's span, if it is traced.
   */
  async #run<T>(
    signal: AbortSignal | undefined,
    timeoutMs: number,
    context: Omit<ErrorContext, 'stopped' | 'timeoutMs'>,
    work: (lease: Lease<C>) => Promise<T>,
    span?: Span,
  ): Promise<T> {
    const pooled = await this.#checkout(signal, span);
    if (signal?.aborted === true) {
      this.#pool.release(pooled);
      throw cancelledBeforeRun(signal.reason);
    }
    const { connection } = pooled;
    const call = new CallSupervisor({
      signal,
      timeoutMs,
      cancel: () => this.#cancel(connection),
      destroy: () => pooled.destroy(),
    });
    let discard = false;
    let stop = false;
    const lease: Lease<C> = {
      pooled,
      connection,
      call,
      discard: () => {
        discard = true;
      },
      stop: () => {
        stop = true;
      },
    };
    try {
      if (pooled.timeLimitMs !== timeoutMs) {
        pooled.timeLimitMs = Number.NaN;
        await call.guard(() => connection.setTimeLimit(timeoutMs));
        pooled.timeLimitMs = timeoutMs;
      }
      return await work(lease);
    } catch (error) {
      if (pooled.gate.stopped()) {
        // The gate stopped the connection under a failing parser: this call fails, alone.
        stop = true;
      } else if (this.#engine.errors.isConnectionError(error)) {
        discard = true;
      }
      throw this.#failure(error, call, { ...context, timeoutMs });
    } finally {
      call.dispose();
      pooled.gate.admission = undefined;
      if (stop) void this.#cancel(connection);
      // A stopped call's connection never goes back: a late cancel must not hit the next statement.
      if (discard || stop || call.reason !== null || pooled.gate.stopped()) {
        this.#pool.discard(pooled);
      } else {
        this.#pool.release(pooled);
      }
    }
  }

  /** A cancel on the server, which close() waits for. */
  #cancel(connection: C): Promise<boolean> {
    const cancel = connection.cancel().catch(() => false);
    this.#cancels.add(cancel);
    void cancel.finally(() => this.#cancels.delete(cancel));
    return cancel;
  }

  /**
   * What a call that failed under `call` answers. A stop whose cancel went
   * unanswered is an outage: the database (or the network to it) stopped
   * answering, and narrowing the statement would not help.
   */
  #failure(error: unknown, call: CallSupervisor, context: ErrorContext): SqlwardenError {
    if (SqlwardenError.is(error)) return error;
    if (call.unanswered && call.reason === 'timeout') {
      this.#outages.unavailable(error);
      return databaseUnavailable(error);
    }
    if (call.reason === null && this.#engine.errors.isConnectionError(error)) {
      this.#outages.unavailable(error);
    }
    return mapDriverError(this.#engine.errors, error, { ...context, stopped: call.reason });
  }

  /** The statement with its values as the driver binds them, or INVALID_INPUT. */
  #bind(sql: string, params: readonly unknown[]): BoundStatement {
    try {
      return { sql, values: params.map((value) => this.#engine.driver.bind(value)) };
    } catch (error) {
      throw invalidParameter(error);
    }
  }

  /**
   * A call with a database identity needs a driver that applies it: on any
   * other the call is refused before it runs, never run as the source's own
   * user (fail closed; the runtime's configuration checks say so at start-up).
   */
  #assertIdentity(identity: DatabaseIdentity | undefined): void {
    if (identity === undefined || this.#engine.driver.identities === true) return;
    throw identityUnsupported(this.dialect);
  }

  /** The call's time limit, never above the source's. */
  #timeLimit(requested: number): number {
    return Math.min(requested, this.#config.statementTimeoutMs);
  }

  /** A read, in a span of its own when a traced call runs it (telemetry.ts). */
  read(request: ReadRequest): Promise<ReadAnswer> {
    const span = this.#telemetry.start('read');
    if (span === undefined) return this.#read(request, undefined);
    return traced(span, this.#read(request, span), describeRead);
  }

  async #read(request: ReadRequest, span: Span | undefined): Promise<ReadAnswer> {
    this.#assertIdentity(request.identity);
    const statement = this.#bind(request.sql, request.params);
    const context = { sql: request.sql, paramCount: request.params.length };
    return this.#run(
      request.signal,
      this.#timeLimit(request.limits.timeoutMs),
      context,
      async (lease) => {
        const estimate =
          request.costCeiling === undefined
            ? undefined
            : await this.#gate(lease, statement, request.costCeiling, request.identity);
        const budget = new RowBudget(request.limits);
        const outcome = await lease.call.guard(() =>
          lease.connection.read(statement, {
            budget,
            gate: (admission) => {
              lease.pooled.gate.admission = admission;
            },
            ...(request.identity !== undefined && { identity: request.identity }),
          }),
        );
        if (outcome.after === 'stop') lease.stop();
        else if (outcome.after === 'discard') lease.discard();
        const result = budget.result(outcome.columns);
        return estimate === undefined ? result : { ...result, estimate };
      },
      span,
    );
  }

  /** The cost gate (cost.ts): the estimate, or the refusal; the read has not run. */
  async #gate(
    lease: Lease<C>,
    statement: BoundStatement,
    ceiling: CostCeiling,
    identity: DatabaseIdentity | undefined,
  ): Promise<CostEstimate> {
    const { connection } = lease;
    const estimateOf = connection.estimate?.bind(connection);
    if (estimateOf === undefined) throw noEstimate();
    // Planned as the read will run: under its identity (grants, row-level security).
    const estimate = await lease.call.guard(() => estimateOf(statement, identity));
    if (estimate === undefined) throw noEstimate();
    const refusal = costRefusal(estimate, ceiling);
    if (refusal !== undefined) throw refusal;
    return estimate;
  }

  /** A write, in a span of its own when a traced call runs it (telemetry.ts). */
  write(request: WriteRequest): Promise<WriteResult> {
    const span = this.#telemetry.start('write');
    if (span === undefined) return this.#write(request, undefined);
    return traced(span, this.#write(request, span), describeWrite);
  }

  async #write(request: WriteRequest, span: Span | undefined): Promise<WriteResult> {
    if (!this.#config.allowWrites) throw sourceReadOnly();
    this.#assertIdentity(request.identity);
    const statement = this.#bind(request.sql, request.params);
    const context = { sql: request.sql, paramCount: request.params.length };
    return this.#run(
      request.signal,
      this.#timeLimit(request.timeoutMs),
      context,
      (lease) =>
        writeTransaction(
          {
            connection: lease.connection,
            call: lease.call,
            discard: lease.discard,
            isConnectionError: (error) => this.#engine.errors.isConnectionError(error),
            outage: (error) => this.#outages.unavailable(error),
          },
          statement,
          request,
        ),
      span,
    );
  }

  /** A catalog query of the engine's, under the source's time limit and the call's signal. */
  #catalogQuery<T>(
    signal: AbortSignal | undefined,
    run: (connection: C) => Promise<T>,
  ): Promise<T> {
    return this.#run(signal, this.#config.statementTimeoutMs, {}, (lease) =>
      lease.call.guard(() => run(lease.connection)),
    );
  }

  listTables(request: {
    readonly schemas?: readonly string[];
    readonly catalogs?: readonly string[];
    readonly signal: AbortSignal;
  }): Promise<TableSummary[]> {
    return this.#catalogQuery(request.signal, (connection) =>
      this.#engine.introspector.listTables(connection, request.schemas, request.catalogs),
    );
  }

  describeTable(request: {
    readonly table: TableRef;
    readonly signal: AbortSignal;
  }): Promise<TableDescription | null> {
    return this.#catalogQuery(request.signal, (connection) =>
      this.#engine.introspector.describeTable(connection, request.table),
    );
  }

  /** Loaded once per source; a failed load is retried on the next call. */
  functionCatalog(): Promise<FunctionCatalog> {
    if (this.#catalog === undefined) {
      const loading = this.#catalogQuery(undefined, (connection) =>
        this.#engine.introspector.functionCatalog(connection),
      );
      this.#catalog = loading;
      loading.catch(() => {
        if (this.#catalog === loading) this.#catalog = undefined;
      });
    }
    return this.#catalog;
  }

  /**
   * What the views of these schemas read (column policies). An engine whose
   * catalog cannot tell lists its views as unreadable (`definition: null`):
   * each counts as reading everything.
   */
  viewDependencies(request: {
    readonly schemas?: readonly string[];
    readonly signal: AbortSignal;
  }): Promise<ViewDependency[]> {
    const introspector = this.#engine.introspector;
    return this.#catalogQuery(request.signal, async (connection) => {
      if (introspector.viewDependencies !== undefined) {
        return introspector.viewDependencies(connection, request.schemas);
      }
      return unreadableViews(await introspector.listTables(connection, request.schemas));
    });
  }

  privilegeReport(request: PrivilegeReportRequest): Promise<PrivilegeReport> {
    return this.#catalogQuery(undefined, (connection) =>
      this.#engine.introspector.privilegeReport(connection, request),
    );
  }

  async health(): Promise<HealthStatus> {
    const started = performance.now();
    try {
      await this.#catalogQuery(undefined, (connection) => connection.ping());
      return { ok: true, latencyMs: performance.now() - started };
    } catch {
      return { ok: false, latencyMs: performance.now() - started };
    }
  }

  /**
   * Ends the pool: idle connections at once (politely, bounded by a
   * second each), connections in use when their call releases them (every
   * call is bounded by its deadline); then waits for the cancels still in
   * flight, the kit's and the driver's. Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#telemetry.close();
      await this.#pool.end();
      await Promise.allSettled([...this.#cancels]);
      await this.#engine.driver.close?.();
    })().catch((error: unknown) => {
      warnOperator(this.#logger, this.source, 'closing the pool failed', error);
    });
    return this.#closed;
  }
}
