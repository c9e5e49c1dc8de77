/**
 * The host side of a source's ODBC worker (worker.ts): forks it, talks to
 * it over IPC, and outlives it. The server process never loads the native
 * driver; whatever the driver does, the worker is what ends.
 *
 *  - A worker that exits (a segfault, kill -9, an exit of its own) fails
 *    every request in flight with `WorkerLostError` (the error mapper says
 *    connection lost: DB_UNAVAILABLE) and tells each of its connections
 *    (the kit discards them). The next request starts a new worker.
 *  - A worker that hangs does not answer a cancel; the connection's
 *    `destroy` then kills it (`kill`), which is the exit above.
 *  - A worker past its memory limit (its resident set, read from /proc
 *    every MEMORY_POLL_MS while a request is in flight, on Linux) is
 *    killed: a driver that reads whole results into memory (MariaDB ODBC)
 *    ends its worker, never the machine. The calls in flight fail with a
 *    message that says so (QUERY_FAILED: retrying would do the same).
 *  - Restarts back off: the n-th exit within RESTART_WINDOW_MS of the
 *    previous one waits min(RESTART_BASE_MS * 2^(n-1), RESTART_MAX_MS)
 *    before a new worker is forked, so a driver that crashes on start
 *    does not spin.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SqlwardenError } from '@sqlwarden/core';
import type { ChunkWant, HostMessage, WireColumn, WireError, WorkerMessage } from './protocol.js';

export const RESTART_BASE_MS = 100;
export const RESTART_MAX_MS = 5000;
export const RESTART_WINDOW_MS = 30_000;
/** How often the worker's resident set is read while a request is in flight. */
export const MEMORY_POLL_MS = 100;
/** The worker's default memory limit (resident set). */
export const DEFAULT_WORKER_MEMORY_MB = 512;

/**
 * How long the worker's event loop may take to answer `alive`. Generous: a
 * worker starved of CPU on a loaded machine (it answered in over a second
 * while parallel test suites ran) is slow, not hung, and killing it fails
 * every call in flight on it.
 */
export const ALIVE_MS = 5000;

/** The worker ended (crashed, was killed, or exited) while a request was in flight. */
export class WorkerLostError extends Error {
  readonly code = 'SQLWARDEN_ODBC_WORKER_LOST';
}

/** A failure the driver reported, with its ODBC diagnostics (SQLSTATE first). */
export class OdbcDriverError extends Error {
  readonly state: string | undefined;
  /** The SQLSTATE again, as `code`: what the operator's log shows of the error (core's serializeError). */
  readonly code: string | undefined;
  readonly diagnostics: WireError['diagnostics'];
  /** The driver said the connection is dead once the operation failed. */
  readonly connectionDead: boolean;
  constructor(error: WireError) {
    super(error.message);
    this.diagnostics = error.diagnostics;
    this.state = error.diagnostics[0]?.state;
    this.code = this.state;
    this.connectionDead = error.connectionDead === true;
  }
}

/**
 * A decimal the driver handed over as a double with more digits than a
 * double keeps (values.ts): refused rather than sent rounded.
 */
export function inexactDecimal(column: string): SqlwardenError {
  const name = column.length > 64 ? `${column.slice(0, 63)}…` : column;
  return new SqlwardenError(
    'QUERY_FAILED',
    `Column ${JSON.stringify(name)} holds a decimal of more than 15 significant digits, which this ODBC driver hands over as a floating-point number, so it cannot be returned exactly. Cast it to text in the query, e.g. CAST(${name.replace(/[^\w]/g, '') || 'col'} AS VARCHAR(40)), or round it to fewer digits.`,
  );
}

/** What distributes without `HostMessage`'s `id`. */
type Request = HostMessage extends infer M
  ? M extends { id: number }
    ? Omit<M, 'id'>
    : never
  : never;

export interface Chunk {
  readonly columns: readonly WireColumn[];
  readonly rows: unknown[][];
  readonly done: boolean;
  /** The next row would pass the call's bytes: it was not sent, and the read ended. */
  readonly over?: boolean;
}

