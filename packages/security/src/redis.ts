// Public API of @sqlwarden/security/redis: anything exported here is a
// contract (pinned by src/index.test.ts). Named exports only. A separate
// entry so that ioredis is loaded only by those who use Redis.

export { QuotaStoreUnavailableError } from './quota-store.js';
export type { RedisQuotaStoreOptions, RedisTlsOptions, SecretLike } from './redis-store.js';
export { createRedisQuotaStore, RedisQuotaStore } from './redis-store.js';
