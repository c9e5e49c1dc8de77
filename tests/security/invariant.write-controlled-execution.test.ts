/**
 * Invariant 5: write tools run only under control.
 *
 * A write needs all of: writes enabled (the deployment switch), nothing
 * read-only, the tool capability, and the write capability on the table.
 * Take away any one and nothing reaches the adapter. When it runs, it runs
 * within the server's limits: the adapter gets the server's affected-row
 * ceiling and time limit (a tool cannot raise them), a write over the
 * ceiling is refused, and a write past its time is aborted through its
 * signal.
 */
import { DEFAULT_LIMITS } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import { assemble, errorOf, SOURCE, sessionContext, VALID_INPUT } from './harness.js';

const WRITER = sessionContext({
  roles: [],
  capabilities: ['tool:fake_write', `write:${SOURCE}:public.*`],
});

describe('invariant: write tools run only under control', () => {
  it('needs every condition; each one missing is refused with the code that names it', async () => {
    const conditions = [
      {
        missing: 'writes enabled',
        options: { writesEnabled: false },
        context: WRITER,
        code: 'WRITES_DISABLED',
      },
      {
        missing: 'server writable',
        options: { readOnly: true },
        context: WRITER,
        code: 'READ_ONLY',
      },
      {
        missing: 'session writable',
        options: {},
        context: { ...WRITER, readOnly: true },
        code: 'READ_ONLY',
      },
      {
        missing: 'tool capability',
        options: {},
        context: { ...WRITER, capabilities: [`write:${SOURCE}:public.*`] },
        code: 'FORBIDDEN',
      },
      {
        missing: 'write capability',
        options: {},
        context: { ...WRITER, capabilities: ['tool:fake_write', `read:${SOURCE}:public.*`] },
        code: 'FORBIDDEN',
      },
    ] as const;
    for (const condition of conditions) {
      const system = assemble(condition.options);
      const result = await system.call('fake_write', VALID_INPUT.fake_write, {
        context: condition.context,
      });
      expect({ missing: condition.missing, code: errorOf(result)?.code }).toEqual({
        missing: condition.missing,
        code: condition.code,
      });
      expect(system.adapter.calls).toEqual([]);
    }
    const system = assemble();
    expect(
      errorOf(await system.call('fake_write', VALID_INPUT.fake_write, { context: WRITER })),
    ).toBeUndefined();
    expect(system.adapter.calls).toHaveLength(1);
  });

  it("hands the adapter the server's ceiling and time limit, which a tool cannot raise", async () => {
    const system = assemble({ limits: { maxAffectedRows: 5, timeoutMs: 2000 } });
    await system.call('fake_write', VALID_INPUT.fake_write, { context: WRITER });
    const [call] = system.adapter.calls;
    expect(call?.method).toBe('write');
    if (call?.method !== 'write') return;
    // The fake tool declares maxAffectedRows 1,000,000; the server's 5 wins.
    expect(call.request.maxAffectedRows).toBe(5);
    expect(call.request.timeoutMs).toBe(2000);
    expect(DEFAULT_LIMITS.maxAffectedRows).toBeGreaterThan(5);
  });

  it('refuses a write over its ceiling', async () => {
    const system = assemble({ limits: { maxAffectedRows: 3 } });
    system.adapter.rowsAffectedByWrite = 4;
    const result = await system.call('fake_write', VALID_INPUT.fake_write, { context: WRITER });
    expect(errorOf(result)?.code).toBe('WRITE_LIMIT_EXCEEDED');
    expect(system.auditEvents()[0]).toMatchObject({
      decision: 'deny',
      code: 'WRITE_LIMIT_EXCEEDED',
      stage: 'execute',
    });
  });

  it('aborts a write that runs past its time through the signal the adapter got', async () => {
    const system = assemble({ limits: { timeoutMs: 30 }, timeoutGraceMs: 10 });
    let aborted = false;
    system.adapter.onWrite = (request) =>
      new Promise((_resolve, reject) => {
        request.signal.addEventListener('abort', () => {
          aborted = true;
          reject(new Error('write aborted'));
        });
      });
    const result = await system.call('fake_write', VALID_INPUT.fake_write, { context: WRITER });
    expect(errorOf(result)?.code).toBe('QUERY_TIMEOUT');
    expect(aborted).toBe(true);
  });

  it('records the fingerprint and affected rows of a write, never its values', async () => {
    const system = assemble();
    const input = { ...VALID_INPUT.fake_write, params: ['canary-value-8841', 17] };
    await system.call('fake_write', input, { context: WRITER });
    const [event] = system.auditEvents();
    expect(event).toMatchObject({
      decision: 'allow',
      tool: 'fake_write',
      rows: 1,
      fp: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
    expect(system.auditLog.text).not.toContain('canary-value-8841');
    expect(system.auditLog.text).not.toContain('UPDATE');
  });
});
