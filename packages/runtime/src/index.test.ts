import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import * as api from './index.js';

// The public surface of @sqlwarden/runtime. Update on purpose, with a changeset.
it('exports exactly the pinned public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'BUILT_IN_ADAPTERS',
    'ConfigSchema',
    'MCP_METHODS',
    'VERSION',
    'adapterCatalog',
    'assertConfig',
    'createMcpServer',
    'createRuntime',
    'describeTool',
    'kindOfUrl',
    'loadConfig',
    'loadConfigFile',
    'parseConfig',
    'supportedSchemes',
    'visibleTools',
  ]);
});

it('reports the version of its package', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  expect(api.VERSION).toBe(pkg.version);
});
