import { expect, it } from 'vitest';
import * as api from './index.js';

// The public surface of @sqlwarden/adapter-kit. Update on purpose, with a changeset.
it('exports exactly the pinned public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'CANCEL_GRACE_MS',
    'DialectAdapter',
    'FRAME_SLACK_BYTES',
    'IDLE_MESSAGE_LIMIT',
    'RowBudget',
    'StatementText',
    'TokenScanner',
    'connectionFields',
    'costRefusal',
    'databaseUnavailable',
    'dialectText',
    'errorText',
    'isDigit',
    'isLetter',
    'isNetworkError',
    'isTlsFailure',
    'mapDriverError',
    'mysqlText',
    'normalizeSource',
    'outcomeUnknown',
    'postgresText',
    'queryTimeout',
    'sourceBusy',
    'sourceEndpoint',
    'sourceSettings',
    'statementFailure',
    'untilAborted',
  ]);
});
