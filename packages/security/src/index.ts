// Public API of @sqlwarden/security: anything exported here is a contract
// other packages and users rely on (pinned by src/index.test.ts). Named exports only.
// The Redis quota store is a separate entry, `@sqlwarden/security/redis`, so that
// importing this one never loads ioredis.

export type { AuditSinkOptions, PinoAuditSink, SafeAuditEvent } from './audit.js';
export { auditMessage, createAuditSink, sanitizeAuditEvent } from './audit.js';
export type {
  Capability,
  CapabilityAction,
  CapabilityPolicyOptions,
  ParseResult,
} from './capabilities.js';
export {
  CAPABILITY_ACTIONS,
  CapabilityPolicy,
  covers,
  parseCapability,
  tableCapability,
} from './capabilities.js';
export type {
  ColumnPolicy,
  ColumnTreatment,
  MaskKind,
  PolicySubject,
  TableColumnRules,
} from './column-policies.js';
export {
  DEFAULT_PARTIAL_KEEP,
  MASK_KINDS,
  policyApplies,
  resolveColumnRules,
  strictestTreatment,
} from './column-policies.js';
export type { Environment, EnvironmentOptions } from './credentials.js';
export { CredentialError, loadEnvironment } from './credentials.js';
export type { LogDestination, LoggerFactoryOptions } from './logger.js';
export { createLogger, REDACT_PATHS, serializeError } from './logger.js';
export type { Masker, MaskSpec } from './masking.js';
export { createMasker, MIN_MASK_KEY_LENGTH, REDACTED_VALUE } from './masking.js';
export type { QuotaGateOptions, QuotaLimits, QuotaPolicy, RateLimit } from './quota.js';
export { createQuotaGate } from './quota.js';
export type { QuotaStore, SlotSpec, TakeTokensResult, TokenBucketSpec } from './quota-store.js';
export { MemoryQuotaStore, QuotaStoreUnavailableError } from './quota-store.js';
export {
  MIN_SCRUBBABLE_LENGTH,
  redactConnectionString,
  registerSecretValue,
  Secret,
  scrubSecrets,
} from './secrets.js';
