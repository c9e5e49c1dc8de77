// Public API of @sqlwarden/sql-guard: anything exported here is a contract
// other packages and users rely on (pinned by src/index.test.ts). Named exports only.

export type { Guard, GuardFactoryOptions } from './cache.js';
export { createGuard } from './cache.js';
export { checkColumns } from './columns.js';
export type {
  AppliedPolicy,
  ColumnAction,
  ColumnCatalog,
  ColumnCheckOptions,
  ColumnRules,
  ColumnVerdict,
  OpaqueRelation,
  OutputColumn,
  ProtectedTable,
  RelationName,
} from './columns-types.js';
export { ALLOWED_FUNCTIONS } from './function-lists/index.js';
export { allowEntryProblem, DEFAULT_ALLOWED_VOLATILE } from './functions.js';
export {
  analyze,
  checkRead,
  checkWrite,
  DEFAULT_MAX_LENGTH,
  fingerprint,
  isSqlGuardReady,
  loadSqlGuard,
  MAX_NESTING,
  statementText,
} from './guard.js';
export type { NamedResult, NamedStatement } from './named.js';
export { bindNamedParameters } from './named.js';
export type { RejectionReason } from './reasons.js';
export { REJECTION_REASON_LIST, REJECTION_REASONS } from './reasons.js';
export { tableAllowed } from './tables.js';
export type {
  Analysis,
  AnalyzeResult,
  CheckedAnalysis,
  Dialect,
  FunctionPolicy,
  FunctionReference,
  GuardOptions,
  GuardRejection,
  GuardResult,
  ResolvedTable,
  StatementKind,
  TableReference,
  WriteGuardOptions,
} from './types.js';
export { DIALECTS, STATEMENT_KINDS } from './types.js';
