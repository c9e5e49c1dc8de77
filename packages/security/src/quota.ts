import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  type QuotaDecision,
  type QuotaGate,
  type QuotaLease,
  type QuotaRequest,
} from '@sqlwarden/core';
import {
  MemoryQuotaStore,
  type QuotaStore,
  type SlotSpec,
  type TokenBucketSpec,
} from './quota-store.js';

/**
 * Quotas: token-bucket rate limits and concurrency limits, per principal
 * (across every tool) and per principal and tool. A principal that floods
 * one tool cannot starve its other tools' budget, and no principal can hold
 * more than its share of database connections.
 *
 * Denials carry `retryAfterMs`. The boundary calls `lease.release()` on
 * every path after execution (success, throw, abort, timeout).
 */
export interface RateLimit {
  /** Calls allowed in a burst (the bucket size). */
  readonly burst: number;
  /** Sustained calls per second (the refill rate). */
  readonly perSecond: number;
}

export interface QuotaLimits {
  readonly rate?: RateLimit;
  /** Calls running at the same time. */
  readonly concurrency?: number;
}

export interface QuotaPolicy {
  /** Per principal, across every tool. */
  readonly perPrincipal?: QuotaLimits;
  /** Per principal and tool, for every tool without an entry in `tools`. */
  readonly perTool?: QuotaLimits;
  /** Per principal and tool, for the named tools. */
  readonly tools?: Readonly<Record<string, QuotaLimits>>;
}

export interface QuotaGateOptions {
  readonly policy: QuotaPolicy;
  readonly store?: QuotaStore;
  /** Hint returned with CONCURRENCY_LIMITED (a store cannot know when a slot frees). */
  readonly concurrencyRetryAfterMs?: number;
  /** Leases expire after this long even if never released (a safety net for crashed holders). */
  readonly leaseMs?: number;
  readonly now?: () => number;
}

function checkLimits(path: string, limits: QuotaLimits | undefined, problems: string[]) {
  if (limits === undefined) return;
  const positive = (value: number) => Number.isFinite(value) && value > 0;
  if (limits.rate !== undefined) {
    if (!Number.isSafeInteger(limits.rate.burst) || limits.rate.burst < 1) {
      problems.push(`${path}.rate.burst: must be a whole number of at least 1`);
    }
    if (!positive(limits.rate.perSecond)) problems.push(`${path}.rate.perSecond: must be above 0`);
  }
  if (limits.concurrency !== undefined) {
    if (!Number.isSafeInteger(limits.concurrency) || limits.concurrency < 1) {
      problems.push(`${path}.concurrency: must be a whole number of at least 1`);
    }
  }
}

/** Keys are built from encoded parts so no principal id can collide with another key. */
function key(kind: 'rate' | 'slots', ...parts: string[]): string {
  return `sqlwarden:${kind}:${parts.map(encodeURIComponent).join(':')}`;
}

export function createQuotaGate(options: QuotaGateOptions): QuotaGate {
  const { policy } = options;
  const problems: string[] = [];
  checkLimits('perPrincipal', policy.perPrincipal, problems);
  checkLimits('perTool', policy.perTool, problems);
  for (const [tool, limits] of Object.entries(policy.tools ?? {})) {
    checkLimits(`tools.${tool}`, limits, problems);
  }
  if (problems.length > 0) throw new ConfigError('Invalid quota policy', problems);

  const store = options.store ?? new MemoryQuotaStore();
  const now = options.now ?? Date.now;
  const concurrencyRetryAfterMs = options.concurrencyRetryAfterMs ?? 250;
  const leaseMs = options.leaseMs ?? 10 * 60_000;
  const toolLimits = (tool: string) =>
    policy.tools !== undefined && Object.hasOwn(policy.tools, tool)
      ? policy.tools[tool]
      : policy.perTool;

  async function acquire(request: QuotaRequest): Promise<QuotaDecision> {
    const perTool = toolLimits(request.tool);
    const slots: SlotSpec[] = [];
    const buckets: TokenBucketSpec[] = [];
    if (policy.perPrincipal?.concurrency !== undefined) {
      slots.push({
        key: key('slots', request.principalId),
        limit: policy.perPrincipal.concurrency,
      });
    }
    if (perTool?.concurrency !== undefined) {
      slots.push({
        key: key('slots', request.principalId, request.tool),
        limit: perTool.concurrency,
      });
    }
    if (policy.perPrincipal?.rate !== undefined) {
      buckets.push({ key: key('rate', request.principalId), ...policy.perPrincipal.rate });
    }
    if (perTool?.rate !== undefined) {
      buckets.push({ key: key('rate', request.principalId, request.tool), ...perTool.rate });
    }

    const lease = randomUUID();
    const nowMs = now();
    // Concurrency first, then tokens: a call refused for concurrency spends
    // no rate budget, and one refused for rate gives its slots back at once.
    if (slots.length > 0) {
      const acquired = await store.acquireSlots(slots, lease, nowMs, leaseMs);
      if (!acquired.ok) {
        return {
          ok: false,
          code: 'CONCURRENCY_LIMITED',
          message: 'Too many of your calls are running at once; wait for one to finish.',
          retryAfterMs: concurrencyRetryAfterMs,
        };
      }
    }
    const slotKeys = slots.map((slot) => slot.key);
    if (buckets.length > 0) {
      const taken = await store.takeTokens(buckets, nowMs);
      if (!taken.ok) {
        await store.releaseSlots(slotKeys, lease);
        return {
          ok: false,
          code: 'RATE_LIMITED',
          message: 'You are calling too fast; wait before the next call.',
          retryAfterMs: taken.retryAfterMs,
        };
      }
    }
    return { ok: true, lease: onceLease(() => store.releaseSlots(slotKeys, lease)) };
  }

  return { acquire };
}

function onceLease(release: () => Promise<void>): QuotaLease {
  let released: Promise<void> | undefined;
  return {
    release: () => {
      released ??= release();
      return released;
    },
  };
}
