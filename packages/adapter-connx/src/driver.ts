/**
 * The ODBC driver of the adapter kit: every ODBC handle lives in the
 * source's worker process (worker.ts, host.ts); this side implements the
 * kit's ports over IPC. The kit's `DialectAdapter` owns the pool, the
 * deadline and cancel supervision, the row and byte budget.
 *
 * Stopping a statement: `cancel` sends SQLCancel to the worker (it
 * bypasses the connection's queue) and resolves true once the worker
 * answered, false when it did not within CANCEL_GRACE_MS (a hung worker).
 * The kit then calls `destroy`, which kills the worker when a request on
 * the connection is still unanswered (the worker is restarted for the next
 * call), and otherwise asks the worker to close the connection behind
 * whatever runs on it.
 *
 * There is no socket here: the frame gate has nothing to watch. The bound
 * on memory is the read's pull: the host asks for a chunk only while the
 * budget wants rows, and for no more rows than it still takes.
 */
import {
  type BoundStatement,
  CANCEL_GRACE_MS,
  type Driver,
  type DriverConnection,
  type OpenOptions,
  type ReadContext,
  type ReadOutcome,
  untilAborted,
  type WireFraming,
} from '@sqlwarden/adapter-kit';
import { rowBytes, SqlwardenError } from '@sqlwarden/core';
import {
  effectiveConnectionString,
  type NormalizedConfig,
  sessionSetup,
  writeSetup,
} from './config.js';
import { type Chunk, OdbcDriverError, type WorkerHost } from './host.js';
import { assertOneStatement } from './one-statement.js';
import type { ChunkWant } from './protocol.js';

/** Rows per chunk at most: a chunk is one IPC message. */
export const CHUNK_ROWS = 256;
/** Bytes per chunk at most (an estimate of the rows' JSON). */
export const CHUNK_BYTES = 1 << 20;

/** Never used: ODBC connections have no socket of sqlwarden's for the frame gate. */
const NO_FRAMES: WireFraming = { protocol: { headerLength: 4, bodyLength: () => 0 } };

/**
 * The read's statement was cancelled: a driver that ends a cancelled
 * statement with its rows so far (MariaDB ODBC after KILL QUERY) must not
 * make a stopped call look like a success.
 */
export class StatementCancelledError extends Error {
  readonly code = 'SQLWARDEN_ODBC_CANCELLED';
}

/** SQLSTATEs of a driver that has no transactions (autocommit cannot be turned off). */
const NO_TRANSACTIONS: ReadonlySet<string> = new Set(['HYC00', 'S1C00', 'HY092', 'S1092']);

export class OdbcDriver implements Driver<OdbcSession> {
  readonly framing = NO_FRAMES;
  readonly #config: NormalizedConfig;
  readonly #host: WorkerHost;

  constructor(config: NormalizedConfig, host: WorkerHost) {
    this.#config = config;
    this.#host = host;
  }

  /** Values as the `odbc` package binds them: numbers, strings, null; a bigint as its text. */
  bind(value: unknown): unknown {
    if (value === null || typeof value === 'string') return value;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new TypeError('a number must be finite');
      return value;
    }
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'boolean') return value ? 1 : 0;
    throw new TypeError(`a ${typeof value} cannot be sent over ODBC (use a string or a number)`);
  }

  async open(options: OpenOptions): Promise<OdbcSession> {
    const conn = this.#host.connection((error) => options.lost(error));
    const opened = this.#host.request<void>({
      t: 'open',
      conn,
      connectionString: effectiveConnectionString(this.#config),
      setup: sessionSetup(
        this.#config.profile,
        this.#config.defaultSchema,
        this.#config.statementTimeoutMs,
      ),
    });
    try {
      await untilAborted(opened, options.signal);
    } catch (error) {
      // Closed behind the open, once it settles: never under it.
      void opened.then(
        () => this.#host.request({ t: 'close', conn }).catch(() => {}),
        () => {},
      );
      this.#host.forget(conn);
      // An open that took too long: a hung worker (its event loop stopped)
      // is killed, so that the next open gets a new one.
      if (options.signal.aborted) void this.#host.alive();
      throw error;
    }
    return new OdbcSession(this.#host, conn, this.#config);
  }

  close(): Promise<void> {
    return this.#host.close();
  }
}

export class OdbcSession implements DriverConnection {
  readonly #host: WorkerHost;
  readonly conn: string;
  readonly #config: NormalizedConfig;
  #timeoutMs: number;
  #closed = false;
  /** A cancel was sent during the current read. */
  #cancelled = false;

  constructor(host: WorkerHost, conn: string, config: NormalizedConfig) {
    this.#host = host;
    this.conn = conn;
    this.#config = config;
    this.#timeoutMs = config.statementTimeoutMs;
  }

  /** Kept for the next statement's SQL_ATTR_QUERY_TIMEOUT (whole seconds, rounded up). */
  async setTimeLimit(timeoutMs: number): Promise<void> {
    this.#timeoutMs = timeoutMs;
  }

