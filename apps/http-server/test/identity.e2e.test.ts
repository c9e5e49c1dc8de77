import { createHash, randomBytes } from 'node:crypto';
import { mysqlTestUrl, postgresTestUrl, urlWithDatabase } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callTool,
  onMysql,
  onTestPostgres,
  type RunningHttp,
  startHttp,
  tempDir,
} from './harness.js';
import { type Issuer, startIssuer } from './issuer.js';

// The principal's identity down to the database, end to end: the built
// sqlwarden-http, a static token per principal, the real PostgreSQL and
// MariaDB (docs/governance.md, "Identity in the database").
//
// PostgreSQL: the source connects as the superuser postgres, which bypasses
// row-level security; each principal's calls run under SET LOCAL ROLE to a
// role of its own, with the verified principal as sqlwarden.subject, so the
// policy USING (owner = current_setting('sqlwarden.subject', true)) applies.
// MariaDB: each principal has a user (and a pool) of its own, its password
// from the environment.

const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
const S = `http_identity_${tag}`;
const ROLE_ALICE = `${S}_alice`;
const ROLE_BOB = `${S}_bob`;
const GHOST = `${S}_ghost`;
const DB = `sqlwarden_identity_${tag}`;
const MY_ALICE = `sqlw_a_${tag}`;
const MY_BOB = `sqlw_b_${tag}`;
const PASSWORDS = {
  alice: randomBytes(18).toString('hex'),
  bob: randomBytes(18).toString('hex'),
  dave: randomBytes(18).toString('hex'),
};
const TOKENS = {
  alice: randomBytes(32).toString('base64url'),
  bob: randomBytes(32).toString('base64url'),
  carol: randomBytes(32).toString('base64url'),
  dave: randomBytes(32).toString('base64url'),
};
const dir = tempDir();
let server: RunningHttp;
/** Every tool result the test received, to search for the passwords. */
const answers: string[] = [];

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function call(
  principal: keyof typeof TOKENS,
  name: string,
  args: Record<string, unknown>,
): Promise<{ code: string; result: Record<string, unknown> }> {
  const answer = await callTool(server.url, TOKENS[principal], name, args);
  answers.push(JSON.stringify(answer.result));
  return answer;
}

const rowsOf = (answer: { result: Record<string, unknown> }) =>
  (answer.result.structuredContent as { rows?: unknown[][] } | undefined)?.rows;
const messageOf = (answer: { result: Record<string, unknown> }) =>
  (answer.result.structuredContent as { error?: { message?: string } } | undefined)?.error
    ?.message ?? '';

async function read(principal: keyof typeof TOKENS, sql: string, source = 'main') {
  return call(principal, 'query_read', { sql, source });
}

