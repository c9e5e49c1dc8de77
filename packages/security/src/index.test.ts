import { expect, it } from 'vitest';
import * as api from './index.js';

// The public surface of @sqlwarden/security. Update on purpose, with a changeset.
it('exports exactly the pinned public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'CAPABILITY_ACTIONS',
    'CapabilityPolicy',
    'CredentialError',
    'MIN_SCRUBBABLE_LENGTH',
    'MemoryQuotaStore',
    'REDACT_PATHS',
    'Secret',
    'auditMessage',
    'covers',
    'createAuditSink',
    'createLogger',
    'createQuotaGate',
    'loadEnvironment',
    'parseCapability',
    'redactConnectionString',
    'registerSecretValue',
    'sanitizeAuditEvent',
    'scrubSecrets',
    'serializeError',
    'tableCapability',
  ]);
});
