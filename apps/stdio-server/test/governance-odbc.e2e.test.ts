import { randomBytes } from 'node:crypto';
import { postgresTestUrl } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ColumnAllowed,
  type ColumnAttack,
  ODBC_COLUMN_ALLOWED,
  ODBC_COLUMN_ATTACKS,
} from '../../../packages/sql-guard/src/columns-attacks.js';
import { REJECTION_REASONS } from '../../../packages/sql-guard/src/reasons.js';
import {
  call,
  failure,
  ok,
  onTestPostgres,
  type RunningServer,
  startServer,
  type ToolResult,
  tempDir,
  textOf,
} from './harness.js';

// Column policies end to end on an ODBC source: the built sqlwarden-stdio,
// an SDK client over real pipes, the ODBC adapter's worker and psqlODBC as
// the stand-in driver (CONNX itself is not here) on a PostgreSQL database of
// this test's own, connected as the superuser, so only sqlwarden stands
// between the agent and the data. The schema is the one the guard's ODBC
// corpus assumes: hr.people(id, name, dept, ssn, salary) with ssn denied and
// salary masked (hash) for role analyst, hr.payroll.amount masked (redact),
// hr.orders and hr.contractors without policy, and views. Role dpo has no
// policy. Every answer (text and structuredContent) is searched for the
// real values.
//
// The source names catalogs (defaultCatalog) with `profile: postgres`, the
// profile that pins the session's catalog and schema: the corpus writes
// most tables unqualified (`people`) and some `main..people`, which only a
// pinned session resolves as the guard does (with `profile: connx` every
// shorter name would be refused as AMBIGUOUS_TABLE before any column rule
// is asked, and the test would prove nothing about the rules).

const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
/** The catalog: PostgreSQL takes `currentdb.schema.table`, so the database's name is it. */
const DB = `sqlwarden_govodbc_${tag}`;
const DSN = `sqlwarden_govodbc_${tag}`;
const MASK_KEY = randomBytes(32).toString('hex');
// Config files, and the private ODBCSYSINI: the driver, the DSN, and no
// CommLog files in /tmp.
const dir = tempDir();
const pgUrl = new URL(postgresTestUrl());

const SSNS = [`ssn-${tag}-0001`, `ssn-${tag}-0002`, `ssn-${tag}-0003`];
const SALARIES = ['73125.17', '73125.17', '88123.45'];
const AMOUNT = '55511.23';
/** Every value no analyst answer may hold. */
const SECRETS = [...SSNS, ...SALARIES, AMOUNT];

/**
 * The corpus names its catalog `main` (and `MAIN`, to try the case); here
 * the catalog is the database, so each catalog qualifier becomes DB in the
 * case it was written (`main..people` becomes `<db>..people`). Unquoted,
 * both cases fold to the same database name, in the guard and in
 * PostgreSQL alike.
 */
function inCatalog(sql: string): string {
  return sql.replace(/\bmain\./g, `${DB}.`).replace(/\bMAIN\./g, `${DB.toUpperCase()}.`);
}

const ATTACKS: readonly ColumnAttack[] = ODBC_COLUMN_ATTACKS.map((a) => ({
  ...a,
  sql: inCatalog(a.sql),
}));
const ALLOWED: readonly ColumnAllowed[] = ODBC_COLUMN_ALLOWED.map((a) => ({
  ...a,
  sql: inCatalog(a.sql),
}));

