/**
 * The connection pool of a source, the same for every engine (moved from
 * adapter-mysql; PostgreSQL no longer uses pg-pool, see docs/architecture.md,
 * "The adapter kit"). It does what the drivers' own pools do not all do:
 *  - a bounded wait for a free connection (mysql2's waiters wait forever),
 *    which an AbortSignal also ends (pg-pool's queue ignores one);
 *  - a bounded opening: a connection that does not open, session set-up
 *    included, within `openTimeoutMs` is given up and its slot freed (a
 *    server that accepts and never answers cannot hold a slot);
 *  - idle connections closed after idleTimeoutMs;
 *  - the driver's `open` called for each new connection (a password read
 *    each time a connection opens);
 *  - one rule for "busy": `leasedCount` counts the connections calls hold,
 *    not those still opening (SOURCE_BUSY is answered only when calls hold
 *    every connection; slots held by connections that cannot open are an
 *    outage);
 *  - one listener discipline: the driver reports a connection lost from its
 *    creation on (`lost`), and the pool acts on it whatever the state.
 *
 * Failure modes:
 *  - a connection lost while idle (server restart, wait_timeout, KILL)
 *    leaves the pool at once; the next acquire opens another;
 *  - a connection lost while leased is marked broken, and `release`
 *    discards it instead of reusing it;
 *  - a caller that waits longer than acquireTimeoutMs, or whose signal
 *    aborts, stops waiting (its place in the queue is given up; a
 *    connection opening for it is kept for the next caller);
 *  - after `end`, acquire fails and leased connections are closed on release.
 */

/** What the pool needs of a connection. */
export interface PoolResource {
  /** Closes the socket now. Never throws. */
  destroy(): void;
  /** Closes politely (the server is told); the pool destroys it after a second. */
  close(): Promise<void>;
}

interface Entry<C> {
  readonly connection: C;
  state: 'idle' | 'leased' | 'gone';
  broken: boolean;
  /** Why a leased connection was lost, kept to tell the operator when it comes back unused by a failure. */
  lostError: unknown;
  idleTimer: NodeJS.Timeout | undefined;
}

interface Waiter<C> {
  resolve(connection: C): void;
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

/** Opening a connection took longer than the pool allows (a connection error: ETIMEDOUT). */
export class OpenTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`the connection did not open within ${ms} ms`);
    this.name = 'OpenTimeoutError';
  }
}

export interface PoolOptions<C extends PoolResource> {
  /**
   * Opens one connection (handshake and session set-up done), or rejects.
   * `lost` must be called when the connection fails or ends by itself, at
   * any time; `signal` aborts when opening took too long.
   */
  readonly open: (lost: (error: unknown) => void, signal: AbortSignal) => Promise<C>;
  readonly max: number;
  readonly idleTimeoutMs: number;
  readonly acquireTimeoutMs: number;
  /** How long one connection may take to open, session set-up included. */
  readonly openTimeoutMs: number;
  /**
   * Told when a connection is lost with an error between calls: while idle,
   * or while leased to a call that then gives it back as healthy (`release`,
   * not `discard`: the call did not fail on it). The next acquire replaces it.
   */
  readonly onIdleError?: (error: unknown) => void;
}

export class ConnectionPool<C extends PoolResource> {
  readonly #options: PoolOptions<C>;
  readonly #entries = new Map<C, Entry<C>>();
  /** Idle connections, most recently used last (taken LIFO, so the others can time out). */
  readonly #idle: Entry<C>[] = [];
  readonly #waiters: Waiter<C>[] = [];
  /** Connections open or opening. */
  #count = 0;
  #closed = false;

  constructor(options: PoolOptions<C>) {
    this.#options = options;
  }

  /** Connections open or opening. */
  get size(): number {
    return this.#count;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  get max(): number {
    return this.#options.max;
  }

