import type { CostEstimate } from './adapter.js';

/**
 * The closed table of error codes a tool call can end with.
 *
 * Every failure that reaches a client carries exactly one of these codes in
 * `structuredContent.error.code`. The table is `as const` and pinned by a
 * test: adding, removing or renaming a code is a breaking change that needs a
 * changeset. `retryable` tells a client whether the same call can succeed
 * later without being changed (rate limits, a database that comes back),
 * not whether the agent should try a different call.
 */
export const ERROR_CODES = {
  /** Missing, malformed or expired session context. Nothing else ran. */
  SESSION_INVALID: {
    retryable: false,
    meaning: 'The session context is missing, malformed or expired; start a new session.',
  },
  /** No tool of that name in the registry. No handler, adapter or quota was touched. */
  UNKNOWN_TOOL: {
    retryable: false,
    meaning: 'No tool with this name is available; call tools/list for the available tools.',
  },
  /** The arguments failed the tool's input schema. */
  INVALID_INPUT: {
    retryable: false,
    meaning: "The arguments do not match the tool's input schema.",
  },
  /** A write tool while the server, the session or the source is read-only. */
  READ_ONLY: {
    retryable: false,
    meaning: 'The server, session or source is read-only; write tools are refused.',
  },
  /** A write tool while the deployment's write switch (SQLWARDEN_ALLOW_WRITES) is off. */
  WRITES_DISABLED: {
    retryable: false,
    meaning: 'Writes are switched off for this deployment; an operator must enable them.',
  },
  /**
   * A write that needs a human's confirmation (sources.<id>.confirmWrites,
   * a declared tool's `confirm`), from a client that cannot ask one: it was
   * not run.
   */
  CONFIRMATION_REQUIRED: {
    retryable: false,
    meaning:
      'This write needs a human to confirm it, and this client cannot ask; use a client on MCP 2026-07-28 that answers input requests.',
  },
  /** The human asked to confirm a write declined it (or did not accept it): it was not run. */
  CONFIRMATION_DECLINED: {
    retryable: false,
    meaning: 'The person asked to confirm this write did not accept it; it was not run.',
  },
  /** The principal lacks a capability the call needs (default deny). */
  FORBIDDEN: {
    retryable: false,
    meaning: 'The principal has not been granted what this call needs.',
  },
  /** The principal's or the tool's token bucket is empty. */
  RATE_LIMITED: {
    retryable: true,
    meaning: 'Too many calls; retry after retryAfterMs.',
  },
  /** Too many calls of this principal (or this principal and tool) are running. */
  CONCURRENCY_LIMITED: {
    retryable: true,
    meaning: 'Too many calls are running at once; retry after retryAfterMs.',
  },
  /**
   * The quota store (Redis, shared by the replicas) could not answer, so no
   * quota could be checked and the call was refused (quotas fail closed).
   */
  QUOTA_UNAVAILABLE: {
    retryable: true,
    meaning: 'The quota service is unreachable, so the call was not run; retry shortly.',
  },
  /** The SQL guard refused the statement; the message names the rule. */
  QUERY_REJECTED: {
    retryable: false,
    meaning: 'The SQL guard refused the statement; change the statement as the message says.',
  },
  /** The statement ran past its time limit and was cancelled on the server. */
  QUERY_TIMEOUT: {
    retryable: false,
    meaning: 'The statement ran past its time limit and was cancelled; narrow or simplify it.',
  },
  /** The client cancelled the call; the statement was cancelled on the server. */
  QUERY_CANCELLED: {
    retryable: true,
    meaning: 'The call was cancelled before it finished.',
  },
  /** The database refused the statement (unknown column, type mismatch...). */
  QUERY_FAILED: {
    retryable: false,
    meaning: 'The database refused the statement; the message says why.',
  },
  /**
   * The cost gate: the planner's estimate of the read exceeds a ceiling
   * of the source, the principal or the tool. The read was not run.
   */
  COST_LIMIT_EXCEEDED: {
    retryable: false,
    meaning:
      'The planner estimates this read is more expensive than allowed, so it was not run; narrow it (a filter, a LIMIT, fewer tables).',
  },
  /** A write would touch more rows than its ceiling; it was rolled back. */
  WRITE_LIMIT_EXCEEDED: {
    retryable: false,
    meaning: 'The write would affect more rows than allowed and was rolled back.',
  },
  /** The named source, schema or table does not exist or is not visible. */
  NOT_FOUND: {
    retryable: false,
    meaning: 'The named object does not exist or is not visible to this principal.',
  },
  /** The database cannot be reached (connection refused, lost, unable to authenticate). */
  DB_UNAVAILABLE: {
    retryable: true,
    meaning: 'The database is unavailable; retry later.',
  },
  /**
   * Every connection of the source stayed busy with other calls for as long as
   * a call may wait for one. The database is healthy; the call never ran.
   */
  SOURCE_BUSY: {
    retryable: true,
    meaning: 'Every connection to the database is busy with other calls; retry after retryAfterMs.',
  },
  /**
   * A write's COMMIT was sent and its answer never came (the connection was
   * lost, or the database stopped answering): it may have been applied or
   * not. Not retryable: sending the same write again could apply it twice.
   */
  OUTCOME_UNKNOWN: {
    retryable: false,
    meaning:
      'The connection was lost after the write was sent to be committed; whether it was applied is unknown. Check before you write again.',
  },
  /** Anything unexpected. Details are kept server-side; the client sees this sentence only. */
  INTERNAL: {
    retryable: false,
    meaning: 'An internal error occurred; it has been recorded.',
  },
} as const satisfies Record<string, { readonly retryable: boolean; readonly meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Every code, in table order. */
export const ERROR_CODE_LIST = Object.freeze(Object.keys(ERROR_CODES) as ErrorCode[]);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export function isRetryable(code: ErrorCode): boolean {
  return ERROR_CODES[code].retryable;
}

// A brand instead of `instanceof`: the package ships ESM and CJS builds, and
// an error thrown by one copy must still be recognised by the other.
const BRAND = Symbol.for('sqlwarden.error');

export interface SqlwardenErrorOptions {
  readonly cause?: unknown;
  readonly retryAfterMs?: number;
  /** The cost gate's estimate, for the audit record (never shown to the client as a field). */
  readonly estimate?: CostEstimate;
}

/**
 * An error that is safe to show a client: its `message` is written by
 * sqlwarden code (never a driver message, never SQL text or values) and its
 * `code` is from the closed table. The original error, which may hold driver
 * internals, is kept as `cause` for server-side debugging and never crosses
 * the boundary.
 */
export class SqlwardenError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;
  readonly estimate: CostEstimate | undefined;

  constructor(code: ErrorCode, message: string, options: SqlwardenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SqlwardenError';
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.estimate = options.estimate;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static is(value: unknown): value is SqlwardenError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true &&
      isErrorCode((value as { code?: unknown }).code)
    );
  }
}

