import { ConfigError } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import { createQuotaGate } from './quota.js';
import {
  MemoryQuotaStore,
  type QuotaStore,
  QuotaStoreUnavailableError,
  type SlotSpec,
  type TokenBucketSpec,
} from './quota-store.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const call = { principalId: 'alice', tool: 'query_read' };

describe('rate limits', () => {
  it('allows a burst, then denies with the time until the next token', async () => {
    const time = clock();
    const gate = createQuotaGate({
      policy: { perPrincipal: { rate: { burst: 2, perSecond: 4 } } },
      now: time.now,
    });
    expect((await gate.acquire(call)).ok).toBe(true);
    expect((await gate.acquire(call)).ok).toBe(true);
    expect(await gate.acquire(call)).toMatchObject({
      ok: false,
      code: 'RATE_LIMITED',
      retryAfterMs: 250,
    });
    time.advance(100);
    expect(await gate.acquire(call)).toMatchObject({ ok: false, retryAfterMs: 150 });
    time.advance(150);
    expect((await gate.acquire(call)).ok).toBe(true);
  });

  it('keeps principals apart', async () => {
    const gate = createQuotaGate({
      policy: { perPrincipal: { rate: { burst: 1, perSecond: 1 } } },
      now: clock().now,
    });
    expect((await gate.acquire(call)).ok).toBe(true);
    expect((await gate.acquire({ ...call, principalId: 'bob' })).ok).toBe(true);
    expect((await gate.acquire(call)).ok).toBe(false);
  });

  it('limits each tool of a principal separately, with per-tool overrides', async () => {
    const gate = createQuotaGate({
      policy: {
        perTool: { rate: { burst: 1, perSecond: 1 } },
        tools: { list_tables: { rate: { burst: 3, perSecond: 1 } } },
      },
      now: clock().now,
    });
    expect((await gate.acquire(call)).ok).toBe(true);
    expect((await gate.acquire(call)).ok).toBe(false);
    for (let i = 0; i < 3; i += 1) {
      expect((await gate.acquire({ ...call, tool: 'list_tables' })).ok).toBe(true);
    }
    expect((await gate.acquire({ ...call, tool: 'list_tables' })).ok).toBe(false);
  });

  it('spends nothing from the principal bucket when the tool bucket denies', async () => {
    const gate = createQuotaGate({
      policy: {
        perPrincipal: { rate: { burst: 2, perSecond: 0.001 } },
        perTool: { rate: { burst: 1, perSecond: 0.001 } },
      },
      now: clock().now,
    });
    expect((await gate.acquire(call)).ok).toBe(true);
    expect((await gate.acquire(call)).ok).toBe(false);
    // The principal bucket still has its second token for another tool.
    expect((await gate.acquire({ ...call, tool: 'describe_table' })).ok).toBe(true);
  });

  it('does not drain a bucket when the clock steps back', async () => {
    const time = clock();
    const gate = createQuotaGate({
      policy: { perPrincipal: { rate: { burst: 1, perSecond: 1 } } },
      now: time.now,
    });
    expect((await gate.acquire(call)).ok).toBe(true);
    time.advance(-10_000);
    expect(await gate.acquire(call)).toMatchObject({ ok: false, retryAfterMs: 1000 });
  });
});

describe('concurrency limits', () => {
  it('denies past the limit and frees the slot on release', async () => {
    const gate = createQuotaGate({
      policy: { perPrincipal: { concurrency: 1 } },
      concurrencyRetryAfterMs: 50,
    });
    const first = await gate.acquire(call);
    expect(first.ok).toBe(true);
    expect(await gate.acquire(call)).toMatchObject({
      ok: false,
      code: 'CONCURRENCY_LIMITED',
      retryAfterMs: 50,
    });
    if (first.ok) await first.lease.release();
    expect((await gate.acquire(call)).ok).toBe(true);
  });

  it('releases once even when release is called twice', async () => {
    const gate = createQuotaGate({ policy: { perPrincipal: { concurrency: 2 } } });
    const a = await gate.acquire(call);
    const b = await gate.acquire(call);
    if (!a.ok || !b.ok) throw new Error('expected grants');
    await a.lease.release();
    await a.lease.release();
    // b still holds its slot: one more fits, two do not.
    expect((await gate.acquire(call)).ok).toBe(true);
    expect((await gate.acquire(call)).ok).toBe(false);
  });

  it('gives back the concurrency slot when the rate limit denies', async () => {
    const store = new MemoryQuotaStore();
    const gate = createQuotaGate({
      policy: { perPrincipal: { concurrency: 1, rate: { burst: 1, perSecond: 0.001 } } },
      store,
      now: clock().now,
    });
    const first = await gate.acquire(call);
    if (first.ok) await first.lease.release();
    expect(await gate.acquire(call)).toMatchObject({ code: 'RATE_LIMITED' });
    expect(store.held('sqlwarden:slots:alice')).toBe(0);
  });

  it('expires a lease that was never released', async () => {
    const time = clock();
    const gate = createQuotaGate({
      policy: { perPrincipal: { concurrency: 1 } },
      leaseMs: 1000,
      now: time.now,
    });
    expect((await gate.acquire(call)).ok).toBe(true);
    expect((await gate.acquire(call)).ok).toBe(false);
    time.advance(1000);
    expect((await gate.acquire(call)).ok).toBe(true);
  });

  it('encodes key parts so one principal id cannot address another key', async () => {
    const gate = createQuotaGate({
      policy: { perPrincipal: { concurrency: 1 }, perTool: { concurrency: 1 } },
    });
    expect((await gate.acquire({ principalId: 'a', tool: 'b' })).ok).toBe(true);
    expect((await gate.acquire({ principalId: 'a:b', tool: 'c' })).ok).toBe(true);
  });
});

