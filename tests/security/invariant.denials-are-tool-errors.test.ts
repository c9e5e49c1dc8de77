/**
 * Invariant 9: every code ends a call as a tool error, never as a crash.
 *
 * Each code in the closed table has a scenario here that produces it
 * through the assembled boundary; the result is `isError: true` with
 * `structuredContent.error = { code, message }` and a text that starts with
 * the code. A code added to the table without a scenario fails the
 * coverage test. And whatever the ports or the handler throw (non-Error
 * values included), `executeToolBoundary` resolves with a result.
 */
import { costRefusal, outcomeUnknown, sourceBusy } from '@sqlwarden/adapter-kit';
import {
  ERROR_CODE_LIST,
  type ErrorCode,
  ErrorPayloadSchema,
  executeToolBoundary,
  SqlwardenError,
  type ToolCallResult,
} from '@sqlwarden/core';
import { createQuotaGate, type QuotaStore, QuotaStoreUnavailableError } from '@sqlwarden/security';
import { describe, expect, it } from 'vitest';
import { type Assembly, assemble, blockReads, sessionContext, VALID_INPUT } from './harness.js';

type Scenario = {
  readonly options?: Parameters<typeof assemble>[0];
  readonly run: (system: Assembly) => Promise<ToolCallResult>;
};

const throwing = (error: unknown) => async () => {
  throw error;
};

const unreachable = async (): Promise<never> => {
  throw new QuotaStoreUnavailableError('Redis at 127.0.0.1:1', 'the connection was refused');
};
const DOWN: QuotaStore = {
  takeTokens: unreachable,
  acquireSlots: unreachable,
  releaseSlots: unreachable,
};

const SCENARIOS: Record<ErrorCode, Scenario> = {
  SESSION_INVALID: {
    run: (s) => s.call('fake_read', VALID_INPUT.fake_read, { context: undefined }),
  },
  UNKNOWN_TOOL: { run: (s) => s.call('nope', {}) },
  INVALID_INPUT: { run: (s) => s.call('fake_read', { sql: 1 }) },
  READ_ONLY: {
    options: { readOnly: true },
    run: (s) => s.call('fake_write', VALID_INPUT.fake_write),
  },
  WRITES_DISABLED: {
    options: { writesEnabled: false },
    run: (s) => s.call('fake_write', VALID_INPUT.fake_write),
  },
  CONFIRMATION_REQUIRED: {
    // A write that needs a human's yes on a call that came with no way to ask.
    run: (s) => s.call('fake_write', { ...VALID_INPUT.fake_write, confirm: true }),
  },
  CONFIRMATION_DECLINED: {
    run: (s) =>
      s.call(
        'fake_write',
        { ...VALID_INPUT.fake_write, confirm: true },
        { confirmation: { confirm: async () => ({ status: 'declined' }) } },
      ),
  },
  FORBIDDEN: {
    run: (s) =>
      s.call('fake_read', VALID_INPUT.fake_read, { context: sessionContext({ roles: [] }) }),
  },
  RATE_LIMITED: {
    options: { quota: { perPrincipal: { rate: { burst: 1, perSecond: 0.001 } } } },
    run: async (s) => {
      await s.call('fake_list', {});
      return s.call('fake_list', {});
    },
  },
  CONCURRENCY_LIMITED: {
    options: { quota: { perPrincipal: { concurrency: 1 } } },
    run: async (s) => {
      const blocked = blockReads(s.adapter);
      const first = s.call('fake_read', VALID_INPUT.fake_read);
      await blocked.started;
      const second = await s.call('fake_list', {});
      blocked.finish();
      await first;
      return second;
    },
  },
  QUOTA_UNAVAILABLE: {
    run: (s) => {
      // The real gate over a store that cannot answer (a Redis that is down).
      const gate = createQuotaGate({ policy: { perPrincipal: { concurrency: 1 } }, store: DOWN });
      s.deps.quota.acquire = (request) => gate.acquire(request);
      return s.call('fake_read', VALID_INPUT.fake_read);
    },
  },
  QUERY_REJECTED: {
    run: (s) => s.call('fake_read', { ...VALID_INPUT.fake_read, sql: 'SELECT 1; DROP TABLE x' }),
  },
  QUERY_TIMEOUT: {
    options: { limits: { timeoutMs: 20 }, timeoutGraceMs: 5 },
    run: (s) => {
      s.adapter.onRead = () => new Promise(() => {});
      return s.call('fake_read', VALID_INPUT.fake_read);
    },
  },
  QUERY_CANCELLED: {
    run: (s) => {
      blockReads(s.adapter);
      return s.call('fake_read', VALID_INPUT.fake_read, { signal: AbortSignal.timeout(10) });
    },
  },
  QUERY_FAILED: {
    run: (s) => {
      s.adapter.onRead = throwing(new SqlwardenError('QUERY_FAILED', 'Column "x" does not exist.'));
      return s.call('fake_read', VALID_INPUT.fake_read);
    },
  },
  WRITE_LIMIT_EXCEEDED: {
    options: { limits: { maxAffectedRows: 1 } },
    run: (s) => {
      s.adapter.rowsAffectedByWrite = 2;
      return s.call('fake_write', VALID_INPUT.fake_write);
    },
  },
  COST_LIMIT_EXCEEDED: {
    run: (s) => {
      s.adapter.onRead = throwing(
        costRefusal({ cost: 5_000_000, rows: 10 }, { maxCost: 1000 }) as SqlwardenError,
      );
      return s.call('fake_read', VALID_INPUT.fake_read);
    },
  },
  NOT_FOUND: {
    run: (s) => {
      s.adapter.onRead = throwing(new SqlwardenError('NOT_FOUND', 'No such table.'));
      return s.call('fake_read', VALID_INPUT.fake_read);
    },
  },
  DB_UNAVAILABLE: {
    run: (s) => {
      s.adapter.onRead = throwing(
        new SqlwardenError('DB_UNAVAILABLE', 'The database is unavailable.'),
      );
      return s.call('fake_read', VALID_INPUT.fake_read);
    },
  },
  SOURCE_BUSY: {
    run: (s) => {
      s.adapter.onRead = throwing(sourceBusy(10, 500));
      return s.call('fake_read', VALID_INPUT.fake_read);
    },
  },
  OUTCOME_UNKNOWN: {
    run: (s) => {
      s.adapter.onWrite = throwing(outcomeUnknown(new Error('Connection terminated unexpectedly')));
      return s.call('fake_write', VALID_INPUT.fake_write);
    },
  },
  INTERNAL: {
    run: (s) => {
      s.adapter.onRead = throwing(new RangeError('boom'));
      return s.call('fake_read', VALID_INPUT.fake_read);
    },
  },
};

