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
 *  1. the driver cancels what runs, on the server (`DriverConnection.cancel`);
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
    this.#grace = setTimeout(() => this.#giveUp(), CANCEL_GRACE_MS);
    void this.#options.cancel().then(
      (answered) => {
        if (!answered) this.#giveUp();
      },
      () => this.#giveUp(),
    );
  }

  /** Nothing answered the cancel: the connection goes, and the call ends now. */
  #giveUp(): void {
    if (this.unanswered || this.#disposed) return;
    this.unanswered = true;
    clearTimeout(this.#grace);
    try {
      this.#options.destroy();
    } finally {
      this.#fail(new Error('the database did not answer a cancel'));
    }
  }

  /** `work`, or a rejection once the call was stopped and nothing answered. */
  guard<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#failed]);
  }

  /** A write's COMMIT was sent: from now on only the deadline stops the call. */
  committing(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#deadline);
    clearTimeout(this.#grace);
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}
