import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mysqlTestUrl, postgresTestUrl } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ColumnAllowed,
  type ColumnAttack,
  MYSQL_COLUMN_ALLOWED,
  MYSQL_COLUMN_ATTACKS,
  POSTGRES_COLUMN_ALLOWED,
  POSTGRES_COLUMN_ATTACKS,
} from '../../../packages/sql-guard/src/columns-attacks.js';
import {
  auditLineAfter,
  call,
  failure,
  ok,
  onTestMysql,
  onTestPostgres,
  type RunningServer,
  runCli,
  startServer,
  type ToolResult,
  tempDir,
  textOf,
  urlWithDatabase,
} from './harness.js';

// Column policies end to end: the built sqlwarden-stdio, an SDK client over
// real pipes, the real PostgreSQL and MariaDB (connected as their
// superusers, so only sqlwarden stands between the agent and the data).
// hr.people(id, name, dept, email, ssn, salary): for role analyst, ssn is
// denied, email masked (partial) and salary masked (hash); payroll.amount
// masked (redact); role dpo has no policy. Every attack statement of the
// guard's data file runs against the real database, and every answer (text
// and structuredContent) and the whole of stderr are searched for the real
// values.

const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
const DB = `sqlwarden_gov_${tag}`;
const MASK_KEY = randomBytes(32).toString('hex');
const dir = tempDir();

const SSNS = [`ssn-${tag}-0001`, `ssn-${tag}-0002`, `ssn-${tag}-0003`];
const EMAILS = [`ada.${tag}@example.org`, `grace.${tag}@example.org`, null];
const SALARIES = ['73125.17', '73125.17', '88123.45'];
const AMOUNT = '55511.23';
/** PostgreSQL: a row of payroll_archive, an inheritance child of payroll. */
const ARCHIVED_AMOUNT = '66622.34';
/** Every value no analyst answer may hold. */
const SECRETS = [...SSNS, `ada.${tag}`, `grace.${tag}`, ...SALARIES, AMOUNT, ARCHIVED_AMOUNT];

function rowsSql(schema: string): string {
  const people = SSNS.map(
    (ssn, i) =>
      `(${i + 1}, 'name${i + 1}', ${i % 2}, ${EMAILS[i] === null ? 'NULL' : `'${EMAILS[i]}'`}, '${ssn}', ${SALARIES[i]})`,
  ).join(', ');
  return `
    INSERT INTO ${schema}.people VALUES ${people};
    INSERT INTO ${schema}.payroll VALUES (1, 1, ${AMOUNT});
    INSERT INTO ${schema}.orders VALUES (1, 1, 10, 'r1'), (2, 2, 20, 'r2');
    INSERT INTO ${schema}.contractors VALUES (1, 'c1', 'contractor-ssn');`;
}

function tablesSql(schema: string, text: string, money: string): string {
  return `
    CREATE TABLE ${schema}.people (id int PRIMARY KEY, name ${text}, dept int, email ${text}, ssn ${text}, salary ${money});
    CREATE INDEX people_ssn ON ${schema}.people (ssn);
    CREATE TABLE ${schema}.payroll (id int PRIMARY KEY, person_id int, amount ${money});
    CREATE TABLE ${schema}.orders (id int PRIMARY KEY, person_id int, amount int, ref ${text});
    CREATE TABLE ${schema}.contractors (id int PRIMARY KEY, name ${text}, ssn ${text});
    CREATE VIEW ${schema}.staff_directory AS SELECT id, name, ssn FROM ${schema}.people;
    CREATE VIEW ${schema}.directory AS SELECT id, name FROM ${schema}.people;`;
}

