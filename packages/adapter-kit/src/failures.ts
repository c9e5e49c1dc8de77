/**
 * What every database adapter must say the same way, so that a client or an
 * operator cannot tell the adapters apart by their words: the unavailable
 * database, the write over its ceiling, and the operator's outage log.
 */
import { ERROR_CODES, type OperatorLogger, SqlwardenError, serializeError } from '@sqlwarden/core';

/** A lost or refused connection, whatever the driver said (its error stays the cause, never sent). */
export function databaseUnavailable(cause: unknown): SqlwardenError {
  return new SqlwardenError('DB_UNAVAILABLE', 'The database is unavailable; try again shortly.', {
    cause,
  });
}

/**
 * A TLS handshake that failed: a certificate that could not be verified, a
 * host name it does not name, a server without TLS. Node's TLS and OpenSSL
 * codes, and node-postgres's message for a server that refused TLS. The
 * source cannot be reached as configured: DB_UNAVAILABLE, never INTERNAL.
 */
export function isTlsFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT|HOSTNAME_MISMATCH|HANDSHAKE_)/.test(
      code,
    )
  ) {
    return true;
  }
  const message = error instanceof Error ? error.message : '';
  return message === 'The server does not support SSL connections';
}

/**
 * Every connection of a source stayed busy for as long as a call may wait
 * for one: the database is healthy (never DB_UNAVAILABLE, never an outage
 * for the operator), the call did not run, and it can be sent again.
 */
export function sourceBusy(connections: number, retryAfterMs: number): SqlwardenError {
  return new SqlwardenError(
    'SOURCE_BUSY',
    `Every connection of this source (${connections}) is busy with other calls; the call did not run. Try again in ${retryAfterMs} ms.`,
    { retryAfterMs },
  );
}

/** A write that changed more rows than its ceiling; the adapter has rolled it back. */
export function writeLimitExceeded(affectedRows: number, limit: number): SqlwardenError {
  return new SqlwardenError(
    'WRITE_LIMIT_EXCEEDED',
    `The statement would change ${affectedRows} rows, more than the limit of ${limit}; nothing was changed. Narrow the WHERE clause.`,
  );
}

/**
 * A write whose COMMIT was sent and whose answer never came: the
 * connection was lost, or the database stopped answering, after the
 * server may have committed. Never DB_UNAVAILABLE (retryable): a client
 * that retried would repeat a write that may be applied already.
 */
export function outcomeUnknown(cause: unknown): SqlwardenError {
  return new SqlwardenError('OUTCOME_UNKNOWN', ERROR_CODES.OUTCOME_UNKNOWN.meaning, { cause });
}

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
