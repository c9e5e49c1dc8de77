import { ConfigError } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import { CapabilityPolicy, parseCapability, tableCapability } from './capabilities.js';

const session = (capabilities: string[], roles: string[] = []) => ({ capabilities, roles });

describe('parseCapability', () => {
  it.each([
    ['tool:query_read', 'tool', ['query_read']],
    ['tool:*', 'tool', ['*']],
    ['read:main:public.orders', 'read', ['main', 'public', 'orders']],
    ['read:main:public.*', 'read', ['main', 'public', '*']],
    ['read:main:*', 'read', ['main', '*', '*']],
    ['read:*', 'read', ['*', '*', '*']],
    ['write:main:sales.orders', 'write', ['main', 'sales', 'orders']],
    ['read:main:Public.Ordërs', 'read', ['main', 'Public', 'Ordërs']],
  ])('parses %s', (text, action, segments) => {
    expect(parseCapability(text)).toEqual({ ok: true, capability: { action, segments } });
  });

  it.each([
    '*',
    '',
    'tool',
    'tool:',
    'tool:Query',
    'tool:query read',
    'admin:*',
    'read:main',
    'read:*:public.orders',
    'read:main:*.orders',
    'read:main:public',
    'read:main:public.ord*',
    'read:main:public.orders:extra',
    'read::public.orders',
    'read:main:.orders',
    'read:main:public.',
    'read:ma in:public.orders',
    'READ:main:public.orders',
  ])('rejects %j', (text) => {
    expect(parseCapability(text).ok).toBe(false);
  });
});

describe('tableCapability', () => {
  it('formats a concrete table capability', () => {
    expect(tableCapability('read', 'main', 'public', 'orders')).toBe('read:main:public.orders');
  });

  it('refuses names the grammar cannot hold, so they can never match by accident', () => {
    for (const name of ['a.b', 'a:b', '*', 'a b', 'a,b', '']) {
      expect(tableCapability('read', 'main', name, 'orders')).toBeUndefined();
      expect(tableCapability('read', 'main', 'public', name)).toBeUndefined();
    }
  });
});

