import { ConfigError } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import { createQuotaGate } from './quota.js';
import { MemoryQuotaStore } from './quota-store.js';

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
