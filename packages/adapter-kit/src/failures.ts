/**
 * What every database adapter must say the same way, so that a client or an
 * operator cannot tell the adapters apart by their words: the unavailable
 * or busy source, a statement stopped by its time limit or its caller, a
 * write over its ceiling or of unknown outcome, a parameter the protocol
 * cannot carry; and the order in which a driver's error is read
 * (`mapDriverError`).
 */
import { ERROR_CODES, SqlwardenError } from '@sqlwarden/core';
import type { ErrorContext, ErrorMapper } from './dialect.js';

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

/** The statement ran past its time limit and was stopped on the server (by its own limit or the kit's deadline). */
export function queryTimeout(timeoutMs: number, cause: unknown): SqlwardenError {
  return new SqlwardenError(
    'QUERY_TIMEOUT',
    `The statement ran past its time limit of ${timeoutMs} ms and was stopped on the server; narrow it (a WHERE clause, fewer joins, a LIMIT).`,
    { cause },
  );
}

/** The caller cancelled the call; the statement was stopped on the server. */
export function queryCancelled(cause: unknown): SqlwardenError {
  return new SqlwardenError(
    'QUERY_CANCELLED',
    'The call was cancelled; the statement was stopped on the server.',
    { cause },
  );
}

/** The call was cancelled while it waited for a connection: nothing ran. */
export function cancelledBeforeRun(cause: unknown): SqlwardenError {
  return new SqlwardenError('QUERY_CANCELLED', 'The call was cancelled before it ran.', { cause });
}

/** A parameter the driver cannot carry (the driver's TypeError says which): nothing ran. */
export function invalidParameter(cause: unknown): SqlwardenError {
  const reason = cause instanceof TypeError ? cause.message : 'a parameter of an unsupported type';
  return new SqlwardenError('INVALID_INPUT', `Invalid parameter: ${reason}.`, { cause });
}

/** A write to a source whose configuration does not allow writes: nothing reached the database. */
export function sourceReadOnly(): SqlwardenError {
  return new SqlwardenError(
    'READ_ONLY',
    'This source is read-only; writes are not enabled for it.',
  );
}

/**
 * A call with a database identity on an engine that cannot apply one per
 * call: refused before anything reaches the database.
 */
export function identityUnsupported(dialect: string): SqlwardenError {
  return new SqlwardenError(
    'FORBIDDEN',
    `This ${dialect} source cannot run a call under a database identity (principals.<id>.database), so the call was refused rather than run as the source's own user; an operator must remove the identity or give it in the form this engine takes (docs/governance.md).`,
  );
}

/** A call after close(). */
export function sourceClosed(): SqlwardenError {
  return new SqlwardenError('DB_UNAVAILABLE', 'The source is closed.');
}

/** Node's socket error codes for a connection that is gone or never came. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** A field of an error object, as a string (undefined when absent or not text). */
export function errorText(error: unknown, name: string): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** Whether the error is Node's for a lost or refused socket, or a failed TLS handshake. */
export function isNetworkError(error: unknown): boolean {
  if (isTlsFailure(error)) return true;
  const code = errorText(error, 'code');
  return code !== undefined && NETWORK_ERROR_CODES.has(code);
}

/**
 * Reads a driver's error in the one order every adapter follows: an error
 * of sqlwarden's own passes as it is; a stop of the kit's (the caller's
 * abort, the deadline) says so, whatever the driver made of it; a lost
 * connection is DB_UNAVAILABLE; anything else is the server's refusal of
 * the statement, which the engine's mapper words.
 */
export function mapDriverError(
  mapper: ErrorMapper,
  error: unknown,
  context: ErrorContext,
): SqlwardenError {
  if (SqlwardenError.is(error)) return error;
  if (context.stopped === 'abort') return queryCancelled(error);
  if (context.stopped === 'timeout') return queryTimeout(context.timeoutMs, error);
  if (mapper.isConnectionError(error)) return databaseUnavailable(error);
  return mapper.map(error, context);
}
