import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import type { MaskKind } from './column-policies.js';

/**
 * Masking of values a column policy marks (governance.columns, action mask).
 *
 *   null     the value becomes null
 *   redact   a fixed marker, "[redacted]" (null stays null)
 *   partial  all but the last `keep` characters of the value's text become
 *            "*" ("*****6789"); a value no longer than `keep` is masked
 *            whole, since keeping all of it would show it (null stays null)
 *   hash     "h:" and 16 hex characters of HMAC-SHA-256, under the mask key,
 *            of the value's text (null stays null): equal values give equal
 *            tokens within a deployment, so a model can still group and join
 *            on them, and without the key a token cannot be turned back
 *            into a short value by trying candidates (a plain hash of a
 *            social security number could be).
 *
 * The text of a value is the one the result already carries (adapters map
 * values to JSON: strings, numbers, booleans); a number and the string of
 * its digits hash alike. Masks never log or keep a value.
 */

/** The marker of a redacted value. */
export const REDACTED_VALUE = '[redacted]';

/** The mask key's minimum length (governance.maskKey). */
export const MIN_MASK_KEY_LENGTH = 32;

export interface MaskSpec {
  readonly mask: MaskKind;
  /** partial: how many trailing characters stay. */
  readonly keep: number;
}

export interface Masker {
  /** The masked form of one value. */
  mask(value: unknown, spec: MaskSpec): unknown;
  /** Whether the key is this process's own random one (hashes match only within one run). */
  readonly ephemeral: boolean;
}

/** The canonical text of a value, as the hash and the partial mask read it. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  return JSON.stringify(value) ?? String(value);
}

function partial(text: string, keep: number): string {
  // Code points, so a character outside the BMP is never cut in half.
  const chars = Array.from(text);
  if (chars.length <= keep) return '*'.repeat(chars.length);
  return '*'.repeat(chars.length - keep) + chars.slice(chars.length - keep).join('');
}

/**
 * A masker under `key` (governance.maskKey), or under a random key of this
 * process when none is given: the caller warns that hashes then match only
 * within one run.
 */
export function createMasker(key?: string): Masker {
  // A key object once: HMAC over a raw key prepares it on every value (~11 µs a row masked).
  const secret = createSecretKey(key === undefined ? randomBytes(32) : Buffer.from(key, 'utf8'));
  return Object.freeze({
    ephemeral: key === undefined,
    mask(value: unknown, spec: MaskSpec): unknown {
      if (spec.mask === 'null' || value === null || value === undefined) return null;
      switch (spec.mask) {
        case 'redact':
          return REDACTED_VALUE;
        case 'partial':
          return partial(textOf(value), spec.keep);
        case 'hash': {
          const digest = createHmac('sha256', secret).update(textOf(value), 'utf8').digest('hex');
          return `h:${digest.slice(0, 16)}`;
        }
        default: {
          const never: never = spec.mask;
          throw new TypeError(`unknown mask ${String(never)}`);
        }
      }
    },
  });
}
