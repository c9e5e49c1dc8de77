/**
 * PostgreSQL errors to sqlwarden codes. A driver error carries the server's
 * message, which can quote values, file paths or parts of the statement;
 * none of it crosses to the client. Messages here are written from the
 * SQLSTATE, with at most an identifier the agent itself wrote (the missing
 * table or column), bounded and filtered. The driver error is kept as
 * `cause` for the operator log, which serialises it without its message.
 */
import { databaseUnavailable, isTlsFailure, SqlwardenError } from '@sqlwarden/core';

/** Why the adapter itself stopped a statement, if it did. */
export type StopReason = 'timeout' | 'abort' | null;

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
]);

const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  'Client was closed',
  'Cannot use a pool after calling end',
];

function field(error: unknown, name: string): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** The first quoted identifier of a server message: the object the agent named. */
function quotedName(message: string | undefined): string | undefined {
  const match = message === undefined ? null : /"([\p{L}\p{N}_$. -]{1,63})"/u.exec(message);
  return match?.[1];
}

export function isConnectionError(error: unknown): boolean {
  if (isTlsFailure(error)) return true;
  const code = field(error, 'code');
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  if (code !== undefined && /^(08|57P0[1-4])/.test(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return CONNECTION_MESSAGES.some((m) => message.startsWith(m));
}

export function mapPostgresError(
  error: unknown,
  stopped: StopReason,
  timeoutMs: number,
): SqlwardenError {
  if (SqlwardenError.is(error)) return error;
  if (stopped === 'abort') {
    return new SqlwardenError(
      'QUERY_CANCELLED',
      'The call was cancelled; the statement was cancelled on the server.',
      { cause: error },
    );
  }
  const code = field(error, 'code');
  if (stopped === 'timeout' || code === '57014') {
    return new SqlwardenError(
      'QUERY_TIMEOUT',
      `The statement ran past its time limit of ${timeoutMs} ms and was cancelled on the server; narrow it (a WHERE clause, fewer joins, a LIMIT).`,
      { cause: error },
    );
  }
  const failed = (text: string) => new SqlwardenError('QUERY_FAILED', text, { cause: error });
  // A protocol violation is class 08 but not a lost connection: it is what the
  // server answers a Bind with the wrong number of parameters.
  if (code === '08P01') {
    return failed('The parameters do not match the statement: give one value for each $n.');
  }
  if (isConnectionError(error)) return databaseUnavailable(error);
  const message = field(error, 'message');
  switch (code) {
    case '25006':
      return new SqlwardenError(
        'READ_ONLY',
        'The statement tried to write; reads run in read-only transactions.',
        { cause: error },
      );
    case '42501':
      return new SqlwardenError(
        'FORBIDDEN',
        'The database role of this source may not use an object the statement needs.',
        { cause: error },
      );
    case '42P01': {
      const name = quotedName(message);
      return new SqlwardenError(
        'NOT_FOUND',
        `A table the statement names does not exist${name ? `: ${name}` : ''}; check it with list_tables.`,
        { cause: error },
      );
    }
    case '42703': {
      const name = quotedName(message);
      const hint = /Perhaps you meant to reference the column "([\p{L}\p{N}_$.]{1,127})"/u.exec(
        field(error, 'hint') ?? '',
      );
      return failed(
        `A column the statement names does not exist${name ? `: ${name}` : ''}${hint ? ` (did you mean ${hint[1]}?)` : ''}; check it with describe_table.`,
      );
    }
    case '42883':
      return failed(
        'A function or operator the statement uses does not exist for these argument types; check names and add casts.',
      );
    case '42601':
      return failed('The database could not parse the statement; check its syntax.');
    case '42P02':
      return failed('The parameters do not match the statement: give one value for each $n.');
    case '42804':
    case '42P18':
      return failed('A value or expression has the wrong type; add a cast.');
    case '0A000':
      return failed('The statement uses a feature this database does not support.');
    case '3D000':
    case '28000':
    case '28P01':
      return databaseUnavailable(error);
    default:
      break;
  }
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) {
    const klass = code.slice(0, 2);
    if (klass === '22')
      return failed(`A value does not fit its type or is out of range (SQLSTATE ${code}).`);
    if (klass === '23') {
      const constraint = field(error, 'constraint');
      return failed(
        `The statement breaks a constraint${constraint ? ` (${constraint.slice(0, 63)})` : ''}.`,
      );
    }
    // 53400: a configured limit of the role or server (temp_file_limit...) that
    // this statement passed; the database is fine.
    if (code === '53400')
      return failed(
        'The statement needed more temporary disk or memory than this source allows; narrow it (a WHERE clause, fewer rows to sort or group).',
      );
    if (klass === '53') return databaseUnavailable(error);
    if (klass === '54')
      return failed(`The statement is too complex for the database (SQLSTATE ${code}).`);
    if (klass === '40')
      return failed(
        `The transaction was rolled back by the database (SQLSTATE ${code}); try again.`,
      );
    return failed(`The database refused the statement (SQLSTATE ${code}).`);
  }
  return new SqlwardenError('INTERNAL', 'The database adapter failed unexpectedly.', {
    cause: error,
  });
}
