/**
 * The ports an engine implements to become a `DatabaseAdapter`, kysely-style
 * (kysely's Dialect is a Driver, an Adapter and an Introspector; here the
 * one shared adapter is the kit's `DialectAdapter`, adapter.ts):
 *
 *  - a `Driver`: opens one connection with its session set up, and binds
 *    parameter values the way its protocol carries them;
 *  - a `DriverConnection`: runs one statement at a time (a bounded read
 *    streaming rows into the kit's budget, a write, transaction control),
 *    cancels what runs on the server, closes or destroys itself;
 *  - an `ErrorMapper`: the engine's errors to codes and messages;
 *  - an `Introspector`: the engine's catalog queries.
 *
 * What is NOT here, because the kit owns it once for every engine: the
 * pool and its SOURCE_BUSY rule, the deadline and abort supervision with
 * cancel and grace, the row and byte budget and the frame gate's idle
 * limit, write transactions (ceiling, dry run, rollback, outcome unknown),
 * the function-catalog cache, health, close and the outage log.
 *
 * An engine never logs: it has no logger. Everything an operator hears
 * goes through the kit, which serializes errors (core's `serializeError`).
 */
import type {
  CostEstimate,
  DatabaseIdentity,
  FunctionCatalog,
  PrivilegeReport,
  PrivilegeReportRequest,
  SqlDialect,
  SqlwardenError,
  TableDescription,
  TableRef,
  TableSummary,
  ViewDependency,
} from '@sqlwarden/core';
import type { RowBudget } from './budget.js';
import type { FrameProtocol, GatedStream } from './wire.js';

/** Why the kit itself stopped a call, if it did. */
export type StopReason = 'timeout' | 'abort' | null;

/** One statement with its values, as the driver binds them (`Driver.bind`). */
export interface BoundStatement {
  readonly sql: string;
  readonly values: readonly unknown[];
}

/**
 * What a running read answers the frame gate (wire.ts) with: whether a
 * message of this connection may reach the driver's parser. While a read
 * is active the kit hands it every message's header; otherwise it applies
 * the idle limit itself.
 */
export interface FrameAdmission {
  /**
   * `length`: the message's length as `WireFraming.reader` reports it. True
   * lets it through, false stops the connection, 'sync' asks for the
   * messages before it to be parsed first (then asked again).
   */
  admit(header: Buffer, length: number): boolean | 'sync';
  /**
   * The gate stopped the connection: by this read's refusal (`error`
   * undefined: the read ends with the rows kept), or because the parser
   * threw or the stream fell out of step (`error` set: the read fails).
   */
  stopped(error: Error | undefined): void;
}

/** What the kit gives a read: the budget its rows count against, and the frame gate. */
export interface ReadContext {
  readonly budget: RowBudget;
  /**
   * Routes this connection's frame gate to `admission` while the read's own
   * messages arrive, and back to the idle limit with `undefined` (before
   * the engine's own follow-up statements, such as PostgreSQL's type-name
   * look-up).
   */
  gate(admission: FrameAdmission | undefined): void;
  /** Who the read runs as (core's `DatabaseIdentity`); only for a driver with `identities`. */
  readonly identity?: DatabaseIdentity;
}

/**
 * How a read ended, and what becomes of its connection:
 *  - `reuse`: the protocol is between statements; the connection goes back;
 *  - `discard`: the statement may have changed the session (not a query):
 *    the connection is closed;
 *  - `stop`: the read stopped mid-result (a limit, the gate): the server may
 *    still be sending or computing; the kit cancels it and destroys the
 *    connection.
 */
export interface ReadOutcome {
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string }>;
  readonly after: 'reuse' | 'discard' | 'stop';
}

/**
 * One connection of a source, its session set up (read-only, the source's
 * time limit, one known character set and time zone...). The kit runs one
 * call at a time on it and supervises every await.
 */
export interface DriverConnection {
  /** Sets the session's statement time limit (the kit calls it only when the value changes). */
  setTimeLimit(timeoutMs: number): Promise<void>;
  /** One statement of the agent's, read under `context.budget`; its rows go into the budget. */
  read(statement: BoundStatement, context: ReadContext): Promise<ReadOutcome>;
  /**
   * The planner's estimate of one statement with its values (EXPLAIN, never
   * ANALYZE: it must not run), in this session; undefined when the plan
   * cannot be read. Absent on an engine without one: the cost gate then
   * refuses every read of a source it applies to.
   */
  estimate?(
    statement: BoundStatement,
    identity?: DatabaseIdentity,
  ): Promise<CostEstimate | undefined>;
  /**
   * Opens a READ WRITE transaction of its own (the session stays read-only
   * for reads); with `identity`, the transaction runs as it from its start.
   */
  begin(identity?: DatabaseIdentity): Promise<void>;
  /** One INSERT, UPDATE or DELETE in that transaction: the rows it affected. */
  execute(statement: BoundStatement): Promise<number>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** The cheapest statement that proves the session answers (health). */
  ping(): Promise<void>;
  /**
   * Stops what runs on the connection, on the server (PostgreSQL's
   * CancelRequest, MySQL's KILL QUERY from a second connection). What the
   * call awaits must then settle once the server answered the cancel (an
   * error, or the end of the statement); never before (a driver whose
   * command would never settle rejects it itself once the cancel is
   * answered). Resolves to whether the server answered: false ends the call
   * at once as unanswered (an outage), true lets it settle within the
   * kit's grace. Never rejects.
   */
  cancel(): Promise<boolean>;
  /** Closes the socket now (the server notices when it next reads or writes). Never throws. */
  destroy(): void;
  /** Says goodbye to the server (Terminate, COM_QUIT); the kit destroys it if this takes long. */
  close(): Promise<void>;
}

