import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresTestUrl } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditLineAfter,
  call,
  failure,
  ok,
  onTestPostgres,
  type RunningServer,
  runCli,
  startServer,
  textOf,
} from './harness.js';

// `sqlwarden-stdio --connx`: the CONNX reference server's deployment (its
// variables, .env, its tools), every layer underneath, on the ODBC adapter.
// CONNX itself is not here: its stand-in is psqlODBC on a PostgreSQL
// database laid out like the reference server's VSAM sample, so its
// three-part names resolve (PostgreSQL takes `currentdb.schema.table`).

const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
const DB = `sqlwarden_vsam_${tag}`;
const DSN = `sqlwarden_connx_${tag}`;
// A private ODBCSYSINI: the driver, the DSN, and no CommLog files in /tmp.
const odbcDir = mkdtempSync(join(tmpdir(), 'sqlwarden-connx-e2e-'));
const workDir = mkdtempSync(join(tmpdir(), 'sqlwarden-connx-cwd-'));

const pgUrl = new URL(postgresTestUrl());

beforeAll(async () => {
  await onTestPostgres(`CREATE DATABASE ${DB}`);
  await onTestPostgres(
    `
      CREATE SCHEMA dbo;
      CREATE TABLE dbo.customers_vsam (
        customerid char(10) PRIMARY KEY, customername char(30), customerstate char(2),
        customercity char(20), customerphone char(12));
      INSERT INTO dbo.customers_vsam VALUES
        ('C001', 'Ada Lovelace', 'VA', 'Richmond', '804-555-0101'),
        ('C002', 'Grace Hopper', 'VA', 'Norfolk', ''),
        ('C003', 'Edsger Dijkstra', 'TX', 'Austin', '512-555-0199');
      CREATE TABLE dbo.payroll_vsam (employee char(10), salary numeric(10,2));`,
    DB,
  );
  writeFileSync(
    join(odbcDir, 'odbcinst.ini'),
    '[PostgreSQL Unicode]\nDriver=psqlodbcw.so\nCommLog=0\nDebug=0\n',
  );
  writeFileSync(
    join(odbcDir, 'odbc.ini'),
    `[${DSN}]\nDriver=PostgreSQL Unicode\nServername=${pgUrl.hostname}\nPort=${pgUrl.port || '5432'}\nDatabase=${DB}\n`,
  );
}, 60_000);

