// Public API of @sqlwarden/adapter-kit: anything exported here is a
// contract other packages and users rely on (pinned by src/index.test.ts).
// Named exports only. What an engine needs to become a DatabaseAdapter:
// the ports (dialect.ts), the one adapter on them, the shared configuration,
// the budget its reads count rows against, and the words of errors.

export type { DialectAdapterOptions, SourceAdapter } from './adapter.js';
export { DialectAdapter } from './adapter.js';
export type { RowLimits } from './budget.js';
export { RowBudget } from './budget.js';
export type { NormalizedSource, PoolSettings, SourceSettings } from './config.js';
export { connectionFields, normalizeSource, sourceSettings } from './config.js';
export { costRefusal } from './cost.js';
export type {
  BoundStatement,
  Dialect,
  Driver,
  DriverConnection,
  ErrorContext,
  ErrorMapper,
  FrameAdmission,
  Introspector,
  OpenOptions,
  ReadContext,
  ReadOutcome,
  StopReason,
  WireFraming,
} from './dialect.js';
export { untilAborted } from './dialect.js';
export {
  databaseUnavailable,
  errorText,
  isNetworkError,
  isTlsFailure,
  mapDriverError,
  outcomeUnknown,
  queryTimeout,
  sourceBusy,
} from './failures.js';
export type { DialectText, Lexicon } from './lexer.js';
export { dialectText, isDigit, isLetter, TokenScanner } from './lexer.js';
export { mysqlText, postgresText } from './sql-texts.js';
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
export { CANCEL_GRACE_MS } from './supervise.js';
export { type SourceEndpoint, sourceEndpoint } from './telemetry.js';
export type { FrameProtocol, GatedStream } from './wire.js';
export { FRAME_SLACK_BYTES, IDLE_MESSAGE_LIMIT } from './wire.js';
