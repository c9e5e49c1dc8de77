import { randomBytes } from 'node:crypto';
import { mysqlTestUrl, postgresTestUrl } from '@sqlwarden/testing';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  failure,
  ok,
  onTestPostgres,
  type RunningServer,
  runCli,
  startServer,
  type ToolResult,
  tempDir,
  textOf,
  urlWithDatabase,
} from './harness.js';

// The guard after an end-to-end attack: the built sqlwarden-stdio, connected
// on purpose as the superuser (postgres, root), so that only sqlwarden's
// layers stand between the agent and the data. Each finding as it was
// reproduced over real pipes:
//  1. the verdict cache answered a UESCAPE look-alike's acceptance for the
//     statement that decodes to app.secrets (and to pg_authid);
//  3. system functions read what no grant allows (other sessions' SQL, a
//     secret setting, the server's configuration, function sources, whether
//     denied tables exist), and a declared tool calling one started fine;
//  4. on MySQL a parenthesised WITH hid the real table of the next UNION operand.

const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
const DB = `sqlwarden_g9_${tag}`;
const SECRET = `hunter2-${tag}`;
const JWT = `jwt-canary-${tag}`;
const dir = tempDir();

let pgAdmin: pg.Client | undefined;
let myAdmin: mysql.Connection | undefined;