afterAll(async () => {
  await onTestPostgres(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  rmSync(odbcDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
}, 60_000);

const connxEnv = (extra: Record<string, string> = {}) => ({
  ODBCSYSINI: odbcDir,
  CONNX_DSN: DSN,
  CONNX_USER: decodeURIComponent(pgUrl.username) || 'postgres',
  CONNX_PASS: 'not-a-real-password;{x}',
  ...extra,
});

describe('sqlwarden-stdio --connx', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer(['--connx', '--allow', `${DB}.dbo.customers_vsam`], {
      ...connxEnv(),
      CONNX_MAX_ROWS: '2',
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it("serves the reference server's query tool by its name and argument, beside the schema tools", async () => {
    const { tools } = await server.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['list_tables', 'describe_table', 'query_connx']);
    expect(
      Object.keys(tools.find((t) => t.name === 'query_connx')?.inputSchema.properties ?? {}),
    ).toEqual(['query']);
  });

  it('answers query_connx through ODBC with three-part names, CHAR padding kept, and CONNX_MAX_ROWS', async () => {
    const result = ok<{ rows: unknown[][]; truncated: boolean }>(
      await call(server, 'query_connx', {
        query: `SELECT customerid, customername FROM ${DB}.dbo.customers_vsam ORDER BY customerid`,
      }),
    );
    expect(result.rows).toEqual([
      ['C001'.padEnd(10), 'Ada Lovelace'.padEnd(30)],
      ['C002'.padEnd(10), 'Grace Hopper'.padEnd(30)],
    ]);
    expect(result.truncated).toBe(true);
    const trimmed = ok<{ rows: unknown[][] }>(
      await call(server, 'query_connx', {
        query: `SELECT RTRIM(customercity) AS city FROM ${DB}.dbo.customers_vsam WHERE customerstate = 'TX'`,
      }),
    );
    expect(trimmed.rows).toEqual([['Austin']]);
  });

  it('refuses a shorter name than catalog.schema.table: CONNX would resolve it itself, across catalogs', async () => {
    for (const query of [
      'SELECT COUNT(*) AS total FROM customers_vsam',
      'SELECT COUNT(*) AS total FROM dbo.customers_vsam',
      `SELECT COUNT(*) AS total FROM ${DB}..customers_vsam`,
    ]) {
      const error = failure(await call(server, 'query_connx', { query }));
      expect(error.code, query).toBe('QUERY_REJECTED');
      expect(error.message, query).toContain('[rule AMBIGUOUS_TABLE]');
    }
    const result = ok<{ rows: unknown[][] }>(
      await call(server, 'query_connx', {
        query: `SELECT COUNT(*) AS total FROM ${DB}.dbo.customers_vsam`,
      }),
    );
    expect(result.rows).toEqual([['3']]);
  });

  it("refuses what the reference server's tests refuse, and what it does not see", async () => {
    const cases: Array<[string, string]> = [
      ['SELECT 1; SELECT 2', 'QUERY_REJECTED'],
      [`DELETE FROM ${DB}.dbo.customers_vsam`, 'QUERY_REJECTED'],
      [`UPDATE ${DB}.dbo.customers_vsam SET customername = 'x'`, 'QUERY_REJECTED'],
      // Not among the allowed tables: the guard refuses it before any grant is asked.
      [`SELECT salary FROM ${DB}.dbo.payroll_vsam`, 'QUERY_REJECTED'],
    ];
    for (const [query, code] of cases) {
      expect(failure(await call(server, 'query_connx', { query })).code, query).toBe(code);
    }
    // Writes are off: the reference server's update tool is not there at all.
    await expect(
      server.client.callTool({
        name: 'update_connx',
        arguments: { operation: 'update', query: 'UPDATE t SET a = 1' },
      }),
    ).rejects.toThrow(/Unknown tool/);
  });

  it('logs each query as a fingerprint, as the reference server does, and never the SQL or the password', async () => {
    const before = server.auditLines().length;
    await call(server, 'query_connx', {
      query: `SELECT customerid FROM ${DB}.dbo.customers_vsam WHERE customerstate = 'VA'`,
    });
    // This call's line (the previous test's refusal may land after `before` was read).
    const line = await auditLineAfter(server, before, (l) => l.tool === 'query_connx');
    expect(line?.msg).toMatch(/^Query OK fp=[0-9a-f]{12} rows=2$/);
    expect(server.stderr()).not.toContain("'VA'");
    expect(server.stderr()).not.toContain('not-a-real-password');
  });
});

describe('sqlwarden-stdio --connx with CONNX_ALLOW_WRITES=true', () => {
  let server: RunningServer;
  const payroll = async () =>
    (
      await onTestPostgres(
        'SELECT trim(employee) AS e, salary::text AS s FROM dbo.payroll_vsam ORDER BY 1',
        DB,
      )
    ).map((r) => `${r.e}:${r.s}`);

  beforeAll(async () => {
    server = await startServer(
      [
        '--connx',
        '--allow',
        `${DB}.dbo.customers_vsam,${DB}.dbo.payroll_vsam`,
        '--writable',
        `${DB}.dbo.payroll_vsam`,
      ],
      // SQLWARDEN_ALLOW_WRITES is not the switch here: CONNX_ALLOW_WRITES is.
      connxEnv({ CONNX_ALLOW_WRITES: ' True ', SQLWARDEN_ALLOW_WRITES: 'false' }),
    );
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it("serves the reference server's update tool, which writes one statement in a transaction through ODBC", async () => {
    const { tools } = await server.client.listTools();
    expect(tools.map((t) => t.name)).toContain('update_connx');
    expect(
      Object.keys(tools.find((t) => t.name === 'update_connx')?.inputSchema.properties ?? {}),
    ).toEqual(['operation', 'query']);
    const inserted = ok<{ affectedRows: number; committed: boolean }>(
      await call(server, 'update_connx', {
        operation: 'insert',
        query: `INSERT INTO ${DB}.dbo.payroll_vsam (employee, salary) VALUES ('E1', 1000.50), ('E2', 2000)`,
      }),
    );
    expect(inserted).toMatchObject({ affectedRows: 2, committed: true });
    const updated = ok<{ affectedRows: number }>(
      await call(server, 'update_connx', {
        operation: 'UPDATE',
        query: `UPDATE ${DB}.dbo.payroll_vsam SET salary = 2500 WHERE employee = 'E2'`,
      }),
    );
    expect(updated.affectedRows).toBe(1);
    expect(await payroll()).toEqual(['E1:1000.50', 'E2:2500.00']);
    // Reads are still read-only on the same source.
    expect(
      failure(
        await call(server, 'query_connx', {
          query: `DELETE FROM ${DB}.dbo.payroll_vsam WHERE employee = 'E1'`,
        }),
      ).code,
    ).toBe('QUERY_REJECTED');
  });

  it('refuses a write to a table that is only readable, a batch, an operation that is not the statement, and a write without WHERE', async () => {
    const cases: Array<[string, string, string]> = [
      [
        'UPDATE',
        `UPDATE ${DB}.dbo.customers_vsam SET customername = 'x' WHERE customerid = 'C001'`,
        'QUERY_REJECTED',
      ],
      [
        'INSERT',
        `INSERT INTO ${DB}.dbo.payroll_vsam VALUES ('E9', 1); DROP TABLE ${DB}.dbo.customers_vsam`,
        'QUERY_REJECTED',
      ],
      ['DELETE', `INSERT INTO ${DB}.dbo.payroll_vsam VALUES ('E9', 1)`, 'INVALID_INPUT'],
      ['DELETE', `DELETE FROM ${DB}.dbo.payroll_vsam`, 'QUERY_REJECTED'],
      ['DELETE', `DELETE FROM payroll_vsam WHERE employee = 'E1'`, 'QUERY_REJECTED'],
    ];
    for (const [operation, query, code] of cases) {
      expect(failure(await call(server, 'update_connx', { operation, query })).code, query).toBe(
        code,
      );
    }
    expect(await payroll()).toEqual(['E1:1000.50', 'E2:2500.00']);
  });

  it('rolls back a write the database refuses: nothing of it stays', async () => {
    const error = failure(
      await call(server, 'update_connx', {
        operation: 'INSERT',
        query: `INSERT INTO ${DB}.dbo.payroll_vsam (employee, salary) VALUES ('E3', 1), ('E4', 123456789012)`,
      }),
    );
    expect(error.code).toBe('QUERY_FAILED');
    expect(await payroll()).toEqual(['E1:1000.50', 'E2:2500.00']);
  });
});

describe('the --connx settings', () => {
  it('names every missing CONNX variable and every bad setting', async () => {
    const missing = await runCli(['--connx', '--allow', `${DB}.dbo.*`], {
      env: { ODBCSYSINI: odbcDir, CONNX_DSN: DSN },
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--connx needs CONNX_USER, CONNX_PASS');
    const writes = await runCli(['--connx', '--allow', `${DB}.dbo.*`], {
      env: connxEnv({ CONNX_ALLOW_WRITES: 'yes' }),
    });
    expect(writes.code).toBe(2);
    expect(writes.stderr).toContain('CONNX_ALLOW_WRITES must be true or false');
    const writable = await runCli(
      ['--connx', '--allow', `${DB}.dbo.*`, '--writable', `${DB}.dbo.payroll_vsam`],
      { env: connxEnv() },
    );
    expect(writable.code).toBe(2);
    expect(writable.stderr).toContain('--writable goes with CONNX_ALLOW_WRITES=true');
    const rows = await runCli(['--connx', '--allow', `${DB}.dbo.*`], {
      env: connxEnv({ CONNX_MAX_ROWS: 'many' }),
    });
    expect(rows.stderr).toContain('CONNX_MAX_ROWS must be a whole number');
    const allow = await runCli(['--connx'], { env: connxEnv() });
    expect(allow.stderr).toContain('--allow is needed with --connx');
  });

  it('reads .env in the working directory, the environment winning', async () => {
    writeFileSync(
      join(workDir, '.env'),
      `CONNX_DSN=${DSN}\nCONNX_USER=${decodeURIComponent(pgUrl.username) || 'postgres'}\nCONNX_PASS=from-dotenv\nCONNX_MAX_ROWS=many\n`,
    );
    const fromFile = await runCli(['--connx', '--allow', `${DB}.dbo.*`], {
      env: { ODBCSYSINI: odbcDir },
      cwd: workDir,
    });
    // The file's CONNX_MAX_ROWS was read (and refused)...
    expect(fromFile.stderr).toContain('CONNX_MAX_ROWS must be a whole number');
    const server = await startServer(
      ['--connx', '--allow', `${DB}.dbo.*`],
      { ODBCSYSINI: odbcDir, CONNX_MAX_ROWS: '1' },
      { cwd: workDir },
    );
    try {
      // ...and the environment's wins over it.
      const result = ok<{ rowCount: number }>(
        await call(server, 'query_connx', {
          query: `SELECT customerid FROM ${DB}.dbo.customers_vsam`,
        }),
      );
      expect(result.rowCount).toBe(1);
      expect(textOf(await call(server, 'query_connx', { query: 'SELECT 1 AS x' }))).toContain('x');
    } finally {
      await server.close();
    }
  }, 60_000);
});
