import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import * as api from './index.js';
import * as redis from './redis.js';

// The public surface of @sqlwarden/security. Update on purpose, with a changeset.
it('exports exactly the pinned public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'CAPABILITY_ACTIONS',
    'CapabilityPolicy',
    'CredentialError',
    'DEFAULT_PARTIAL_KEEP',
    'MASK_KINDS',
    'MIN_MASK_KEY_LENGTH',
    'MIN_SCRUBBABLE_LENGTH',
    'MemoryQuotaStore',
    'QuotaStoreUnavailableError',
    'REDACTED_VALUE',
    'REDACT_PATHS',
    'Secret',
    'auditMessage',
    'covers',
    'createAuditSink',
    'createLogger',
    'createMasker',
    'createQuotaGate',
    'loadEnvironment',
    'parseCapability',
    'policyApplies',
    'redactConnectionString',
    'registerSecretValue',
    'resolveColumnRules',
    'sanitizeAuditEvent',
    'scrubSecrets',
    'serializeError',
    'strictestTreatment',
    'tableCapability',
  ]);
});

// The public surface of @sqlwarden/security/redis.
it('exports exactly the pinned API of the redis entry', () => {
  expect(Object.keys(redis).sort()).toEqual([
    'QuotaStoreUnavailableError',
    'RedisQuotaStore',
    'createRedisQuotaStore',
  ]);
});

/** The modules `file` imports, followed through relative imports (`import type` is erased). */
function importGraph(file: URL, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(file.href)) return seen;
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^(?:import|export)(?! type)[^;]*?from '([^']+)'/gms)].map(
    (match) => match[1] as string,
  );
  seen.set(file.href, specifiers);
  for (const specifier of specifiers) {
    if (specifier.startsWith('.')) {
      importGraph(new URL(specifier.replace(/\.js$/, '.ts'), file), seen);
    }
  }
  return seen;
}

it('does not load ioredis from the main entry, only from the redis one', () => {
  const imported = (entry: string) =>
    [...importGraph(new URL(entry, import.meta.url)).values()].flat();
  expect(imported('./index.ts')).not.toContain('ioredis');
  expect(imported('./index.ts')).not.toContain('./redis-store.js');
  expect(imported('./redis.ts')).toContain('ioredis');
});
