/**
 * Invariant 7: the stages run in docs/architecture.md's order, and a denial ends the call.
 *
 * For each pair of neighbouring stages, a call that fails both is denied by
 * the earlier one, and the audit record names that stage. A successful call
 * shows the order in its effects: authorize, quota, handler, adapter,
 * release, audit. Swapping any two stages in the boundary turns one of
 * these red.
 */
import { describe, expect, it } from 'vitest';
import { assemble, errorOf, sessionContext, VALID_INPUT } from './harness.js';

const NO_GRANTS = sessionContext({ roles: [], capabilities: [] });
const EXHAUSTED = { perPrincipal: { rate: { burst: 1, perSecond: 0.001 } } };

describe('invariant: stage order', () => {
  it('context before lookup', async () => {
    const system = assemble();
    const result = await system.call('no_such_tool', {}, { context: { bad: true } });
    expect(errorOf(result)?.code).toBe('SESSION_INVALID');
    expect(system.auditEvents()[0]).toMatchObject({ stage: 'context' });
  });

  it('lookup before input', async () => {
    const system = assemble();
    const result = await system.call('no_such_tool', { not: 'valid' });
    expect(errorOf(result)?.code).toBe('UNKNOWN_TOOL');
    expect(system.auditEvents()[0]).toMatchObject({ stage: 'lookup' });
  });

  it('input before the read-only gate', async () => {
    const system = assemble({ readOnly: true });
    const result = await system.call('fake_write', { table: 42 });
    expect(errorOf(result)?.code).toBe('INVALID_INPUT');
    expect(system.auditEvents()[0]).toMatchObject({ stage: 'input' });
  });

  it('the read-only gate before authorization', async () => {
    const system = assemble({ readOnly: true });
    const result = await system.call('fake_write', VALID_INPUT.fake_write, { context: NO_GRANTS });
    expect(errorOf(result)?.code).toBe('READ_ONLY');
    expect(system.authorizerCalls).toEqual([]);
    expect(system.auditEvents()[0]).toMatchObject({ stage: 'readOnly' });
  });

  it('authorization before quota', async () => {
    const system = assemble({ quota: EXHAUSTED });
    await system.call('fake_read', VALID_INPUT.fake_read);
    const result = await system.call('fake_read', VALID_INPUT.fake_read, { context: NO_GRANTS });
    expect(errorOf(result)?.code).toBe('FORBIDDEN');
    expect(system.quotaCalls).toHaveLength(1);
    expect(system.auditEvents()[1]).toMatchObject({ stage: 'authorization' });
  });

  it('quota before execution', async () => {
    const system = assemble({ quota: EXHAUSTED });
    await system.call('fake_read', VALID_INPUT.fake_read);
    const result = await system.call('fake_read', VALID_INPUT.fake_read);
    expect(errorOf(result)?.code).toBe('RATE_LIMITED');
    expect(system.toolCalls.handlers).toHaveLength(1);
    expect(system.auditEvents()[1]).toMatchObject({ stage: 'quota' });
  });

  it('execution before audit: the record holds what the execution found', async () => {
    const system = assemble();
    await system.call('fake_read', VALID_INPUT.fake_read);
    expect(system.auditEvents()[0]).toMatchObject({ stage: 'execute', decision: 'allow', rows: 2 });
  });

  it('shows the whole order in the effects of a successful call', async () => {
    const system = assemble({ quota: { perPrincipal: { concurrency: 2 } } });
    await system.call('fake_read', VALID_INPUT.fake_read);
    expect(system.timeline).toEqual([
      'authorize',
      'authorize',
      'quota',
      'handler:fake_read',
      'adapter:read',
      'release',
      'audit',
    ]);
  });

  it('writes exactly one audit record per call, whichever stage ends it', async () => {
    const system = assemble({ readOnly: true, quota: EXHAUSTED });
    const calls = [
      system.call('fake_read', VALID_INPUT.fake_read, { context: null }),
      system.call('nope', {}),
      system.call('fake_read', {}),
      system.call('fake_write', VALID_INPUT.fake_write),
      system.call('fake_read', VALID_INPUT.fake_read, { context: NO_GRANTS }),
      system.call('fake_read', VALID_INPUT.fake_read),
      system.call('fake_read', VALID_INPUT.fake_read),
    ];
    await Promise.all(calls);
    expect(system.timeline.filter((entry) => entry === 'audit')).toHaveLength(calls.length);
    expect(
      system
        .auditEvents()
        .map((event) => event.stage)
        .sort(),
    ).toEqual(
      ['authorization', 'context', 'execute', 'input', 'lookup', 'quota', 'readOnly'].sort(),
    );
  });
});
