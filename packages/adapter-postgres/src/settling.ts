/**
 * What every node-postgres "Submittable" of this adapter shares (the
 * bounded read, read.ts; our own statements, session.ts): a promise that
 * settles once, on the ReadyForQuery that ends the batch or on the error
 * that ends it (pg detaches the query on an ErrorResponse, so its
 * ReadyForQuery goes nowhere, and on connection errors: settle there), and
 * the messages a batch of ours never expects. COPY never runs: the guard
 * refuses it, and should one arrive it is never fed.
 */
import type { PgConnection } from './config.js';

export abstract class SettlingSubmittable {
  readonly done: Promise<void>;
  #resolve!: () => void;
  #reject!: (error: unknown) => void;
  #settled = false;

  constructor() {
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The caller always awaits `done`; this keeps an early rejection from being reported as unhandled.
    this.done.catch(() => {});
  }

  /** Whether `done` has settled. */
  protected get settled(): boolean {
    return this.#settled;
  }

  handleCommandComplete(): void {}

  handleEmptyQuery(): void {}

  handleCopyInResponse(connection: PgConnection): void {
    connection.sendCopyFail('COPY is not allowed');
  }

  handleCopyData(): void {}

  handleError(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }

  handleReadyForQuery(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve();
  }
}
