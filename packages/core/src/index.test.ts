import { expect, it } from 'vitest';
import * as api from './index.js';

// The public surface of @sqlwarden/core. A change here is a change for every
// consumer: update the pin on purpose, with a changeset.
it('exports exactly the pinned public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'CATALOG_TABLE_PATTERN_PROBLEM',
    'CONFIRMATION_OUTCOMES',
    'ConfigError',
    'DEFAULT_LIMITS',
    'ERROR_CODES',
    'ERROR_CODE_LIST',
    'ErrorEnvelopeSchema',
    'ErrorPayloadSchema',
    'LIMIT_KEYS',
    'ReadResultSchema',
    'STAGES',
    'SessionContextSchema',
    'SqlwardenError',
    'TABLE_KINDS',
    'TABLE_PATTERN_PROBLEM',
    'TOOL_KINDS',
    'TRANSPORTS',
    'TRUNCATION_REASONS',
    'annotationsFor',
    'checkReadOnlyGate',
    'createToolRegistry',
    'defineTool',
    'deny',
    'executeToolBoundary',
    'isErrorCode',
    'isRetryable',
    'isToolName',
    'parseTablePattern',
    'resolveLimits',
    'rowBytes',
    'serializeError',
    'tablePatternMatches',
    'tablePatternsOverlap',
    'toolCapability',
    'unreadableViews',
  ]);
});

it('pins the stage order of the boundary', () => {
  expect(api.STAGES).toEqual([
    'context',
    'lookup',
    'input',
    'readOnly',
    'authorization',
    'quota',
    'execute',
    'audit',
  ]);
});
