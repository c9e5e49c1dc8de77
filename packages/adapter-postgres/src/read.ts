/**
 * One bounded read over the extended protocol, as a pg "Submittable".
 *
 * It writes Parse, Bind, Describe, Execute(maxRows + 1) and Sync in one
 * flush, so a read is one round trip. Why this is safe:
 *  - Parse takes exactly one statement: PostgreSQL refuses stacked
 *    statements in a prepared statement ("cannot insert multiple commands
 *    into a prepared statement"), whatever the guard missed. node-postgres
 *    would use the simple protocol (which runs stacked statements) for a
 *    query without values; this path never does.
 *  - Execute with a row count makes the server stop after maxRows + 1 rows
 *    (the portal is suspended); the Sync right behind it ends the implicit
 *    transaction and drops the portal. A million-row table costs
 *    maxRows + 1 rows, not a million.
 *  - Rows are parsed and counted as they arrive. Before a DataRow reaches
 *    the driver's parser, `admit` decides from its length alone (the frame
 *    gate, the kit's wire.ts) whether it can still fit: one that cannot, or any
 *    row once the bytes are spent, ends the read with the rows kept so far
 *    (truncated, maxBytes), and the adapter drops the connection. A value
 *    is never materialised past what the call may receive, however wide.
 *    The row after maxRows is let through when it is small (the portal then
 *    suspends and the connection stays usable), and stops the read too when
 *    it is not.
 *
 * Values: int2/int4/oid and finite float4/float8 become numbers, bool a
 * boolean; everything else (int8, numeric, dates and times, bytea, json,
 * arrays, enums) stays the exact text the server sent, since JSON cannot
 * hold them exactly. The session runs with TimeZone UTC and DateStyle ISO.
 */
import { FRAME_SLACK_BYTES } from '@sqlwarden/adapter-kit';
import { type ReadResult, rowBytes, type TruncationReason } from '@sqlwarden/core';
import type { PgConnection, PgFieldDescription, PgSubmittable } from './config.js';

const INTEGER_OIDS = new Set([21, 23, 26]); // int2, int4, oid
const FLOAT_OIDS = new Set([700, 701]); // float4, float8
const BOOL_OID = 16;

type Parser = (raw: string) => unknown;
const asText: Parser = (raw) => raw;
const asInteger: Parser = (raw) => Number(raw);
const asFloat: Parser = (raw) => {
  const value = Number(raw);
  return Number.isFinite(value) ? value : raw; // NaN and Infinity stay text: JSON has no such numbers
};
const asBool: Parser = (raw) => raw === 't';

export function parserFor(oid: number): Parser {
  if (INTEGER_OIDS.has(oid)) return asInteger;
  if (FLOAT_OIDS.has(oid)) return asFloat;
  if (oid === BOOL_OID) return asBool;
  return asText;
}

