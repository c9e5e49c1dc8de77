/**
 * The row size every adapter counts for the `maxBytes` limit. A module of
 * its own, with no imports, so that a process that needs only this (the
 * ODBC adapter's worker) loads it alone: `@sqlwarden/core/row-bytes`.
 */

/** The bytes a value adds to its row serialized as JSON, counted cheaply (no stringify). */
function valueBytes(value: unknown): number {
  if (value === null || value === undefined) return 4;
  if (typeof value === 'string') return Buffer.byteLength(value) + 2;
  if (typeof value === 'boolean') return value ? 4 : 5;
  return String(value).length;
}

/**
 * The serialized size of a row (a JSON array), for the `maxBytes` limit.
 * Adapters count rows with it as they arrive, so every adapter truncates at
 * the same size. Escapes in strings are not counted (an estimate from below
 * by at most the escapes).
 */
export function rowBytes(row: readonly unknown[]): number {
  let total = 2 + Math.max(0, row.length - 1);
  for (const value of row) total += valueBytes(value);
  return total;
}