async function setUpDatabase(): Promise<void> {
  await onTestPostgres(`CREATE DATABASE ${DB}`);
  const people = SSNS.map(
    (ssn, i) => `(${i + 1}, 'name${i + 1}', ${i % 2}, '${ssn}', ${SALARIES[i]})`,
  ).join(', ');
  await onTestPostgres(
    `CREATE SCHEMA hr;
     CREATE TABLE hr.people (id int PRIMARY KEY, name text, dept int, ssn text, salary numeric(10,2));
     CREATE TABLE hr.payroll (id int PRIMARY KEY, person_id int, amount numeric(10,2));
     CREATE TABLE hr.orders (id int PRIMARY KEY, person_id int, amount int, ref text);
     CREATE TABLE hr.contractors (id int PRIMARY KEY, name text, ssn text);
     CREATE VIEW hr.staff_directory AS SELECT id, name, ssn FROM hr.people;
     CREATE VIEW hr.directory AS SELECT id, name FROM hr.people;
     INSERT INTO hr.people VALUES ${people};
     INSERT INTO hr.payroll VALUES (1, 1, ${AMOUNT});
     INSERT INTO hr.orders VALUES (1, 1, 10, 'r1'), (2, 2, 20, 'r2');
     INSERT INTO hr.contractors VALUES (1, 'c1', 'contractor-ssn');`,
    DB,
  );
  dir.write('odbcinst.ini', '[PostgreSQL Unicode]\nDriver=psqlodbcw.so\nCommLog=0\nDebug=0\n');
  dir.write(
    'odbc.ini',
    `[${DSN}]\nDriver=PostgreSQL Unicode\nServername=${pgUrl.hostname}\nPort=${pgUrl.port || '5432'}\nDatabase=${DB}\n`,
  );
}

function configFile(): string {
  const grants = [
    'tool:query_read',
    'tool:describe_table',
    'tool:list_tables',
    'tool:execute_write',
    `read:main:${DB}.hr.*`,
    `write:main:${DB}.hr.*`,
  ];
  return dir.write(
    'policies.yaml',
    `server: { readOnly: false }
sources:
  main:
    kind: odbc
    odbc: { connectionString: "\${E2E_ODBC_CONNECTION}", profile: postgres }
    defaultCatalog: ${DB}
    defaultSchema: hr
    tables: ["${DB}.hr.*"]
    writable: ["${DB}.hr.*"]
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
    - { source: main, table: ${DB}.hr.people, columns: [ssn], action: deny, roles: [analyst] }
    - { source: main, table: ${DB}.hr.people, columns: [salary], action: mask, mask: hash, roles: [analyst] }
    - { source: main, table: ${DB}.hr.payroll, columns: [amount], action: mask, mask: redact, roles: [analyst] }
`,
  );
}

const env = () => ({
  ODBCSYSINI: dir.path,
  E2E_ODBC_CONNECTION: `DSN=${DSN};UID=${decodeURIComponent(pgUrl.username) || 'postgres'}`,
  E2E_MASK_KEY: MASK_KEY,
  SQLWARDEN_ALLOW_WRITES: 'true',
});

const answerText = (result: ToolResult) =>
  `${textOf(result)}\n${JSON.stringify(result.structuredContent)}`;

function expectNoSecret(result: ToolResult, what: string) {
  const all = answerText(result);
  for (const secret of SECRETS) expect(all, `${what} leaked ${secret}`).not.toContain(secret);
}

const containsSecret = (result: ToolResult) =>
  SECRETS.some((secret) => answerText(result).includes(secret));

/**
 * The openings of the column rules' refusals. Matched by their first
 * sentence, not by the trailing `[rule ...]`: the error boundary caps a
 * message at 500 characters, which long three-part names can reach.
 */
const COLUMN_RULES = (
  ['COLUMN_DENIED', 'COLUMN_MASKED', 'COLUMN_UNRESOLVED', 'RELATION_GOVERNED'] as const
).map((reason) => REJECTION_REASONS[reason]);

/** A masked value as each mask of this configuration gives it (null stays null). */
const MASKED = /^(h:[0-9a-f]{16}|\[redacted\])$/;

interface Rows {
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
}

