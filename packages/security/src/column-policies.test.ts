import { describe, expect, it } from 'vitest';
import {
  type ColumnPolicy,
  policyApplies,
  resolveColumnRules,
  strictestTreatment,
} from './column-policies.js';

const people = { schema: 'hr', name: 'people' };

function policy(overrides: Partial<ColumnPolicy>): ColumnPolicy {
  return { source: 'main', table: people, columns: ['ssn'], action: 'deny', ...overrides };
}

const analyst = { principalId: 'ana', roles: ['analyst'] };
const dpo = { principalId: 'dora', roles: ['dpo'] };

describe('policyApplies', () => {
  it('applies to everyone when it lists neither roles nor principals', () => {
    expect(policyApplies(policy({}), analyst)).toBe(true);
    expect(policyApplies(policy({}), { principalId: 'x', roles: [] })).toBe(true);
  });

  it('applies to the roles and principals it lists, and to nobody else', () => {
    const p = policy({ roles: ['analyst'], principals: ['bob'] });
    expect(policyApplies(p, analyst)).toBe(true);
    expect(policyApplies(p, { principalId: 'bob', roles: [] })).toBe(true);
    expect(policyApplies(p, dpo)).toBe(false);
  });

  it('never applies to an excepted role or principal, even one it lists', () => {
    const p = policy({ roles: ['analyst'], except: { roles: ['dpo'], principals: ['ana'] } });
    expect(policyApplies(p, analyst)).toBe(false);
    expect(policyApplies(p, { principalId: 'zed', roles: ['analyst', 'dpo'] })).toBe(false);
    expect(policyApplies(policy({ except: { roles: ['dpo'] } }), dpo)).toBe(false);
    expect(policyApplies(policy({ except: { roles: ['dpo'] } }), analyst)).toBe(true);
  });

  it('takes a role a token added like a configured one', () => {
    const p = policy({ roles: ['contractor'] });
    expect(policyApplies(p, { principalId: 'ana', roles: ['analyst', 'contractor'] })).toBe(true);
  });
});

describe('strictestTreatment', () => {
  const mask = (m: 'null' | 'redact' | 'hash' | 'partial', keep = 4) =>
    ({ action: 'mask', mask: m, keep }) as const;

  it('prefers deny over any mask, in either order', () => {
    expect(strictestTreatment({ action: 'deny' }, mask('null'))).toEqual({ action: 'deny' });
    expect(strictestTreatment(mask('partial'), { action: 'deny' })).toEqual({ action: 'deny' });
  });

  it('orders masks null > redact > hash > partial', () => {
    expect(strictestTreatment(mask('redact'), mask('null'))).toEqual(mask('null'));
    expect(strictestTreatment(mask('hash'), mask('redact'))).toEqual(mask('redact'));
    expect(strictestTreatment(mask('partial'), mask('hash'))).toEqual(mask('hash'));
    expect(strictestTreatment(mask('hash'), mask('partial'))).toEqual(mask('hash'));
  });

  it('keeps fewer characters of two partial masks', () => {
    expect(strictestTreatment(mask('partial', 6), mask('partial', 2))).toEqual(mask('partial', 2));
  });
});

describe('resolveColumnRules', () => {
  const policies: ColumnPolicy[] = [
    policy({ columns: ['ssn'], roles: ['analyst'] }),
    policy({ columns: ['email'], action: 'mask', mask: 'partial', roles: ['analyst'] }),
    policy({ columns: ['salary'], action: 'mask', mask: 'hash', roles: ['analyst'] }),
    policy({ columns: ['email'], action: 'mask', mask: 'hash', principals: ['ana'] }),
    policy({ source: 'other', table: { schema: 'public', name: 't' }, columns: ['c'] }),
  ];

  it('gives a principal the rules of the policies that apply, per source and table', () => {
    const rules = resolveColumnRules(policies, analyst);
    expect([...rules.keys()].sort()).toEqual(['main', 'other']);
    const main = rules.get('main') ?? [];
    expect(main).toHaveLength(1);
    expect(main[0]).toMatchObject({ schema: 'hr', name: 'people' });
    expect(Object.fromEntries(main[0]?.columns ?? [])).toEqual({
      ssn: { action: 'deny' },
      // partial (role) and hash (principal) both apply: hash is stricter.
      email: { action: 'mask', mask: 'hash', keep: 4 },
      salary: { action: 'mask', mask: 'hash', keep: 4 },
    });
  });

  it('gives nothing on a source whose policies do not apply', () => {
    const rules = resolveColumnRules(policies.slice(0, 4), dpo);
    expect(rules.size).toBe(0);
  });

  it('defaults a mask to redact and a partial mask to 4 characters', () => {
    const rules = resolveColumnRules(
      [
        policy({ columns: ['a'], action: 'mask' }),
        policy({ columns: ['b'], action: 'mask', mask: 'partial' }),
      ],
      dpo,
    );
    expect(Object.fromEntries(rules.get('main')?.[0]?.columns ?? [])).toEqual({
      a: { action: 'mask', mask: 'redact', keep: 4 },
      b: { action: 'mask', mask: 'partial', keep: 4 },
    });
  });

  it('keeps tables of different catalogs apart', () => {
    const rules = resolveColumnRules(
      [
        policy({ table: { catalog: 'a', schema: 'dbo', name: 't' } }),
        policy({ table: { catalog: 'b', schema: 'dbo', name: 't' } }),
      ],
      dpo,
    );
    expect(rules.get('main')?.map((t) => t.catalog)).toEqual(['a', 'b']);
  });
});
