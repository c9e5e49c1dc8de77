/**
 * What sqlwarden code tells its operator, and the one way an error enters
 * an operator log.
 *
 * A driver's error message quotes what the server was looking at: SQL
 * text, parameter values, stored values, the account, file paths. Whatever
 * logger an embedder injects (pino with or without serializers, a test
 * recorder, a plain console wrapper), it must never receive one. So an
 * error is turned into message-free fields before it is handed to a
 * logger, by `serializeError`, and nowhere else: `@sqlwarden/security`'s
 * pino serializers and every adapter (through `@sqlwarden/adapter-kit`)
 * call this same function.
 */

/**
 * The operator logger port: a structural subset of pino. Objects carry
 * fields written by sqlwarden code (ids, counts, codes) and errors only as
 * `serializeError` made them; never SQL text, parameter values, credentials
 * or an error's message.
 */
export interface OperatorLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

/** An error as an operator log holds it: what identifies the failure, nothing it said. */
export interface SerializedError {
  /** The class (`DatabaseError`, `Error`), or `typeof` of a thrown non-object. */
  readonly type: string;
  /** The driver's or Node's code: a SQLSTATE, `ECONNRESET`, `ER_BAD_DB_ERROR`. */
  readonly code?: string | number;
  /** MySQL's error number, or Node's negative errno. */
  readonly errno?: string | number;
  readonly sqlState?: string | number;
  readonly severity?: string | number;
  readonly routine?: string | number;
  readonly syscall?: string | number;
  /** The stack frames (`at ...` lines), never the message line above them. */
  readonly stack?: string;
  readonly cause?: SerializedError;
}

/** Error fields that identify a failure without quoting SQL or values. */
const SAFE_ERROR_FIELDS = ['code', 'errno', 'sqlState', 'severity', 'routine', 'syscall'] as const;
/** Longer values are not identifiers: they are dropped, not cut. */
const MAX_FIELD_LENGTH = 64;
const MAX_FRAMES = 15;
/** How deep a chain of causes is followed (a cycle ends here too). */
const MAX_CAUSES = 5;
/** Marks what this function made, so that serializing twice changes nothing (pino's `err` serializer after an adapter's). */
const SERIALIZED = Symbol.for('sqlwarden.serializedError');

function isSerialized(value: unknown): value is SerializedError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[SERIALIZED] === true
  );
}

/**
 * The frames of a stack, when the stack is what V8 made: the error's own
 * first line (`Name: message`, which may run over several lines), then
 * `at` lines. A message can hold a line that looks like a frame (a
 * statement quoted by the server, with a newline and "at ..." in it), so
 * frames are taken only after that first part, found by the message
 * itself; a stack that does not start with it (rewritten, or the message
 * changed after the stack was taken) is left out entirely.
 */
function framesOf(source: Record<string, unknown>): string | undefined {
  const stack = source.stack;
  if (typeof stack !== 'string') return undefined;
  const name = typeof source.name === 'string' ? source.name : 'Error';
  const message = typeof source.message === 'string' ? source.message : '';
  const header = message === '' ? name : `${name}: ${message}`;
  if (!stack.startsWith(header)) return undefined;
  const frames = stack
    .slice(header.length)
    .split('\n')
    .filter((line) => line.trimStart().startsWith('at '))
    .slice(0, MAX_FRAMES);
  return frames.length === 0 ? undefined : frames.join('\n');
}

function serialize(error: unknown, depth: number): SerializedError {
  if (isSerialized(error)) return error;
  const out: Record<string, unknown> = {};
  Object.defineProperty(out, SERIALIZED, { value: true });
  if (typeof error !== 'object' || error === null) {
    out.type = typeof error;
    return out as unknown as SerializedError;
  }
  const source = error as Record<string, unknown>;
  const type = (error as { constructor?: { name?: unknown } }).constructor?.name;
  out.type = typeof type === 'string' && type.length <= MAX_FIELD_LENGTH ? type : 'Object';
  for (const field of SAFE_ERROR_FIELDS) {
    const value = source[field];
    if (
      (typeof value === 'string' && value.length <= MAX_FIELD_LENGTH) ||
      typeof value === 'number'
    ) {
      out[field] = value;
    }
  }
  const frames = framesOf(source);
  if (frames !== undefined) out.stack = frames;
  if (source.cause !== undefined && source.cause !== error && depth < MAX_CAUSES) {
    out.cause = serialize(source.cause, depth + 1);
  }
  return out as unknown as SerializedError;
}

/**
 * An error as an operator log may hold it: its class, its code, errno and
 * SQLSTATE, severity, the server routine, the system call, its stack frames
 * and its chain of causes, each the same way; never its message, and no
 * other field (mysql2 hangs the statement text on its errors as `sql`).
 * Idempotent.
 */
export function serializeError(error: unknown): SerializedError {
  return serialize(error, 0);
}