const engines = [
  {
    kind: 'postgres' as const,
    schema: 'hr',
    url: () => urlWithDatabase(postgresTestUrl(), DB),
    attacks: POSTGRES_COLUMN_ATTACKS,
    allowed: POSTGRES_COLUMN_ALLOWED,
    /** pg_depend shows that directory passes only id and name. */
    directoryOpen: true,
    async setUp() {
      await onTestPostgres(`CREATE DATABASE ${DB}`);
      await onTestPostgres(
        `CREATE SCHEMA hr; ${tablesSql('hr', 'text', 'numeric(10,2)')} ${rowsSql('hr')}
         CREATE TABLE hr.payroll_archive (archived_at date) INHERITS (hr.payroll);
         INSERT INTO hr.payroll_archive VALUES (2, 1, ${ARCHIVED_AMOUNT}, '2020-01-01');`,
        DB,
      );
    },
    async tearDown() {
      await onTestPostgres(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    },
  },
  {
    kind: 'mysql' as const,
    schema: DB,
    url: () => urlWithDatabase(mysqlTestUrl(), DB),
    attacks: MYSQL_COLUMN_ATTACKS,
    allowed: MYSQL_COLUMN_ALLOWED,
    /** MariaDB has no VIEW_TABLE_USAGE: a definition that mentions people is opaque. */
    directoryOpen: false,
    async setUp() {
      await onTestMysql(
        `CREATE DATABASE ${DB} CHARACTER SET utf8mb4`,
        `${tablesSql(DB, 'varchar(200)', 'decimal(10,2)')} ${rowsSql(DB)}`,
      );
    },
    async tearDown() {
      await onTestMysql(`DROP DATABASE IF EXISTS ${DB}`);
    },
  },
];

type Engine = (typeof engines)[number];

function configFile(engine: Engine, name: string, policyColumn = 'ssn'): string {
  const s = engine.schema;
  const grants = [
    'tool:query_read',
    'tool:describe_table',
    'tool:list_tables',
    'tool:execute_write',
    `read:main:${s}.*`,
    `write:main:${s}.*`,
  ];
  return dir.write(
    `${engine.kind}-${name}.yaml`,
    `server: { readOnly: false }
sources:
  main:
    kind: ${engine.kind}
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${s}
    tables: ["${s}.*"]
    writable: ["${s}.*"]
roles:
  analyst: ${JSON.stringify(grants)}
  dpo: ${JSON.stringify(grants)}
principals:
  ana: { roles: [analyst] }
  dora: { roles: [dpo] }
transports:
  stdio: { principal: ana }
governance:
  maskKey: \${E2E_MASK_KEY}
  columns:
    - { source: main, table: ${s}.people, columns: [${policyColumn}], action: deny, roles: [analyst] }
    - { source: main, table: ${s}.people, columns: [email], action: mask, mask: partial, roles: [analyst] }
    - { source: main, table: ${s}.people, columns: [salary], action: mask, mask: hash, roles: [analyst] }
    - { source: main, table: ${s}.payroll, columns: [amount], action: mask, mask: redact, roles: [analyst] }
`,
  );
}

const env = (engine: Engine) => ({
  E2E_DATABASE_URL: engine.url(),
  E2E_MASK_KEY: MASK_KEY,
  SQLWARDEN_ALLOW_WRITES: 'true',
});

function expectNoSecret(result: ToolResult, what: string) {
  const all = `${textOf(result)}\n${JSON.stringify(result.structuredContent)}`;
  for (const secret of SECRETS) expect(all, `${what} leaked ${secret}`).not.toContain(secret);
}

interface Rows {
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
}

afterAll(() => dir.cleanup());

describe.each(engines)('$kind', (engine) => {
  let analyst: RunningServer;
  let dpo: RunningServer;

  beforeAll(async () => {
    await engine.setUp();
    const file = configFile(engine, 'policies');
    analyst = await startServer(['--config', file], env(engine));
    dpo = await startServer(['--config', file, '--principal', 'dora'], env(engine));
  }, 60_000);

  afterAll(async () => {
    await analyst?.close();
    await dpo?.close();
    await engine.tearDown();
  }, 60_000);

  it('masks email (partial) and salary (hash) for an analyst, as configured', async () => {
    const result = await call(analyst, 'query_read', {
      sql: 'SELECT id, name, email, salary FROM people ORDER BY id',
    });
    expectNoSecret(result, 'the plain masked read');
    const { columns, rows } = ok<Rows>(result);
    expect(columns.map((c) => c.type).slice(2)).toEqual(['text', 'text']);
    const [ada, grace, third] = rows;
    const email = EMAILS[0] as string;
    expect(ada?.[2]).toBe(`${'*'.repeat(email.length - 4)}.org`);
    expect(third?.[2]).toBeNull();
    expect(ada?.[3]).toMatch(/^h:[0-9a-f]{16}$/);
    // Equal salaries, equal tokens: the model can still group and join on them.
    expect(grace?.[3]).toBe(ada?.[3]);
    expect(third?.[3]).not.toBe(ada?.[3]);
    expect(textOf(result)).toContain(`${'*'.repeat(email.length - 4)}.org`);
  });

  it('shows a dpo every value', async () => {
    const { rows } = ok<Rows>(
      await call(dpo, 'query_read', { sql: 'SELECT ssn, email, salary FROM people WHERE id = 1' }),
    );
    expect(rows).toEqual([[SSNS[0], EMAILS[0], SALARIES[0]]]);
  });

  it(`refuses every attack statement of the guard's data file against the real database, leaking nothing`, async () => {
    let attempts = 0;
    for (const attack of engine.attacks as readonly ColumnAttack[]) {
      const result =
        attack.mode === 'write'
          ? await call(analyst, 'execute_write', { sql: attack.sql, dryRun: true })
          : await call(analyst, 'query_read', { sql: attack.sql });
      expectNoSecret(result, attack.sql);
      expect(result.isError, `${attack.sql} was answered`).toBe(true);
      expect(failure(result).code, attack.sql).toBe('QUERY_REJECTED');
      attempts += 1;
    }
    expect(attempts).toBeGreaterThanOrEqual(60);
  }, 120_000);

  it('answers the statements that stay allowed with the masked positions masked', async () => {
    let answered = 0;
    for (const allowed of engine.allowed as readonly ColumnAllowed[]) {
      const result =
        allowed.mode === 'write'
          ? await call(analyst, 'execute_write', { sql: allowed.sql, dryRun: true })
          : await call(analyst, 'query_read', { sql: allowed.sql });
      expectNoSecret(result, allowed.sql);
      // Some of the data file's statements do not type-check on this engine's
      // tables (dept = 'x'): the database's refusal leaks nothing either.
      if (result.isError) {
        expect(failure(result).code, allowed.sql).not.toBe('INTERNAL');
        continue;
      }
      answered += 1;
      if (allowed.masked === undefined) continue;
      const { columns } = result.structuredContent as unknown as Rows;
      for (const i of allowed.masked) expect(columns[i]?.type, allowed.sql).toBe('text');
    }
    expect(answered).toBeGreaterThanOrEqual(10);
  }, 60_000);

  it('refuses the view over ssn as one object; the view of id and name as the catalog allows', async () => {
    const staff = await call(analyst, 'query_read', { sql: 'SELECT id FROM staff_directory' });
    expectNoSecret(staff, 'staff_directory');
    expect(failure(staff).code).toBe('QUERY_REJECTED');
    const directory = await call(analyst, 'query_read', {
      sql: 'SELECT id, name FROM directory ORDER BY id',
    });
    if (engine.directoryOpen) {
      expect(ok<Rows>(directory).rows).toHaveLength(3);
    } else {
      expect(failure(directory).code).toBe('QUERY_REJECTED');
    }
    expect(
      ok<Rows>(await call(dpo, 'query_read', { sql: 'SELECT ssn FROM staff_directory' })).rows,
    ).toHaveLength(3);
    // Not described either: its column names would show what it passes (ssn).
    const described = await call(analyst, 'describe_table', { table: 'staff_directory' });
    expect(failure(described).code).toBe('FORBIDDEN');
    expect(failure(described).message).toContain('governed as one object');
    expect(`${textOf(described)}${JSON.stringify(described.structuredContent)}`).not.toMatch(
      /\bssn\b/,
    );
    const forDpo = ok<{ columns: Array<{ name: string }> }>(
      await call(dpo, 'describe_table', { table: 'staff_directory' }),
    );
    expect(forDpo.columns.map((c) => c.name)).toContain('ssn');
  });

  // PostgreSQL only (MySQL has no inheritance): defined for it alone, not skipped for the other.
  const postgresOnly = engine.kind === 'postgres' ? it : () => {};
  postgresOnly(
    'refuses an inheritance child of a protected table as one object (its rows are the parent’s)',
    async () => {
      for (const sql of [
        'SELECT amount FROM payroll_archive',
        'SELECT id FROM payroll_archive',
        'SELECT * FROM payroll_archive',
        'SELECT sum(amount) FROM hr.payroll_archive',
      ]) {
        const result = await call(analyst, 'query_read', { sql });
        expectNoSecret(result, sql);
        expect(failure(result).code, sql).toBe('QUERY_REJECTED');
        expect(failure(result).message, sql).toContain('payroll');
      }
      // Through the parent, the child's rows are masked like the parent's.
      const parent = ok<Rows>(
        await call(analyst, 'query_read', { sql: 'SELECT id, amount FROM payroll ORDER BY id' }),
      );
      expect(parent.rows).toEqual([
        [1, '[redacted]'],
        [2, '[redacted]'],
      ]);
      expect(
        ok<Rows>(await call(dpo, 'query_read', { sql: 'SELECT amount FROM payroll_archive' })).rows,
      ).toEqual([[ARCHIVED_AMOUNT]]);
    },
  );

  it('describes people to an analyst without ssn (nor its index), with email and salary masked', async () => {
    const result = await call(analyst, 'describe_table', { table: 'people' });
    const table = ok<{
      columns: Array<{ name: string; type: string }>;
      indexes: Array<{ columns: string[] }>;
    }>(result);
    expect(table.columns.map((c) => c.name.toLowerCase())).toEqual([
      'id',
      'name',
      'dept',
      'email',
      'salary',
    ]);
    const types = Object.fromEntries(table.columns.map((c) => [c.name.toLowerCase(), c.type]));
    expect(types.email).toBe('text (masked: partial)');
    expect(types.salary).toBe('text (masked: hash)');
    expect(JSON.stringify(result.structuredContent).toLowerCase()).not.toContain('ssn');
    const full = ok<{ columns: Array<{ name: string }> }>(
      await call(dpo, 'describe_table', { table: 'people' }),
    );
    expect(full.columns.map((c) => c.name.toLowerCase())).toContain('ssn');
    // The table's resource is describe_table's answer, as the same principal.
    const resource = await analyst.client.readResource({
      uri: `schema://main/${encodeURIComponent(engine.schema)}.people`,
    });
    const text = (resource.contents[0] as { text: string }).text;
    expect(text).toContain('text (masked: partial)');
    expect(text.toLowerCase()).not.toContain('ssn');
  });

  it('names the policies in the audit line, and no value anywhere on stderr', async () => {
    const before = analyst.auditLines().length;
    await call(analyst, 'query_read', { sql: 'SELECT id, email, salary FROM people' });
    const line = await auditLineAfter(
      analyst,
      before,
      (l) => l.tool === 'query_read' && l.decision === 'allow',
    );
    expect(line?.columnPolicies).toEqual([
      { table: `${engine.schema}.people`, column: 'email', action: 'mask' },
      { table: `${engine.schema}.people`, column: 'salary', action: 'mask' },
    ]);
    for (const secret of SECRETS) expect(analyst.stderr()).not.toContain(secret);
    expect(analyst.stderr()).not.toContain(MASK_KEY);
  });

  it('says at start-up that hashes match only within one run when no mask key is set', async () => {
    const file = configFile(engine, 'no-key');
    const keyless = dir.write(
      `${engine.kind}-no-key-b.yaml`,
      readFileSync(file, 'utf8').replace(/\n {2}maskKey: [^\n]*/, ''),
    );
    const server = await startServer(['--config', keyless], env(engine));
    try {
      const { rows } = ok<Rows>(
        await call(server, 'query_read', { sql: 'SELECT salary FROM people WHERE id = 1' }),
      );
      expect(rows[0]?.[0]).toMatch(/^h:[0-9a-f]{16}$/);
      expect(server.stderr()).toContain('hashes');
      expect(server.stderr()).toContain('governance.maskKey is not set');
    } finally {
      await server.close();
    }
  }, 30_000);

  it('refuses to start when a policy names a column the table does not have', async () => {
    const exit = await runCli(['--config', configFile(engine, 'typo', 'snn')], {
      env: env(engine),
      timeoutMs: 30_000,
    });
    expect(exit.code).not.toBe(0);
    expect(exit.stderr).toContain(`table ${engine.schema}.people of source main has no column snn`);
  }, 40_000);
});
