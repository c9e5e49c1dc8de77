// Public API of @sqlwarden/adapter-kit: anything exported here is a
// contract other packages and users rely on (pinned by src/index.test.ts).
// Named exports only.

export {
  databaseUnavailable,
  isTlsFailure,
  OutageLog,
  outcomeUnknown,
  sourceBusy,
  writeLimitExceeded,
} from './failures.js';
export type {
  ClauseWord,
  CombinationWord,
  ConditionWord,
  ObjectKind,
  WriteCommand,
} from './statement-failures.js';
export { statementFailure } from './statement-failures.js';
export type {
  StatementLocation,
  StatementName,
  StatementToken,
  StatementTokenKind,
} from './statement-text.js';
export { StatementText } from './statement-text.js';
export type { FrameGateHooks, FrameProtocol, GatedStream } from './wire.js';
export { FRAME_SLACK_BYTES, FrameOutOfStepError, installFrameGate } from './wire.js';
