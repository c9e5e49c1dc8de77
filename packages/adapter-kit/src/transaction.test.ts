import { SqlwardenError } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import { type TransactionLease, writeTransaction } from './transaction.js';

// The write path's decisions on a scripted connection; the real
// transactions run in the conformance suite's writes and faults on both
// engines (including a COMMIT whose answer the proxy loses).

const statement = { sql: 'UPDATE t SET v = 1', values: [] };
const lostError = Object.assign(new Error('Connection terminated unexpectedly'), {
  code: 'ECONNRESET',
});

function lease(script: {
  affected?: number;
  fail?: Partial<Record<string, Error>>;
  /** The kit stops the call (deadline or abort) while this step runs. */
  stopDuring?: { step: string; reason: 'timeout' | 'abort' };
}) {
  const steps: string[] = [];
  const facts = { discarded: false, outages: 0 };
  const call = {
    reason: null as 'timeout' | 'abort' | null,
    unanswered: false,
    // As the supervisor: a stopped call starts nothing more.
    guard: <T>(start: () => Promise<T>) =>
      call.reason === null ? start() : Promise.reject(new Error(`stopped (${call.reason})`)),
    assertRunning: () => {
      if (call.reason !== null) throw new Error(`stopped (${call.reason})`);
    },
    committing: () => steps.push('(committing)'),
  };
  const step = (name: string) => async () => {
    steps.push(name);
    if (script.stopDuring?.step === name) call.reason = script.stopDuring.reason;
    const failure = script.fail?.[name];
    if (failure !== undefined) throw failure;
  };
  const made: TransactionLease = {
    connection: {
      begin: step('BEGIN'),
      execute: async () => {
        await step('statement')();
        return script.affected ?? 1;
      },
      commit: step('COMMIT'),
      rollback: step('ROLLBACK'),
    },
    call,
    discard: () => {
      facts.discarded = true;
    },
    isConnectionError: (error) => error === lostError,
    outage: () => {
      facts.outages++;
    },
  };
  return { made, steps, facts, call };
}

async function codeOf(promise: Promise<unknown>) {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return SqlwardenError.is(error) ? error.code : (error as Error).message;
  }
}

describe('writeTransaction', () => {
  it('commits: BEGIN, the statement, COMMIT', async () => {
    const { made, steps } = lease({ affected: 3 });
    expect(await writeTransaction(made, statement, { maxAffectedRows: 3, dryRun: false })).toEqual({
      affectedRows: 3,
      committed: true,
    });
    expect(steps).toEqual(['BEGIN', 'statement', '(committing)', 'COMMIT']);
  });

  it('rolls back a dry run and answers the count', async () => {
    const { made, steps } = lease({ affected: 2 });
    expect(await writeTransaction(made, statement, { maxAffectedRows: 5, dryRun: true })).toEqual({
      affectedRows: 2,
      committed: false,
    });
    expect(steps).toEqual(['BEGIN', 'statement', 'ROLLBACK']);
  });

  it('rolls back over the ceiling with WRITE_LIMIT_EXCEEDED', async () => {
    const { made, steps } = lease({ affected: 4 });
    expect(
      await codeOf(writeTransaction(made, statement, { maxAffectedRows: 3, dryRun: false })),
    ).toBe('WRITE_LIMIT_EXCEEDED');
    expect(steps).toEqual(['BEGIN', 'statement', 'ROLLBACK']);
  });

  it('rolls back a statement the server refused, keeps the connection, and passes the error on', async () => {
    const { made, steps, facts } = lease({ fail: { statement: new Error('duplicate key') } });
    expect(
      await codeOf(writeTransaction(made, statement, { maxAffectedRows: 3, dryRun: false })),
    ).toBe('duplicate key');
    expect(steps).toEqual(['BEGIN', 'statement', 'ROLLBACK']);
    expect(facts.discarded).toBe(false);
  });

  it('discards a connection whose ROLLBACK failed', async () => {
    const { made, facts } = lease({
      fail: { statement: new Error('duplicate key'), ROLLBACK: new Error('no') },
    });
    await codeOf(writeTransaction(made, statement, { maxAffectedRows: 3, dryRun: false }));
    expect(facts.discarded).toBe(true);
  });

  it('discards, without a ROLLBACK, a connection lost before COMMIT (the server rolls back)', async () => {
    const { made, steps, facts } = lease({ fail: { statement: lostError } });
    expect(
      await codeOf(writeTransaction(made, statement, { maxAffectedRows: 3, dryRun: false })),
    ).toBe(lostError.message);
    expect(steps).toEqual(['BEGIN', 'statement']);
    expect([facts.discarded, facts.outages]).toEqual([true, 0]);
  });

  it('answers OUTCOME_UNKNOWN when the connection is lost after COMMIT was sent, and tells the operator', async () => {
    const { made, facts } = lease({ fail: { COMMIT: lostError } });
    expect(
      await codeOf(writeTransaction(made, statement, { maxAffectedRows: 3, dryRun: false })),
    ).toBe('OUTCOME_UNKNOWN');
    expect([facts.discarded, facts.outages]).toEqual([true, 1]);
  });

  it('answers OUTCOME_UNKNOWN when the deadline stopped a COMMIT', async () => {
    const { made, facts } = lease({
      fail: { COMMIT: new Error('stopped') },
      stopDuring: { step: 'COMMIT', reason: 'timeout' },
    });
    expect(
      await codeOf(writeTransaction(made, statement, { maxAffectedRows: 3, dryRun: false })),
    ).toBe('OUTCOME_UNKNOWN');
    // Stopped by the kit with an answered cancel: not an outage.
    expect([facts.discarded, facts.outages]).toEqual([true, 0]);
  });

  it('never sends COMMIT for a call stopped while its statement ran: rolled back with the connection, not in doubt', async () => {
    // The abort came as the statement finished (its cancel found nothing to
    // stop): committing now would apply a write the caller gave up on.
    const { made, steps, facts } = lease({ stopDuring: { step: 'statement', reason: 'abort' } });
    expect(
      await codeOf(writeTransaction(made, statement, { maxAffectedRows: 3, dryRun: false })),
    ).toBe('stopped (abort)');
    expect(steps).toEqual(['BEGIN', 'statement']);
    expect([facts.discarded, facts.outages]).toEqual([true, 0]);
  });

  it('passes on a COMMIT the server refused (it rolled back): not OUTCOME_UNKNOWN', async () => {
    const { made } = lease({ fail: { COMMIT: new Error('deferred constraint') } });
    expect(
      await codeOf(writeTransaction(made, statement, { maxAffectedRows: 3, dryRun: false })),
    ).toBe('deferred constraint');
  });
});