beforeAll(async () => {
  await onTestPostgres(`
    CREATE SCHEMA ${S};
    CREATE TABLE ${S}.docs (
      id int PRIMARY KEY,
      owner text NOT NULL DEFAULT current_setting('sqlwarden.subject', true),
      body text
    );
    ALTER TABLE ${S}.docs ENABLE ROW LEVEL SECURITY;
    ALTER TABLE ${S}.docs FORCE ROW LEVEL SECURITY;
    CREATE POLICY own_rows ON ${S}.docs USING (owner = current_setting('sqlwarden.subject', true));
    CREATE ROLE ${ROLE_ALICE} NOLOGIN;
    CREATE ROLE ${ROLE_BOB} NOLOGIN;
    GRANT USAGE ON SCHEMA ${S} TO ${ROLE_ALICE}, ${ROLE_BOB};
    GRANT SELECT, INSERT, UPDATE ON ${S}.docs TO ${ROLE_ALICE}, ${ROLE_BOB};
    INSERT INTO ${S}.docs VALUES (1, 'alice', 'a1'), (2, 'alice', 'a2'), (3, 'bob', 'b1'), (4, 'nobody', 'n1');
  `);
  await onMysql(`
    CREATE DATABASE ${DB} CHARACTER SET utf8mb4;
    CREATE TABLE ${DB}.items (id int PRIMARY KEY, label varchar(20));
    CREATE TABLE ${DB}.secrets (id int PRIMARY KEY, value varchar(20));
    INSERT INTO ${DB}.items VALUES (1, 'one');
    INSERT INTO ${DB}.secrets VALUES (1, 'classified');
    CREATE USER '${MY_ALICE}'@'%' IDENTIFIED BY '${PASSWORDS.alice}';
    CREATE USER '${MY_BOB}'@'%' IDENTIFIED BY '${PASSWORDS.bob}';
    GRANT SELECT ON ${DB}.* TO '${MY_ALICE}'@'%';
    GRANT SELECT ON ${DB}.items TO '${MY_BOB}'@'%';
  `);
  const principal = (name: string, database: string) => `  ${name}:
    roles: [agent]
    database:
${database}`;
  const config = dir.write(
    'sqlwarden.yaml',
    `server:
  readOnly: false
sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${S}
    tables: ["${S}.*"]
    writable: ["${S}.docs"]
    functions: { allow: [current_setting, current_user] }
  shop:
    kind: mysql
    url: \${E2E_MYSQL_URL}
    tables: ["${DB}.*"]
    functions: { allow: [current_user] }
roles:
  agent:
    - tool:query_read
    - tool:execute_write
    - "read:main:${S}.*"
    - "write:main:${S}.docs"
    - "read:shop:${DB}.*"
principals:
${principal(
  'alice',
  `      main: { role: ${ROLE_ALICE} }
      shop: { user: ${MY_ALICE}, password: "\${E2E_ALICE_DB_PASSWORD}" }`,
)}
${principal(
  'bob',
  `      main: { role: ${ROLE_BOB} }
      shop: { user: ${MY_BOB}, password: "\${E2E_BOB_DB_PASSWORD}" }`,
)}
${principal('carol', `      main: { role: ${GHOST} }`)}
${principal('dave', `      shop: { user: ${MY_ALICE}, password: "\${E2E_DAVE_DB_PASSWORD}" }`)}
transports:
  http:
    port: 0
    auth:
      tokens:
${Object.keys(TOKENS)
  .map(
    (name) =>
      `        - principal: ${name}\n          sha256: \${E2E_${name.toUpperCase()}_TOKEN_HASH}`,
  )
  .join('\n')}
`,
  );
  server = await startHttp(['--config', config], {
    env: {
      E2E_DATABASE_URL: postgresTestUrl(),
      E2E_MYSQL_URL: urlWithDatabase(mysqlTestUrl(), DB),
      E2E_ALICE_DB_PASSWORD: PASSWORDS.alice,
      E2E_BOB_DB_PASSWORD: PASSWORDS.bob,
      // Dave has Alice's user with a wrong password: his calls must fail, never fall back.
      E2E_DAVE_DB_PASSWORD: PASSWORDS.dave,
      SQLWARDEN_ALLOW_WRITES: 'true',
      ...Object.fromEntries(
        Object.entries(TOKENS).map(([name, token]) => [
          `E2E_${name.toUpperCase()}_TOKEN_HASH`,
          sha256(token),
        ]),
      ),
    },
  });
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await onTestPostgres(
    `DROP SCHEMA IF EXISTS ${S} CASCADE; DROP ROLE IF EXISTS ${ROLE_ALICE}, ${ROLE_BOB};`,
  );
  await onMysql(
    `DROP DATABASE IF EXISTS ${DB}; DROP USER IF EXISTS '${MY_ALICE}'@'%', '${MY_BOB}'@'%';`,
  );
  dir.cleanup();
});

