import { describe, expect, it } from 'vitest';
import { validateSessionContext } from './session.js';

const NOW = 1_800_000_000_000;

const valid = {
  sessionId: 'sess-1',
  principalId: 'analyst@example.com',
  capabilities: ['tool:query_read'],
  roles: ['analyst'],
  transport: 'stdio',
  readOnly: true,
};

describe('validateSessionContext', () => {
  it('accepts a complete context and returns a frozen copy', () => {
    const result = validateSessionContext(valid, NOW);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toEqual(valid);
    expect(result.value).not.toBe(valid);
    expect(Object.isFrozen(result.value)).toBe(true);
    expect(Object.isFrozen(result.value.capabilities)).toBe(true);
  });

  it('rejects a context whose expiry has passed, and one that expires exactly now', () => {
    expect(validateSessionContext({ ...valid, expiresAt: NOW - 1 }, NOW)).toMatchObject({
      ok: false,
      code: 'SESSION_INVALID',
      message: expect.stringMatching(/expired/),
    });
    expect(validateSessionContext({ ...valid, expiresAt: NOW }, NOW).ok).toBe(false);
    expect(validateSessionContext({ ...valid, expiresAt: NOW + 1 }, NOW).ok).toBe(true);
  });

  it('rejects extra keys, so a context cannot smuggle fields the boundary ignores', () => {
    expect(validateSessionContext({ ...valid, admin: true }, NOW).ok).toBe(false);
  });

  it('rejects an object whose getter throws instead of throwing itself', () => {
    const hostile = new Proxy(valid, {
      get() {
        throw new Error('trap');
      },
    });
    expect(validateSessionContext(hostile, NOW)).toMatchObject({ code: 'SESSION_INVALID' });
  });

  it('rejects ids that could carry text into an audit record', () => {
    for (const principalId of ['', ' ', 'a b', "x'; DROP TABLE t; --", 'a\nb', 'x'.repeat(201)]) {
      expect(validateSessionContext({ ...valid, principalId }, NOW).ok).toBe(false);
    }
  });
});

describe('validateSessionContext with a frozen context', () => {
  const frozen = () =>
    Object.freeze({
      ...valid,
      capabilities: Object.freeze([...valid.capabilities]),
      roles: Object.freeze([...valid.roles]),
    });

  it('answers the same for a deeply frozen context on every call', () => {
    const context = frozen();
    const first = validateSessionContext(context, NOW);
    const second = validateSessionContext(context, NOW);
    expect(first.ok && second.ok && first.value).toBe(second.ok && second.value);
  });

  it('still checks expiry on every call', () => {
    const context = Object.freeze({ ...frozen(), expiresAt: NOW + 10 });
    expect(validateSessionContext(context, NOW).ok).toBe(true);
    expect(validateSessionContext(context, NOW + 10)).toMatchObject({
      ok: false,
      code: 'SESSION_INVALID',
    });
  });

  it('validates again an object that is not deeply frozen', () => {
    const context = Object.freeze({
      ...valid,
      capabilities: [...valid.capabilities],
      roles: Object.freeze([...valid.roles]),
    });
    expect(validateSessionContext(context, NOW).ok).toBe(true);
    (context.capabilities as string[]).push('has space');
    expect(validateSessionContext(context, NOW).ok).toBe(false);
  });

  it('refuses a frozen malformed context every time', () => {
    const context = Object.freeze({ ...frozen(), principalId: 'a b' });
    expect(validateSessionContext(context, NOW).ok).toBe(false);
    expect(validateSessionContext(context, NOW).ok).toBe(false);
  });
});
