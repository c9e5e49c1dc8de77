// Public API of @sqlwarden/tools: anything exported here is a contract other
// packages and users rely on (pinned by src/index.test.ts). Named exports only.

import type { AnyTool } from '@sqlwarden/core';
import { describeTableTool } from './describe-table.js';
import { listTablesTool } from './list-tables.js';
import { queryReadTool } from './query-read.js';
import type { SourceDirectory } from './sources.js';

export type { DeclaredParameter, DeclaredToolResult, DeclaredToolSpec } from './declared.js';
export { DEFAULT_MAX_STRING_LENGTH, declareTool } from './declared.js';
export { DescribeTableOutputSchema, describeTableTool } from './describe-table.js';
export { executeWriteTool, WriteOutputSchema } from './execute-write.js';
export { formatRows, formatTable, formatTables } from './format.js';
export { ListTablesOutputSchema, listTablesTool, MAX_LISTED_TABLES } from './list-tables.js';
export { queryReadTool } from './query-read.js';
export type { GuardState, SourceBinding, SourceDirectory } from './sources.js';
export { createSourceDirectory, resolveSource, SourceId, servedSchemas } from './sources.js';
export type { AuthorizedStatement, StatementMode } from './statement.js';
export {
  authorizeStatement,
  MAX_SQL_LENGTH,
  Param,
  runRead,
  runWrite,
  sourceLimits,
} from './statement.js';

/** The reference read tools: list_tables, describe_table, query_read. */
export function createReadTools(directory: SourceDirectory): AnyTool[] {
  return [listTablesTool(directory), describeTableTool(directory), queryReadTool(directory)];
}