describe('quota policy validation', () => {
  it('reports every invalid limit at once', () => {
    try {
      createQuotaGate({
        policy: {
          perPrincipal: { rate: { burst: 0, perSecond: -1 } },
          tools: { x: { concurrency: 1.5 } },
        },
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        'perPrincipal.rate.burst: must be a whole number of at least 1',
        'perPrincipal.rate.perSecond: must be above 0',
        'tools.x.concurrency: must be a whole number of at least 1',
      ]);
    }
  });

  it('allows everything when no limit is configured', async () => {
    const gate = createQuotaGate({ policy: {} });
    for (let i = 0; i < 100; i += 1) expect((await gate.acquire(call)).ok).toBe(true);
  });
});

/** The memory store behind a switch: while `down`, every operation throws, as a dead Redis does. */
class SwitchableStore implements QuotaStore {
  readonly inner = new MemoryQuotaStore();
  down = false;
  failTakeOnly = false;
  readonly calls: string[] = [];

  #check(operation: string) {
    this.calls.push(operation);
    if (this.down || (this.failTakeOnly && operation === 'takeTokens')) {
      throw new QuotaStoreUnavailableError('Redis at 127.0.0.1:6399', 'the connection was refused');
    }
  }

  async takeTokens(buckets: readonly TokenBucketSpec[], nowMs: number) {
    this.#check('takeTokens');
    return this.inner.takeTokens(buckets, nowMs);
  }

  async acquireSlots(slots: readonly SlotSpec[], lease: string, nowMs: number, leaseMs: number) {
    this.#check('acquireSlots');
    return this.inner.acquireSlots(slots, lease, nowMs, leaseMs);
  }

  async releaseSlots(keys: readonly string[], lease: string) {
    this.#check('releaseSlots');
    return this.inner.releaseSlots(keys, lease);
  }
}

const BOTH = { perPrincipal: { concurrency: 2, rate: { burst: 5, perSecond: 1 } } };
const read = { ...call, kind: 'read' } as const;
const write = { principalId: 'alice', tool: 'execute_write', kind: 'write' } as const;

