/**
 * MySQL and MariaDB errors to sqlwarden codes. A server message can quote
 * values ("Duplicate entry '4111-1111-...' for key ..."), file paths and
 * parts of the statement, and mysql2 hangs the statement text on the
 * error (`sql`); none of it crosses to the client. Messages here are
 * written from the errno (and SQLSTATE class), with at most an identifier
 * the server named (the missing table or column, a key or constraint
 * name), bounded and filtered. The driver error is kept as `cause` for the
 * operator log, whose serializer keeps its code, errno and SQLSTATE only.
 */
import { databaseUnavailable, isTlsFailure, SqlwardenError } from '@sqlwarden/core';

/** Why the adapter itself stopped a statement, if it did. */
export type StopReason = 'timeout' | 'abort' | null;

/** Node's socket errors and mysql2's own codes for a connection that is gone or never came. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_PACKETS_OUT_OF_ORDER',
  'HANDSHAKE_SSL_ERROR',
]);

/** Server errnos that mean the source cannot be used now: it is down, full, or refuses the account. */
const UNAVAILABLE_ERRNOS = new Set([
  1040, // too many connections
  1045, // access denied for user (wrong password, no such account)
  1049, // unknown database
  1053, // server shutdown in progress
  1129, // host blocked after connection errors
  1130, // host not allowed to connect
  1203, // the account's max_user_connections
  1226, // the account's resource limits (max_questions...)
  1251, // client does not support the authentication protocol
  1461, // max_prepared_stmt_count reached (shared by every client)
  1698, // access denied (MariaDB, unix_socket and friends)
  1927, // MariaDB: connection was killed
  2002, // (libmysql) cannot connect
  2003, // (libmysql) cannot connect
  2006, // server has gone away
  2013, // lost connection during query
  4031, // MySQL: disconnected by the server for inactivity
]);

const DATA_ERRNOS = new Set([1264, 1265, 1292, 1366, 1367, 1406, 1365, 1690, 3140, 4038]);
const CONSTRAINT_ERRNOS = new Set([
  1022, 1048, 1062, 1216, 1217, 1364, 1451, 1452, 1557, 1586, 3819, 4025,
]);
const FORBIDDEN_ERRNOS = new Set([1044, 1142, 1143, 1227, 1370]);

function field(error: unknown, name: string): unknown {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as Record<string, unknown>)[name];
}

function textField(error: unknown, name: string): string | undefined {
  const value = field(error, name);
  return typeof value === 'string' ? value : undefined;
}

/** The server's errno (positive); Node's socket errors carry a negative errno and are not it. */
function errnoOf(error: unknown): number | undefined {
  const value = field(error, 'errno');
  return typeof value === 'number' && value > 0 ? value : undefined;
}

const NAME = /^[\p{L}\p{N}_$. -]{1,129}$/u;

/** An identifier the server quoted, if it looks like one (never a value). */
function safeName(candidate: string | undefined): string | undefined {
  return candidate !== undefined && NAME.test(candidate) ? candidate : undefined;
}

/** The first '...'-quoted identifier of a server message: the object the agent named. */
function quotedName(message: string | undefined): string | undefined {
  return safeName(message === undefined ? undefined : /'([^']{1,129})'/u.exec(message)?.[1]);
}

/** The key of "Duplicate entry '...' for key 'k'" (the last quoted name: the entry holds the value). */
function keyName(message: string | undefined): string | undefined {
  return safeName(
    message === undefined ? undefined : /for key '([^']{1,129})'$/u.exec(message)?.[1],
  );
}

