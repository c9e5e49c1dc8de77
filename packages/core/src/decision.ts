import type { ErrorCode } from './errors.js';

/**
 * A security decision is a value, not an exception: every check in the
 * boundary returns one, and only the boundary turns a denial into a tool
 * result. A check that cannot decide must return a denial (fail closed).
 */
export type Decision = Allow | Denial;

export interface Allow {
  readonly ok: true;
}

export interface Denial {
  readonly ok: false;
  readonly code: ErrorCode;
  /** One sentence for the client: what was wrong and what to do. Never SQL text, values or secrets. */
  readonly message: string;
  readonly retryAfterMs?: number;
}

/** A check result that carries a value when it allows. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | Denial;

export const ALLOW: Allow = Object.freeze({ ok: true });

export function deny(code: ErrorCode, message: string, retryAfterMs?: number): Denial {
  return retryAfterMs === undefined
    ? { ok: false, code, message }
    : { ok: false, code, message, retryAfterMs };
}

export function allowWith<T>(value: T): Outcome<T> {
  return { ok: true, value };
}
