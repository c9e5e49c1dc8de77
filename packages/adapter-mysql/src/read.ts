/**
 * One bounded read: the rows of one prepared statement (binary protocol),
 * mapped to the cross-adapter value contract (types.ts) and counted against
 * the call's budget (the kit's `RowBudget`) as they arrive.
 *
 * Limits: rows are kept until maxRows; the row after that, or the first
 * row that would pass maxBytes, ends the read. MySQL has no portal to
 * suspend and mysql2 no cursor to close, so the read then stops the
 * transfer itself (pause), and the kit cancels the statement (driver.ts:
 * the socket destroyed, KILL QUERY) and drops the connection. Nothing past
 * the limit is kept, so memory stays flat whatever the table's size, and a
 * row too wide to fit is never parsed at all (`admit`, the frame gate).
 */
import { FRAME_SLACK_BYTES, type FrameAdmission, type RowBudget } from '@sqlwarden/adapter-kit';
import type { MysqlField } from './config.js';
import { type Converter, converterFor, fallback, typeName } from './types.js';

export class BoundedRead implements FrameAdmission {
  readonly #budget: RowBudget;
  #columns: Array<{ name: string; type: string }> = [];
  #convert: Converter[] = [];
  /** Ends the statement being streamed when the frame gate stopped it (set by driver.ts). */
  onStop: ((error: Error | undefined) => void) | undefined;
  /** False until a result set's columns arrive; a statement without one (SET, DO) never sets it. */
  resultSet = false;

  constructor(budget: RowBudget) {
    this.#budget = budget;
  }

  get columns(): ReadonlyArray<{ readonly name: string; readonly type: string }> {
    return this.#columns;
  }

  fields(fields: readonly MysqlField[]): void {
    this.resultSet = true;
    this.#columns = fields.map((field) => ({ name: field.name, type: typeName(field) }));
    this.#convert = fields.map(converterFor);
  }

  /**
   * Whether a packet of the result whose payload is `length` bytes (a row
   * longer than 16 MiB comes as a chain of packets: the length so far) may
   * be parsed, from its length alone: the frame gate asks before mysql2
   * buffers it. A row's binary form is larger than its JSON by at most its
   * framing (a null bitmap, length prefixes, fixed-width numbers shorter as
   * text): FRAME_SLACK_BYTES covers MySQL's 4096 columns. False ends the
   * read; `stopped()` then says why.
   */
  admit(_header: Buffer, length: number): boolean {
    return this.#budget.admits(length - FRAME_SLACK_BYTES);
  }

  /** The frame gate stopped the transfer: the read ends with the rows kept (or fails, with `error`). */
  stopped(error: Error | undefined): void {
    this.#budget.cut();
    this.onStop?.(error);
  }

  /** Takes one row (mysql2's array, mapped in place); false when the read must stop here. */
  row(raw: unknown[]): boolean {
    if (this.#budget.reason !== undefined || this.#budget.full) return this.#budget.take(raw);
    for (let i = 0; i < raw.length; i++) {
      const value = raw[i];
      raw[i] = value === null || value === undefined ? null : (this.#convert[i] ?? fallback)(value);
    }
    return this.#budget.take(raw);
  }
}
