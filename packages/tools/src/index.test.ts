import { expect, it } from 'vitest';
import * as api from './index.js';

// The public surface of @sqlwarden/tools. Update on purpose, with a changeset.
it('exports exactly the pinned public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'BUILT_IN_TOOLS',
    'BUILT_IN_TOOL_NAMES',
    'CONNX_TOOLS',
    'DescribeEntitiesOutputSchema',
    'DescribeTableOutputSchema',
    'ListTablesOutputSchema',
    'READ_TOOL_NAMES',
    'WriteOutputSchema',
    'connxTools',
    'createColumnGovernance',
    'createReadTools',
    'createSourceDirectory',
    'declareTool',
    'describeEntitiesTool',
    'executeWriteTool',
    'frameUntrusted',
  ]);
});
