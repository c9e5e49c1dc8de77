import { createTestSchema, postgresTestUrl, type TestSchema } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, failure, ok, runCli, startServer, tempDir, textOf } from './harness.js';

// The command line: flags, exit codes, shutdown, the --dsn shortcut,
// per-principal tool visibility and quotas from a config file.

let schema: TestSchema;
const dir = tempDir();

beforeAll(async () => {
  schema = await createTestSchema(
    'e2e_cli',
    () => `CREATE TABLE customers (id int PRIMARY KEY, name text);
           INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 10) g;
           CREATE TABLE payroll (id int PRIMARY KEY, salary int);
           INSERT INTO payroll VALUES (1, 100000);`,
  );
});

afterAll(async () => {
  await schema?.drop();
  dir.cleanup();
});

const NO_STACK = /\n\s+at .+:\d+/;

describe('exit codes', () => {
  it('--help and --version exit 0', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stderr + help.stdout).toContain('sqlwarden-stdio --config FILE');
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout + version.stderr).toMatch(/^\d+\.\d+\.\d+\s*$/);
  });

  it('no source, or an unknown flag, exits 2 with the usage', async () => {
    for (const args of [[], ['--bogus']]) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain('Usage:');
      expect(run.stdout).toBe('');
    }
  });

  it('a bad config exits 2 and lists every problem by key, without a stack trace', async () => {
    const file = dir.write(
      'bad.yaml',
      `sourcez: {}
sources:
  main: { kind: postgres, url: "\${E2E_NOT_SET}", tables: [a.b] }
principals: {}
`,
    );
    const run = await runCli(['--config', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the configuration has problems');
    expect(run.stderr).toContain('sources.main.url: ${E2E_NOT_SET} is not set in the environment');
    expect(run.stderr).toContain('Unrecognized key: "sourcez"');
    expect(run.stderr).not.toMatch(NO_STACK);
    expect(run.stdout).toBe('');
  });

  it('a password written in the config is refused, and not echoed', async () => {
    const file = dir.write(
      'password.yaml',
      `sources:
  main: { kind: postgres, url: "postgres://app:s3cr3t-pw@db.example/app", tables: [a.b] }
principals: { p: { capabilities: [tool:list_tables] } }
transports: { stdio: { principal: p } }
`,
    );
    const run = await runCli(['--config', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('sources.main.url: holds a password');
    expect(run.stderr).not.toContain('s3cr3t-pw');
  });

  it('a --dotenv file that cannot be read exits 2, naming the flag', async () => {
    const run = await runCli(['--dotenv', `${dir.path}/missing.env`, '--demo']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Cannot read the environment file');
    expect(run.stderr).toContain('--dotenv');
  });

  it('an unknown SQLWARDEN_LOG_LEVEL exits 2 with the levels', async () => {
    const run = await runCli(['--demo'], { env: { SQLWARDEN_LOG_LEVEL: 'loud' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('SQLWARDEN_LOG_LEVEL must be one of fatal, error, warn');
  });

  it('a config file that cannot be read exits 2', async () => {
    const run = await runCli(['--config', `${dir.path}/missing.yaml`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot read');
  });

  it('a URL whose scheme is not served exits 2 with the supported schemes, and no password', async () => {
    for (const [args, env, from] of [
      [['--dsn', 'mssql://sa:hunter2@db.example/x', '--allow', 'dbo.*'], {}, '--dsn'],
      [['--allow', 'dbo.*'], { SQLWARDEN_DSN: 'foo://u:hunter2@db/x' }, 'SQLWARDEN_DSN'],
    ] as const) {
      const run = await runCli([...args], { env: { ...env } });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        new RegExp(
          `${from}: the scheme \\w+:// is not supported; use one of postgres://, postgresql://, mysql://, mariadb://`,
        ),
      );
      expect(run.stderr).not.toContain('hunter2');
      expect(run.stderr).not.toMatch(NO_STACK);
    }
  });

  it('a URL with a driver option exits 2, naming the parameter', async () => {
    const run = await runCli([
      '--dsn',
      'mysql://root@127.0.0.1:3306/test?multipleStatements=true',
      '--allow',
      'test.*',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'sources.main.url: the query parameter multipleStatements is not allowed',
    );
  });

  it('a database that cannot be reached at start-up is reported without the password', async () => {
    const run = await runCli(['--dsn', 'postgres://app@127.0.0.1:1/app', '--allow', 'public.*'], {
      env: { PGPASSWORD: 'hunter2-secret' },
      act: (child) => child.stdin?.end(),
      timeoutMs: 30_000,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('cannot read the function catalog of this source');
    expect(run.stderr).not.toContain('hunter2-secret');
  }, 40_000);
});

describe('shutdown', () => {
  const args = () => ['--dsn', postgresTestUrl(), '--allow', `${schema.name}.*`];

  it('exits 0 when stdin closes', async () => {
    const run = await runCli(args(), { act: (child) => child.stdin?.end() });
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(run.stderr).toContain('stdin closed');
    // One shutdown, though closing the server closes the transport too.
    expect(run.stderr.match(/shutting down/g)).toHaveLength(1);
  });

  it('exits 0 on SIGTERM and on SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const run = await runCli(args(), { act: (child) => child.kill(signal) });
      expect(run, signal).toMatchObject({ code: 0, signal: null });
      expect(run.stderr).toContain(signal);
      expect(run.stderr.match(/shutting down/g)).toHaveLength(1);
    }
  });
});

describe('--dsn and --allow', () => {
  it('serves exactly the allowed tables, read-only', async () => {
    const server = await startServer([
      '--dsn',
      postgresTestUrl(),
      '--allow',
      `${schema.name}.customers`,
    ]);
    try {
      const { tools } = await server.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        'describe_table',
        'list_tables',
        'query_read',
      ]);
      const listed = ok<{ tables: Array<{ name: string }> }>(await call(server, 'list_tables', {}));
      expect(listed.tables.map((t) => t.name)).toEqual(['customers']);
      const read = ok<{ rowCount: number }>(
        await call(server, 'query_read', { sql: 'SELECT * FROM customers' }),
      );
      expect(read.rowCount).toBe(10);
      // Not served at all: the guard refuses it before any grant is looked at.
      const payroll = failure(await call(server, 'query_read', { sql: 'SELECT * FROM payroll' }));
      expect(payroll.code).toBe('QUERY_REJECTED');
      expect(payroll.message).toContain('[rule TABLE_NOT_ALLOWED]');
      expect(failure(await call(server, 'query_read', { sql: 'DELETE FROM customers' })).code).toBe(
        'QUERY_REJECTED',
      );
    } finally {
      await server.close();
    }
  });

  it('reads SQLWARDEN_DSN from a --dotenv file', async () => {
    const env = dir.write('sqlwarden.env', `SQLWARDEN_DSN=${postgresTestUrl()}\n`);
    const server = await startServer(['--dotenv', env, '--allow', `${schema.name}.customers`]);
    try {
      const read = ok<{ rowCount: number }>(
        await call(server, 'query_read', { sql: 'SELECT * FROM customers' }),
      );
      expect(read.rowCount).toBe(10);
    } finally {
      await server.close();
    }
  });

  it('takes the URL from SQLWARDEN_DSN, keeping it out of the process arguments', async () => {
    const server = await startServer(['--allow', `${schema.name}.*`], {
      SQLWARDEN_DSN: postgresTestUrl(),
    });
    try {
      const read = ok<{ rows: unknown[][] }>(
        await call(server, 'query_read', { sql: 'SELECT salary FROM payroll' }),
      );
      expect(read.rows).toEqual([[100000]]);
    } finally {
      await server.close();
    }
  });
});

describe('principals and quotas from a config', () => {
  function config(principal: string, extra = ''): string {
    const s = schema.name;
    return dir.write(
      `${principal}.yaml`,
      `sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${s}
    tables: ["${s}.*"]
roles:
  viewer: [tool:list_tables]
  analyst: [tool:list_tables, tool:query_read, "read:main:${s}.customers"]
principals:
  vera: { roles: [viewer] }
  ann: { roles: [analyst] }
transports:
  stdio: { principal: ${principal} }
${extra}`,
    );
  }

  it('shows a principal only the tools it may call, and refuses the others', async () => {
    const server = await startServer(['--config', config('vera')], {
      E2E_DATABASE_URL: postgresTestUrl(),
    });
    try {
      const { tools } = await server.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['list_tables']);
      // Granted list_tables but no table: an empty list, not an error.
      const listed = await call(server, 'list_tables', {});
      expect(ok<{ tables: unknown[] }>(listed).tables).toEqual([]);
      expect(textOf(listed)).toContain('No tables you can read');
      const error = failure(await call(server, 'query_read', { sql: 'SELECT 1' }));
      expect(error.code).toBe('FORBIDDEN');
    } finally {
      await server.close();
    }
  });

  it('--principal and SQLWARDEN_PRINCIPAL choose the principal, over the config', async () => {
    const file = config('vera');
    const toolsOf = async (args: string[], env: Record<string, string> = {}) => {
      const server = await startServer(['--config', file, ...args], {
        E2E_DATABASE_URL: postgresTestUrl(),
        ...env,
      });
      try {
        return (await server.client.listTools()).tools.map((t) => t.name).sort();
      } finally {
        await server.close();
      }
    };
    expect(await toolsOf([])).toEqual(['list_tables']);
    expect(await toolsOf(['--principal', 'ann'])).toEqual(['list_tables', 'query_read']);
    expect(await toolsOf([], { SQLWARDEN_PRINCIPAL: 'ann' })).toEqual([
      'list_tables',
      'query_read',
    ]);
    // The flag wins over the variable.
    expect(await toolsOf(['--principal', 'vera'], { SQLWARDEN_PRINCIPAL: 'ann' })).toEqual([
      'list_tables',
    ]);
  });

  it('an unknown --principal exits 2 and lists the principals', async () => {
    const run = await runCli(['--config', config('vera'), '--principal', 'mallory'], {
      env: { E2E_DATABASE_URL: postgresTestUrl() },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      '--principal: mallory is not a principal of this configuration; principals: vera, ann',
    );
  });

  it('takes the log level from the config, and SQLWARDEN_LOG_LEVEL over it', async () => {
    const file = config('ann', 'logging: { level: warn }\n');
    // Operator info lines (not the audit lines, which have their own logger).
    const infoLines = async (env: Record<string, string>) => {
      const server = await startServer(['--config', file], {
        E2E_DATABASE_URL: postgresTestUrl(),
        ...env,
      });
      try {
        await call(server, 'list_tables', {});
        await waitFor(() => server.auditLines().length > 0);
        return server
          .stderr()
          .split('\n')
          .filter((line) => line.includes('"level":30') && !line.includes('"kind":"audit"'));
      } finally {
        await server.close();
      }
    };
    expect(await infoLines({})).toEqual([]);
    const loud = await infoLines({ SQLWARDEN_LOG_LEVEL: 'info' });
    expect(loud.join('\n')).toContain('sqlwarden-stdio ready');
  });

  it('rate-limits a principal with RATE_LIMITED and a retry delay', async () => {
    const server = await startServer(
      [
        '--config',
        config('ann', 'quotas:\n  perPrincipal: { rate: { burst: 2, perSecond: 0.5 } }\n'),
      ],
      { E2E_DATABASE_URL: postgresTestUrl() },
    );
    try {
      const sql = 'SELECT count(*) FROM customers';
      ok(await call(server, 'query_read', { sql }));
      ok(await call(server, 'query_read', { sql }));
      const error = failure(await call(server, 'query_read', { sql }));
      expect(error.code).toBe('RATE_LIMITED');
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(2_000);
    } finally {
      await server.close();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
