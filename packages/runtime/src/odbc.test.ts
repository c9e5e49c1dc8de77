// kind: odbc sources: the configuration's checks, and a source served
// through the real psqlODBC driver (in @sqlwarden/adapter-connx's worker).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadEnvironment } from '@sqlwarden/security';
import { Capture, postgresTestUrl } from '@sqlwarden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConfig, parseConfig } from './config/load.js';
import { createRuntime } from './runtime.js';

const env = (vars: Record<string, string> = {}) => loadEnvironment({ env: vars, envFile: false });

const file = (source: string) => `
sources:
  legacy:
    kind: odbc
${source}
    defaultSchema: public
    tables: [public.*]
principals:
  local:
    capabilities: [tool:query_read, read:legacy:public.*]
`;

async function problemsOf(text: string, vars: Record<string, string> = {}) {
  const result = await parseConfig(text, env(vars));
  return result.ok ? [] : result.problems;
}

describe('the configuration of an ODBC source', () => {
  it('accepts a connection string from the environment, with a profile', async () => {
    const result = await parseConfig(
      file(
        '    odbc: { connectionString: "${ODBC_CONNECTION}", profile: postgres, fetchSize: 50 }',
      ),
      env({ ODBC_CONNECTION: 'DSN=legacy;UID=reader;PWD=s3cretPassw0rd!' }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const odbc = result.config.sources[0]?.connection.odbc;
    expect(odbc?.connectionString.reveal()).toBe('DSN=legacy;UID=reader;PWD=s3cretPassw0rd!');
    expect(odbc?.profile).toBe('postgres');
    expect(odbc?.fetchSize).toBe(50);
    // Never in a printed form of the configuration.
    expect(JSON.stringify(result.config)).not.toContain('s3cretPassw0rd');
  });

  it('refuses a password written in the file, and names what to do', async () => {
    expect(
      await problemsOf(file('    odbc: { connectionString: "DSN=legacy;UID=reader;PWD=hunter2" }')),
    ).toEqual([
      'sources.legacy.odbc.connectionString: holds a password (PWD=); put the whole connection string in an environment variable (connectionString: ${ODBC_CONNECTION})',
    ]);
    // Part of the string from a variable is not enough: the rest is still in the file.
    expect(
      await problemsOf(
        file('    odbc: { connectionString: "DSN=legacy;UID=reader;PWD=${ODBC_PWD}" }'),
        { ODBC_PWD: 'x' },
      ),
    ).toHaveLength(1);
  });

  it('accepts a connection string without a password in the file (a DSN holding it)', async () => {
    expect(await problemsOf(file('    odbc: { connectionString: "DSN=legacy" }'))).toEqual([]);
  });

  it('names a missing connection, a URL given instead, an odbc key on another kind, an unknown profile', async () => {
    expect(await problemsOf(file(''))).toEqual([
      'sources.legacy.odbc: give the ODBC connection: odbc: { connectionString: "${ODBC_CONNECTION}" }',
    ]);
    expect(
      await problemsOf(
        file('    url: postgres://db/x\n    odbc: { connectionString: DSN=legacy }'),
      ),
    ).toEqual(
      expect.arrayContaining([
        'sources.legacy.url: an ODBC source connects with odbc.connectionString only; leave url out',
      ]),
    );
    const other = await problemsOf(
      `
sources:
  main:
    kind: postgres
    url: postgres://db/shop
    odbc: { connectionString: DSN=legacy }
    tables: [public.*]
principals:
  local:
    capabilities: [tool:query_read]
`,
    );
    expect(other).toEqual(['sources.main.odbc: only a kind: odbc source has an ODBC connection']);
    const profile = await problemsOf(
      file('    odbc: { connectionString: DSN=legacy, profile: oracle }'),
    );
    expect(profile.join('\n')).toContain('sources.legacy.odbc.profile');
  });
});

describe('an ODBC source served through psqlODBC', () => {
  let sysini: string;
  let admin: pg.Client;
  const schema = `sqlwarden_rt_odbc_${process.pid}`;
  const PASSWORD = 'OdbcRuntimeSecret_42';

  beforeAll(async () => {
    // psqlODBC with CommLog=0: no log files in /tmp (the worker inherits ODBCSYSINI).
    sysini = mkdtempSync(join(tmpdir(), 'sqlwarden-odbc-'));
    writeFileSync(
      join(sysini, 'odbcinst.ini'),
      '[PostgreSQL Unicode]\nDriver=psqlodbcw.so\nCommLog=0\nDebug=0\n',
    );
    process.env.ODBCSYSINI = sysini;
    admin = new pg.Client({ connectionString: postgresTestUrl() });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE TABLE ${schema}.parts (id int PRIMARY KEY, name text, code char(6))`);
    await admin.query(`INSERT INTO ${schema}.parts VALUES (1, 'bolt', 'B1'), (2, 'nut', 'N22')`);
  });

  afterAll(async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    rmSync(sysini, { recursive: true, force: true });
  });

  it('lists and reads its tables, and never logs the connection string or its password', async () => {
    const url = new URL(postgresTestUrl());
    const connectionString = `DRIVER={PostgreSQL Unicode};SERVER=${url.hostname};PORT=${url.port || '5432'};DATABASE=${url.pathname.slice(1) || 'test'};UID=${url.username || 'postgres'};PWD=${PASSWORD}`;
    const config = assertConfig(
      await parseConfig(
        `
sources:
  legacy:
    kind: odbc
    odbc: { connectionString: "\${ODBC_CONNECTION}", profile: postgres, trimChar: true, workerMemoryMb: 256 }
    defaultSchema: ${schema}
    tables: [${schema}.*]
principals:
  local:
    capabilities: [tool:query_read, read:legacy:${schema}.*]
`,
        env({ ODBC_CONNECTION: connectionString }),
      ),
    );
    const operator = new Capture();
    const runtime = await createRuntime({
      config,
      logger: createLogger({ destination: operator }),
      auditDestination: new Capture(),
      catalogTimeoutMs: 8000,
    });
    try {
      const adapter = runtime.sources[0]?.adapter;
      if (adapter === undefined) throw new Error('no source');
      expect(adapter.dialect).toBe('odbc');
      const tables = await adapter.listTables({
        schemas: [schema],
        signal: new AbortController().signal,
      });
      expect(tables.map((t) => t.name)).toEqual(['parts']);
      const result = await adapter.read({
        sql: `SELECT id, name, code FROM ${schema}.parts ORDER BY id`,
        params: [],
        limits: { maxRows: 10, maxBytes: 10_000, timeoutMs: 5000 },
        signal: new AbortController().signal,
      });
      // trimChar from the file reached the adapter: char(6) without its padding.
      expect(result.rows).toEqual([
        [1, 'bolt', 'B1'],
        [2, 'nut', 'N22'],
      ]);
    } finally {
      await runtime.close();
    }
    expect(operator.text).not.toContain(PASSWORD);
    expect(operator.text).not.toContain('DRIVER=');
  });
});
