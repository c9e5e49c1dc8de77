import { loadEnvironment } from '@sqlwarden/security';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

// principals.<id>.database: what each kind of source takes, and the
// problems of everything else, each naming its key.

const env = (vars: Record<string, string> = {}) => loadEnvironment({ env: vars, envFile: false });

const SOURCES = `
sources:
  pg:
    kind: postgres
    url: \${PG_URL}
    tables: [public.*]
  my:
    kind: mysql
    url: \${MY_URL}
    tables: [shop.*]
`;
const VARS = {
  PG_URL: 'postgres://app@db/shop',
  MY_URL: 'mysql://app@db/shop',
  ALICE_PASSWORD: 'a-long-password-from-env',
};

function config(database: string): string {
  return `${SOURCES}
principals:
  alice:
    capabilities: [tool:query_read]
    database:
${database
  .trim()
  .split('\n')
  .map((line) => `      ${line}`)
  .join('\n')}
`;
}

async function problemsOf(text: string, vars: Record<string, string> = VARS) {
  const result = await parseConfig(text, env(vars));
  return result.ok ? [] : result.problems;
}

describe('principals.<id>.database', () => {
  it('accepts a role on a postgres source and a user with a password from the environment on a mysql source', async () => {
    const result = await parseConfig(
      config(`
pg: { role: alice_reader }
my: { user: alice, password: "\${ALICE_PASSWORD}" }`),
      env(VARS),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const database = result.config.principals.alice?.database ?? {};
    expect(database.pg).toEqual({ role: 'alice_reader' });
    expect(database.my?.user).toBe('alice');
    expect(database.my?.password?.reveal()).toBe('a-long-password-from-env');
    // A Secret: no printed form of the configuration holds it.
    expect(JSON.stringify(result.config)).not.toContain('a-long-password-from-env');
  });

  it('accepts a postgres entry without a role (the subject alone) and a mysql user without a password', async () => {
    expect(await problemsOf(config(`pg: {}\nmy: { user: alice }`))).toEqual([]);
  });

  it('refuses a password written in the file, and one only partly from a variable', async () => {
    expect(await problemsOf(config('my: { user: alice, password: hunter2hunter2 }'))).toEqual([
      'principals.alice.database.my.password: write it as ${VARIABLE} and set the variable; passwords never go in the file',
    ]);
    expect(await problemsOf(config('my: { user: alice, password: "x${ALICE_PASSWORD}" }'))).toEqual(
      [
        'principals.alice.database.my.password: write it as ${VARIABLE} and set the variable; passwords never go in the file',
      ],
    );
  });

  it('refuses a role on a mysql source and a user or password on a postgres source', async () => {
    expect(await problemsOf(config('my: { user: alice, role: reader }'))).toEqual([
      "principals.alice.database.my.role: a mysql source takes a user (and its password), a pool of the principal's own; role is for postgres sources",
    ]);
    const problems = await problemsOf(config('pg: { user: alice, password: "${ALICE_PASSWORD}" }'));
    expect(problems).toEqual([
      "principals.alice.database.pg.user: a postgres source takes a role (each call runs under SET LOCAL ROLE, the source's user a member of it), not a user or password of its own",
      "principals.alice.database.pg.password: a postgres source takes a role (each call runs under SET LOCAL ROLE, the source's user a member of it), not a user or password of its own",
    ]);
  });

  it('refuses a mysql entry without a user, and the role "none"', async () => {
    expect(await problemsOf(config('my: {}'))).toEqual([
      'principals.alice.database.my.user: a mysql source needs the user this principal connects as',
    ]);
    expect(await problemsOf(config('pg: { role: none }'))).toEqual([
      'principals.alice.database.pg.role: "none" is not a role to PostgreSQL (SET ROLE none is the source\'s own user); name a role',
    ]);
  });

  it('refuses an identity on an ODBC source, saying it is not supported', async () => {
    const text = `
sources:
  cx:
    kind: odbc
    odbc: { connectionString: "\${CX}", profile: generic }
    defaultCatalog: daea
    tables: [daea.dbo.*]
principals:
  alice:
    capabilities: [tool:query_read]
    database:
      cx: { user: alice }
`;
    const problems = await problemsOf(text, { CX: 'DSN=x' });
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^principals\.alice\.database\.cx: odbc sources cannot run calls under a principal's own database identity/,
      ),
    );
  });

  it('refuses a source that is not defined', async () => {
    expect(await problemsOf(config('nowhere: { role: r }'))).toEqual([
      'principals.alice.database.nowhere: nowhere is not defined under sources',
    ]);
  });
});
