/**
 * Quotas fail closed through the assembled boundary: with the Redis quota
 * store pointed at a port where nothing listens, a call is refused with
 * QUOTA_UNAVAILABLE (a retryable tool error, audited, before any handler
 * or adapter runs), and `failOpen: 'reads'` lets read tools run (the
 * boundary tells the gate each tool's kind) but never write tools. A
 * release the store cannot take is not a crash: the call's result stands.
 */

import type { QuotaGate } from '@sqlwarden/core';
import {
  createQuotaGate,
  MemoryQuotaStore,
  type QuotaGateOptions,
  type QuotaStore,
} from '@sqlwarden/security';
import { createRedisQuotaStore } from '@sqlwarden/security/redis';
import { freePort } from '@sqlwarden/testing';
import { describe, expect, it } from 'vitest';
import { type Assembly, assemble, errorOf, VALID_INPUT } from './harness.js';

const POLICY = { perPrincipal: { concurrency: 2, rate: { burst: 10, perSecond: 1 } } };

/** The assembly with its quota gate replaced by `gate` (the harness's own uses a memory store). */
function withGate(gate: QuotaGate): Assembly {
  const system = assemble({ quota: POLICY });
  system.deps.quota.acquire = (request) => gate.acquire(request);
  return system;
}

async function deadRedis() {
  return createRedisQuotaStore({ url: `redis://:s3cret-pw@127.0.0.1:${await freePort()}` });
}

describe('a quota store that cannot answer', () => {
  it('refuses every call with QUOTA_UNAVAILABLE before the handler runs', async () => {
    await using store = await deadRedis();
    const told: unknown[] = [];
    const options: QuotaGateOptions = {
      policy: POLICY,
      store,
      onStoreUnavailable: (error) => told.push(error),
    };
    const system = withGate(createQuotaGate(options));
    for (const [tool, input] of [
      ['fake_read', VALID_INPUT.fake_read],
      ['fake_list', VALID_INPUT.fake_list],
      ['fake_write', VALID_INPUT.fake_write],
    ] as const) {
      const result = await system.call(tool, input);
      expect(errorOf(result)).toEqual({
        code: 'QUOTA_UNAVAILABLE',
        message:
          'Quotas cannot be checked right now (the quota service is unreachable); retry shortly.',
        retryAfterMs: 1000,
      });
      expect(JSON.stringify(result)).not.toContain('s3cret-pw');
    }
    expect(system.toolCalls.handlers).toEqual([]);
    expect(told).toHaveLength(3);
    expect(system.auditEvents()).toEqual([
      expect.objectContaining({ decision: 'deny', code: 'QUOTA_UNAVAILABLE', stage: 'quota' }),
      expect.objectContaining({ decision: 'deny', code: 'QUOTA_UNAVAILABLE', stage: 'quota' }),
      expect.objectContaining({ decision: 'deny', code: 'QUOTA_UNAVAILABLE', stage: 'quota' }),
    ]);
  });

  it("lets read and introspect tools run with failOpen: 'reads', and still refuses write tools", async () => {
    await using store = await deadRedis();
    const system = withGate(createQuotaGate({ policy: POLICY, store, failOpen: 'reads' }));
    expect(errorOf(await system.call('fake_read', VALID_INPUT.fake_read))).toBeUndefined();
    expect(errorOf(await system.call('fake_list', VALID_INPUT.fake_list))).toBeUndefined();
    expect(errorOf(await system.call('fake_write', VALID_INPUT.fake_write))).toMatchObject({
      code: 'QUOTA_UNAVAILABLE',
    });
    expect(system.toolCalls.handlers).toEqual(['fake_read', 'fake_list']);
  });

  it('keeps the result of a call whose slots cannot be given back', async () => {
    const memory = new MemoryQuotaStore();
    let down = false;
    const store: QuotaStore = {
      takeTokens: (buckets, nowMs) => memory.takeTokens(buckets, nowMs),
      acquireSlots: (slots, lease, nowMs, leaseMs) =>
        memory.acquireSlots(slots, lease, nowMs, leaseMs),
      releaseSlots: async () => {
        if (down) throw new Error('the quota store went away');
      },
    };
    const system = withGate(createQuotaGate({ policy: POLICY, store }));
    down = true;
    const result = await system.call('fake_read', VALID_INPUT.fake_read);
    expect(result.isError).not.toBe(true);
    // Not reported as an internal failure of the boundary either.
    expect(system.operatorLog.lines()).toEqual([]);
    expect(system.auditEvents()).toEqual([expect.objectContaining({ decision: 'allow' })]);
  });
});
