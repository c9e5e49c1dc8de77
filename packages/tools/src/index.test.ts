import { expect, it } from 'vitest';
import * as api from './index.js';

// The public surface of @sqlwarden/tools. Update on purpose, with a changeset.
it('exports exactly the pinned public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'DEFAULT_MAX_STRING_LENGTH',
    'DescribeTableOutputSchema',
    'ListTablesOutputSchema',
    'MAX_LISTED_TABLES',
    'MAX_SQL_LENGTH',
    'Param',
    'SourceId',
    'WriteOutputSchema',
    'authorizeStatement',
    'createReadTools',
    'createSourceDirectory',
    'declareTool',
    'describeTableTool',
    'executeWriteTool',
    'formatRows',
    'formatTable',
    'formatTables',
    'listTablesTool',
    'queryReadTool',
    'resolveSource',
    'runRead',
    'runWrite',
    'servedSchemas',
    'sourceLimits',
  ]);
});
