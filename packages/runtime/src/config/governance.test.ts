import { loadEnvironment } from '@sqlwarden/security';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

// governance.columns and governance.maskKey as the loader checks them:
// each mistake a problem naming its key; the key's value never in one.

const env = (vars: Record<string, string> = {}) =>
  loadEnvironment({ env: { DATABASE_URL: 'postgres://app@db/shop', ...vars }, envFile: false });

const KEY = 'a'.repeat(40);

function config(governance: string): string {
  return `
sources:
  main:
    kind: postgres
    url: \${DATABASE_URL}
    tables: [hr.people, hr.orders, public.*]
roles:
  analyst: [tool:query_read, read:main:hr.people]
  dpo: [tool:query_read, read:main:hr.people]
principals:
  ana: { roles: [analyst] }
  dora: { roles: [dpo] }
governance:
${governance}
`;
}

async function problemsOf(governance: string, vars: Record<string, string> = {}) {
  const result = await parseConfig(config(governance), env(vars));
  return result.ok ? [] : result.problems;
}

describe('governance.columns', () => {
  it('normalizes policies and the mask key', async () => {
    const result = await parseConfig(
      config(`  maskKey: \${MASK_KEY}
  columns:
    - { source: main, table: hr.people, columns: [ssn], action: deny, roles: [analyst] }
    - { source: main, table: hr.people, columns: [email], action: mask, mask: partial, keep: 3, except: { principals: [dora] } }`),
      env({ MASK_KEY: KEY }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.columnPolicies).toEqual([
      {
        source: 'main',
        table: { schema: 'hr', name: 'people' },
        columns: ['ssn'],
        action: 'deny',
        roles: ['analyst'],
      },
      {
        source: 'main',
        table: { schema: 'hr', name: 'people' },
        columns: ['email'],
        action: 'mask',
        mask: 'partial',
        keep: 3,
        except: { principals: ['dora'] },
      },
    ]);
    expect(result.config.maskKey?.reveal()).toBe(KEY);
    expect(JSON.stringify(result.config)).not.toContain(KEY);
  });

  it('names a policy on an unknown source, on a table the source does not serve, or on a wildcard', async () => {
    expect(
      await problemsOf(`  columns:
    - { source: nope, table: hr.people, columns: [ssn], action: deny }
    - { source: main, table: hr.salaries, columns: [amount], action: deny }
    - { source: main, table: "public.*", columns: [x], action: deny }`),
    ).toEqual([
      'governance.columns[0].source: nope is not defined under sources',
      expect.stringMatching(
        /^governance\.columns\[1\]\.table: source main does not serve hr\.salaries \(its tables: hr\.people, hr\.orders, public\.\*\)/,
      ),
      expect.stringMatching(/^governance\.columns\[2\]\.table: public\.\* must name one table/),
    ]);
  });

  it('refuses mask or keep on a denied column, and keep without a partial mask', async () => {
    expect(
      await problemsOf(`  columns:
    - { source: main, table: hr.people, columns: [ssn], action: deny, mask: hash }
    - { source: main, table: hr.people, columns: [ssn], action: deny, keep: 2 }
    - { source: main, table: hr.people, columns: [email], action: mask, mask: hash, keep: 2 }
    - { source: main, table: hr.people, columns: [email], action: mask, keep: 2 }`),
    ).toEqual([
      expect.stringMatching(/^governance\.columns\[0\]\.mask: only a policy with action: mask/),
      expect.stringMatching(/^governance\.columns\[1\]\.keep: only a partial mask keeps/),
      expect.stringMatching(/^governance\.columns\[2\]\.keep: only mask: partial keeps/),
      expect.stringMatching(/^governance\.columns\[3\]\.keep: only mask: partial keeps/),
    ]);
  });

  it('names roles and principals that are not defined', async () => {
    expect(
      await problemsOf(`  columns:
    - { source: main, table: hr.people, columns: [ssn], action: deny, roles: [analysts], principals: [bob], except: { roles: [dp0], principals: [eve] } }`),
    ).toEqual([
      'governance.columns[0].roles[0]: role analysts is not defined under roles',
      'governance.columns[0].principals[0]: bob is not defined under principals',
      'governance.columns[0].except.roles[0]: role dp0 is not defined under roles',
      'governance.columns[0].except.principals[0]: eve is not defined under principals',
    ]);
  });
});

describe('governance.maskKey', () => {
  it('must be one whole ${VAR}', async () => {
    expect(await problemsOf(`  maskKey: ${KEY}`)).toEqual([
      expect.stringMatching(/^governance\.maskKey: write it as one whole \$\{VARIABLE\}/),
    ]);
    expect(await problemsOf(`  maskKey: "k-\${MASK_KEY}"`, { MASK_KEY: KEY })).toHaveLength(1);
  });

  it('must have at least 32 characters, and the problem says how many it has, not what', async () => {
    const short = 'short-key-value-0123';
    const problems = await problemsOf('  maskKey: ${MASK_KEY}', { MASK_KEY: short });
    expect(problems).toEqual([
      'governance.maskKey: the key has 20 characters; use at least 32 random ones (e.g. openssl rand -hex 32)',
    ]);
    expect(problems.join()).not.toContain(short);
  });
});
