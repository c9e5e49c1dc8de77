/**
 * The quota gate of a runtime: the memory store of this process, or the
 * Redis store every replica shares (quotas.store; docs/quotas.md). The
 * Redis store's package part (and ioredis) is imported only when a store is
 * configured.
 *
 * Leases of concurrency slots live as long as a call can: the server's time
 * limit, the boundary's grace, and a margin. A replica that dies mid-call
 * holds its slots no longer than that.
 */
import type { QuotaGate } from '@sqlwarden/core';
import { createQuotaGate } from '@sqlwarden/security';
import type { Logger } from 'pino';
import type { NormalizedConfig } from './config/load.js';

/** What a lease outlives the longest call by (the boundary's grace is 1 s). */
const LEASE_MARGIN_MS = 5000;

export interface RuntimeQuotas {
  readonly gate: QuotaGate;
  close(): Promise<void>;
}

export async function createQuotas(
  config: NormalizedConfig,
  logger: Logger,
): Promise<RuntimeQuotas> {
  const leaseMs = config.server.limits.timeoutMs + LEASE_MARGIN_MS;
  const checked = config.quotaStore;
  if (checked === undefined) {
    return { gate: createQuotaGate({ policy: config.quotas, leaseMs }), close: async () => {} };
  }
  const { createRedisQuotaStore } = await import('@sqlwarden/security/redis');
  const outage = outageLog(logger);
  const store = createRedisQuotaStore({
    url: checked.url.reveal(),
    namespace: checked.namespace,
    ...(checked.ca !== undefined && { tls: { ca: checked.ca } }),
  });
  const gate = createQuotaGate({
    policy: config.quotas,
    store,
    leaseMs,
    failOpen: checked.failOpen,
    onStoreUnavailable: outage.failed,
    onStoreAvailable: outage.recovered,
  });
  // Connected before the first call; a Redis that is down now is not a
  // reason not to start (calls are refused until it answers, and said so).
  await store.connect().catch((error: unknown) => outage.failed(error));
  return { gate, close: () => store.close() };
}

/**
 * One warning when the store stops answering, one line when it answers
 * again with how many checks failed in between: a dead Redis under load
 * must not write a line per call.
 */
function outageLog(logger: Logger) {
  let failures = 0;
  return {
    failed(error: unknown) {
      failures += 1;
      if (failures > 1) return;
      logger.warn(
        { reason: error instanceof Error ? error.message : 'unknown' },
        'quota store unreachable: calls are refused with QUOTA_UNAVAILABLE (retryable) until it answers',
      );
    },
    recovered() {
      if (failures === 0) return;
      logger.info({ failedChecks: failures }, 'quota store answers again');
      failures = 0;
    },
  };
}
