// Public API of @sqlwarden/core: anything exported here is a contract other
// packages and users rely on (pinned by src/index.test.ts). Named exports only.

export type {
  AdapterPlugin,
  AdapterSource,
  ColumnInfo,
  CostCeiling,
  CostEstimate,
  DatabaseAdapter,
  DatabaseIdentity,
  ForeignKeyInfo,
  FunctionCatalog,
  HealthStatus,
  IndexInfo,
  PrivilegeReport,
  PrivilegeReportRequest,
  ReadAnswer,
  ReadLimits,
  ReadRequest,
  SqlDialect,
  TableDescription,
  TableKind,
  TableRef,
  TableSummary,
  TlsOptions,
  ViewDependency,
  WriteRequest,
  WriteResult,
} from './adapter.js';
export { TABLE_KINDS, unreadableViews } from './adapter.js';
export type { BoundaryDeps, BoundaryObserver, BoundaryRequest } from './boundary.js';
export { checkReadOnlyGate, executeToolBoundary } from './boundary.js';
export type { Allow, Decision, Denial, Outcome } from './decision.js';
export { deny } from './decision.js';
export type { ErrorCode, ErrorPayload, SqlwardenErrorOptions } from './errors.js';
export {
  ConfigError,
  ERROR_CODE_LIST,
  ERROR_CODES,
  isErrorCode,
  isRetryable,
  SqlwardenError,
} from './errors.js';
export type { ExecutionLimits } from './limits.js';
export { DEFAULT_LIMITS, LIMIT_KEYS, resolveLimits } from './limits.js';
export type { OperatorLogger, SerializedError } from './log.js';
export { serializeError } from './log.js';
export type {
  AuditEvent,
  AuditSink,
  AuthorizationDecision,
  AuthorizationRequest,
  Authorizer,
  ConfirmationOutcome,
  QuotaDecision,
  QuotaGate,
  QuotaLease,
  QuotaRequest,
  Stage,
} from './ports.js';
export { CONFIRMATION_OUTCOMES, STAGES } from './ports.js';
export type { ReadResult, ToolCallResult, TruncationReason } from './result.js';
export {
  ErrorEnvelopeSchema,
  ErrorPayloadSchema,
  ReadResultSchema,
  rowBytes,
  TRUNCATION_REASONS,
} from './result.js';
export type { SessionContext, Transport } from './session.js';
export { SessionContextSchema, TRANSPORTS } from './session.js';
export type { TablePattern } from './table-pattern.js';
export {
  CATALOG_TABLE_PATTERN_PROBLEM,
  parseTablePattern,
  TABLE_PATTERN_PROBLEM,
  tablePatternMatches,
  tablePatternsOverlap,
} from './table-pattern.js';
export type {
  AnyTool,
  AppliedColumnPolicy,
  AuditFacts,
  ConfirmationAnswer,
  ConfirmationGrant,
  ConfirmationPort,
  ConfirmationRequest,
  Requirement,
  RequirementContext,
  ToolAnnotations,
  ToolDefinition,
  ToolHandlerContext,
  ToolKind,
  ToolOutcome,
  ToolRegistry,
  WriteOperation,
} from './tool.js';
export {
  annotationsFor,
  createToolRegistry,
  defineTool,
  isToolName,
  TOOL_KINDS,
  toolCapability,
} from './tool.js';
