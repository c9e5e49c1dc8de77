/**
 * A small connection pool per source. mysql2 has a pool, but not the three
 * things the adapter needs: a bounded wait for a free connection (its
 * waiters wait forever), idle connections closed after idleTimeoutMs (its
 * idle sweep only runs with maxIdle below the limit, and then closes every
 * connection above maxIdle each second), and a password read each time a
 * connection opens (it reads the password once, at pool creation).
 *
 * Failure modes:
 *  - a connection that errors while idle (server restart, wait_timeout,
 *    KILL) leaves the pool at once; the next acquire opens another;
 *  - a connection that errors while leased is marked broken, and
 *    `release` discards it instead of reusing it;
 *  - a caller that waits longer than connectionTimeoutMs, or whose signal
 *    aborts, stops waiting (its place in the queue is given up);
 *  - after `end`, acquire fails and leased connections are closed on release.
 */
import type { MysqlConnection } from './config.js';

interface Entry {
  readonly connection: MysqlConnection;
  state: 'idle' | 'leased' | 'gone';
  broken: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

interface Waiter {
  resolve(connection: MysqlConnection): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
  signal: AbortSignal | undefined;
}

export class PoolTimeoutError extends Error {
  readonly code = 'POOL_TIMEOUT';
  constructor(ms: number) {
    super(`no connection became free within ${ms} ms`);
    this.name = 'PoolTimeoutError';
  }
}

export class PoolClosedError extends Error {
  readonly code = 'POOL_CLOSED';
  constructor() {
    super('the pool is closed');
    this.name = 'PoolClosedError';
  }
}

export class PoolAbortedError extends Error {
  readonly code = 'POOL_ABORTED';
  constructor() {
    super('the call was aborted while waiting for a connection');
    this.name = 'PoolAbortedError';
  }
}

export interface PoolOptions {
  /** Opens and connects one connection (handshake done), or rejects. */
  readonly open: () => Promise<MysqlConnection>;
  readonly max: number;
  readonly idleTimeoutMs: number;
  readonly acquireTimeoutMs: number;
  /** Told when an idle connection dies (the next acquire replaces it). */
  readonly onIdleError?: (error: unknown) => void;
}

export class ConnectionPool {
  readonly #options: PoolOptions;
  readonly #entries = new Map<MysqlConnection, Entry>();
  /** Idle connections, most recently used last (taken LIFO, so the others can time out). */
  readonly #idle: Entry[] = [];
  readonly #waiters: Waiter[] = [];
  /** Connections open or opening. */
  #count = 0;
  #closed = false;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /** Connections open or opening (for tests and health). */
  get size(): number {
    return this.#count;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  /** Connections open and handed to callers now (not idle, not still opening). */
  get leasedCount(): number {
    let leased = 0;
    for (const entry of this.#entries.values()) if (entry.state === 'leased') leased++;
    return leased;
  }

  acquire(signal?: AbortSignal): Promise<MysqlConnection> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    if (signal?.aborted) return Promise.reject(new PoolAbortedError());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined, onAbort: undefined, signal };
      waiter.timer = setTimeout(() => {
        this.#forget(waiter);
        reject(new PoolTimeoutError(this.#options.acquireTimeoutMs));
      }, this.#options.acquireTimeoutMs);
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#forget(waiter);
          reject(new PoolAbortedError());
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
      this.#dispatch();
    });
  }

  /** Gives a connection back: reused if healthy, closed if broken or the pool ended. */
  release(connection: MysqlConnection): void {
    const entry = this.#entries.get(connection);
    if (entry === undefined || entry.state !== 'leased') return;
    if (entry.broken || this.#closed) {
      this.discard(connection);
      return;
    }
    entry.state = 'idle';
    entry.idleTimer = setTimeout(() => this.#expire(entry), this.#options.idleTimeoutMs);
    entry.idleTimer.unref();
    this.#idle.push(entry);
    this.#dispatch();
  }

  /**
   * Closes a connection at once and frees its slot. The socket is destroyed,
   * not ended: a server blocked writing a result to it notices only then.
   */
  discard(connection: MysqlConnection): void {
    const entry = this.#entries.get(connection);
    if (entry === undefined || entry.state === 'gone') return;
    this.#remove(entry);
    destroyConnection(connection);
    this.#dispatch();
  }

  /** Rejects waiters, closes idle connections (COM_QUIT); leased ones close on release. */
  async end(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      this.#settle(waiter);
      waiter.reject(new PoolClosedError());
    }
    const idle = this.#idle.splice(0);
    await Promise.all(
      idle.map((entry) => {
        this.#remove(entry);
        return quit(entry.connection);
      }),
    );
  }

  #dispatch(): void {
    while (this.#waiters.length > 0) {
      const entry = this.#idle.pop();
      if (entry !== undefined) {
        clearTimeout(entry.idleTimer);
        entry.idleTimer = undefined;
        entry.state = 'leased';
        const waiter = this.#waiters.shift() as Waiter;
        this.#settle(waiter);
        waiter.resolve(entry.connection);
        continue;
      }
      if (this.#count >= this.#options.max) return;
      const waiter = this.#waiters.shift() as Waiter;
      this.#count++;
      this.#open(waiter);
    }
  }

  /** Opens a connection for one waiter; a failure is that waiter's (the next waiter tries again). */
  #open(waiter: Waiter): void {
    this.#options.open().then(
      (connection) => {
        const entry: Entry = { connection, state: 'leased', broken: false, idleTimer: undefined };
        this.#entries.set(connection, entry);
        connection.on('error', (error: unknown) => {
          if (entry.state === 'idle') {
            this.#remove(entry);
            destroyConnection(connection);
            this.#options.onIdleError?.(error);
            this.#dispatch();
          } else if (entry.state === 'leased') {
            entry.broken = true;
          }
        });
        connection.on('end', () => {
          if (entry.state === 'leased') entry.broken = true;
          else if (entry.state === 'idle') {
            this.#remove(entry);
            this.#dispatch();
          }
        });
        if (this.#closed) {
          this.discard(connection);
          this.#settle(waiter);
          waiter.reject(new PoolClosedError());
          return;
        }
        if (!this.#settle(waiter)) {
          // The waiter gave up while the connection opened: keep it for the next one.
          this.release(connection);
          return;
        }
        waiter.resolve(connection);
      },
      (error: unknown) => {
        this.#count--;
        if (this.#settle(waiter)) waiter.reject(error);
        this.#dispatch();
      },
    );
  }