/** A parameter as the wire carries it: text or NULL. Arrays become PostgreSQL array literals. */
export function toWireValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('a parameter is not a finite number');
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) {
    const items = value.map((item) => {
      const text = toWireValue(item);
      return text === null ? 'NULL' : `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
    });
    return `{${items.join(',')}}`;
  }
  throw new TypeError('a parameter must be text, a number, a boolean, null or an array of those');
}

export interface BoundedReadLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
}

export interface ReadOutcome {
  readonly fields: readonly PgFieldDescription[];
  readonly rows: unknown[][];
  readonly truncated: boolean;
  readonly truncatedReason?: TruncationReason;
}

export class BoundedRead implements PgSubmittable {
  readonly done: Promise<ReadOutcome>;
  #resolve!: (outcome: ReadOutcome) => void;
  #reject!: (error: unknown) => void;
  #fields: PgFieldDescription[] = [];
  #parsers: Parser[] = [];
  #rows: unknown[][] = [];
  #bytes = 0;
  #reason: TruncationReason | undefined;
  #settled = false;
  /** DataRows the frame gate admitted, parsed or not. */
  #admitted = 0;
  /** Whether the RowDescription was parsed (admit needs the column count). */
  #described = false;

  constructor(
    private readonly text: string,
    private readonly values: ReadonlyArray<string | null>,
    private readonly limits: BoundedReadLimits,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The caller always awaits `done`; this keeps an early rejection from being reported as unhandled.
    this.done.catch(() => {});
  }

  submit(connection: PgConnection): void {
    // One write, one packet: the five messages are corked together (as pg's own Query does).
    connection.stream?.cork?.();
    try {
      connection.parse({ text: this.text, types: [] });
      connection.bind({ values: [...this.values] });
      connection.describe({ type: 'P', name: '' });
      connection.execute({ portal: '', rows: this.limits.maxRows + 1 });
      connection.sync();
    } finally {
      connection.stream?.uncork?.();
    }
  }

  handleRowDescription(message: { fields: PgFieldDescription[] }): void {
    this.#described = true;
    this.#fields = message.fields;
    this.#parsers = message.fields.map((f) => parserFor(f.dataTypeID));
  }

  /**
   * Whether a DataRow whose message body is `bodyLength` bytes may be parsed,
   * from its length alone. Its values take at least `bodyLength - 2 - 4 *
   * columns` bytes (a 2-byte count, then a 4-byte length before each value),
   * and every such byte is at least one byte of the row's JSON (rowBytes).
   * False ends the read here: `finish()` then settles it with the rows kept.
   */
  admit(bodyLength: number): boolean | 'sync' {
    if (this.#reason === 'maxBytes') return false;
    // Rows admitted but not parsed yet (later in the same chunk) are not in
    // #bytes: the budget left is over-estimated, so a refusal is always right.
    if (!this.#described) return 'sync';
    this.#admitted += 1;
    if (this.#admitted > this.limits.maxRows) {
      // The row after maxRows (Execute asked for maxRows + 1): dropped, not kept.
      return bodyLength <= FRAME_SLACK_BYTES;
    }
    // Refused: the rows before it (parsed after this answer) are still kept;
    // finish() then says maxBytes.
    return bodyLength - 2 - 4 * this.#fields.length <= this.limits.maxBytes - this.#bytes;
  }

  handleDataRow(message: { fields: Array<string | null> }): void {
    if (this.#reason !== undefined) return;
    if (this.#rows.length >= this.limits.maxRows) {
      this.#reason = 'maxRows';
      return;
    }
    const row = message.fields.map((raw, i) =>
      raw === null ? null : (this.#parsers[i] ?? asText)(raw),
    );
    const size = rowBytes(row);
    if (this.#bytes + size > this.limits.maxBytes) {
      this.#reason = 'maxBytes';
      return;
    }
    this.#bytes += size;
    this.#rows.push(row);
  }

  /**
   * Settles the read now with the rows kept (the connection was stopped by
   * the frame gate), or with `error` when the connection failed under it.
   */
  finish(error?: unknown): void {
    if (this.#settled) return;
    if (error !== undefined) {
      this.handleError(error);
      return;
    }
    this.#reason ??= this.#admitted > this.limits.maxRows ? 'maxRows' : 'maxBytes';
    this.handleReadyForQuery();
  }

  handlePortalSuspended(): void {
    // More rows than maxRows + 1 exist; the Sync already sent drops the portal.
    this.#reason ??= 'maxRows';
  }

  handleCommandComplete(): void {}

  handleEmptyQuery(): void {}

  handleCopyInResponse(connection: PgConnection): void {
    // The guard refuses COPY; should one ever arrive, never feed it.
    connection.sendCopyFail('COPY is not allowed');
  }

  handleCopyData(): void {}

  // pg detaches the query on an ErrorResponse (its ReadyForQuery goes nowhere)
  // and on connection errors: settle here.
  handleError(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }

  handleReadyForQuery(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve({
      fields: this.#fields,
      rows: this.#rows,
      truncated: this.#reason !== undefined,
      ...(this.#reason !== undefined && { truncatedReason: this.#reason }),
    });
  }
}

export function toReadResult(outcome: ReadOutcome, typeName: (oid: number) => string): ReadResult {
  return {
    columns: outcome.fields.map((f) => ({ name: f.name, type: typeName(f.dataTypeID) })),
    rows: outcome.rows,
    rowCount: outcome.rows.length,
    truncated: outcome.truncated,
    ...(outcome.truncatedReason !== undefined && { truncatedReason: outcome.truncatedReason }),
  };
}
