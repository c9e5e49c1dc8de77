/**
 * Writes a human confirms (sources.<id>.confirmWrites, a declared tool's
 * `confirm`; docs/governance.md): the part every write tool shares.
 *
 * A write that needs a confirmation (and is not itself a dry run) runs in
 * two calls. The first runs the statement as a dry run (rolled back, under
 * the call's limits and quota, like any write) and asks the human through
 * the handler's `confirm`, showing the operation, the tables and the rows
 * it changed; the handler then ends without writing (`pending`), holding
 * no connection and no concurrency slot while the human thinks. The second
 * call carries the human's answer: on an accept, the write runs with the
 * rows the human was shown as its ceiling, so data that changed meanwhile
 * (more rows would change) ends in WRITE_LIMIT_EXCEEDED with everything
 * rolled back. Declined, unavailable or invalid confirmations never reach
 * this code's write: `confirm` throws their codes.
 */
import {
  type ConfirmationRequest,
  type ExecutionLimits,
  SqlwardenError,
  type ToolHandlerContext,
  type ToolOutcome,
  type WriteOperation,
  type WriteResult,
} from '@sqlwarden/core';
import type { SourceBinding } from './sources.js';

/** What a write tool's outcome is (runWrite's). */
export type WriteOutcome = ToolOutcome & {
  readonly structuredContent: WriteResult & { dryRun: boolean };
};

/**
 * Runs the tool's write: a dry run, or for real with `maxAffectedRows` as
 * its affected-row ceiling (absent: the call's limit).
 */
export type RunWrite = (options: {
  readonly dryRun: boolean;
  readonly maxAffectedRows?: number;
}) => Promise<WriteOutcome>;

export interface ConfirmableWrite {
  readonly source: SourceBinding;
  /** The statement exactly as the call (or the declared tool) gives it. */
  readonly sql: string;
  readonly params: readonly unknown[];
  /** The call asked for a dry run: nothing is written, nothing to confirm. */
  readonly dryRun: boolean;
  /** A human must confirm this write (the source's confirmWrites, the tool's confirm). */
  readonly confirm: boolean;
}

/**
 * The limits of a write under a confirmation's ceiling: never above the
 * call's, and 0 is a real ceiling (a dry run that changed nothing).
 */
export function withCeiling(limits: ExecutionLimits, maxAffectedRows?: number): ExecutionLimits {
  if (maxAffectedRows === undefined) return limits;
  return { ...limits, maxAffectedRows: Math.min(limits.maxAffectedRows, maxAffectedRows) };
}

const OPERATIONS: Readonly<Record<string, WriteOperation>> = {
  insert: 'INSERT',
  update: 'UPDATE',
  delete: 'DELETE',
};

/** The write, confirmed first when it must be. */
export async function confirmedWrite(
  ctx: Pick<ToolHandlerContext<unknown>, 'confirm'>,
  write: ConfirmableWrite,
  run: RunWrite,
): Promise<WriteOutcome> {
  if (!write.confirm || write.dryRun) return run({ dryRun: write.dryRun });
  const grant = await ctx.confirm(confirmationRequest(write, run));
  if (grant.status === 'pending') return awaitingConfirmation(grant.rows);
  try {
    return await run({ dryRun: false, maxAffectedRows: grant.rows });
  } catch (error) {
    if (SqlwardenError.is(error) && error.code === 'WRITE_LIMIT_EXCEEDED') {
      throw new SqlwardenError(
        'WRITE_LIMIT_EXCEEDED',
        `The data changed after the write was confirmed: it would now change more than the ${rowsText(grant.rows)} the person accepted, so nothing was changed. Call the tool again to be asked anew.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * What the human is shown, from the source's guard (a verdict cache hit:
 * the call's `requires` judged the same text). Fails closed: a statement
 * the guard does not accept here is not confirmed.
 */
function confirmationRequest(write: ConfirmableWrite, run: RunWrite): ConfirmationRequest {
  const state = write.source.guard();
  const verdict = state.ready ? state.guard.checkWrite(write.sql) : undefined;
  const operation = verdict?.ok === true ? OPERATIONS[verdict.analysis.kind] : undefined;
  if (verdict?.ok !== true || operation === undefined) {
    // Not expected (requires accepted the same text): INTERNAL, told to the operator.
    throw new Error('the statement of a confirmed write could not be analysed again');
  }
  const tables = verdict.analysis.resolvedTables
    .filter((table) => table.access === 'write')
    .map((table) =>
      [table.catalog, table.schema, table.name].filter((part) => part != null).join('.'),
    );
  return {
    source: write.source.id,
    statement: write.sql,
    params: write.params,
    fp: verdict.analysis.fingerprint,
    operation,
    tables: [...new Set(tables)],
    dryRun: async () => (await run({ dryRun: true })).structuredContent.affectedRows,
  };
}

/**
 * The outcome of a call that asked the human: the dry run's count, nothing
 * committed. The runtime answers the client with its input request instead;
 * the audit record says the confirmation was requested.
 */
function awaitingConfirmation(rows: number): WriteOutcome {
  return {
    text: `Dry run: ${rowsText(rows)} would change; nothing was changed. Waiting for a person to confirm the write.`,
    structuredContent: { affectedRows: rows, committed: false, dryRun: true },
    rows,
    committed: false,
  };
}

function rowsText(rows: number): string {
  return `${rows} ${rows === 1 ? 'row' : 'rows'}`;
}
