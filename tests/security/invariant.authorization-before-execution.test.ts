/**
 * Invariant 2: authorization precedes execution.
 *
 * For every tool kind (read, introspect, write), a call the principal is not
 * granted (missing the tool capability, or missing the table capability the
 * call needs) ends FORBIDDEN: the handler never runs, the adapter is never
 * called, and no quota is spent. The client is not told which grant is
 * missing; the audit record is.
 */
import { describe, expect, it } from 'vitest';
import { assemble, errorOf, SOURCE, sessionContext, TOOL_NAMES, VALID_INPUT } from './harness.js';

const KIND_OF = { fake_read: 'read', fake_list: 'introspect', fake_write: 'write' } as const;

describe('invariant: authorization precedes execution', () => {
  it.each(TOOL_NAMES.map((tool) => [tool, KIND_OF[tool]] as const))(
    'denies %s (a %s tool) to a principal without the tool capability, before any effect',
    async (tool) => {
      const system = assemble({
        quota: { perPrincipal: { rate: { burst: 1, perSecond: 0.001 } } },
      });
      const context = sessionContext({
        roles: [],
        capabilities: [`read:${SOURCE}:*`, `write:${SOURCE}:*`],
      });
      const result = await system.call(tool, VALID_INPUT[tool], { context });
      expect(errorOf(result)?.code).toBe('FORBIDDEN');
      expect(errorOf(result)?.message).not.toContain(`tool:${tool}`);
      expect(system.toolCalls.handlers).toEqual([]);
      expect(system.adapter.calls).toEqual([]);
      expect(system.quotaCalls).toEqual([]);
      expect(system.auditEvents()).toEqual([
        expect.objectContaining({
          decision: 'deny',
          code: 'FORBIDDEN',
          stage: 'authorization',
          tool,
          missing: `tool:${tool}`,
        }),
      ]);
      // The quota bucket of one call was not touched: a granted call still fits.
      const granted = await system.call(tool, VALID_INPUT[tool]);
      expect(errorOf(granted)).toBeUndefined();
    },
  );

  it.each([
    ['fake_read', { ...VALID_INPUT.fake_read, table: 'hr.salaries' }, `read:${SOURCE}:hr.salaries`],
    [
      'fake_write',
      { ...VALID_INPUT.fake_write, table: 'hr.salaries' },
      `write:${SOURCE}:hr.salaries`,
    ],
  ] as const)(
    'denies %s on a table outside the grants, before any effect',
    async (tool, input, missing) => {
      const system = assemble();
      const result = await system.call(tool, input);
      expect(errorOf(result)?.code).toBe('FORBIDDEN');
      expect(errorOf(result)?.message).not.toContain('salaries');
      expect(system.toolCalls.handlers).toEqual([]);
      expect(system.adapter.calls).toEqual([]);
      expect(system.quotaCalls).toEqual([]);
      expect(system.auditEvents()[0]).toMatchObject({ code: 'FORBIDDEN', missing });
    },
  );

  it('does not let a write grant stand in for a read grant, or the reverse', async () => {
    const system = assemble();
    const writerOnly = sessionContext({
      roles: [],
      capabilities: ['tool:fake_read', `write:${SOURCE}:public.*`],
    });
    expect(
      errorOf(await system.call('fake_read', VALID_INPUT.fake_read, { context: writerOnly }))?.code,
    ).toBe('FORBIDDEN');
    const readerOnly = sessionContext({
      roles: [],
      capabilities: ['tool:fake_write', `read:${SOURCE}:public.*`],
    });
    expect(
      errorOf(await system.call('fake_write', VALID_INPUT.fake_write, { context: readerOnly }))
        ?.code,
    ).toBe('FORBIDDEN');
    expect(system.adapter.calls).toEqual([]);
  });

  it('grants nothing through a role the policy does not know or a grant that does not parse', async () => {
    const system = assemble();
    const context = sessionContext({
      roles: ['superuser'],
      capabilities: ['*', 'read:*:public.orders'],
    });
    for (const tool of TOOL_NAMES) {
      expect(errorOf(await system.call(tool, VALID_INPUT[tool], { context }))?.code).toBe(
        'FORBIDDEN',
      );
    }
    expect(system.adapter.calls).toEqual([]);
  });

  it('runs a granted call of every kind (the control case)', async () => {
    const system = assemble();
    for (const tool of TOOL_NAMES) {
      expect(errorOf(await system.call(tool, VALID_INPUT[tool]))).toBeUndefined();
    }
    expect(system.toolCalls.handlers).toEqual(['fake_read', 'fake_list', 'fake_write']);
  });

  it('filters what an introspection handler lists through the same policy', async () => {
    const system = assemble();
    const result = await system.call('fake_list', {});
    expect(result.structuredContent).toEqual({ tables: ['public.orders'] });
  });
});
