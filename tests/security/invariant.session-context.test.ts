/**
 * Invariant 1: fail closed on a missing or invalid SessionContext.
 *
 * Every field missing, every field malformed, every wrong shape, and expiry:
 * the call ends SESSION_INVALID at the first stage, and nothing after it
 * runs: no tool lookup side effects, no authorizer, no quota, no handler,
 * no adapter call. The audit record says so.
 */
import { describe, expect, it } from 'vitest';
import { assemble, errorOf, sessionContext, TOOL_NAMES, VALID_INPUT } from './harness.js';

const REQUIRED_FIELDS = [
  'sessionId',
  'principalId',
  'capabilities',
  'roles',
  'transport',
  'readOnly',
];

const withField = (field: string, value: unknown) => sessionContext({ [field]: value });
const without = (field: string) => {
  const context = sessionContext();
  delete context[field];
  return context;
};

function throwingGetter(): unknown {
  const context = sessionContext();
  Object.defineProperty(context, 'principalId', {
    enumerable: true,
    get() {
      throw new Error('getter trap');
    },
  });
  return context;
}

const MALFORMED: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['a string', 'alice'],
  ['a number', 42],
  ['a boolean', true],
  ['an array', [sessionContext()]],
  ['an empty object', {}],
  ['a function', () => sessionContext()],
  ['a JSON string of a valid context', JSON.stringify(sessionContext())],
  ...REQUIRED_FIELDS.map((field): [string, unknown] => [`no ${field}`, without(field)]),
  ...REQUIRED_FIELDS.map((field): [string, unknown] => [
    `${field} undefined`,
    withField(field, undefined),
  ]),
  ...REQUIRED_FIELDS.map((field): [string, unknown] => [`${field} null`, withField(field, null)]),
  ['sessionId empty', withField('sessionId', '')],
  ['sessionId a number', withField('sessionId', 7)],
  ['sessionId with spaces', withField('sessionId', 'a b')],
  ['sessionId too long', withField('sessionId', 's'.repeat(201))],
  ['principalId empty', withField('principalId', '')],
  ['principalId whitespace', withField('principalId', '   ')],
  ['principalId with SQL', withField('principalId', "x' OR '1'='1")],
  ['principalId with a newline', withField('principalId', 'alice\nadmin')],
  ['principalId an object', withField('principalId', { id: 'alice' })],
  ['capabilities a string', withField('capabilities', 'tool:*')],
  ['capabilities with a number', withField('capabilities', [1])],
  ['capabilities with spaces', withField('capabilities', ['tool: fake_read'])],
  ['capabilities an object', withField('capabilities', { 0: 'tool:*', length: 1 })],
  ['roles a string', withField('roles', 'reader')],
  ['roles with null', withField('roles', [null])],
  ['roles with an empty string', withField('roles', [''])],
  ['transport unknown', withField('transport', 'carrier-pigeon')],
  ['transport upper case', withField('transport', 'STDIO')],
  ['readOnly a string', withField('readOnly', 'false')],
  ['readOnly a number', withField('readOnly', 0)],
  ['expiresAt a string', withField('expiresAt', '2999-01-01')],
  ['expiresAt NaN', withField('expiresAt', Number.NaN)],
  ['expiresAt infinite', withField('expiresAt', Number.POSITIVE_INFINITY)],
  ['expiresAt fractional', withField('expiresAt', Date.now() + 60_000.5)],
  ['expiresAt negative', withField('expiresAt', -1)],
  ['an extra field', sessionContext({ isAdmin: true })],
  ['an extra field named like a grant', sessionContext({ grants: ['tool:*'] })],
  [
    'a polluted prototype key',
    JSON.parse(`{"__proto__":{"readOnly":false},${JSON.stringify(sessionContext()).slice(1)}`),
  ],
  ['a getter that throws', throwingGetter()],
  [
    'a proxy that throws',
    new Proxy(sessionContext(), {
      ownKeys: () => {
        throw new Error('trap');
      },
    }),
  ],
];

const EXPIRED: Array<[string, unknown]> = [
  ['expired a minute ago', sessionContext({ expiresAt: Date.now() - 60_000 })],
  ['expired at the epoch', sessionContext({ expiresAt: 1 })],
];

describe('invariant: fail closed on an invalid session context', () => {
  it.each([...MALFORMED, ...EXPIRED])(
    'denies a context that is %s, for every tool, with no side effect',
    async (_label, context) => {
      for (const tool of TOOL_NAMES) {
        const system = assemble();
        const result = await system.call(tool, VALID_INPUT[tool], { context });
        expect(errorOf(result)?.code).toBe('SESSION_INVALID');
        expect(system.authorizerCalls).toEqual([]);
        expect(system.quotaCalls).toEqual([]);
        expect(system.toolCalls.handlers).toEqual([]);
        expect(system.adapter.calls).toEqual([]);
        expect(system.auditEvents()).toEqual([
          expect.objectContaining({ decision: 'deny', code: 'SESSION_INVALID', stage: 'context' }),
        ]);
        // No session was established, so the record names no principal or tool.
        expect(system.auditEvents()[0]).not.toHaveProperty('principalId');
        expect(system.auditEvents()[0]).not.toHaveProperty('tool');
      }
    },
  );

  it('says an expired session has expired', async () => {
    const system = assemble();
    const result = await system.call('fake_read', VALID_INPUT.fake_read, {
      context: sessionContext({ expiresAt: Date.now() - 1 }),
    });
    expect(errorOf(result)?.message).toMatch(/expired/);
  });

  it('accepts the same context when it is valid and unexpired (the control case)', async () => {
    for (const context of [sessionContext(), sessionContext({ expiresAt: Date.now() + 60_000 })]) {
      const system = assemble();
      const result = await system.call('fake_read', VALID_INPUT.fake_read, { context });
      expect(errorOf(result)).toBeUndefined();
      expect(system.adapter.calls.map((c) => c.method)).toEqual(['read']);
    }
  });

  it('checks the context before the tool name: an unknown tool with a bad context is SESSION_INVALID', async () => {
    const system = assemble();
    const result = await system.call('no_such_tool', {}, { context: null });
    expect(errorOf(result)?.code).toBe('SESSION_INVALID');
  });

  it('does not let a handler widen the validated context', async () => {
    const system = assemble();
    const context = sessionContext({ roles: ['reader'] });
    await system.call('fake_read', VALID_INPUT.fake_read, { context });
    const seen = system.authorizerCalls[0]?.session;
    expect(Object.isFrozen(seen)).toBe(true);
    expect(Object.isFrozen(seen?.roles)).toBe(true);
    // Mutating the caller's object afterwards changes nothing already validated.
    (context.roles as string[]).push('writer');
    expect(seen?.roles).toEqual(['reader']);
  });
});
