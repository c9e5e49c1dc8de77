/**
 * Invariant 3: unknown tools produce zero side effects.
 *
 * A name that is not a registered tool, however it is spelled (case and
 * whitespace variants of real names, prototype keys, non-strings), ends
 * UNKNOWN_TOOL: no handler, no adapter call, no authorizer question, no
 * quota spent. The audit records the denial without the name (it is client
 * text).
 */
import { describe, expect, it } from 'vitest';
import { assemble, errorOf, VALID_INPUT } from './harness.js';

const UNKNOWN_NAMES: unknown[] = [
  'no_such_tool',
  'FAKE_READ',
  'Fake_Read',
  ' fake_read',
  'fake_read ',
  'fake_read\u0000',
  'fаke_read', // Cyrillic а
  'fake_read;drop',
  '',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'x'.repeat(10_000),
  undefined,
  null,
  42,
  ['fake_read'],
  { name: 'fake_read' },
];

describe('invariant: unknown tools produce zero side effects', () => {
  it.each(UNKNOWN_NAMES.map((name) => [name]))('treats %j as unknown', async (name) => {
    const system = assemble({
      quota: { perPrincipal: { rate: { burst: 1, perSecond: 0.001 }, concurrency: 1 } },
    });
    const result = await system.call(name, VALID_INPUT.fake_read);
    expect(errorOf(result)?.code).toBe('UNKNOWN_TOOL');
    expect(system.toolCalls.handlers).toEqual([]);
    expect(system.adapter.calls).toEqual([]);
    expect(system.authorizerCalls).toEqual([]);
    expect(system.quotaCalls).toEqual([]);
    const [event] = system.auditEvents();
    expect(event).toMatchObject({ decision: 'deny', code: 'UNKNOWN_TOOL', stage: 'lookup' });
    expect(event).not.toHaveProperty('tool');
    // The one-call budget is intact: the real tool still runs.
    expect(errorOf(await system.call('fake_read', VALID_INPUT.fake_read))).toBeUndefined();
  });

  it('does not echo the unknown name back to the client', async () => {
    const system = assemble();
    const result = await system.call("drop_table_users'--", {});
    expect(JSON.stringify(result)).not.toContain('drop_table_users');
  });
});
