/**
 * Where quota state lives. The gate (quota.ts) decides what to ask; a store
 * answers atomically. The memory store serves one process; the Redis store
 * (`@sqlwarden/security/redis`: same interface, one Lua script per
 * operation) serves several.
 *
 * Both operations are all-or-nothing across the keys given: a call that is
 * over one limit spends nothing from the others.
 */
export interface TokenBucketSpec {
  readonly key: string;
  /** Bucket size: calls allowed in a burst. */
  readonly burst: number;
  /** Refill rate. */
  readonly perSecond: number;
}

export interface SlotSpec {
  readonly key: string;
  /** Concurrent holders allowed. */
  readonly limit: number;
}

// A brand instead of `instanceof`: the package's entries (`.` and `./redis`)
// are bundled separately, in ESM and CJS, so one class may exist in several
// copies; an error thrown by one copy must still be recognised by another.
const UNAVAILABLE = Symbol.for('sqlwarden.quotaStoreUnavailable');

/**
 * A store could not answer: connection refused or lost, a timeout, a script
 * error. The gate turns it into a `QUOTA_UNAVAILABLE` denial (quotas fail
 * closed). The message names the store at most by kind, host and port
 * (`the quota store (Redis at 10.0.0.5:6379)`), never by URL, user or
 * password, so it can be logged as it is; the driver's own error is kept as
 * `cause`, for server-side debugging only.
 */
export class QuotaStoreUnavailableError extends Error {
  /** The store, e.g. `Redis at 10.0.0.5:6379`. */
  readonly store: string;
  /** Why, in words of our own, e.g. `the connection was refused`. */
  readonly reason: string;

  constructor(store: string, reason: string, options: { readonly cause?: unknown } = {}) {
    super(
      `The quota store (${store}) is unavailable: ${reason}.`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'QuotaStoreUnavailableError';
    this.store = store;
    this.reason = reason;
    Object.defineProperty(this, UNAVAILABLE, { value: true });
  }

  static is(value: unknown): value is QuotaStoreUnavailableError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[UNAVAILABLE] === true
    );
  }
}

export type TakeTokensResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryAfterMs: number };

/**
 * Any method may throw (a remote store that cannot answer throws
 * `QuotaStoreUnavailableError`); the gate then denies the call.
 */
export interface QuotaStore {
  /** Takes one token from every bucket, or none if any bucket has less than one. */
  takeTokens(buckets: readonly TokenBucketSpec[], nowMs: number): Promise<TakeTokensResult>;
  /**
   * Takes a slot under `lease` in every key, or none if any is full. Leases
   * expire at `nowMs + leaseMs`, so a holder that died cannot keep a slot.
   */
  acquireSlots(
    slots: readonly SlotSpec[],
    lease: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<{ readonly ok: boolean }>;
  /** Gives back the lease's slots. Releasing twice, or an unknown lease, is harmless. */
  releaseSlots(keys: readonly string[], lease: string): Promise<void>;
}

interface BucketState {
  tokens: number;
  updatedMs: number;
}

/** Tokens in a bucket at `nowMs`, refilled since it was last touched. A new bucket is full. */
export function refill(
  state: BucketState | undefined,
  spec: TokenBucketSpec,
  nowMs: number,
): number {
  if (state === undefined) return spec.burst;
  // A clock that steps back refills nothing rather than draining the bucket.
  const elapsedMs = Math.max(0, nowMs - state.updatedMs);
  return Math.min(spec.burst, state.tokens + (elapsedMs / 1000) * spec.perSecond);
}

/** Milliseconds until a bucket holding `tokens` has one whole token. */
export function msUntilToken(tokens: number, spec: TokenBucketSpec): number {
  return Math.max(1, Math.ceil(((1 - tokens) / spec.perSecond) * 1000));
}

const SWEEP_THRESHOLD = 10_000;

/**
 * The in-process store. Buckets that have refilled to full and empty slot
 * sets are dropped once the maps grow past a threshold, so state stays
 * proportional to recently active principals.
 */
export class MemoryQuotaStore implements QuotaStore {
  readonly #buckets = new Map<string, BucketState & { spec: TokenBucketSpec }>();
  readonly #slots = new Map<string, Map<string, number>>();

  async takeTokens(buckets: readonly TokenBucketSpec[], nowMs: number): Promise<TakeTokensResult> {
    const levels = buckets.map((spec) => refill(this.#buckets.get(spec.key), spec, nowMs));
    let retryAfterMs = 0;
    levels.forEach((tokens, i) => {
      const spec = buckets[i] as TokenBucketSpec;
      if (tokens < 1) retryAfterMs = Math.max(retryAfterMs, msUntilToken(tokens, spec));
    });
    if (retryAfterMs > 0) return { ok: false, retryAfterMs };
    buckets.forEach((spec, i) => {
      this.#buckets.set(spec.key, { tokens: (levels[i] as number) - 1, updatedMs: nowMs, spec });
    });
    if (this.#buckets.size > SWEEP_THRESHOLD) this.#sweepBuckets(nowMs);
    return { ok: true };
  }

  async acquireSlots(
    slots: readonly SlotSpec[],
    lease: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<{ ok: boolean }> {
    for (const slot of slots) {
      const holders = this.#slots.get(slot.key);
      if (holders === undefined) continue;
      for (const [holder, expiresMs] of holders) if (expiresMs <= nowMs) holders.delete(holder);
      if (holders.size >= slot.limit) return { ok: false };
    }
    for (const slot of slots) {
      let holders = this.#slots.get(slot.key);
      if (holders === undefined) {
        holders = new Map();
        this.#slots.set(slot.key, holders);
      }
      holders.set(lease, nowMs + leaseMs);
    }
    return { ok: true };
  }

  async releaseSlots(keys: readonly string[], lease: string): Promise<void> {
    for (const key of keys) {
      const holders = this.#slots.get(key);
      if (holders === undefined) continue;
      holders.delete(lease);
      if (holders.size === 0) this.#slots.delete(key);
    }
  }

  /** Slots held under a key right now (for tests and health pages). */
  held(key: string): number {
    return this.#slots.get(key)?.size ?? 0;
  }

  #sweepBuckets(nowMs: number) {
    for (const [key, state] of this.#buckets) {
      if (refill(state, state.spec, nowMs) >= state.spec.burst) this.#buckets.delete(key);
    }
  }
}
