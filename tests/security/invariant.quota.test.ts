/**
 * Invariant 6: quota is checked before execution, and concurrency slots are
 * released on every path.
 *
 * A call over its rate or concurrency limit never reaches the handler or
 * the adapter. A call that got a slot gives it back however it ends:
 * success, a mapped error, an unexpected throw, an output that breaks its
 * schema, client cancellation, or a timeout with a handler that ignores its
 * signal. Observable: with a concurrency limit of one, the next call runs.
 */
import { SqlwardenError } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import { type Assembly, assemble, blockReads, errorOf, VALID_INPUT } from './harness.js';

const ONE_AT_A_TIME = { perPrincipal: { concurrency: 1 }, perTool: { concurrency: 1 } };

type Path = {
  readonly label: string;
  readonly code: string | undefined;
  readonly arrange: (system: Assembly) => void;
  readonly signal?: () => AbortSignal;
};

const PATHS: Path[] = [
  { label: 'success', code: undefined, arrange: () => {} },
  {
    label: 'a mapped adapter error',
    code: 'DB_UNAVAILABLE',
    arrange: (system) => {
      system.adapter.onRead = async () => {
        throw new SqlwardenError('DB_UNAVAILABLE', 'The database is unavailable.');
      };
    },
  },
  {
    label: 'an unexpected throw',
    code: 'INTERNAL',
    arrange: (system) => {
      system.adapter.onRead = async () => {
        throw new TypeError('cannot read properties of undefined');
      };
    },
  },
  {
    label: 'a synchronous throw',
    code: 'INTERNAL',
    arrange: (system) => {
      system.adapter.onRead = () => {
        throw new Error('sync');
      };
    },
  },
  {
    label: 'an output that breaks its schema',
    code: 'INTERNAL',
    arrange: (system) => {
      system.adapter.onRead = async () => ({ rows: 'not rows' }) as never;
    },
  },
  {
    label: 'a timeout with a handler that ignores its signal',
    code: 'QUERY_TIMEOUT',
    arrange: (system) => {
      system.adapter.onRead = () => new Promise(() => {});
    },
  },
  {
    label: 'client cancellation',
    code: 'QUERY_CANCELLED',
    arrange: (system) => {
      blockReads(system.adapter);
    },
    signal: () => AbortSignal.timeout(20),
  },
];

describe('invariant: quota before execution, slots released on every path', () => {
  it.each(PATHS)('releases the slot after $label', async (path) => {
    const system = assemble({
      quota: ONE_AT_A_TIME,
      limits: { timeoutMs: 30 },
      timeoutGraceMs: 10,
    });
    path.arrange(system);
    const result = await system.call('fake_read', VALID_INPUT.fake_read, {
      signal: path.signal?.(),
    });
    expect(errorOf(result)?.code).toBe(path.code);
    expect(system.timeline.filter((entry) => entry === 'quota' || entry === 'release')).toEqual([
      'quota',
      'release',
    ]);
    // The single slot is free again: a normal call runs.
    system.adapter.onRead = async () => ({ columns: [], rows: [], rowCount: 0, truncated: false });
    expect(errorOf(await system.call('fake_read', VALID_INPUT.fake_read))).toBeUndefined();
  });

  it('denies a call over the rate limit before the handler, with retryAfterMs', async () => {
    const system = assemble({ quota: { perPrincipal: { rate: { burst: 1, perSecond: 1 } } } });
    expect(errorOf(await system.call('fake_read', VALID_INPUT.fake_read))).toBeUndefined();
    const result = await system.call('fake_read', VALID_INPUT.fake_read);
    expect(errorOf(result)).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: expect.any(Number),
    });
    expect(errorOf(result)?.retryAfterMs).toBeGreaterThan(0);
    expect(system.toolCalls.handlers).toEqual(['fake_read']);
    expect(system.adapter.calls).toHaveLength(1);
  });

  it('denies a concurrent call over the limit while the first is running, then admits the next', async () => {
    const system = assemble({ quota: ONE_AT_A_TIME });
    const blocked = blockReads(system.adapter);
    const first = system.call('fake_read', VALID_INPUT.fake_read);
    await blocked.started;
    const second = await system.call('fake_list', {});
    // The per-principal limit spans tools.
    expect(errorOf(second)).toMatchObject({ code: 'CONCURRENCY_LIMITED', retryAfterMs: 100 });
    expect(system.toolCalls.handlers).toEqual(['fake_read']);
    blocked.finish();
    expect(errorOf(await first)).toBeUndefined();
    expect(errorOf(await system.call('fake_list', {}))).toBeUndefined();
  });

  it('spends no quota on calls denied by an earlier stage', async () => {
    const system = assemble({ quota: { perPrincipal: { rate: { burst: 1, perSecond: 0.001 } } } });
    await system.call('fake_read', { table: 'nope' });
    await system.call('fake_read', { ...VALID_INPUT.fake_read, table: 'hr.salaries' });
    await system.call('fake_read', { ...VALID_INPUT.fake_read, sql: 'DELETE FROM public.orders' });
    expect(system.quotaCalls).toEqual([]);
    expect(errorOf(await system.call('fake_read', VALID_INPUT.fake_read))).toBeUndefined();
  });
});
