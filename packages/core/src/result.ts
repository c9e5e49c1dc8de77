import { z } from 'zod';
import type { ErrorPayload } from './errors.js';

/**
 * A tool result in the shape of MCP's `CallToolResult` (structurally; core
 * does not depend on the SDK). Failures are results with `isError: true`
 * and `structuredContent.error = { code, message, retryAfterMs? }`.
 */
export interface ToolCallResult {
  readonly content: ReadonlyArray<{ readonly type: 'text'; readonly text: string }>;
  readonly structuredContent?: Record<string, unknown>;
  readonly isError?: boolean;
}

export function successResult(
  text: string,
  structuredContent?: Record<string, unknown>,
): ToolCallResult {
  return structuredContent === undefined
    ? { content: [{ type: 'text', text }] }
    : { content: [{ type: 'text', text }], structuredContent };
}

export function errorResult(error: ErrorPayload): ToolCallResult {
  const retry = error.retryAfterMs === undefined ? '' : ` Retry after ${error.retryAfterMs} ms.`;
  return {
    isError: true,
    content: [{ type: 'text', text: `${error.code}: ${error.message}${retry}` }],
    structuredContent: { error: { ...error } },
  };
}

/** The error part of a failed result, as a schema (for clients and tests). */
export const ErrorPayloadSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  retryAfterMs: z.number().int().nonnegative().optional(),
});

/**
 * The structuredContent of a failed result. A tool that declares an
 * output schema advertises it as "its result, or this": MCP clients (the
 * SDK's included) validate structuredContent against the output schema
 * whenever it is present, also on isError results.
 */
export const ErrorEnvelopeSchema = z.strictObject({ error: ErrorPayloadSchema });

/** Why a read stopped early. */
export const TRUNCATION_REASONS = ['maxRows', 'maxBytes'] as const;
export type TruncationReason = (typeof TRUNCATION_REASONS)[number];

/**
 * The result contract of read tools (docs/architecture.md): columns, rows as arrays,
 * the count, and whether (and why) the read stopped early. Values JSON
 * cannot hold exactly (bigint, numeric, binary, dates) are strings.
 *
 * Every adapter maps values the same way (the conformance suite in
 * @sqlwarden/testing holds them to it):
 *  - NULL: null;
 *  - integers of at most 32 bits, and finite floats: numbers; NaN and
 *    infinities: their text;
 *  - 64-bit integers (int8, BIGINT) and exact decimals (numeric, DECIMAL):
 *    their decimal text, whatever the value (a column's JSON type never
 *    depends on the row);
 *  - booleans (where the database has them): true / false;
 *  - date: `YYYY-MM-DD`; timestamp without zone: `YYYY-MM-DD HH:MM:SS[.ffffff]`;
 *    timestamp with zone (PostgreSQL timestamptz, MySQL TIMESTAMP): the same
 *    in UTC followed by `+00`; time: `HH:MM:SS[.ffffff]`;
 *  - binary: `\x` followed by lower-case hex;
 *  - JSON: the document as text;
 *  - anything else: the text the database sends.
 */
export const ReadResultSchema = z.strictObject({
  columns: z.array(z.strictObject({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(z.unknown())),
  rowCount: z.number().int().nonnegative(),
  truncated: z.boolean(),
  truncatedReason: z.enum(TRUNCATION_REASONS).optional(),
});

export type ReadResult = z.output<typeof ReadResultSchema>;

export { rowBytes } from './row-bytes.js';
