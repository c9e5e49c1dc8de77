/**
 * Invariant 4: read-only mode blocks writes before authorization is asked.
 *
 * With the server read-only, the session read-only, or the write switch
 * off, a write tool ends READ_ONLY / WRITES_DISABLED, and the authorizer is
 * never called (observable: the recording authorizer saw nothing), even for
 * a principal holding every write grant. Read-only does not depend on the
 * grants being right. Read and introspection tools are unaffected.
 */
import { describe, expect, it } from 'vitest';
import { assemble, errorOf, SOURCE, sessionContext, VALID_INPUT } from './harness.js';

const ALL_GRANTS = sessionContext({
  roles: ['reader', 'writer'],
  capabilities: ['tool:*', `write:${SOURCE}:*`, `read:${SOURCE}:*`],
});

const CASES = [
  {
    label: 'the server is read-only',
    options: { readOnly: true },
    context: ALL_GRANTS,
    code: 'READ_ONLY',
  },
  {
    label: 'the session is read-only',
    options: {},
    context: { ...ALL_GRANTS, readOnly: true },
    code: 'READ_ONLY',
  },
  {
    label: 'both are read-only and writes are off',
    options: { readOnly: true, writesEnabled: false },
    context: { ...ALL_GRANTS, readOnly: true },
    code: 'READ_ONLY',
  },
  {
    label: 'the write switch is off',
    options: { writesEnabled: false },
    context: ALL_GRANTS,
    code: 'WRITES_DISABLED',
  },
] as const;

describe('invariant: read-only blocks writes before authorization', () => {
  it.each(CASES)(
    'refuses a write when $label, without asking the authorizer',
    async ({ options, context, code }) => {
      const system = assemble(options);
      for (const input of [VALID_INPUT.fake_write, { ...VALID_INPUT.fake_write, dryRun: true }]) {
        const result = await system.call('fake_write', input, { context });
        expect(errorOf(result)?.code).toBe(code);
      }
      expect(system.authorizerCalls).toEqual([]);
      expect(system.quotaCalls).toEqual([]);
      expect(system.toolCalls.handlers).toEqual([]);
      expect(system.adapter.calls).toEqual([]);
      expect(system.auditEvents().map((event) => [event.code, event.stage])).toEqual([
        [code, 'readOnly'],
        [code, 'readOnly'],
      ]);
    },
  );

  it('refuses the write even for a principal with no grants at all, before FORBIDDEN could be decided', async () => {
    const system = assemble({ readOnly: true });
    const nobody = sessionContext({ roles: [], capabilities: [] });
    expect(
      errorOf(await system.call('fake_write', VALID_INPUT.fake_write, { context: nobody }))?.code,
    ).toBe('READ_ONLY');
    expect(system.authorizerCalls).toEqual([]);
  });

  it('still serves read and introspection tools in read-only mode', async () => {
    const system = assemble({ readOnly: true, writesEnabled: false });
    const context = { ...ALL_GRANTS, readOnly: true };
    expect(
      errorOf(await system.call('fake_read', VALID_INPUT.fake_read, { context })),
    ).toBeUndefined();
    expect(errorOf(await system.call('fake_list', {}, { context }))).toBeUndefined();
    expect(system.adapter.calls.map((c) => c.method)).toEqual(['read', 'listTables']);
  });

  it('lets the write through when nothing is read-only and writes are on (the control case)', async () => {
    const system = assemble({ readOnly: false, writesEnabled: true });
    expect(
      errorOf(await system.call('fake_write', VALID_INPUT.fake_write, { context: ALL_GRANTS })),
    ).toBeUndefined();
    expect(system.adapter.calls.map((c) => c.method)).toEqual(['write']);
  });
});