beforeAll(async () => {
  // A database of its own: ALTER DATABASE ... SET holds the secret setting.
  await onTestPostgres(`CREATE DATABASE ${DB}`);
  await onTestPostgres(`ALTER DATABASE ${DB} SET app.jwt_secret = '${JWT}'`);
  pgAdmin = new pg.Client({ connectionString: urlWithDatabase(postgresTestUrl(), DB) });
  await pgAdmin.connect();
  await pgAdmin.query(`
    CREATE SCHEMA app;
    CREATE TABLE app.customers (id int PRIMARY KEY, name text);
    CREATE TABLE app.orders (id int PRIMARY KEY, customer_id int, total numeric);
    CREATE TABLE app.secrets (id int PRIMARY KEY, secret text);
    INSERT INTO app.customers VALUES (1, 'Ada'), (2, 'Grace');
    INSERT INTO app.orders VALUES (1, 1, 10), (2, 2, 20);
    INSERT INTO app.secrets VALUES (1, '${SECRET}');
    CREATE FUNCTION app.leak() RETURNS text LANGUAGE sql AS $$ SELECT secret FROM app.secrets LIMIT 1 $$;
  `);
  myAdmin = await mysql.createConnection({ uri: mysqlTestUrl(), multipleStatements: true });
  await myAdmin.query(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4`);
  await myAdmin.query(`
    CREATE TABLE ${DB}.customers (id int PRIMARY KEY, name text);
    CREATE TABLE ${DB}.orders (id int PRIMARY KEY, customer_id int, total decimal(10,2));
    CREATE TABLE ${DB}.secrets (id int PRIMARY KEY, secret text);
    INSERT INTO ${DB}.customers VALUES (1, 'Ada');
    INSERT INTO ${DB}.secrets VALUES (1, '${SECRET}');
  `);
}, 60_000);

afterAll(async () => {
  await pgAdmin?.end();
  await onTestPostgres(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await myAdmin?.query(`DROP DATABASE IF EXISTS ${DB}`);
  await myAdmin?.end();
  dir.cleanup();
}, 60_000);

/** Nothing secret in a result, however it came back. */
function expectNoSecret(result: ToolResult) {
  const all = `${textOf(result)} ${JSON.stringify(result.structuredContent)}`;
  expect(all).not.toContain(SECRET);
  expect(all).not.toContain(JWT);
}

async function read(server: RunningServer, sql: string): Promise<ToolResult> {
  const result = await call(server, 'query_read', { sql });
  expectNoSecret(result);
  return result;
}

async function auditLine(server: RunningServer, n: number) {
  const until = Date.now() + 5000;
  while (server.auditLines().length < n && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return server.auditLines()[n - 1] as { fp: string; decision: string; code?: string };
}

describe('PostgreSQL, as the superuser, --allow app.customers,app.orders', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer([
      '--dsn',
      urlWithDatabase(postgresTestUrl(), DB),
      '--allow',
      'app.customers,app.orders',
    ]);
  }, 30_000);

  afterAll(async () => {
    await server?.close();
  });

  it('1. a cached UESCAPE look-alike does not open app.secrets, and the audit carries each statement its own fingerprint', async () => {
    const attack = `WITH "#0073ecrets" AS (SELECT 0 AS id, 'decoy' AS secret) SELECT * FROM U&"#0073ecrets" UESCAPE '#'`;
    const decoy = attack.replace("UESCAPE '#'", "UESCAPE '!'");
    const before = server.auditLines().length;
    const first = failure(await read(server, attack));
    expect(first.code).toBe('QUERY_REJECTED');
    expect(first.message).toContain('app.secrets is not allowed');
    const cte = ok<{ rows: unknown[][] }>(await read(server, decoy));
    expect(cte.rows).toEqual([[0, 'decoy']]);
    const again = failure(await read(server, attack));
    expect(again.message).toContain('app.secrets is not allowed');
    const [one, two, three] = [
      await auditLine(server, before + 1),
      await auditLine(server, before + 2),
      await auditLine(server, before + 3),
    ];
    expect([one?.decision, two?.decision, three?.decision]).toEqual(['deny', 'allow', 'deny']);
    // The third call is the first statement again: its fingerprint, never the decoy's.
    expect(three?.fp).toBe(one?.fp);
    expect(three?.fp).not.toBe(two?.fp);
  });

  it.each([
    [
      `WITH "#0070g_authid" AS (SELECT 'decoy' AS rolname) SELECT rolname FROM U&"#0070g_authid" UESCAPE '#'`,
      'pg_catalog.pg_authid is not allowed',
    ],
    [
      `WITH "#0070g_file_settings" AS (SELECT 'decoy' AS name) SELECT name FROM U&"#0070g_file_settings" UESCAPE '#'`,
      'pg_catalog.pg_file_settings is not allowed',
    ],
  ])(
    '1. the same trick against the catalog stays refused after its look-alike: %s',
    async (attack, message) => {
      expect(failure(await read(server, attack)).message).toContain(message);
      ok(await read(server, attack.replace("UESCAPE '#'", "UESCAPE '!'")));
      expect(failure(await read(server, attack)).message).toContain(message);
    },
  );

  it("3. other sessions' SQL text stays out of reach", async () => {
    // A session whose query text holds a password, running while the agent looks.
    const other = new pg.Client({ connectionString: urlWithDatabase(postgresTestUrl(), DB) });
    await other.connect();
    const running = other.query(`SELECT '${SECRET}' AS password, pg_sleep(2)`);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const sql of [
        'SELECT * FROM pg_stat_get_activity(NULL)',
        'SELECT pg_stat_get_backend_activity(s) FROM pg_stat_get_backend_idset() s',
      ]) {
        const refused = failure(await read(server, sql));
        expect(refused.code).toBe('QUERY_REJECTED');
        expect(refused.message).toContain("reads other sessions' activity");
        expect(refused.message).toContain('[rule FORBIDDEN_FUNCTION]');
      }
    } finally {
      await running;
      await other.end();
    }
  });

  it.each([
    ["SELECT current_setting('app.jwt_secret')", 'current_setting reads server settings'],
    ['SELECT * FROM pg_show_all_settings()', 'pg_show_all_settings reads server settings'],
    ['SELECT * FROM pg_config()', 'pg_config reads server settings and configuration'],
    ["SELECT pg_get_functiondef('app.leak'::regproc)", 'a cast to regproc looks a name up'],
    [
      "SELECT pg_get_functiondef(oid) FROM pg_catalog.pg_proc WHERE proname = 'leak'",
      'pg_get_functiondef reads object definitions',
    ],
    ["SELECT to_regclass('app.secrets')", 'to_regclass looks names up in the catalog'],
    ["SELECT has_table_privilege('app.secrets', 'select')", 'has_table_privilege looks names up'],
    [
      "SELECT pg_total_relation_size('app.secrets')",
      'pg_total_relation_size reads the catalog and the storage of tables',
    ],
    ["SELECT 'pg_authid'::regclass::oid", 'a cast to regclass looks a name up in the catalog'],
    ['SELECT app.leak()', 'app.leak is a user-defined function'],
  ])('3. refuses %s, saying what it exposes', async (sql, message) => {
    const refused = failure(await read(server, sql));
    expect(refused.code).toBe('QUERY_REJECTED');
    expect(refused.message).toContain(message);
    expect(refused.message).not.toContain('volatile');
  });

  it('3. still serves what computes on its arguments', async () => {
    const result = ok<{ rows: unknown[][] }>(
      await read(
        server,
        "SELECT upper(name), length(name), date_trunc('day', now()) IS NOT NULL, current_date <= current_timestamp, count(*) OVER () FROM customers ORDER BY 1",
      ),
    );
    expect(result.rows[0]?.slice(0, 2)).toEqual(['ADA', 3]);
  });
});

describe('PostgreSQL, configured: functions.allow and declared tools', () => {
  const config = (extra: string) =>
    dir.write(
      `config-${randomBytes(3).toString('hex')}.yaml`,
      `sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: app
    tables: [app.customers, app.orders]
${extra}
roles:
  reader: [tool:query_read, tool:leak_setting, "read:main:app.*"]
principals:
  agent: { roles: [reader] }
transports:
  stdio: { principal: agent }
`,
    );
  const env = () => ({ E2E_DATABASE_URL: urlWithDatabase(postgresTestUrl(), DB) });

  it('3. a declared tool that calls a refused function stops start-up with exit 2, naming the problem', async () => {
    const file = config(`tools:
  leak_setting:
    description: Reads a setting.
    source: main
    kind: read
    sql: SELECT current_setting('app.jwt_secret') AS v`);
    const run = await runCli(['--config', file], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('tools.leak_setting.sql: not accepted as a read');
    expect(run.stderr).toContain('current_setting reads server settings');
    expect(run.stderr).toContain('sources.main.functions.allow');
    expect(run.stderr).not.toContain(JWT);
  });

  it('3. an operator allows a system function by name (and only that one)', async () => {
    const file = config('    functions:\n      allow: [current_setting]');
    const server = await startServer(['--config', file], env());
    try {
      const allowed = ok<{ rows: unknown[][] }>(
        await call(server, 'query_read', { sql: "SELECT current_setting('app.jwt_secret')" }),
      );
      expect(allowed.rows).toEqual([[JWT]]);
      expect(
        failure(await call(server, 'query_read', { sql: 'SELECT version()' })).message,
      ).toContain('version reads who and where the session is');
    } finally {
      await server.close();
    }
  });
});

describe('MariaDB, as root, --allow <db>.customers,<db>.orders', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer([
      '--dsn',
      urlWithDatabase(mysqlTestUrl(), DB),
      '--allow',
      `${DB}.customers,${DB}.orders`,
    ]);
  }, 30_000);

  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ['SELECT @@datadir', '@@datadir reads a server variable'],
    ['SELECT @@global.hostname', '@@hostname reads a server variable'],
    ['SELECT @@version', '@@version reads a server variable'],
    ['SELECT DATABASE()', 'DATABASE reads who and where the session is'],
    ['SELECT USER()', 'USER reads who and where the session is'],
    ['SELECT CURRENT_USER', 'current_user reads who and where the session is'],
    ['SELECT CONNECTION_ID()', 'CONNECTION_ID reads who and where the session is'],
  ])('3. refuses %s', async (sql, message) => {
    const refused = failure(await read(server, sql));
    expect(refused.code).toBe('QUERY_REJECTED');
    expect(refused.message).toContain(message);
  });

  it('4. a parenthesised WITH does not hide the real table in the next UNION operand', async () => {
    const refused = failure(
      await read(
        server,
        "(WITH secrets AS (SELECT 1 AS id,'cte' AS secret) SELECT id, secret FROM secrets) UNION ALL SELECT id, secret FROM secrets",
      ),
    );
    expect(refused.code).toBe('QUERY_REJECTED');
    expect(refused.message).toContain(`${DB}.secrets is not allowed for reading`);
  });

  it('still serves a WITH over the whole UNION, and computing functions', async () => {
    const result = ok<{ rows: unknown[][] }>(
      await read(
        server,
        "WITH secrets AS (SELECT 1 AS id, 'cte' AS secret) SELECT id, UPPER(secret) FROM secrets UNION ALL SELECT id, LOWER(name) FROM customers",
      ),
    );
    expect(result.rows).toEqual([
      [1, 'CTE'],
      [1, 'ada'],
    ]);
  });
});
