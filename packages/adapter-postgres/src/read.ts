/**
 * One bounded read over the extended protocol, as a pg "Submittable".
 *
 * It writes Parse, Bind, Describe, Execute(maxRows + 1) and Sync in one
 * flush, so a read is one round trip; with a transaction set-up
 * (session.ts, `transactionSetup`: behind a pooler in transaction mode),
 * the set-up's Parse, Bind and Execute go first in the same flush, before
 * the one Sync: same round trip, same implicit transaction, same server
 * connection. A read with a database identity (core's `DatabaseIdentity`)
 * takes the same path whatever the pooling mode: the identity is part of
 * the set-up (session.ts, `callSetup`), so it is one round trip too, and
 * the read never runs without it (a refused set-up ends the batch). Why
 * this is safe:
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
 *    (truncated, maxBytes), and the kit cancels it and drops the connection. A value
 *    is never materialised past what the call may receive, however wide.
 *    The row after maxRows is let through when it is small (the portal then
 *    suspends and the connection stays usable), and stops the read too when
 *    it is not.
 *
 * Values are converted as types.ts says; the rows count against the
 * call's budget (the kit's `RowBudget`).
 *
 * The set-up is not part of the result: it returns no row (only its
 * CommandComplete, which changes nothing here), and the read's own rows
 * come after the read's RowDescription (its Describe follows the set-up's
 * Execute). A DataRow before that description, once every message before
 * it was parsed, can only be a set-up that returned a row: the read fails
 * (`admit` throws) rather than count it, or cut the result short.
 */
import {
  FRAME_SLACK_BYTES,
  type FrameAdmission,
  IDLE_MESSAGE_LIMIT,
  type RowBudget,
} from '@sqlwarden/adapter-kit';
import type { PgConnection, PgFieldDescription, PgSubmittable } from './config.js';
import { identityFailure, sendStatement, type TransactionSetup } from './session.js';
import { SettlingSubmittable } from './settling.js';
import { asText, type Parser, parserFor } from './types.js';

const DATA_ROW = 'D'.charCodeAt(0);

export class BoundedRead extends SettlingSubmittable implements PgSubmittable, FrameAdmission {
  readonly #text: string;
  readonly #values: ReadonlyArray<string | null>;
  readonly #budget: RowBudget;
  #fields: PgFieldDescription[] = [];
  #parsers: Parser[] = [];
  /** DataRows the frame gate admitted, parsed or not. */
  #admitted = 0;
  /** Whether the RowDescription was parsed (admit needs the column count). */
  #described = false;
  /** Whether admit asked for the messages before an undescribed DataRow to be parsed ('sync'). */
  #caughtUp = false;
  /** Runs first, in the same batch (session.ts); undefined on a trusted session without identity. */
  readonly #setup: TransactionSetup | undefined;
  /** Whether the set-up's CommandComplete came (an error before it is the set-up's). */
  #setupDone = false;
  /** Whether the frame gate stopped the connection under this read. */
  gateStopped = false;

  constructor(
    text: string,
    values: ReadonlyArray<string | null>,
    budget: RowBudget,
    setup?: TransactionSetup,
  ) {
    super();
    this.#text = text;
    this.#values = values;
    this.#budget = budget;
    this.#setup = setup;
  }

  get fields(): readonly PgFieldDescription[] {
    return this.#fields;
  }

  submit(connection: PgConnection): void {
    // One write, one packet: the messages are corked together (as pg's own Query does).
    connection.stream?.cork?.();
    try {
      if (this.#setup !== undefined) sendStatement(connection, this.#setup);
      connection.parse({ text: this.#text, types: [] });
      connection.bind({ values: [...this.#values] });
      connection.describe({ type: 'P', name: '' });
      connection.execute({ portal: '', rows: this.#budget.limits.maxRows + 1 });
      connection.sync();
    } finally {
      connection.stream?.uncork?.();
    }
  }

  override handleCommandComplete(): void {
    this.#setupDone = true;
  }

  override handleError(error: unknown): void {
    // Before the set-up completed, the error is the set-up's: a refused identity
    // says so. After, it is the read's own (a table the role may not read included).
    super.handleError(this.#setupDone ? error : identityFailure(this.#setup, error));
  }

  handleRowDescription(message: { fields: PgFieldDescription[] }): void {
    this.#described = true;
    this.#fields = message.fields;
    this.#parsers = message.fields.map((f) => parserFor(f.dataTypeID));
  }

  /**
   * Whether a message may be parsed, from its header alone. A DataRow whose
   * body is `length` bytes has values of at least `length - 2 - 4 * columns`
   * bytes (a 2-byte count, then a 4-byte length before each value), and
   * every such byte is at least one byte of the row's JSON (rowBytes). Other
   * messages of the read (its description, the end) are small. False ends
   * the read here: `stopped()` then settles it with the rows kept.
   */
  admit(header: Buffer, length: number): boolean | 'sync' {
    if (header[0] !== DATA_ROW) return length <= IDLE_MESSAGE_LIMIT + FRAME_SLACK_BYTES;
    if (this.#budget.reason === 'maxBytes') return false;
    // Rows admitted but not parsed yet (later in the same chunk) are not in
    // the budget: the bytes left are over-estimated, so a refusal is always right.
    if (!this.#described) {
      // First ask: the RowDescription may be earlier in this chunk, not parsed yet.
      if (!this.#caughtUp) {
        this.#caughtUp = true;
        return 'sync';
      }
      // Asked again with everything before it parsed, and still no description:
      // not a row of the read (a set-up that returned one). Fail, never count it.
      throw new Error('a row came before the read described its columns');
    }
    this.#caughtUp = false;
    this.#admitted += 1;
    if (this.#admitted > this.#budget.limits.maxRows) {
      // The row after maxRows (Execute asked for maxRows + 1): dropped, not kept.
      return length <= FRAME_SLACK_BYTES;
    }
    // Refused: the rows before it (parsed after this answer) are still kept;
    // stopped() then says maxBytes.
    return this.#budget.admits(length - 2 - 4 * this.#fields.length);
  }

  handleDataRow(message: { fields: Array<string | null> }): void {
    if (this.#budget.reason !== undefined) return;
    if (this.#budget.full) {
      this.#budget.cut('maxRows');
      return;
    }
    this.#budget.take(
      message.fields.map((raw, i) => (raw === null ? null : (this.#parsers[i] ?? asText)(raw))),
    );
  }

  /**
   * The frame gate stopped the connection under this read: it settles now
   * with the rows kept, or with `error` when the parser failed under it.
   */
  stopped(error: Error | undefined): void {
    this.gateStopped = true;
    if (this.settled) return;
    if (error !== undefined) {
      this.handleError(error);
      return;
    }
    this.#budget.cut();
    this.handleReadyForQuery();
  }

  handlePortalSuspended(): void {
    // More rows than maxRows + 1 exist; the Sync already sent drops the portal.
    this.#budget.cut('maxRows');
  }
}