/** The error part of a failed tool result, as clients see it. */
export interface ErrorPayload {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryAfterMs?: number;
}

const MAX_MESSAGE_LENGTH = 500;

/**
 * Bounds a client-facing message: strips control characters (a message is
 * one line of plain text) and caps its length, so no code path can turn an
 * error message into a channel for a large payload.
 */
export function boundMessage(message: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point.
  const oneLine = message.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (oneLine.length <= MAX_MESSAGE_LENGTH) return oneLine;
  // The guard's rule tag ends its refusals, and is what an agent acts on: a
  // long message is cut before it, never through it.
  const tag = RULE_TAG.exec(oneLine)?.[1];
  if (tag === undefined) return `${oneLine.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
  return `${oneLine.slice(0, MAX_MESSAGE_LENGTH - tag.length - 2)}… ${tag}`;
}

/** `[rule NAME]` at the end of a message (the SQL guard's refusals). */
const RULE_TAG = /\s(\[rule [A-Z_]{1,40}\])$/;

/**
 * Turns anything thrown into a payload that is safe for a client.
 *
 * Only a branded `SqlwardenError` keeps its message; every other value
 * (driver errors, TypeErrors, strings, undefined) becomes `INTERNAL` with the
 * table's fixed sentence, because its text may hold SQL, values, hostnames or
 * credentials. Call it once, at the boundary.
 */
export function normalizeError(error: unknown): ErrorPayload {
  if (SqlwardenError.is(error)) {
    const payload: ErrorPayload = {
      code: error.code,
      message: boundMessage(error.message) || ERROR_CODES[error.code].meaning,
    };
    return error.retryAfterMs === undefined
      ? payload
      : { ...payload, retryAfterMs: error.retryAfterMs };
  }
  return { code: 'INTERNAL', message: ERROR_CODES.INTERNAL.meaning };
}

/**
 * A configuration that cannot be used, with every problem found (each
 * naming its key), so an operator fixes them in one pass. Thrown at
 * start-up only, never from a tool call.
 */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(subject: string, problems: readonly string[]) {
    super(`${subject}:\n- ${problems.join('\n- ')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}