interface Pending {
  readonly conn: string | undefined;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export interface WorkerHostOptions {
  /** The worker's entry (dist/worker.js). */
  readonly workerPath: string;
  /** Extra environment for the worker (tests: SQLWARDEN_ODBC_WORKER_FAULTS). */
  readonly env?: Readonly<Record<string, string>>;
  /** The worker's resident-set limit in MB (default DEFAULT_WORKER_MEMORY_MB). */
  readonly memoryMb?: number;
}

/** The resident set of a process in bytes (Linux), undefined where /proc cannot say. */
function residentBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** The calls in flight when the worker was stopped for its memory. */
export function workerOverMemory(limitMb: number): SqlwardenError {
  return new SqlwardenError(
    'QUERY_FAILED',
    `The ODBC driver's process for this source went past its memory limit (${limitMb} MB) and was stopped, failing the statements in flight: the driver reads whole results into memory. Narrow the statement (a WHERE clause, fewer columns), or ask the operator to make the driver stream its results (docs/connx.md).`,
  );
}

export class WorkerHost {
  readonly #options: WorkerHostOptions;
  #child: ChildProcess | undefined;
  #starting: Promise<ChildProcess> | undefined;
  readonly #pending = new Map<number, Pending>();
  /** Connections of the running worker, told when it ends. */
  readonly #connections = new Map<string, (error: Error) => void>();
  #nextId = 1;
  #nextConn = 1;
  #exits: number[] = [];
  #closed = false;
  /** Workers forked so far (tests read it to see a restart). */
  started = 0;
  /** How the last worker ended (`SIGSEGV`, `SIGKILL`, `exit code 1`, `memory limit`), if one did. */
  lastExit: string | undefined;
  #memoryTimer: NodeJS.Timeout | undefined;

  constructor(options: WorkerHostOptions) {
    this.#options = options;
  }

  /** The pid of the running worker, if one runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** A new connection id, registered for the worker's end. */
  connection(onLost: (error: Error) => void): string {
    const conn = `c${this.#nextConn++}`;
    this.#connections.set(conn, onLost);
    return conn;
  }

  forget(conn: string): void {
    this.#connections.delete(conn);
  }

  /** Whether a request on `conn` awaits the worker's answer. */
  busy(conn: string): boolean {
    for (const pending of this.#pending.values()) if (pending.conn === conn) return true;
    return false;
  }

  #delay(): number {
    const now = Date.now();
    this.#exits = this.#exits.filter((at) => now - at < RESTART_WINDOW_MS);
    const n = this.#exits.length;
    if (n === 0) return 0;
    const last = this.#exits[n - 1] as number;
    const wait = Math.min(RESTART_BASE_MS * 2 ** (n - 1), RESTART_MAX_MS);
    return Math.max(0, last + wait - now);
  }

  async #worker(): Promise<ChildProcess> {
    if (this.#closed) throw new WorkerLostError('the ODBC worker is closed');
    if (this.#child !== undefined) return this.#child;
    this.#starting ??= (async () => {
      const delay = this.#delay();
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.#closed) throw new WorkerLostError('the ODBC worker is closed');
      const child = fork(this.#options.workerPath, [], {
        serialization: 'advanced',
        // The driver's own output (trace, log) never reaches the server's streams.
        stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
        env: { ...process.env, ...this.#options.env },
      });
      this.started++;
      child.on('message', (message: WorkerMessage) => this.#receive(message));
      child.on('error', () => {});
      child.once('exit', (code, signal) => this.#ended(child, code, signal));
      this.#child = child;
      this.#watchMemory(child);
      return child;
    })().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  /** Kills the worker once its resident set passes the limit, while requests are in flight. */
  #watchMemory(child: ChildProcess): void {
    const limitMb = this.#options.memoryMb ?? DEFAULT_WORKER_MEMORY_MB;
    const pid = child.pid;
    if (pid === undefined) return;
    clearInterval(this.#memoryTimer);
    this.#memoryTimer = setInterval(() => {
      if (this.#child !== child) {
        clearInterval(this.#memoryTimer);
        return;
      }
      if (this.#pending.size === 0) return;
      const bytes = residentBytes(pid);
      if (bytes !== undefined && bytes > limitMb * 1024 * 1024) {
        this.#retire(child, 'memory limit', workerOverMemory(limitMb));
        try {
          child.kill('SIGKILL');
        } catch {}
      }
    }, MEMORY_POLL_MS);
    this.#memoryTimer.unref();
  }

  #ended(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.#retire(child, signal === null ? `exit code ${code}` : signal);
  }

  /**
   * The worker is gone (or being killed): what was in flight on it fails,
   * its connections are told, and the next request forks another. Once
   * per worker: a killed worker's own exit later changes nothing.
   */
  #retire(child: ChildProcess, how: string, reason?: Error): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    clearInterval(this.#memoryTimer);
    this.#exits.push(Date.now());
    this.lastExit = how;
    const error = new WorkerLostError(`the ODBC worker ended (${how})`);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(reason ?? error);
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    for (const lost of connections) lost(error);
  }