describe('CapabilityPolicy', () => {
  const policy = new CapabilityPolicy({
    roles: {
      analyst: ['tool:query_read', 'read:main:public.*'],
      auditor: ['tool:*', 'read:*'],
    },
  });

  it('denies by default: no grants, no access', () => {
    expect(policy.check(session([]), ['tool:query_read'])).toEqual({
      ok: false,
      missing: 'tool:query_read',
    });
  });

  it('grants through direct capabilities and through roles', () => {
    expect(policy.check(session(['tool:query_read']), ['tool:query_read']).ok).toBe(true);
    expect(
      policy.check(session([], ['analyst']), ['tool:query_read', 'read:main:public.orders']).ok,
    ).toBe(true);
  });

  it('names the first capability that is missing', () => {
    expect(
      policy.check(session([], ['analyst']), [
        'tool:query_read',
        'read:main:public.orders',
        'read:main:hr.salaries',
        'read:main:hr.reviews',
      ]),
    ).toEqual({ ok: false, missing: 'read:main:hr.salaries' });
  });

  it('matches wildcards only in their own segment and action', () => {
    const grants = session(['read:main:public.*']);
    expect(policy.check(grants, ['read:main:public.orders']).ok).toBe(true);
    expect(policy.check(grants, ['read:main:public2.orders']).ok).toBe(false);
    expect(policy.check(grants, ['read:other:public.orders']).ok).toBe(false);
    expect(policy.check(grants, ['write:main:public.orders']).ok).toBe(false);
  });

  it('matches names exactly, case included', () => {
    expect(policy.check(session(['read:main:public.orders']), ['read:main:public.Orders']).ok).toBe(
      false,
    );
  });

  it('never satisfies a required capability that is a pattern or malformed', () => {
    const all = session(['tool:*', 'read:*', 'write:*']);
    for (const required of ['read:main:*', 'read:*', 'tool:*', 'read:main', 'garbage', '']) {
      expect(policy.check(all, [required]).ok).toBe(false);
    }
  });

  it('ignores direct grants that do not parse and roles that do not exist', () => {
    expect(
      policy.check(session(['*', 'read:*:public.orders'], ['root']), ['read:main:public.orders'])
        .ok,
    ).toBe(false);
  });

  it('reports every invalid role grant at construction', () => {
    try {
      new CapabilityPolicy({ roles: { a: ['*', 'tool:ok'], 'bad role': ['read:x'] } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toHaveLength(3);
    }
  });

  it('authorizes as a port: FORBIDDEN with the missing capability for the audit record', () => {
    const decision = policy.authorize({
      session: {
        sessionId: 's',
        principalId: 'p',
        capabilities: [],
        roles: ['analyst'],
        transport: 'stdio',
        readOnly: true,
      },
      tool: 'query_read',
      required: ['tool:query_read', 'read:main:hr.salaries'],
    });
    expect(decision).toMatchObject({
      ok: false,
      code: 'FORBIDDEN',
      missing: 'read:main:hr.salaries',
    });
    if (!decision.ok) expect(decision.message).not.toContain('salaries');
  });
});

describe('three-part capabilities (catalog.schema.table)', () => {
  it.each([
    ['read:connx:daea.dbo.customers', ['connx', 'daea', 'dbo', 'customers']],
    ['read:connx:daea.dbo.*', ['connx', 'daea', 'dbo', '*']],
    ['write:connx:daea.dbo.customers', ['connx', 'daea', 'dbo', 'customers']],
  ])('parses %s', (text, segments) => {
    const action = text.slice(0, text.indexOf(':'));
    expect(parseCapability(text)).toEqual({ ok: true, capability: { action, segments } });
  });

  it.each([
    'read:connx:daea..customers',
    'read:connx:daea.*.*',
    'read:connx:daea.*.customers',
    'read:connx:*.dbo.customers',
    'read:connx:daea.dbo.cust*',
    'read:connx:a.daea.dbo.customers',
    'read:connx:.dbo.customers',
    'read:connx:daea.dbo.',
  ])('rejects %j', (text) => {
    expect(parseCapability(text).ok).toBe(false);
  });

  it('formats the three-part capability of a table with a catalog', () => {
    expect(tableCapability('read', 'connx', 'dbo', 'customers', 'daea')).toBe(
      'read:connx:daea.dbo.customers',
    );
    for (const name of ['a.b', 'a:b', '*', 'a b', 'a,b', '']) {
      expect(tableCapability('read', 'connx', 'dbo', 'customers', name)).toBeUndefined();
    }
  });

  const policy = new CapabilityPolicy();
  const required = 'read:connx:daea.dbo.customers';

  it.each([
    ['read:connx:daea.dbo.customers', true],
    ['read:connx:daea.dbo.*', true],
    ['read:connx:*', true],
    ['read:*', true],
    // A two-part grant is a schema's: `daea.*` is not catalog daea.
    ['read:connx:daea.*', false],
    ['read:connx:dbo.customers', false],
    ['read:connx:dbo.*', false],
    ['read:connx:other.dbo.*', false],
    ['read:connx:DAEA.dbo.customers', false],
    ['read:other:daea.dbo.*', false],
    ['write:connx:daea.dbo.*', false],
  ])('%s covers a three-part read: %s', (grant, expected) => {
    expect(policy.check(session([grant]), [required]).ok).toBe(expected);
  });

  it('a three-part grant never covers a two-part table', () => {
    expect(policy.check(session(['read:main:cat.dbo.*']), ['read:main:dbo.orders']).ok).toBe(false);
    expect(
      policy.check(session(['read:main:public.orders.*']), ['read:main:public.orders']).ok,
    ).toBe(false);
  });

  it('refuses a three-part required capability with a wildcard', () => {
    expect(policy.check(session(['read:*']), ['read:connx:daea.dbo.*']).ok).toBe(false);
  });
});
