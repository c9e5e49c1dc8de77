/**
 * The supervision of one call on one connection, from checkout to release:
 * its deadline and its abort signal (MCP cancellation).
 *
 * The server's own statement time limit normally stops a statement first
 * (the session carries it: PostgreSQL's statement_timeout, MariaDB's
 * max_statement_time), and the connection stays usable. The kit keeps its
 * own deadline DEADLINE_SLACK_MS past the call's limit, for what the
 * server's limit does not cover: a statement that lifted it, a server or a
 * network that stopped answering, and every await that is not a statement
 * (the session's time limit, BEGIN, COMMIT, a type look-up, a catalog
 * query). Either the deadline or the signal stops the call:
 *
 *  1. the driver cancels what runs, on the server (`DriverConnection.cancel`),
 *     again every CANCEL_REPEAT_MS while nothing settles, and the call starts
 *     no statement after the stop (`guard`);
 *  2. what the call awaits then settles once the server answered the
 *     cancel, and the call fails with QUERY_TIMEOUT or QUERY_CANCELLED;
 *  3. when the server did not answer (the cancel could not be delivered, or
 *     nothing settled within CANCEL_GRACE_MS), the connection is destroyed
 *     and `guard` rejects whatever the call still awaits: `unanswered` is
 *     set, and a timeout becomes an outage (DB_UNAVAILABLE), since
 *     narrowing the statement would not help.
 *
 * So every await of a call is bounded by its time limit + DEADLINE_SLACK_MS
 * + CANCEL_GRACE_MS, whatever the driver does. A stopped call's connection
 * is never reused (a late cancel must never hit the next statement on it).
 *
 * Once a write's COMMIT is sent (`committing`), the signal no longer stops
 * the call: a COMMIT cannot be taken back, and its answer is awaited,
 * under the deadline only.
 */
import type { StopReason } from './dialect.js';

/** How long past its time limit a statement may run before the kit cancels it itself. */
export const DEADLINE_SLACK_MS = 250;
/** How long a cancelled statement may take to stop before its connection is destroyed. */
export const CANCEL_GRACE_MS = 2000;
/**
 * How often the cancel is sent again while nothing settles. A cancel that
 * reaches the server while it reads the statement's messages is ignored
 * (PostgreSQL drops a cancel that arrives between messages; MariaDB's KILL
 * QUERY between statements), so a statement sent just before the stop can
 * start after its cancel and run on to the server's time limit.
 */
export const CANCEL_REPEAT_MS = 250;

export interface CallOptions {
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;
  /** Cancels on the server; resolves to whether the server answered (never rejects). */
  readonly cancel: () => Promise<boolean>;
  /** Destroys the connection now. */
  readonly destroy: () => void;
}

export class CallSupervisor {
  /** What stopped the call, if anything did. */
  reason: StopReason = null;
  /** The server did not answer the cancel: the connection was destroyed. */
  unanswered = false;
  readonly #failed: Promise<never>;
  #fail!: (error: Error) => void;
  readonly #deadline: NodeJS.Timeout;
  #grace: NodeJS.Timeout | undefined;
  #repeat: NodeJS.Timeout | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: () => void;
  readonly #options: CallOptions;
  #disposed = false;

  constructor(options: CallOptions) {
    this.#options = options;
    this.#failed = new Promise<never>((_resolve, reject) => {
      this.#fail = reject;
    });
    this.#failed.catch(() => {});
    this.#signal = options.signal;
    this.#onAbort = () => this.#stop('abort');
    this.#deadline = setTimeout(() => this.#stop('timeout'), options.timeoutMs + DEADLINE_SLACK_MS);
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (this.#signal?.aborted === true) this.#stop('abort');
  }

  #stop(reason: 'timeout' | 'abort'): void {
    if (this.reason !== null || this.#disposed) return;
    this.reason = reason;
    this.#grace = setTimeout(() => this.#giveUp(true), CANCEL_GRACE_MS);
    this.#repeat = setInterval(() => this.#cancelAgain(), CANCEL_REPEAT_MS);
    void this.#options.cancel().then(
      (answered) => {
        if (!answered) this.#giveUp(false);
      },
      () => this.#giveUp(false),
    );
  }

  #cancelAgain(): void {
    if (this.unanswered || this.#disposed) return;
    void this.#options.cancel().catch(() => false);
  }

  /**
   * Nothing answered the cancel: the connection goes, and the call ends now.
   * `again`: the cancel was delivered but nothing settled within the grace:
   * it is sent a last time before the connection goes (a statement left
   * running on a connection nobody reads any more would run on to the
   * server's time limit).
   */
  #giveUp(again: boolean): void {
    if (this.unanswered || this.#disposed) return;
    if (again) this.#cancelAgain();
    this.unanswered = true;
    clearTimeout(this.#grace);
    clearInterval(this.#repeat);
    try {
      this.#options.destroy();
    } finally {
      this.#fail(new Error('the database did not answer a cancel'));
    }
  }

  /**
   * Starts `start` (one statement or round trip of the call) unless the call
   * was already stopped, and races it against the stop. A stopped call
   * starts nothing more: its cancel went to whatever ran then (or to an
   * idle session, where the server ignores it), so a statement sent after
   * it would run unstopped.
   */
  guard<T>(start: () => Promise<T>): Promise<T> {
    if (this.reason !== null) {
      return Promise.reject(
        new Error(`the call was stopped (${this.reason}) before this statement`),
      );
    }
    return Promise.race([start(), this.#failed]);
  }

  /** Throws if the call was stopped (before a step that may not be undone, like a COMMIT). */
  assertRunning(): void {
    if (this.reason !== null) {
      throw new Error(`the call was stopped (${this.reason}) before this statement`);
    }
  }

  /** A write's COMMIT was sent: from now on only the deadline stops the call. */
  committing(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#deadline);
    clearTimeout(this.#grace);
    clearInterval(this.#repeat);
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}
