/**
 * The one write path of every adapter: one INSERT, UPDATE or DELETE in a
 * READ WRITE transaction of its own (the session stays read-only for
 * reads), with its affected-row ceiling and its dry run, under the call's
 * supervision (supervise.ts):
 *
 *  1. BEGIN (the engine's words: BEGIN READ WRITE, START TRANSACTION READ WRITE),
 *     with the call's database identity, if it has one;
 *  2. the statement, with its values bound: the rows it affected;
 *  3. over `maxAffectedRows`: ROLLBACK, WRITE_LIMIT_EXCEEDED, nothing changed;
 *  4. a dry run: ROLLBACK, and the count is the answer (`committed: false`);
 *  5. otherwise COMMIT (`committed: true`).
 *
 * Failures:
 *  - the statement failed (a duplicate key, a lock wait): ROLLBACK, so
 *    nothing of it is committed later and the connection is clean; a
 *    ROLLBACK that fails discards the connection (the server rolls back an
 *    open transaction when its connection goes);
 *  - the connection was lost, or the call was stopped (deadline, abort)
 *    before COMMIT was sent: the connection is discarded, which rolls the
 *    transaction back on the server;
 *  - COMMIT was sent and its answer never came (the connection was lost, the
 *    deadline stopped the call): OUTCOME_UNKNOWN, never retryable, since the
 *    server may have committed. Once COMMIT is sent the caller's abort no
 *    longer stops the call (a COMMIT cannot be taken back): only the
 *    deadline does;
 *  - COMMIT was answered with an error (a deferred constraint): the server
 *    rolled the transaction back, and the error is mapped as any other.
 */
import type { WriteRequest, WriteResult } from '@sqlwarden/core';
import type { BoundStatement, DriverConnection } from './dialect.js';
import { outcomeUnknown, writeLimitExceeded } from './failures.js';
import type { CallSupervisor } from './supervise.js';

/** What the write path needs of the call it runs in (the kit's lease of a connection). */
export interface TransactionLease {
  readonly connection: Pick<DriverConnection, 'begin' | 'execute' | 'commit' | 'rollback'>;
  readonly call: Pick<
    CallSupervisor,
    'guard' | 'assertRunning' | 'committing' | 'reason' | 'unanswered'
  >;
  /** The connection is not given back to the pool. */
  discard(): void;
  /** Whether the error means the connection is gone. */
  isConnectionError(error: unknown): boolean;
  /** The database stopped answering under this call: the operator is told. */
  outage(error: unknown): void;
}

type Phase = 'before' | 'open' | 'committing';

export async function writeTransaction(
  lease: TransactionLease,
  statement: BoundStatement,
  request: Pick<WriteRequest, 'maxAffectedRows' | 'dryRun' | 'identity'>,
): Promise<WriteResult> {
  const { connection, call } = lease;
  let phase: Phase = 'before';
  try {
    // The identity (if any) is the transaction's from BEGIN on: the statement never runs without it.
    await call.guard(() => connection.begin(request.identity));
    phase = 'open';
    const affectedRows = await call.guard(() => connection.execute(statement));
    if (affectedRows > request.maxAffectedRows) {
      await call.guard(() => connection.rollback());
      phase = 'before';
      throw writeLimitExceeded(affectedRows, request.maxAffectedRows);
    }
    if (request.dryRun) {
      await call.guard(() => connection.rollback());
      phase = 'before';
      return { affectedRows, committed: false };
    }
    // Stopped after the statement ran: COMMIT is never sent (the transaction
    // ends with the discarded connection), and the call is not in doubt.
    call.assertRunning();
    phase = 'committing';
    call.committing();
    await call.guard(() => connection.commit());
    phase = 'before';
    return { affectedRows, committed: true };
  } catch (error) {
    const lost = call.reason !== null || lease.isConnectionError(error);
    if (lost) {
      lease.discard();
      if (phase === 'committing') {
        // COMMIT was sent and no answer came back: it may have been applied.
        if (call.reason === null || call.unanswered) lease.outage(error);
        throw outcomeUnknown(error);
      }
    } else if (phase !== 'before') {
      try {
        await call.guard(() => connection.rollback());
      } catch {
        lease.discard();
      }
    }
    throw error;
  }
}