describe('PostgreSQL: a role per principal and the subject, under row-level security', () => {
  it('shows each principal only its rows, though the source connects as a superuser', async () => {
    // The source's own user sees every row: superusers bypass row-level security.
    expect(await onTestPostgres(`SELECT count(*)::int AS n FROM ${S}.docs`)).toEqual([{ n: 4 }]);
    const ids = `SELECT id FROM docs WHERE id < 10 ORDER BY id`;
    expect(rowsOf(await read('alice', ids))).toEqual([[1], [2]]);
    expect(rowsOf(await read('bob', ids))).toEqual([[3]]);
    expect(rowsOf(await read('alice', 'SELECT count(*) FROM docs WHERE id < 10'))).toEqual([['2']]);
    expect(rowsOf(await read('bob', 'SELECT count(*) FROM docs WHERE id < 10'))).toEqual([['1']]);
  });

  it("runs as the principal's role with the verified principal as the subject", async () => {
    const who = "SELECT current_user, current_setting('sqlwarden.subject', true)";
    expect(rowsOf(await read('alice', who))).toEqual([[ROLE_ALICE, 'alice']]);
    expect(rowsOf(await read('bob', who))).toEqual([[ROLE_BOB, 'bob']]);
  });

  it("writes as the role: the subject fills the row's owner, and the policy checks every row", async () => {
    const inserted = await call('alice', 'execute_write', {
      sql: 'INSERT INTO docs (id, body) VALUES ($1, $2)',
      params: [10, 'mine'],
      source: 'main',
    });
    expect(inserted.code).toBe('ok');
    expect(await onTestPostgres(`SELECT owner FROM ${S}.docs WHERE id = 10`)).toEqual([
      { owner: 'alice' },
    ]);
    expect(rowsOf(await read('bob', 'SELECT id FROM docs WHERE id = 10'))).toEqual([]);
    // A row for someone else violates the policy: refused, nothing written.
    const forged = await call('alice', 'execute_write', {
      sql: 'INSERT INTO docs (id, owner, body) VALUES ($1, $2, $3)',
      params: [11, 'bob', 'forged'],
      source: 'main',
    });
    expect(forged.code).not.toBe('ok');
    expect(await onTestPostgres(`SELECT count(*)::int AS n FROM ${S}.docs WHERE id = 11`)).toEqual([
      { n: 0 },
    ]);
    // Bob's UPDATE of Alice's row finds nothing to change.
    const stolen = await call('bob', 'execute_write', {
      sql: 'UPDATE docs SET body = $1 WHERE id = $2',
      params: ['stolen', 1],
      source: 'main',
    });
    expect((stolen.result.structuredContent as { affectedRows?: number }).affectedRows).toBe(0);
    expect(await onTestPostgres(`SELECT body FROM ${S}.docs WHERE id = 1`)).toEqual([
      { body: 'a1' },
    ]);
  });

  it('refuses every attempt to change the role or the subject from SQL', async () => {
    const reads = [
      'SET ROLE postgres',
      'RESET ROLE',
      'SET LOCAL ROLE postgres',
      'SET ROLE NONE',
      'SET SESSION AUTHORIZATION postgres',
      'RESET SESSION AUTHORIZATION',
      "SET sqlwarden.subject = 'bob'",
      "SET LOCAL sqlwarden.subject = 'bob'",
      'RESET sqlwarden.subject',
      'RESET ALL',
      'DISCARD ALL',
      "SELECT set_config('sqlwarden.subject', 'bob', false)",
      "SELECT pg_catalog.set_config('role', 'postgres', true)",
      "SELECT id FROM docs WHERE set_config('sqlwarden.subject', 'bob', true) IS NOT NULL",
      "WITH x AS (SELECT set_config('role', 'postgres', true) AS v) SELECT id FROM docs, x",
      'SELECT id FROM docs; RESET ROLE',
      'BEGIN',
    ];
    const writes = [
      'SET ROLE postgres',
      'WITH r AS (SET ROLE postgres) INSERT INTO docs (id, body) VALUES (20, $1)',
      "INSERT INTO docs (id, owner, body) VALUES (21, set_config('sqlwarden.subject', 'bob', true), 'x')",
      "UPDATE docs SET body = 'x' WHERE set_config('role', 'postgres', true) IS NOT NULL",
      "DELETE FROM docs WHERE id = 3 AND set_config('sqlwarden.subject', 'bob', true) = 'bob'",
    ];
    for (const sql of reads) {
      const answer = await read('alice', sql);
      expect({ sql, code: answer.code }).toEqual({ sql, code: 'QUERY_REJECTED' });
    }
    for (const sql of writes) {
      const answer = await call('alice', 'execute_write', {
        sql,
        params: sql.includes('$1') ? ['x'] : [],
        source: 'main',
      });
      expect({ sql, code: answer.code }).toEqual({ sql, code: 'QUERY_REJECTED' });
    }
    // Nothing changed: still Alice's rows, as Alice.
    expect(rowsOf(await read('alice', 'SELECT id FROM docs ORDER BY id'))).toEqual([
      [1],
      [2],
      [10],
    ]);
    expect(await onTestPostgres(`SELECT count(*)::int AS n FROM ${S}.docs`)).toEqual([{ n: 5 }]);
  });

  it('refuses current_setting and current_user unless the source allows them', async () => {
    // Allowed on this source (functions.allow); the guard's default refuses them.
    // set_config can never be allowed: it has side effects.
    expect((await read('alice', "SELECT current_setting('sqlwarden.subject')")).code).toBe('ok');
    expect((await read('alice', 'SELECT session_user')).code).toBe('QUERY_REJECTED');
  });

  it('refuses the call, and never runs it as the source, when the role does not exist', async () => {
    const answer = await read('carol', 'SELECT id FROM docs');
    expect(answer.code).toBe('FORBIDDEN');
    expect(messageOf(answer)).toContain(`the role "${GHOST}" does not exist`);
    expect(messageOf(answer)).toContain('Nothing ran');
  });
});

