/**
 * What the kit tells the operator. Every error goes through core's
 * `serializeError` first: whatever logger an embedder injects, it never
 * receives a driver's message (which can quote SQL and values).
 */
import { type OperatorLogger, serializeError } from '@sqlwarden/core';

/**
 * The operator hears once when a source's database stops answering, with the
 * cause (its SQLSTATE or errno: an expired password reads differently from a
 * refused connection), and once when it answers again. Clients get
 * DB_UNAVAILABLE on every call in between. The error is logged as
 * `serializeError` makes it: the logger never sees the driver's message.
 */
export class OutageLog {
  #available = true;
  readonly #source: string;
  readonly #logger: OperatorLogger | undefined;

  constructor(source: string, logger: OperatorLogger | undefined) {
    this.#source = source;
    this.#logger = logger;
  }

  unavailable(error: unknown): void {
    if (!this.#available) return;
    this.#available = false;
    this.#logger?.warn(
      { source: this.#source, err: serializeError(error) },
      'the database is unavailable; calls fail with DB_UNAVAILABLE until it answers',
    );
  }

  answered(): void {
    if (this.#available) return;
    this.#available = true;
    this.#logger?.info({ source: this.#source }, 'the database answers again');
  }
}

/** One warning about a source, with the error that caused it (serialized). */
export function warnOperator(
  logger: OperatorLogger | undefined,
  source: string,
  message: string,
  error?: unknown,
): void {
  logger?.warn(error === undefined ? { source } : { source, err: serializeError(error) }, message);
}