  async read(statement: BoundStatement, context: ReadContext): Promise<ReadOutcome> {
    // Drivers run batches: a stacked statement is refused here, before the
    // driver sees it, whatever let it through (one-statement.ts).
    assertOneStatement(statement.sql);
    const { budget } = context;
    /** The bytes of the rows kept, as the budget counts them. */
    let used = 0;
    const want = (): ChunkWant => ({
      rows: Math.min(CHUNK_ROWS, Math.max(1, budget.limits.maxRows - budget.rows.length + 1)),
      bytes: CHUNK_BYTES,
      budgetBytes: budget.limits.maxBytes - used,
    });
    const read = this.#host.read({
      t: 'read',
      conn: this.conn,
      sql: statement.sql,
      values: statement.values,
      fetchSize: this.#config.fetchSize,
      trimChar: this.#config.trimChar,
      timeoutSeconds: Math.ceil(this.#timeoutMs / 1000),
      want: want(),
    });
    this.#cancelled = false;
    let chunk: Chunk = await read.first;
    for (;;) {
      if (this.#cancelled) {
        if (!chunk.done) read.stop();
        throw new StatementCancelledError('the statement was cancelled');
      }
      for (const row of chunk.rows) {
        if (!budget.take(row)) {
          // The budget says stop: no more chunks; the worker closes the cursor
          // before the connection's next operation, so the connection is reusable.
          if (!chunk.done) read.stop();
          return { columns: chunk.columns, after: 'reuse' };
        }
        used += rowBytes(row);
      }
      // The worker kept back a row that would pass the bytes: the read is cut there.
      if (chunk.over === true) {
        budget.cut('maxBytes');
        return { columns: chunk.columns, after: 'reuse' };
      }
      if (chunk.done) return { columns: chunk.columns, after: 'reuse' };
      chunk = await read.more(want());
    }
  }

  /**
   * Autocommit off, then the profile's statement that makes this one
   * transaction writable in the read-only session. A driver without
   * transactions refuses autocommit off (HYC00, S1C00): the write is then
   * refused, never run in autocommit (its ceiling and dry run need a rollback).
   */
  async begin(): Promise<void> {
    try {
      await this.#host.request({
        t: 'begin',
        conn: this.conn,
        setup: writeSetup(this.#config.profile),
      });
    } catch (error) {
      if (error instanceof OdbcDriverError && NO_TRANSACTIONS.has(error.state ?? '')) {
        throw new SqlwardenError(
          'READ_ONLY',
          'This ODBC source cannot run a write in a transaction (its driver has none), so sqlwarden writes nothing to it: the affected-row ceiling and the dry run need a rollback. Make the change in the source system instead.',
          { cause: error },
        );
      }
      throw error;
    }
  }

  async execute(statement: BoundStatement): Promise<number> {
    // As in read(): psqlODBC runs `UPDATE ...; DROP TABLE ...` as a batch.
    assertOneStatement(statement.sql);
    const count = await this.#host.request<number>({
      t: 'execute',
      conn: this.conn,
      sql: statement.sql,
      values: statement.values,
      timeoutSeconds: Math.ceil(this.#timeoutMs / 1000),
    });
    if (!Number.isSafeInteger(count) || count < 0) {
      // Rolled back by the kit: a ceiling that cannot be checked is not applied blind.
      throw new SqlwardenError(
        'QUERY_FAILED',
        'The ODBC driver did not say how many rows the write changed, so it was rolled back (the affected-row ceiling cannot be checked without it).',
      );
    }
    return count;
  }

  /**
   * A commit is only reported once the connection is seen alive after it:
   * psqlODBC answers SQLEndTran with success, sending nothing, on a
   * connection the server ended under the write's statement (it forgets
   * the transaction when it sees the connection end), so a write the
   * server never committed would be reported committed (the conformance
   * fault suite caught it on a crash). A catalog call that cannot reach
   * the server fails as a lost connection, which the kit reports as
   * OUTCOME_UNKNOWN: honest, as the commit may or may not have happened.
   */
  async commit(): Promise<void> {
    await this.#host.request({ t: 'commit', conn: this.conn });
    await this.ping();
  }

  rollback(): Promise<void> {
    return this.#host.request({ t: 'rollback', conn: this.conn });
  }

  /** A catalog call that matches nothing: every ODBC driver answers SQLTables, whatever its SQL. */
  async ping(): Promise<void> {
    await this.catalog('tables', [null, null, 'sqlwarden_ping_no_such_table', null]);
  }

  catalog(
    fn: 'tables' | 'columns' | 'primaryKeys' | 'foreignKeys',
    args: ReadonlyArray<string | null>,
  ): Promise<Array<Record<string, unknown>>> {
    return this.#host.request({ t: 'catalog', conn: this.conn, fn, args });
  }

  async cancel(): Promise<boolean> {
    this.#cancelled = true;
    if (!this.#host.busy(this.conn)) return true;
    let timer: NodeJS.Timeout | undefined;
    const unanswered = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), CANCEL_GRACE_MS);
    });
    // An error answers too: the driver refused the cancel, or the worker
    // ended and what was in flight failed with it.
    const answered = this.#host.request({ t: 'cancel', conn: this.conn }).then(
      () => true,
      () => true,
    );
    try {
      return await Promise.race([answered, unanswered]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Now: a connection with a request still unanswered (the worker did not
   * settle after a cancel) takes the worker with it; otherwise the worker
   * closes it behind what runs on it.
   */
  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#host.busy(this.conn)) {
      this.#host.kill();
      return;
    }
    this.#host.forget(this.conn);
    this.#host.request({ t: 'close', conn: this.conn }).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.forget(this.conn);
    await this.#host.request({ t: 'close', conn: this.conn });
  }
}