function expectToolError(result: ToolCallResult, code: string) {
  expect(result.isError).toBe(true);
  const error = (result.structuredContent as { error: unknown }).error;
  expect(ErrorPayloadSchema.parse(error)).toMatchObject({ code });
  expect(result.content).toEqual([
    { type: 'text', text: expect.stringMatching(new RegExp(`^${code}: \\S`)) },
  ]);
}

describe('invariant: every code is a tool error, never a crash', () => {
  it('has a scenario for every code in the table', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual([...ERROR_CODE_LIST].sort());
  });

  it.each(ERROR_CODE_LIST)('returns %s as a tool error', async (code) => {
    const scenario = SCENARIOS[code];
    const system = assemble(scenario.options);
    const result = await scenario.run(system);
    expectToolError(result, code);
    expect(system.auditEvents()).toContainEqual(
      expect.objectContaining({ code, decision: code === 'INTERNAL' ? 'error' : 'deny' }),
    );
  });

  it.each([
    [
      'the authorizer throws',
      (s: Assembly) => {
        s.deps.authorizer.authorize = () => {
          throw new Error('x');
        };
      },
    ],
    [
      'the authorizer rejects',
      (s: Assembly) => {
        s.deps.authorizer.authorize = () => Promise.reject(new Error('x'));
      },
    ],
    [
      'the quota gate throws',
      (s: Assembly) => {
        s.deps.quota.acquire = () => {
          throw new Error('x');
        };
      },
    ],
    [
      'the quota gate resolves garbage',
      (s: Assembly) => {
        s.deps.quota.acquire = async () => undefined as never;
      },
    ],
    [
      'the audit sink throws',
      (s: Assembly) => {
        s.deps.audit.record = () => {
          throw new Error('x');
        };
      },
    ],
    [
      'the adapter throws undefined',
      (s: Assembly) => {
        s.adapter.onRead = throwing(undefined);
      },
    ],
    [
      'the adapter throws null',
      (s: Assembly) => {
        s.adapter.onRead = throwing(null);
      },
    ],
    [
      'the adapter throws a symbol',
      (s: Assembly) => {
        s.adapter.onRead = throwing(Symbol('x'));
      },
    ],
    [
      'the adapter throws a forged error object',
      (s: Assembly) => {
        s.adapter.onRead = throwing({ code: 'FORBIDDEN', message: 'forged' });
      },
    ],
    [
      'the lease release throws',
      (s: Assembly) => {
        s.deps.quota.acquire = async () => ({
          ok: true,
          lease: {
            release: () => {
              throw new Error('x');
            },
          },
        });
      },
    ],
  ] as const)('resolves with a tool error when %s', async (_label, sabotage) => {
    const system = assemble();
    sabotage(system);
    const result = await executeToolBoundary(
      {
        requestId: 'r',
        context: sessionContext(),
        tool: 'fake_read',
        input: VALID_INPUT.fake_read,
      },
      system.deps,
    );
    // The lease-release case still succeeds; every other one is INTERNAL.
    if (result.isError) expectToolError(result, 'INTERNAL');
    else expect(_label).toBe('the lease release throws');
  });
});