  #expire(entry: Entry): void {
    if (entry.state !== 'idle') return;
    const at = this.#idle.indexOf(entry);
    if (at >= 0) this.#idle.splice(at, 1);
    this.#remove(entry);
    void quit(entry.connection);
  }

  #remove(entry: Entry): void {
    if (entry.state === 'gone') return;
    if (entry.state === 'idle') {
      const at = this.#idle.indexOf(entry);
      if (at >= 0) this.#idle.splice(at, 1);
    }
    clearTimeout(entry.idleTimer);
    entry.state = 'gone';
    this.#entries.delete(entry.connection);
    this.#count--;
  }

  /** Stops a waiter's timer and abort listener; false when it already gave up. */
  #settle(waiter: Waiter): boolean {
    const live = waiter.timer !== undefined;
    clearTimeout(waiter.timer);
    waiter.timer = undefined;
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.onAbort = undefined;
    return live;
  }

  #forget(waiter: Waiter): void {
    this.#settle(waiter);
    const at = this.#waiters.indexOf(waiter);
    if (at >= 0) this.#waiters.splice(at, 1);
  }
}

/** Closes the socket now (mysql2's destroy only half-closes it). Never throws. */
export function destroyConnection(connection: MysqlConnection): void {
  try {
    connection.destroy();
  } catch {}
  try {
    connection.stream?.destroy();
  } catch {}
}

/** COM_QUIT, bounded: a connection that does not answer within a second is destroyed. */
function quit(connection: MysqlConnection): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      destroyConnection(connection);
      resolve();
    }, 1000);
    timer.unref();
    try {
      connection.end(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      destroyConnection(connection);
      resolve();
    }
  });
}
