import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  type QuotaDecision,
  type QuotaGate,
  type QuotaLease,
  type QuotaRequest,
  type ToolKind,
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
 *
 * Fails closed: when the store cannot answer (a Redis that is down, slow
 * or refusing), the call is denied with `QUOTA_UNAVAILABLE`, since a limit
 * that cannot be checked is not a limit. Only the explicit
 * `failOpen: 'reads'` lets read-only tools through in that case; a write,
 * or a call whose tool kind is not known, is still denied. Giving slots
 * back never throws: a release the store cannot take is left to the
 * lease's expiry.
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
  /**
   * When the store cannot answer: `none` (the default) denies every call
   * with QUOTA_UNAVAILABLE; `reads` lets calls of read-only tools (kind
   * `read` or `introspect`) run without quota instead. Write tools, and
   * requests without a kind, are denied whatever this says: an outage of
   * the quota store must not lift the limits on changing data.
   */
  readonly failOpen?: 'none' | 'reads';
  /** Hint returned with QUOTA_UNAVAILABLE. Default 1000 ms. */
  readonly unavailableRetryAfterMs?: number;
  /**
   * Told of every store operation that failed (a call's check, or the
   * release of a lease), with what the store threw
   * (`QuotaStoreUnavailableError` for the Redis store: a message without
   * secrets). Not rate-limited: under load a dead store fails every call,
   * so the caller logs the first failure of an outage and counts the rest
   * (`onStoreAvailable` tells when the outage ends). A hook that throws is
   * ignored.
   */
  readonly onStoreUnavailable?: (error: unknown) => void;
  /**
   * Told once when the store answers again after one or more failures,
   * with how many operations failed since it last answered. A hook that
   * throws is ignored.
   */
  readonly onStoreAvailable?: (outage: { readonly failures: number }) => void;
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

function checkGateOptions(options: QuotaGateOptions, problems: string[]) {
  // A typo here (`failOpen: true`, `'all'`) must not silently change what
  // an outage does: only the documented values are accepted.
  const failOpen: unknown = options.failOpen;
  if (failOpen !== undefined && failOpen !== 'none' && failOpen !== 'reads') {
    problems.push('failOpen: must be "none" or "reads"');
  }
  const retry = options.unavailableRetryAfterMs;
  if (retry !== undefined && (!Number.isSafeInteger(retry) || retry < 0)) {
    problems.push('unavailableRetryAfterMs: must be a whole number of at least 0');
  }
}

/** Whether a tool of this kind only reads. An unknown kind is not a read. */
function isReadOnly(kind: ToolKind | undefined): boolean {
  switch (kind) {
    case 'read':
    case 'introspect':
      return true;
    case 'write':
    case undefined:
      return false;
    default:
      // Exhaustive at compile time; at run time a kind this code does not
      // know (a newer core, a caller outside TypeScript) is not a read.
      kind satisfies never;
      return false;
  }
}

/**
 * Outage bookkeeping: every failure is told, the end of an outage once.
 * Hooks run inside the decision path, so what they throw is swallowed: a
 * logging failure must not turn into an allow or a crash.
 */
function storeHealth(options: QuotaGateOptions) {
  let failures = 0;
  return {
    failed(error: unknown) {
      failures += 1;
      quietly(() => options.onStoreUnavailable?.(error));
    },
    answered() {
      if (failures === 0) return;
      const outage = { failures };
      failures = 0;
      quietly(() => options.onStoreAvailable?.(outage));
    },
  };
}

function quietly(hook: () => void) {
  try {
    hook();
  } catch {
    // An operator hook must not change a decision.
  }
}

const NO_LEASE: QuotaLease = { release: () => Promise.resolve() };

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
  checkGateOptions(options, problems);
  if (problems.length > 0) throw new ConfigError('Invalid quota policy', problems);

  const store = options.store ?? new MemoryQuotaStore();
  const now = options.now ?? Date.now;
  const concurrencyRetryAfterMs = options.concurrencyRetryAfterMs ?? 250;
  const unavailableRetryAfterMs = options.unavailableRetryAfterMs ?? 1000;
  const leaseMs = options.leaseMs ?? 10 * 60_000;
  const health = storeHealth(options);

  /**
   * Gives slots back; never throws. A release the store cannot take is
   * left to the lease's expiry (`leaseMs`): the slots stay taken until then.
   */
  async function releaseQuietly(
    keys: readonly string[],
    lease: string,
    report: boolean,
  ): Promise<void> {
    if (keys.length === 0) return;
    try {
      await store.releaseSlots(keys, lease);
      health.answered();
    } catch (error) {
      if (report) health.failed(error);
    }
  }

  function unavailable(request: QuotaRequest): QuotaDecision {
    if (options.failOpen === 'reads' && isReadOnly(request.kind)) {
      return { ok: true, lease: NO_LEASE };
    }
    return {
      ok: false,
      code: 'QUOTA_UNAVAILABLE',
      message:
        'Quotas cannot be checked right now (the quota service is unreachable); retry shortly.',
      retryAfterMs: unavailableRetryAfterMs,
    };
  }

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
    const slotKeys = slots.map((slot) => slot.key);
    // Concurrency first, then tokens: a call refused for concurrency spends
    // no rate budget, and one refused for rate gives its slots back at once.
    try {
      if (slots.length > 0) {
        const acquired = await store.acquireSlots(slots, lease, nowMs, leaseMs);
        health.answered();
        if (!acquired.ok) {
          return {
            ok: false,
            code: 'CONCURRENCY_LIMITED',
            message: 'Too many of your calls are running at once; wait for one to finish.',
            retryAfterMs: concurrencyRetryAfterMs,
          };
        }
      }
      if (buckets.length > 0) {
        const taken = await store.takeTokens(buckets, nowMs);
        health.answered();
        if (!taken.ok) {
          await releaseQuietly(slotKeys, lease, true);
          return {
            ok: false,
            code: 'RATE_LIMITED',
            message: 'You are calling too fast; wait before the next call.',
            retryAfterMs: taken.retryAfterMs,
          };
        }
      }
    } catch (error) {
      health.failed(error);
      // A store that timed out may still have run the slot script, and the
      // call will not run (or runs without quota): give back whatever this
      // lease may hold. Not awaited, so a slow store does not slow the
      // decision; if the release fails too (not told again: it is the same
      // failure), the lease expires by itself.
      void releaseQuietly(slotKeys, lease, false);
      return unavailable(request);
    }
    if (slotKeys.length === 0) return { ok: true, lease: NO_LEASE };
    return { ok: true, lease: onceLease(() => releaseQuietly(slotKeys, lease, true)) };
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