describe("MariaDB: a user and a pool of each principal's own", () => {
  it('runs each call as its own user', async () => {
    expect(rowsOf(await read('alice', 'SELECT CURRENT_USER()', 'shop'))).toEqual([
      [`${MY_ALICE}@%`],
    ]);
    expect(rowsOf(await read('bob', 'SELECT CURRENT_USER()', 'shop'))).toEqual([[`${MY_BOB}@%`]]);
  });

  it("applies each user's grants: Bob may not read what Alice (and the source's user) may", async () => {
    const sql = `SELECT value FROM ${DB}.secrets`;
    expect(rowsOf(await read('alice', sql, 'shop'))).toEqual([['classified']]);
    const refused = await read('bob', sql, 'shop');
    expect(refused.code).toBe('FORBIDDEN');
    expect(rowsOf(await read('bob', `SELECT label FROM ${DB}.items`, 'shop'))).toEqual([['one']]);
  });

  it("fails a principal whose password is wrong, and never falls back to the source's user", async () => {
    const answer = await read('dave', `SELECT label FROM ${DB}.items`, 'shop');
    expect(answer.code).toBe('DB_UNAVAILABLE');
  });

  it('never shows the passwords: in no answer, in no line of the log', async () => {
    const everything = [...answers, server.stderr()].join('\n');
    expect(answers.length).toBeGreaterThan(5);
    for (const password of Object.values(PASSWORDS)) expect(everything).not.toContain(password);
  });
});

describe('PostgreSQL over OAuth: the person behind a shared principal, as sqlwarden.subject', () => {
  // Two people whose tokens map to one principal (defaultPrincipal): the
  // principal names the role, the verified sub names the person, and
  // row-level security tells them apart.
  const ANN = `ann.${tag}@example.org`;
  const BEN = `ben.${tag}@example.org`;
  let issuer: Issuer;
  let oauth: RunningHttp;

  beforeAll(async () => {
    await onTestPostgres(
      `INSERT INTO ${S}.docs VALUES (11, '${ANN}', 'ann'), (12, '${ANN}', 'ann2'), (13, '${BEN}', 'ben')`,
    );
    issuer = await startIssuer();
    const config = dir.write(
      'oauth.yaml',
      `sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${S}
    tables: ["${S}.*"]
    functions: { allow: [current_setting] }
roles:
  agent: [tool:query_read, "read:main:${S}.*"]
principals:
  staff:
    roles: [agent]
    database:
      main: { role: ${ROLE_ALICE} }
transports:
  http:
    port: 0
    auth:
      oauth:
        issuer: \${E2E_ISSUER}
        defaultPrincipal: staff
`,
    );
    oauth = await startHttp(['--config', config], {
      env: { E2E_DATABASE_URL: postgresTestUrl(), E2E_ISSUER: issuer.url },
    });
  }, 90_000);

  afterAll(async () => {
    await oauth?.stop();
    await issuer?.stop();
  });

  const asPerson = async (sub: string, sql: string) =>
    callTool(oauth.url, await issuer.token({ sub, aud: oauth.url }), 'query_read', { sql });

  it('shows each person only their rows, though both are the principal staff with one role', async () => {
    const ids = 'SELECT id FROM docs ORDER BY id';
    expect(rowsOf(await asPerson(ANN, ids))).toEqual([[11], [12]]);
    expect(rowsOf(await asPerson(BEN, ids))).toEqual([[13]]);
    expect(
      rowsOf(await asPerson(BEN, "SELECT current_setting('sqlwarden.subject', true) AS s")),
    ).toEqual([[BEN]]);
    // A person with no rows sees none, not the principal's nor anyone's.
    expect(rowsOf(await asPerson(`nobody.${tag}@example.org`, ids))).toEqual([]);
    // The audit line names the principal (the person is in the database's setting).
    expect(oauth.auditLines().at(-1)).toMatchObject({ principalId: 'staff' });
  });

  it('refuses a token whose claim is not a plain identifier, before anything runs', async () => {
    const token = await issuer.token({ sub: `ann\u0000${tag}`, aud: oauth.url });
    const response = await fetch(oauth.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('not a usable identifier');
  });
});
