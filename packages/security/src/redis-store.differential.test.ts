import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { MemoryQuotaStore, type SlotSpec, type TokenBucketSpec } from './quota-store.js';
import { createRedisQuotaStore } from './redis-store.js';

/**
 * The Redis store's scripts are a second implementation of the memory
 * store's arithmetic (refill, time to the next token, lease expiry,
 * all-or-nothing). This runs random operation sequences through both, with
 * the Redis store on the caller's clock and the same `nowMs` values, and
 * requires the same answer to every operation: same grant or refusal, same
 * `retryAfterMs`. Seeded, so a failure names the sequence that reproduces it.
 */

const REDIS_URL =
  process.env.SQLWARDEN_TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SEQUENCES = 300;
const SEED = 0x5eed_2026;

/** mulberry32: a small PRNG whose sequences are the same on every machine. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T;
  /** A non-empty subset, in random order. */
  const some = <T>(items: readonly T[]): T[] => {
    const shuffled = [...items].sort(() => next() - 0.5);
    return shuffled.slice(0, int(1, items.length));
  };
  return { next, int, pick, some };
}

// Rates and bursts that make fractions: 1/3, 0.7, 2.5 per second do not
// divide milliseconds evenly, so tokens carry long binary fractions.
const RATES = [0.3, 0.7, 1, 2.5, 3, 10, 1 / 3];
const LEASES = ['l1', 'l2', 'l3', 'l4'];

type Step =
  | { readonly op: 'take'; readonly buckets: TokenBucketSpec[] }
  | { readonly op: 'acquire'; readonly slots: SlotSpec[]; lease: string; leaseMs: number }
  | { readonly op: 'release'; readonly keys: string[]; readonly lease: string };

function sequence(seed: number, prefix: string) {
  const random = prng(seed);
  const buckets: TokenBucketSpec[] = Array.from({ length: random.int(1, 3) }, (_, i) => ({
    key: `${prefix}:rate:${i}`,
    burst: random.int(1, 4),
    perSecond: random.pick(RATES),
  }));
  const slots: SlotSpec[] = Array.from({ length: random.int(1, 3) }, (_, i) => ({
    key: `${prefix}:slots:${i}`,
    limit: random.int(1, 3),
  }));
  // A clock that mostly moves forward by uneven steps, sometimes stands
  // still, sometimes steps back, sometimes has a fraction of a millisecond.
  let nowMs = 1_700_000_000_000 + random.int(0, 1_000_000);
  const steps: { readonly nowMs: number; readonly step: Step }[] = [];
  for (let i = random.int(15, 40); i > 0; i -= 1) {
    const roll = random.next();
    if (roll < 0.5) nowMs += random.int(0, 800);
    else if (roll < 0.6) nowMs -= random.int(1, 300);
    else if (roll < 0.7) nowMs += random.int(0, 2000) + 0.25;
    const kind = random.next();
    const step: Step =
      kind < 0.5
        ? { op: 'take', buckets: random.some(buckets) }
        : kind < 0.8
          ? {
              op: 'acquire',
              slots: random.some(slots),
              lease: random.pick(LEASES),
              leaseMs: random.pick([100, 500, 1500]),
            }
          : {
              op: 'release',
              keys: random.some(slots).map((slot) => slot.key),
              lease: random.pick(LEASES),
            };
    steps.push({ nowMs, step });
  }
  return steps;
}

it(`answers like the memory store over ${SEQUENCES} random operation sequences`, async () => {
  const namespace = `t-diff-${randomBytes(6).toString('hex')}`;
  const redis = createRedisQuotaStore({ url: REDIS_URL, namespace, clock: 'caller' });
  const admin = new Redis(REDIS_URL);
  let operations = 0;
  try {
    for (let n = 0; n < SEQUENCES; n += 1) {
      const seed = SEED + n;
      const memory = new MemoryQuotaStore();
      for (const [index, { nowMs, step }] of sequence(seed, `seq${n}`).entries()) {
        const where = `sequence seed ${seed}, step ${index} (${step.op} at ${nowMs})`;
        operations += 1;
        switch (step.op) {
          case 'take':
            expect(await redis.takeTokens(step.buckets, nowMs), where).toEqual(
              await memory.takeTokens(step.buckets, nowMs),
            );
            break;
          case 'acquire':
            expect(
              await redis.acquireSlots(step.slots, step.lease, nowMs, step.leaseMs),
              where,
            ).toEqual(await memory.acquireSlots(step.slots, step.lease, nowMs, step.leaseMs));
            break;
          case 'release':
            await redis.releaseSlots(step.keys, step.lease);
            await memory.releaseSlots(step.keys, step.lease);
            break;
          default: {
            const never: never = step;
            throw new Error(`unknown step ${String(never)}`);
          }
        }
      }
    }
  } finally {
    await redis.close();
    const keys = await admin.keys(`sqlwarden:${namespace}:*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  }
  expect(operations).toBeGreaterThan(SEQUENCES * 15 - 1);
});
