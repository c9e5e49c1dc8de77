/**
 * The cost gate (ReadRequest.costCeiling): the planner's estimate of a read,
 * made with EXPLAIN (never ANALYZE: nothing runs) with the same values, in
 * the same session and under the same time limit as the read, is held to
 * the call's ceilings before the read runs. Over one, or without an
 * estimate to hold it to, the read is refused: it never runs unchecked.
 */
import { type CostCeiling, type CostEstimate, SqlwardenError } from '@sqlwarden/core';

/** A number as an operator reads it: 12,345 or 1.2e+15. */
function shown(value: number): string {
  if (value >= 1e12) return value.toExponential(1);
  return Math.round(value).toLocaleString('en-US');
}

const NARROW = 'narrow it: a WHERE clause on an indexed column, a LIMIT, fewer tables or joins';

/**
 * Undefined when the estimate is within every ceiling; otherwise the
 * refusal, saying which estimate exceeded which ceiling and what to do.
 */
export function costRefusal(
  estimate: CostEstimate,
  ceiling: CostCeiling,
): SqlwardenError | undefined {
  const over: string[] = [];
  if (ceiling.maxCost !== undefined) {
    if (estimate.cost === null) {
      return new SqlwardenError(
        'COST_LIMIT_EXCEEDED',
        `The planner gives no cost for this statement (MariaDB computes none for UNION and subqueries), and a cost ceiling of ${shown(ceiling.maxCost)} applies, so it was not run; rewrite it as one SELECT without them, or ask an operator for a row ceiling (maxRows) instead.`,
        { estimate },
      );
    }
    if (estimate.cost > ceiling.maxCost) {
      over.push(`cost ${shown(estimate.cost)} (ceiling ${shown(ceiling.maxCost)})`);
    }
  }
  if (ceiling.maxRows !== undefined && estimate.rows > ceiling.maxRows) {
    over.push(`${shown(estimate.rows)} rows (ceiling ${shown(ceiling.maxRows)})`);
  }
  if (over.length === 0) return undefined;
  return new SqlwardenError(
    'COST_LIMIT_EXCEEDED',
    `The planner estimates this read at ${over.join(' and ')}, so it was not run; ${NARROW}.`,
    { estimate },
  );
}

/** The engine cannot estimate: the read is refused, never run unchecked. */
export function noEstimate(): SqlwardenError {
  return new SqlwardenError(
    'QUERY_FAILED',
    "The planner's estimate of this read could not be obtained, and a cost ceiling applies to it, so it was not run; try again, or narrow the statement.",
  );
}