  /** Connections open and handed to callers now (not idle, not still opening). */
  get leasedCount(): number {
    let leased = 0;
    for (const entry of this.#entries.values()) if (entry.state === 'leased') leased++;
    return leased;
  }

  acquire(signal?: AbortSignal): Promise<C> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    if (signal?.aborted) return Promise.reject(new PoolAbortedError());
    return new Promise((resolve, reject) => {
      const waiter: Waiter<C> = { resolve, reject, timer: undefined, onAbort: undefined, signal };
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
  release(connection: C): void {
    const entry = this.#entries.get(connection);
    if (entry === undefined || entry.state !== 'leased') return;
    if (entry.broken || this.#closed) {
      this.discard(connection);
      // The call succeeded and the connection died after it: nobody else will say so.
      if (entry.broken && entry.lostError !== undefined)
        this.#options.onIdleError?.(entry.lostError);
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
  discard(connection: C): void {
    const entry = this.#entries.get(connection);
    if (entry === undefined || entry.state === 'gone') return;
    this.#remove(entry);
    destroy(connection);
    this.#dispatch();
  }

  /** Rejects waiters, closes idle connections; leased ones close on release. */
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
        const waiter = this.#waiters.shift() as Waiter<C>;
        this.#settle(waiter);
        waiter.resolve(entry.connection);
        continue;
      }
      if (this.#count >= this.#options.max) return;
      const waiter = this.#waiters.shift() as Waiter<C>;
      this.#count++;
      this.#open(waiter);
    }
  }

  /** Opens a connection for one waiter; a failure is that waiter's (the next waiter tries again). */
  #open(waiter: Waiter<C>): void {
    // The entry's state exists before the connection does: `lost` may come at any time.
    let entry: Entry<C> | undefined;
    let lostEarly = false;
    let earlyError: unknown;
    const lost = (error: unknown) => {
      if (entry === undefined) {
        lostEarly = true;
        earlyError ??= error;
        return;
      }
      if (entry.state === 'idle') {
        this.#remove(entry);
        destroy(entry.connection);
        if (error !== undefined) this.#options.onIdleError?.(error);
        this.#dispatch();
      } else if (entry.state === 'leased') {
        entry.broken = true;
        entry.lostError ??= error;
      }
    };
    openBounded(this.#options, lost).then(
      (connection) => {
        entry = {
          connection,
          state: 'leased',
          broken: lostEarly,
          lostError: earlyError,
          idleTimer: undefined,
        };
        this.#entries.set(connection, entry);
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

  #expire(entry: Entry<C>): void {
    if (entry.state !== 'idle') return;
    this.#remove(entry);
    void quit(entry.connection);
    this.#dispatch();
  }

  #remove(entry: Entry<C>): void {
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
  #settle(waiter: Waiter<C>): boolean {
    const live = waiter.timer !== undefined;
    clearTimeout(waiter.timer);
    waiter.timer = undefined;
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.onAbort = undefined;
    return live;
  }

  #forget(waiter: Waiter<C>): void {
    this.#settle(waiter);
    const at = this.#waiters.indexOf(waiter);
    if (at >= 0) this.#waiters.splice(at, 1);
  }
}

/**
 * `open`, bounded by `openTimeoutMs`: past it the driver is told (its
 * signal aborts) and the opening fails; a connection that still arrives
 * later is destroyed.
 */
function openBounded<C extends PoolResource>(
  options: PoolOptions<C>,
  lost: (error: unknown) => void,
): Promise<C> {
  const controller = new AbortController();
  return new Promise<C>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      controller.abort();
      reject(new OpenTimeoutError(options.openTimeoutMs));
    }, options.openTimeoutMs);
    let opening: Promise<C>;
    try {
      opening = options.open(lost, controller.signal);
    } catch (error) {
      clearTimeout(timer);
      reject(error);
      return;
    }
    opening.then(
      (connection) => {
        clearTimeout(timer);
        if (late) destroy(connection);
        else resolve(connection);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function destroy(connection: PoolResource): void {
  try {
    connection.destroy();
  } catch {}
}

/** A polite close, bounded: a connection that does not answer within a second is destroyed. */
function quit(connection: PoolResource): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      destroy(connection);
      resolve();
    }, 1000);
    timer.unref();
    let closing: Promise<void>;
    try {
      closing = connection.close();
    } catch {
      clearTimeout(timer);
      destroy(connection);
      resolve();
      return;
    }
    closing.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        destroy(connection);
        resolve();
      },
    );
  });
}
