/**
 * Execution limits: how much a single call may read, write and how long it
 * may run. The server sets them; a tool, a source or a call may only lower
 * them (`resolveLimits` takes the minimum), never raise them.
 */
export interface ExecutionLimits {
  /** Rows a read returns at most; one more is fetched to know it was truncated. */
  readonly maxRows: number;
  /** Serialized bytes a read returns at most. */
  readonly maxBytes: number;
  /** Wall-clock milliseconds a statement may run; enforced on the server and by the boundary. */
  readonly timeoutMs: number;
  /** Rows a write may affect; a write over the ceiling is rolled back. */
  readonly maxAffectedRows: number;
}

export const LIMIT_KEYS = ['maxRows', 'maxBytes', 'timeoutMs', 'maxAffectedRows'] as const;

export const DEFAULT_LIMITS: ExecutionLimits = Object.freeze({
  maxRows: 1000,
  maxBytes: 1_048_576,
  timeoutMs: 10_000,
  maxAffectedRows: 100,
});

/** Throws on a limit that is not a positive safe integer: limits come from config and code, not clients. */
export function assertValidLimits(limits: ExecutionLimits): void {
  for (const key of LIMIT_KEYS) {
    const value = limits[key];
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`Limit ${key} must be a positive integer, got ${String(value)}`);
    }
  }
}

/**
 * The effective limits of a call: for each limit, the smallest of the base
 * and every narrower value given. Undefined narrower values are ignored;
 * a narrower value that is not a positive integer is ignored too, so a bad
 * override can only fail to lower a limit, never raise one.
 */
export function resolveLimits(
  base: ExecutionLimits,
  ...narrower: ReadonlyArray<Partial<ExecutionLimits> | undefined>
): ExecutionLimits {
  assertValidLimits(base);
  const result = { ...base };
  for (const override of narrower) {
    if (override === undefined) continue;
    for (const key of LIMIT_KEYS) {
      const value = override[key];
      if (value !== undefined && Number.isSafeInteger(value) && value > 0 && value < result[key]) {
        result[key] = value;
      }
    }
  }
  return Object.freeze(result);
}
