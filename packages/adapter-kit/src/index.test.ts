import { expect, it } from 'vitest';
import * as api from './index.js';

// The public surface of @sqlwarden/adapter-kit. Update on purpose, with a changeset.
it('exports exactly the pinned public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'FRAME_SLACK_BYTES',
    'FrameOutOfStepError',
    'OutageLog',
    'StatementText',
    'databaseUnavailable',
    'installFrameGate',
    'isTlsFailure',
    'outcomeUnknown',
    'sourceBusy',
    'statementFailure',
    'writeLimitExceeded',
  ]);
});
