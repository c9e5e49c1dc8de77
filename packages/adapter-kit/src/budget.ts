/**
 * The row and byte budget of one read: what the call may receive
 * (`maxRows` rows whose values take at most `maxBytes` bytes of JSON, as
 * core's `rowBytes` counts them), kept while the rows arrive, so that
 * memory stays flat whatever the size of the table or of one value.
 *
 * An engine's read hands every converted row to `take`, and asks `admits`
 * from the frame gate (wire.ts) before a row's message is even parsed,
 * with the least number of bytes its values can take (the message's length
 * less its framing): a row that could not fit is never read. Rows admitted
 * but not parsed yet are not in the count, so a refusal is always right.
 */
import { type ReadResult, rowBytes, type TruncationReason } from '@sqlwarden/core';

export interface RowLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
}

export class RowBudget {
  readonly limits: RowLimits;
  readonly #rows: unknown[][] = [];
  #bytes = 0;
  #reason: TruncationReason | undefined;

  constructor(limits: RowLimits) {
    this.limits = limits;
  }

  /** The rows kept so far. */
  get rows(): readonly unknown[][] {
    return this.#rows;
  }

  /** Why the read was cut, once it was. */
  get reason(): TruncationReason | undefined {
    return this.#reason;
  }

  /** Whether every row the call may receive is kept already. */
  get full(): boolean {
    return this.#rows.length >= this.limits.maxRows;
  }

  /**
   * Whether a row whose values take at least `valueBytes` bytes could
   * still be kept. False once the bytes are spent.
   */
  admits(valueBytes: number): boolean {
    if (this.#reason === 'maxBytes') return false;
    return valueBytes <= this.limits.maxBytes - this.#bytes;
  }

  /**
   * Keeps one row (its values already as the result carries them). False
   * when the read must stop here: the rows are full (this row is the one
   * after maxRows) or this row would pass maxBytes; the row is not kept.
   */
  take(row: unknown[]): boolean {
    if (this.#reason !== undefined) return false;
    if (this.full) {
      this.#reason = 'maxRows';
      return false;
    }
    const size = rowBytes(row);
    if (this.#bytes + size > this.limits.maxBytes) {
      this.#reason = 'maxBytes';
      return false;
    }
    this.#bytes += size;
    this.#rows.push(row);
    return true;
  }

  /**
   * The read was cut short (the frame gate refused a row, the server has
   * more rows than were asked for): says why, unless a reason is known.
   * Without one: the rows are full, or else the bytes ran out.
   */
  cut(reason?: TruncationReason): void {
    this.#reason ??= reason ?? (this.full ? 'maxRows' : 'maxBytes');
  }

  /** The read's result, with these columns. */
  result(columns: ReadonlyArray<{ readonly name: string; readonly type: string }>): ReadResult {
    return {
      columns: columns.map((c) => ({ name: c.name, type: c.type })),
      rows: this.#rows,
      rowCount: this.#rows.length,
      truncated: this.#reason !== undefined,
      ...(this.#reason !== undefined && { truncatedReason: this.#reason }),
    };
  }
}