describe('when the store cannot answer', () => {
  it('denies with QUOTA_UNAVAILABLE and a retry hint, for rate and concurrency limits alike', async () => {
    for (const policy of [
      { perPrincipal: { concurrency: 1 } },
      { perTool: { rate: { burst: 1, perSecond: 1 } } },
      BOTH,
    ]) {
      const store = new SwitchableStore();
      store.down = true;
      const gate = createQuotaGate({ policy, store });
      expect(await gate.acquire(read)).toEqual({
        ok: false,
        code: 'QUOTA_UNAVAILABLE',
        message:
          'Quotas cannot be checked right now (the quota service is unreachable); retry shortly.',
        retryAfterMs: 1000,
      });
    }
  });

  it('uses the configured retry hint, including 0', async () => {
    const store = new SwitchableStore();
    store.down = true;
    const gate = createQuotaGate({ policy: BOTH, store, unavailableRetryAfterMs: 0 });
    expect(await gate.acquire(call)).toMatchObject({ code: 'QUOTA_UNAVAILABLE', retryAfterMs: 0 });
  });

  it('does not ask the store at all when no limit applies, so an outage denies nothing', async () => {
    const store = new SwitchableStore();
    store.down = true;
    const gate = createQuotaGate({ policy: {}, store });
    const decision = await gate.acquire(write);
    expect(decision.ok).toBe(true);
    if (decision.ok) await decision.lease.release();
    expect(store.calls).toEqual([]);
  });

  it('tells onStoreUnavailable of every failure, and onStoreAvailable once when the store answers again', async () => {
    const store = new SwitchableStore();
    const failures: unknown[] = [];
    const recoveries: { failures: number }[] = [];
    const gate = createQuotaGate({
      policy: { perPrincipal: { rate: { burst: 100, perSecond: 100 } } },
      store,
      onStoreUnavailable: (error) => failures.push(error),
      onStoreAvailable: (outage) => recoveries.push(outage),
    });
    expect((await gate.acquire(call)).ok).toBe(true);
    expect(recoveries).toEqual([]);
    store.down = true;
    for (let i = 0; i < 3; i += 1) expect((await gate.acquire(call)).ok).toBe(false);
    expect(failures).toHaveLength(3);
    expect(QuotaStoreUnavailableError.is(failures[0])).toBe(true);
    store.down = false;
    expect((await gate.acquire(call)).ok).toBe(true);
    expect((await gate.acquire(call)).ok).toBe(true);
    expect(recoveries).toEqual([{ failures: 3 }]);
  });

  it('decides the same when a hook throws', async () => {
    const store = new SwitchableStore();
    const gate = createQuotaGate({
      policy: BOTH,
      store,
      onStoreUnavailable: () => {
        throw new Error('logger down');
      },
      onStoreAvailable: () => {
        throw new Error('logger down');
      },
    });
    store.down = true;
    expect(await gate.acquire(call)).toMatchObject({ ok: false, code: 'QUOTA_UNAVAILABLE' });
    store.down = false;
    expect((await gate.acquire(call)).ok).toBe(true);
  });

  it("lets read and introspect tools through with failOpen: 'reads', never write tools or calls of unknown kind", async () => {
    const store = new SwitchableStore();
    store.down = true;
    const gate = createQuotaGate({ policy: BOTH, store, failOpen: 'reads' });
    const granted = await gate.acquire(read);
    expect(granted.ok).toBe(true);
    if (granted.ok) await granted.lease.release();
    expect((await gate.acquire({ ...call, kind: 'introspect' })).ok).toBe(true);
    expect(await gate.acquire(write)).toMatchObject({ ok: false, code: 'QUOTA_UNAVAILABLE' });
    expect(await gate.acquire(call)).toMatchObject({ ok: false, code: 'QUOTA_UNAVAILABLE' });
    expect(await gate.acquire({ ...call, kind: 'admin' as never })).toMatchObject({
      ok: false,
      code: 'QUOTA_UNAVAILABLE',
    });
    // Reads are let through only while the store is down: limits hold otherwise.
    store.down = false;
    const limited = createQuotaGate({
      policy: { perPrincipal: { rate: { burst: 1, perSecond: 0.001 } } },
      store,
      failOpen: 'reads',
      now: clock().now,
    });
    expect((await limited.acquire(read)).ok).toBe(true);
    expect(await limited.acquire(read)).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it("fails closed for reads too with failOpen: 'none', the default", async () => {
    const store = new SwitchableStore();
    store.down = true;
    for (const failOpen of ['none', undefined] as const) {
      const gate = createQuotaGate({ policy: BOTH, store, failOpen });
      expect(await gate.acquire(read)).toMatchObject({ ok: false, code: 'QUOTA_UNAVAILABLE' });
    }
  });

  it('gives back the slots it took when the rate check then fails', async () => {
    const store = new SwitchableStore();
    store.failTakeOnly = true;
    const gate = createQuotaGate({ policy: BOTH, store });
    expect(await gate.acquire(call)).toMatchObject({ code: 'QUOTA_UNAVAILABLE' });
    // The release is not awaited by the decision; it is the next thing the store hears.
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.calls).toEqual(['acquireSlots', 'takeTokens', 'releaseSlots']);
    expect(store.inner.held('sqlwarden:slots:alice')).toBe(0);
  });

  it('resolves a release the store cannot take, and the lease then expires by itself', async () => {
    const time = clock();
    const store = new SwitchableStore();
    const failures: unknown[] = [];
    const gate = createQuotaGate({
      policy: { perPrincipal: { concurrency: 1 } },
      store,
      leaseMs: 5000,
      now: time.now,
      onStoreUnavailable: (error) => failures.push(error),
    });
    const first = await gate.acquire(call);
    if (!first.ok) throw new Error('expected a grant');
    store.down = true;
    await expect(first.lease.release()).resolves.toBeUndefined();
    expect(failures).toHaveLength(1);
    store.down = false;
    // The slot was not given back: it is held until the lease expires.
    expect(await gate.acquire(call)).toMatchObject({ code: 'CONCURRENCY_LIMITED' });
    time.advance(5000);
    expect((await gate.acquire(call)).ok).toBe(true);
  });

  it('reports an unknown failOpen and a bad retry hint with the policy problems', () => {
    expect(() =>
      createQuotaGate({
        policy: {},
        failOpen: 'all' as never,
        unavailableRetryAfterMs: -1,
      }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          'failOpen: must be "none" or "reads"',
          'unavailableRetryAfterMs: must be a whole number of at least 0',
        ],
      }),
    );
  });
});