  #receive(message: WorkerMessage): void {
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return;
    if (message.t === 'err') {
      this.#pending.delete(message.id);
      const column = message.error.inexactColumn;
      pending.reject(
        column === undefined ? new OdbcDriverError(message.error) : inexactDecimal(column),
      );
    } else if (message.t === 'ok') {
      this.#pending.delete(message.id);
      pending.resolve(message.value);
    } else {
      this.#pending.delete(message.id);
      pending.resolve({
        columns: message.columns,
        rows: message.rows,
        done: message.done,
        ...(message.over === true && { over: true }),
      });
    }
  }

  #post(child: ChildProcess, message: HostMessage): void {
    try {
      child.send(message);
    } catch {
      // The channel closed: the exit handler fails what was in flight.
    }
  }

  /** One request, answered once (or failed when the worker ends). */
  async request<T>(request: Request, id = this.#nextId++): Promise<T> {
    const child = await this.#worker();
    const conn = 'conn' in request ? request.conn : undefined;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { conn, resolve: resolve as (value: unknown) => void, reject });
      this.#post(child, { ...request, id } as HostMessage);
    });
  }

  /** Starts a read: its first chunk. */
  read(request: Omit<Extract<HostMessage, { t: 'read' }>, 'id'>): {
    readonly first: Promise<Chunk>;
    more(want: ChunkWant): Promise<Chunk>;
    stop(): void;
  } {
    const id = this.#nextId++;
    const conn = request.conn;
    return {
      first: this.request<Chunk>(request, id),
      more: (want) => {
        const child = this.#child;
        if (child === undefined)
          return Promise.reject(new WorkerLostError('the ODBC worker ended'));
        return new Promise<Chunk>((resolve, reject) => {
          this.#pending.set(id, { conn, resolve: resolve as (value: unknown) => void, reject });
          this.#post(child, { t: 'more', id, want });
        });
      },
      stop: () => {
        if (this.#child !== undefined) this.#post(this.#child, { t: 'stop', id });
      },
    };
  }

  /**
   * Whether the worker's event loop answers within `withinMs` (native calls
   * run on other threads: a worker busy with the driver still answers). One
   * that does not is hung: it is killed, and false returned.
   */
  async alive(withinMs = ALIVE_MS): Promise<boolean> {
    const child = this.#child;
    if (child === undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      this.request({ t: 'alive' }).then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), withinMs);
      }),
    ]);
    clearTimeout(timer);
    if (!answered && this.#child === child) this.kill();
    return answered;
  }

  /** Kills the worker now (SIGKILL); requests in flight fail, the next one starts another. */
  kill(): void {
    const child = this.#child;
    if (child === undefined) return;
    // Retired now, not at its exit: a call right after must not reach it.
    this.#retire(child, 'SIGKILL');
    try {
      child.kill('SIGKILL');
    } catch {}
  }

  /** Ends the worker: asks it to exit (closing its IPC channel), kills it if it lingers. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#memoryTimer);
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      child.disconnect();
    } catch {}
    const timer = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {}
    }, 2000);
    await exited;
    clearTimeout(timer);
  }
}
