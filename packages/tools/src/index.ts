// Public API of @sqlwarden/tools: anything exported here is a contract other
// packages and users rely on (pinned by src/index.test.ts). Named exports only.

import type { AnyTool } from '@sqlwarden/core';
import { describeTableTool } from './describe-table.js';
import { listTablesTool } from './list-tables.js';
import { queryReadTool } from './query-read.js';
import type { SourceDirectory } from './sources.js';

export type {
  ColumnGovernance,
  ColumnGovernanceOptions,
  ColumnPlan,
  PlannedOutput,
} from './column-policies.js';
export { createColumnGovernance } from './column-policies.js';
export { CONNX_TOOLS, connxTools } from './connx.js';
export type { DeclaredParameter, DeclaredToolResult, DeclaredToolSpec } from './declared.js';
export { declareTool } from './declared.js';
export type { EntityDefinition } from './describe-entities.js';
export { DescribeEntitiesOutputSchema, describeEntitiesTool } from './describe-entities.js';
export { DescribeTableOutputSchema } from './describe-table.js';
export { executeWriteTool, WriteOutputSchema } from './execute-write.js';
export { ListTablesOutputSchema } from './list-tables.js';
export { BUILT_IN_TOOL_NAMES, BUILT_IN_TOOLS, READ_TOOL_NAMES } from './names.js';
export type { DatabaseAccess, GuardState, SourceBinding, SourceDirectory } from './sources.js';
export { createSourceDirectory } from './sources.js';
export type { UntrustedDataMode } from './untrusted.js';
export { frameUntrusted } from './untrusted.js';

/** The reference read tools: list_tables, describe_table, query_read. */
export function createReadTools(directory: SourceDirectory): AnyTool[] {
  return [listTablesTool(directory), describeTableTool(directory), queryReadTool(directory)];
}