/** How the frame gate reads the engine's protocol (wire.ts). */
export interface WireFraming {
  readonly protocol: FrameProtocol;
  /**
   * A reader for one connection: the length of the logical message a frame
   * belongs to (MySQL chains 16 MiB packets into one message; PostgreSQL's
   * messages are their frames). Default: the frame's own body length.
   */
  reader?(): (header: Buffer, bodyLength: number) => number;
}

export interface OpenOptions {
  /** Aborted when opening took longer than the pool allows: give up and destroy what was opened. */
  readonly signal: AbortSignal;
  /**
   * Call once the connection's stream stands between two messages, right
   * after the handshake and before the session set-up: the kit installs
   * the frame gate on it. Not calling it leaves the connection ungated.
   */
  readonly gate: (stream: GatedStream) => void;
  /**
   * Call when the connection fails or ends by itself, at any time from its
   * creation (an `'error'` listener from the moment the driver's object
   * exists: an `'error'` event without a listener ends the process). The
   * kit discards the connection; the call in flight, if any, gets the
   * failure from its own statement.
   */
  readonly lost: (error: unknown) => void;
}

export interface Driver<C extends DriverConnection> {
  readonly framing: WireFraming;
  /**
   * Whether its connections run a call under a `DatabaseIdentity` (read,
   * estimate and begin take it, and apply it in the call's own
   * transaction). Absent: the kit refuses every call that carries one,
   * before it runs, rather than run it as the source's own user.
   */
  readonly identities?: boolean;
  /**
   * A parameter as the protocol carries it. Throws a TypeError naming what
   * is wrong for a value it cannot carry: the call gets INVALID_INPUT and
   * nothing reaches the database.
   */
  bind(value: unknown): unknown;
  /** One connection, connected, authenticated, its session set up. */
  open(options: OpenOptions): Promise<C>;
  /** Work of the driver's own still in flight (cancels): the kit awaits it at close. */
  close?(): Promise<void>;
}

/** What an engine's error mapper is told about the failed statement. */
export interface ErrorContext {
  /** Why the kit stopped the call itself, if it did. */
  readonly stopped?: StopReason;
  /** The call's time limit, for the QUERY_TIMEOUT message. */
  readonly timeoutMs: number;
  /**
   * The statement the agent sent, when the error is about it: messages may
   * name what its text holds. Absent for the kit's and the engine's own
   * statements (catalog queries, session set-up): then nothing is named.
   */
  readonly sql?: string;
  /** How many values came with the statement. */
  readonly paramCount?: number;
}

export interface ErrorMapper {
  /**
   * Whether the connection is gone or never came (a reset, a refused or
   * timed-out connect, TLS, a server that ended the session): the kit
   * discards the connection and tells the operator.
   */
  isConnectionError(error: unknown): boolean;
  /**
   * A server's refusal of a statement, as a SqlwardenError with a message of
   * the kit's words (statementFailure). Called only for errors that are
   * neither a stop of the kit's nor a connection error.
   */
  map(error: unknown, context: ErrorContext): SqlwardenError;
}

/** The engine's catalog queries, each on a connection the kit checked out and supervises. */
export interface Introspector<C extends DriverConnection> {
  /** `catalogs`: on sources that name tables catalog.schema.table, the catalogs served. */
  listTables(
    connection: C,
    schemas: readonly string[] | undefined,
    catalogs?: readonly string[],
  ): Promise<TableSummary[]>;
  describeTable(connection: C, table: TableRef): Promise<TableDescription | null>;
  functionCatalog(connection: C): Promise<FunctionCatalog>;
  privilegeReport(connection: C, request: PrivilegeReportRequest): Promise<PrivilegeReport>;
  /**
   * What the views of these schemas read (column policies). Absent: the
   * engine's catalog cannot tell, and every view counts as reading everything.
   */
  viewDependencies?(
    connection: C,
    schemas: readonly string[] | undefined,
  ): Promise<ViewDependency[]>;
}

/** One engine: what the kit's `DialectAdapter` needs to be its `DatabaseAdapter`. */
export interface Dialect<C extends DriverConnection> {
  readonly name: SqlDialect;
  readonly driver: Driver<C>;
  readonly errors: ErrorMapper;
  readonly introspector: Introspector<C>;
}

/**
 * `work`, or a rejection once `signal` aborts: for a driver's `open`, whose
 * signal says the pool stopped waiting (the driver then destroys what it
 * opened).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('opening the connection took too long'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('opening the connection took too long'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