describe('column policies on an ODBC source (psqlODBC)', () => {
  let analyst: RunningServer;
  let dpo: RunningServer;

  beforeAll(async () => {
    await setUpDatabase();
    const file = configFile();
    analyst = await startServer(['--config', file], env());
    dpo = await startServer(['--config', file, '--principal', 'dora'], env());
  }, 60_000);

  afterAll(async () => {
    await analyst?.close();
    await dpo?.close();
    await onTestPostgres(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    dir.cleanup();
  }, 60_000);

  it("names the test's catalog wherever the corpus named main", () => {
    const all = [...ATTACKS, ...ALLOWED].map((a) => a.sql);
    expect(all.filter((sql) => /\bmain\./i.test(sql))).toEqual([]);
    expect(all).toContain(`SELECT ssn FROM ${DB}..people`);
    expect(all).toContain(`SELECT id FROM ${DB.toUpperCase()}.HR.PEOPLE WHERE SSN = '1'`);
  });

  it('masks salary (hash) for an analyst: equal salaries, equal tokens', async () => {
    const sql = `SELECT id, salary FROM ${DB}.hr.people`;
    const result = await call(analyst, 'query_read', { sql });
    expectNoSecret(result, sql);
    const { columns, rows } = ok<Rows>(result);
    expect(columns.map((c) => [c.name.toLowerCase(), c.type])[1]).toEqual(['salary', 'text']);
    const byId = new Map(rows.map((row) => [row[0], row[1]]));
    expect([...byId.keys()].sort()).toEqual([1, 2, 3]);
    for (const token of byId.values()) expect(token).toMatch(/^h:[0-9a-f]{16}$/);
    // Equal salaries, equal tokens: the model can still group and join on them.
    expect(byId.get(2)).toBe(byId.get(1));
    expect(byId.get(3)).not.toBe(byId.get(1));
    // The dpo, without a policy, reads the real values through the same driver.
    const real = ok<Rows>(await call(dpo, 'query_read', { sql }));
    expect(new Map(real.rows.map((row) => [row[0], row[1]]))).toEqual(
      new Map([
        [1, SALARIES[0]],
        [2, SALARIES[1]],
        [3, SALARIES[2]],
      ]),
    );
  });

  it('shows a dpo the denied column', async () => {
    const { rows } = ok<Rows>(
      await call(dpo, 'query_read', { sql: 'SELECT ssn, salary FROM people WHERE id = 1' }),
    );
    expect(rows).toEqual([[SSNS[0], SALARIES[0]]]);
  });

  it("refuses every attack statement of the guard's ODBC corpus against the real database, leaking nothing", async () => {
    let byColumnRules = 0;
    let dpoSawSecrets = 0;
    for (const attack of ATTACKS) {
      const run = (server: RunningServer) =>
        attack.mode === 'write'
          ? call(server, 'execute_write', { sql: attack.sql, dryRun: true })
          : call(server, 'query_read', { sql: attack.sql });
      const result = await run(analyst);
      expectNoSecret(result, attack.sql);
      expect(result.isError, `${attack.sql} was answered`).toBe(true);
      const refusal = failure(result);
      expect(refusal.code, attack.sql).toBe('QUERY_REJECTED');
      // The dpo has the same grants and no rule: what it is shown is what the
      // statement reaches on this schema, and a refusal it shares is the
      // guard's for everybody (substr is no ODBC function; "HR"."PEOPLE"
      // quoted in upper case is not a served table).
      const forDpo = await run(dpo);
      if (containsSecret(forDpo)) dpoSawSecrets += 1;
      if (COLUMN_RULES.some((reason) => refusal.message.startsWith(reason))) {
        byColumnRules += 1;
      } else {
        expect(
          forDpo.isError,
          `${attack.sql}: refused for the analyst only, not by a column rule`,
        ).toBe(true);
        expect(failure(forDpo), attack.sql).toEqual(refusal);
      }
    }
    expect(byColumnRules).toBeGreaterThanOrEqual(60);
    // Not a corpus of statements that reach nothing: without the rules,
    // dozens of them show the real values.
    expect(dpoSawSecrets).toBeGreaterThanOrEqual(30);
  }, 180_000);

  it('answers the statements that stay allowed, with the masked positions masked', async () => {
    let answered = 0;
    for (const allowed of ALLOWED) {
      const result =
        allowed.mode === 'write'
          ? await call(analyst, 'execute_write', { sql: allowed.sql, dryRun: true })
          : await call(analyst, 'query_read', { sql: allowed.sql });
      expectNoSecret(result, allowed.sql);
      // Some of the corpus' statements do not run on these tables (dept = 'x'
      // on an int, an INSERT of an id that exists): the database's refusal
      // leaks nothing either, and is never an internal error.
      if (result.isError) {
        expect(failure(result).code, allowed.sql).not.toBe('INTERNAL');
        continue;
      }
      answered += 1;
      if (allowed.masked === undefined) continue;
      const { columns, rows } = result.structuredContent as unknown as Rows;
      // ODBC compares output names case-insensitively.
      expect(
        columns.map((c) => c.name.toLowerCase()),
        allowed.sql,
      ).toEqual(allowed.outputs?.map((o) => o.toLowerCase()));
      expect(rows.length, allowed.sql).toBeGreaterThan(0);
      for (const i of allowed.masked) {
        expect(columns[i]?.type, allowed.sql).toBe('text');
        for (const row of rows) {
          if (row[i] !== null) expect(row[i], allowed.sql).toMatch(MASKED);
        }
      }
    }
    expect(answered).toBeGreaterThanOrEqual(10);
  }, 60_000);

  it('refuses every view as one object for the analyst (ODBC cannot tell what a view reads), not for the dpo', async () => {
    for (const [sql, view] of [
      [`SELECT id FROM ${DB}.hr.staff_directory`, 'staff_directory'],
      // Harmless (id and name only), and still one object: nothing says so.
      [`SELECT id, name FROM ${DB}.hr.directory`, 'directory'],
      ['SELECT id FROM directory', 'directory'],
    ] as const) {
      const refused = await call(analyst, 'query_read', { sql });
      expectNoSecret(refused, sql);
      const { code, message } = failure(refused);
      expect(code, sql).toBe('QUERY_REJECTED');
      expect(message.startsWith(REJECTION_REASONS.RELATION_GOVERNED), message).toBe(true);
      expect(message, sql).toContain(`${DB}.hr.${view}`);
      expect(ok<Rows>(await call(dpo, 'query_read', { sql })).rows, sql).toHaveLength(3);
    }
    expect(
      ok<Rows>(
        await call(dpo, 'query_read', {
          sql: `SELECT ssn FROM ${DB}.hr.staff_directory WHERE id = 1`,
        }),
      ).rows,
    ).toEqual([[SSNS[0]]]);
  });

  it('does not describe a view to the analyst: its column names would show what it passes', async () => {
    for (const table of ['staff_directory', 'directory', `${DB}.hr.staff_directory`]) {
      const described = await call(analyst, 'describe_table', { table });
      expect(failure(described).code, table).toBe('FORBIDDEN');
      expect(failure(described).message, table).toContain('governed as one object');
      expect(
        `${textOf(described)}${JSON.stringify(described.structuredContent)}`,
        table,
      ).not.toMatch(/\bssn\b/i);
    }
    const forDpo = ok<{ columns: Array<{ name: string }> }>(
      await call(dpo, 'describe_table', { table: 'staff_directory' }),
    );
    expect(forDpo.columns.map((c) => c.name.toLowerCase())).toContain('ssn');
  });

  it('describes people to the analyst without ssn, with salary masked', async () => {
    const result = await call(analyst, 'describe_table', { table: `${DB}.hr.people` });
    const table = ok<{ columns: Array<{ name: string; type: string }> }>(result);
    expect(table.columns.map((c) => c.name.toLowerCase())).toEqual([
      'id',
      'name',
      'dept',
      'salary',
    ]);
    const types = Object.fromEntries(table.columns.map((c) => [c.name.toLowerCase(), c.type]));
    expect(types.salary).toBe('text (masked: hash)');
    expect(`${textOf(result)}${JSON.stringify(result.structuredContent)}`).not.toMatch(/ssn/i);
    const full = ok<{ columns: Array<{ name: string }> }>(
      await call(dpo, 'describe_table', { table: 'people' }),
    );
    expect(full.columns.map((c) => c.name.toLowerCase())).toEqual([
      'id',
      'name',
      'dept',
      'ssn',
      'salary',
    ]);
  });

  it('keeps every value out of stderr, and the mask key too', () => {
    for (const secret of SECRETS) expect(analyst.stderr()).not.toContain(secret);
    expect(analyst.stderr()).not.toContain(MASK_KEY);
  });
});
