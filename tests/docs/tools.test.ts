import { readFileSync } from 'node:fs';
import { describeTool } from '@sqlwarden/runtime';
import {
  BUILT_IN_TOOL_NAMES,
  createReadTools,
  createSourceDirectory,
  describeEntitiesTool,
  executeWriteTool,
} from '@sqlwarden/tools';
import { describe, expect, it } from 'vitest';

// docs/tools.md is the reference clients and models are described by. Every
// registered tool has its section, whose argument table lists exactly the
// arguments of the input schema that tools/list advertises.

const page = readFileSync(new URL('../../docs/tools.md', import.meta.url), 'utf8');
const directory = createSourceDirectory([]);
const tools = [
  ...createReadTools(directory),
  describeEntitiesTool([]),
  executeWriteTool(directory),
].map(describeTool);

/** The part of the page under `## \`name\``, up to the next `## ` heading. */
function toolSection(name: string): string {
  const start = page.indexOf(`\n## \`${name}\`\n`);
  if (start < 0) throw new Error(`tools.md has no "## \`${name}\`" section`);
  const end = page.indexOf('\n## ', start + 1);
  return page.slice(start, end < 0 ? undefined : end);
}

/** The first cells of the rows of the first table whose header starts with `| <header> |`. */
function tableKeys(text: string, header: string): string[] {
  const lines = text.split('\n');
  const first = lines.findIndex((line) => new RegExp(`^\\|\\s*${header}\\s*\\|`).test(line));
  if (first < 0) throw new Error(`no table with a "${header}" column`);
  const keys: string[] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    const match = /^\|\s*`([^`]+)`\s*\|/.exec(line);
    if (match?.[1] !== undefined) keys.push(match[1]);
  }
  return keys;
}

describe('docs/tools.md', () => {
  it('has a section for every registered tool, and none for a tool that does not exist', () => {
    const documented = [...page.matchAll(/^## `([a-z_]+)`$/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(tools.map((t) => t.name).sort());
  });

  for (const tool of tools) {
    it(`lists exactly the arguments of ${tool.name} in its argument table`, () => {
      const documented = tableKeys(toolSection(tool.name), 'argument');
      expect(documented.sort()).toEqual(Object.keys(tool.inputSchema.properties ?? {}).sort());
    });
  }

  it('states the annotations every tool advertises', () => {
    const text = page.slice(page.indexOf('\n## Annotations\n'));
    for (const tool of tools) {
      for (const [hint, value] of Object.entries(tool.annotations ?? {})) {
        if (hint === 'title') continue;
        expect(text).toMatch(
          new RegExp(`^\\| \`${hint}\`\\s*\\| \`${String(value)}\`\\s*\\|`, 'm'),
        );
      }
    }
  });

  it('agrees with the tools a configuration may name in quotas', () => {
    expect([...BUILT_IN_TOOL_NAMES].sort()).toEqual(tools.map((t) => t.name).sort());
  });
});