/** The constraint of a foreign key or CHECK message: CONSTRAINT `fk` ... or constraint 'c'. */
function constraintName(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  const match =
    /CONSTRAINT `([^`]{1,64})`/u.exec(message) ?? /[Cc]onstraint '([^']{1,64})'/u.exec(message);
  return safeName(match?.[1]);
}

export function isConnectionError(error: unknown): boolean {
  if (isTlsFailure(error)) return true;
  const code = textField(error, 'code');
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  const errno = errnoOf(error);
  if (errno !== undefined && UNAVAILABLE_ERRNOS.has(errno)) return true;
  // mysql2 marks an error fatal when the connection cannot be used any more
  // (socket errors, protocol errors, "Can't add new command when connection is in closed state").
  return field(error, 'fatal') === true;
}

export function mapMysqlError(
  error: unknown,
  stopped: StopReason,
  timeoutMs: number,
): SqlwardenError {
  if (SqlwardenError.is(error)) return error;
  if (stopped === 'abort') {
    return new SqlwardenError(
      'QUERY_CANCELLED',
      'The call was cancelled; the statement was stopped on the server (KILL QUERY).',
      { cause: error },
    );
  }
  const errno = errnoOf(error);
  if (stopped === 'timeout' || errno === 1969 || errno === 3024) {
    return new SqlwardenError(
      'QUERY_TIMEOUT',
      `The statement ran past its time limit of ${timeoutMs} ms and was stopped on the server; narrow it (a WHERE clause, fewer joins, a LIMIT).`,
      { cause: error },
    );
  }
  if (isConnectionError(error)) return databaseUnavailable(error);
  const message = textField(error, 'sqlMessage') ?? textField(error, 'message');
  const failed = (text: string) => new SqlwardenError('QUERY_FAILED', text, { cause: error });
  switch (errno) {
    case 1317:
      // Interrupted, and not by this adapter (an operator's KILL QUERY, a server limit).
      return new SqlwardenError(
        'QUERY_CANCELLED',
        'The statement was interrupted on the server; try again.',
        { cause: error },
      );
    case 1792:
    case 1836:
      return new SqlwardenError(
        'READ_ONLY',
        'The statement tried to write; reads run in read-only transactions.',
        { cause: error },
      );
    case 1146: {
      const name = quotedName(message);
      return new SqlwardenError(
        'NOT_FOUND',
        `A table the statement names does not exist${name ? `: ${name}` : ''}; check it with list_tables.`,
        { cause: error },
      );
    }
    case 1054: {
      const name = quotedName(message);
      return failed(
        `A column the statement names does not exist${name ? `: ${name}` : ''}; check it with describe_table.`,
      );
    }
    case 1064:
    case 1149:
      return failed('The database could not parse the statement; check its syntax.');
    case 1210:
      return failed('The parameters do not match the statement: give one value for each ?.');
    case 1305:
    case 1630:
      return failed('A function the statement calls does not exist; check its name.');
    case 1582:
    case 1583:
      return failed('A function is called with the wrong number or kind of arguments.');
    case 1295:
      return failed('This kind of statement cannot run as a prepared statement.');
    case 1312:
      return failed('A procedure that returns rows cannot be called here.');
    case 1178:
    case 1235:
      return failed('The statement uses a feature this database does not support.');
    case 1205:
      return failed(
        'The statement waited too long for a lock held by another transaction; try again.',
      );
    case 1213:
      return failed(
        'The transaction was rolled back by the database to break a deadlock; try again.',
      );
    case 1062:
    case 1586: {
      const key = keyName(message);
      return failed(`The statement would duplicate a unique key${key ? ` (${key})` : ''}.`);
    }
    default:
      break;
  }
  if (errno !== undefined && FORBIDDEN_ERRNOS.has(errno)) {
    return new SqlwardenError(
      'FORBIDDEN',
      'The database account of this source may not use an object the statement needs.',
      { cause: error },
    );
  }
  if (errno !== undefined && CONSTRAINT_ERRNOS.has(errno)) {
    const name = constraintName(message);
    return failed(`The statement breaks a constraint${name ? ` (${name})` : ''} (errno ${errno}).`);
  }
  const sqlState = textField(error, 'sqlState');
  const state = sqlState !== undefined && /^[0-9A-Z]{5}$/.test(sqlState) ? sqlState : undefined;
  if (errno !== undefined && (DATA_ERRNOS.has(errno) || state?.startsWith('22'))) {
    return failed(`A value does not fit its type or is out of range (errno ${errno}).`);
  }
  if (errno !== undefined && state?.startsWith('23')) {
    return failed(`The statement breaks a constraint (errno ${errno}).`);
  }
  if (errno !== undefined && state?.startsWith('40')) {
    return failed(`The transaction was rolled back by the database (errno ${errno}); try again.`);
  }
  if (errno !== undefined) {
    return failed(
      `The database refused the statement (errno ${errno}${state ? `, SQLSTATE ${state}` : ''}).`,
    );
  }
  return new SqlwardenError('INTERNAL', 'The database adapter failed unexpectedly.', {
    cause: error,
  });
}
