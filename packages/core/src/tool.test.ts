import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { annotationsFor, createToolRegistry, defineTool } from './tool.js';

const tool = (name: string) =>
  defineTool({
    name,
    title: name,
    description: 'test tool',
    kind: 'read',
    inputSchema: z.strictObject({}),
    requires: () => ({ ok: true, capabilities: [], prepared: undefined }),
    handler: async () => ({ text: 'ok' }),
  });

describe('annotationsFor', () => {
  it('marks read and introspection tools read-only, non-destructive, idempotent and closed-world', () => {
    for (const kind of ['read', 'introspect'] as const) {
      expect(annotationsFor(kind, 'T')).toEqual({
        title: 'T',
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      });
    }
  });

  it('marks write tools destructive and not idempotent', () => {
    expect(annotationsFor('write', 'W')).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
    });
  });
});

describe('createToolRegistry', () => {
  it('finds tools by exact name and nothing through the prototype chain', () => {
    const registry = createToolRegistry([tool('list_tables')]);
    expect(registry.get('list_tables')?.name).toBe('list_tables');
    for (const name of ['__proto__', 'constructor', 'toString', 'LIST_TABLES', 'list_tables ']) {
      expect(registry.get(name)).toBeUndefined();
      expect(registry.has(name)).toBe(false);
    }
  });

  it('refuses duplicate and malformed names', () => {
    expect(() => createToolRegistry([tool('a'), tool('a')])).toThrow(/twice/);
    for (const name of ['', 'Upper', '1x', 'has space', 'dash-name', 'x'.repeat(65)]) {
      expect(() => createToolRegistry([tool(name)])).toThrow(/invalid/);
    }
  });

  it('cannot be changed after creation', () => {
    const registry = createToolRegistry([tool('a')]);
    expect(Object.isFrozen(registry)).toBe(true);
    expect(Object.isFrozen(registry.list())).toBe(true);
    expect(Object.isFrozen(registry.get('a'))).toBe(true);
    expect(registry.size).toBe(1);
  });
});
