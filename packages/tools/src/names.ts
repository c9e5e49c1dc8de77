/**
 * The names of the built-in tools: the one place they are spelled. The tools
 * take their names from here, the runtime checks configuration keys against
 * them (quotas.tools.<name>, declared tool names), and the --dsn shortcut
 * grants the read tools by them.
 */
export const BUILT_IN_TOOLS = {
  listTables: 'list_tables',
  describeTable: 'describe_table',
  queryRead: 'query_read',
  describeEntities: 'describe_entities',
  executeWrite: 'execute_write',
} as const;

/** Every built-in tool name, read tools first, the write tool last. */
export const BUILT_IN_TOOL_NAMES = Object.freeze(Object.values(BUILT_IN_TOOLS));

/** The read tools: what a principal that may read needs. */
export const READ_TOOL_NAMES = Object.freeze([
  BUILT_IN_TOOLS.listTables,
  BUILT_IN_TOOLS.describeTable,
  BUILT_IN_TOOLS.queryRead,
] as const);
