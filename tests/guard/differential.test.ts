/**
 * Differential test of the SQL guard against the real servers: the guard
 * must never accept a text that the server would run as more than one
 * statement. Statements are mutated with the characters lexers trip on
 * (quotes, backslashes, comment markers, semicolons); every mutant the guard
 * accepts is sent to PostgreSQL and MariaDB on a path that DOES run stacked
 * statements (PostgreSQL's simple query protocol, mysql2 with
 * multipleStatements), inside a READ ONLY transaction that is rolled back,
 * and the number of result sets is counted.
 */
import { checkRead, loadSqlGuard, statementText } from '@sqlwarden/sql-guard';
import { mysqlTestUrl, postgresTestUrl } from '@sqlwarden/testing';
import fc from 'fast-check';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NAME = `sqlwarden_diff_${process.pid}_${Date.now().toString(36)}`;
const RUNS = 4000;

const BASE_READS = [
  'SELECT 1',
  'SELECT id FROM orders',
  "SELECT id FROM orders WHERE note = 'a;b'",
  "SELECT id FROM orders WHERE note = 'x' -- c\n AND status = 'y'",
  'SELECT count(*) FROM orders /* ; */ GROUP BY status',
  "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.name <> 'a''b'",
  "SELECT 'it''s', id FROM orders",
];
const NEW_READS = [
  // One trailing semicolon, accepted since the guard allows it (and cut before the adapter).
  'SELECT count(*) FROM orders;',
  "SELECT id FROM orders WHERE note <> ';'; -- done",
  'SELECT * FROM orders NATURAL JOIN customers',
  'SELECT o.id FROM (orders o JOIN customers c ON c.id = o.customer_id) JOIN orders p ON p.id = o.id',
  'VALUES (1, 2), (3, 4)',
];
// MariaDB syntax read by the guard's second MySQL parser (sqlparser-rs).
const MYSQL_READS = [
  "SELECT id FROM orders FORCE INDEX (idx_status) WHERE status = 'x'",
  'SELECT STRAIGHT_JOIN o.id FROM orders o JOIN customers c ON c.id = o.customer_id',
  "SELECT * FROM JSON_TABLE('[1,2]', '$[*]' COLUMNS (a INT PATH '$')) AS j",
  'EXPLAIN FORMAT=JSON SELECT id FROM orders',
  'SELECT DISTINCT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY id) OVER (PARTITION BY status) FROM orders',
];
// The newer reads' mutants fail on the server more often (a comment that cuts a
// name leaves a table that does not exist), so the base reads keep the larger
// share: enough accepted mutants must still run for the oracle to be exercised.
const READS = {
  postgres: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...BASE_READS) },
    { weight: 1, arbitrary: fc.constantFrom(...NEW_READS) },
  ),
  mysql: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...BASE_READS) },
    { weight: 1, arbitrary: fc.constantFrom(...NEW_READS, ...MYSQL_READS) },
  ),
};
const HOSTILE = [
  ';',
  "'",
  '"',
  '`',
  '-',
  '--',
  '-- ',
  '#',
  '/*',
  '*/',
  '/*!',
  '!',
  '$$',
  '\\',
  '\n',
  ' ',
  '(',
  ')',
  'E',
  'U&',
];

const mutation = fc.record({
  at: fc.nat(),
  text: fc
    .array(fc.constantFrom(...HOSTILE), { minLength: 1, maxLength: 5 })
    .map((parts) => parts.join('')),
});

function mutate(sql: string, steps: ReadonlyArray<{ at: number; text: string }>): string {
  let out = sql;
  for (const step of steps) {
    const at = step.at % (out.length + 1);
    out = out.slice(0, at) + step.text + out.slice(at);
  }
  return out;
}

let pgClient: pg.Client;
let my: mysql.Connection;

beforeAll(async () => {
  await loadSqlGuard();
  pgClient = new pg.Client({ connectionString: postgresTestUrl() });
  await pgClient.connect();
  await pgClient.query(`CREATE SCHEMA ${NAME}`);
  await pgClient.query(`SET search_path = ${NAME}`);
  await pgClient.query('CREATE TABLE orders (id int, note text, status text, customer_id int)');
  await pgClient.query('CREATE TABLE customers (id int, name text)');
  my = await mysql.createConnection({ uri: mysqlTestUrl(), multipleStatements: true });
  await my.query(`CREATE DATABASE ${NAME}`);
  await my.query(`USE ${NAME}`);
  await my.query('CREATE TABLE orders (id int, note text, status text, customer_id int)');
  await my.query('CREATE TABLE customers (id int, name text)');
  await my.query('CREATE INDEX idx_status ON orders (status(10))');
  await my.query('SET SESSION max_statement_time = 0.5');
});

afterAll(async () => {
  await pgClient?.query(`DROP SCHEMA IF EXISTS ${NAME} CASCADE`).catch(() => {});
  await pgClient?.end();
  await my?.query(`DROP DATABASE IF EXISTS ${NAME}`).catch(() => {});
  await my?.end();
});

/** Statements PostgreSQL ran for `text` on the simple protocol (which runs stacked statements). */
async function postgresStatements(text: string): Promise<number> {
  await pgClient.query('BEGIN READ ONLY');
  await pgClient.query("SET LOCAL statement_timeout = '500ms'");
  try {
    const result = (await pgClient.query(text)) as unknown;
    return Array.isArray(result) ? result.length : 1;
  } catch {
    return 0;
  } finally {
    await pgClient.query('ROLLBACK');
  }
}

/** MariaDB's count of queries that held no statement (only comments or whitespace). */
async function emptyQueries(): Promise<number> {
  const [rows] = await my.query("SHOW SESSION STATUS LIKE 'Com_empty_query'");
  return Number((rows as Array<{ Value: string }>)[0]?.Value);
}

/**
 * Statements MariaDB ran for `text` with multipleStatements on. A comment
 * after the last `;` comes back as one more (empty) result; the server counts
 * it in Com_empty_query, so it is not counted as a statement here.
 */
async function mariadbStatements(text: string): Promise<number> {
  await my.query('START TRANSACTION READ ONLY');
  try {
    const before = await emptyQueries();
    const [, fields] = await my.query(text);
    const empty = (await emptyQueries()) - before;
    // Several statements give one field list per statement.
    const results = Array.isArray(fields) && Array.isArray(fields[0]) ? fields.length : 1;
    return results - empty;
  } catch {
    return 0;
  } finally {
    await my.query('ROLLBACK');
  }
}

describe('the guard against the real servers', () => {
  it.each([
    ['postgres', postgresStatements],
    ['mysql', mariadbStatements],
  ] as const)(
    '%s: every mutant the guard accepts runs as at most one statement',
    async (dialect, statements) => {
      let accepted = 0;
      let executed = 0;
      let cuts = 0;
      await fc.assert(
        fc.asyncProperty(
          READS[dialect],
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          async (sql, steps) => {
            const text = mutate(sql, steps);
            const verdict = checkRead(text, {
              dialect,
              defaultSchema: NAME,
              allowedTables: [`${NAME}.*`],
            });
            if (!verdict.ok) return;
            accepted += 1;
            const count = await statements(text);
            if (count > 0) executed += 1;
            expect({ text, count }).toEqual({ text, count: expect.any(Number) });
            expect(
              count,
              `server ran ${count} statements for ${JSON.stringify(text)}`,
            ).toBeLessThanOrEqual(1);
            // What the tools send (the one trailing `;` and what follows it cut) too.
            const cut = statementText(text, { dialect });
            if (cut !== text) {
              cuts += 1;
              const cutCount = await statements(cut);
              expect(
                cutCount,
                `server ran ${cutCount} statements for ${JSON.stringify(cut)}`,
              ).toBeLessThanOrEqual(1);
            }
          },
        ),
        { numRuns: RUNS },
      );
      // The test is only worth something if mutants got through and ran. The
      // mutants are random: a few percent of them run (one run saw only 95 of 4000), so
      // the floor leaves room for a run on the low side.
      expect(accepted).toBeGreaterThan(RUNS / 20);
      expect(executed).toBeGreaterThan(RUNS / 80);
      expect(cuts).toBeGreaterThan(0);
    },
    120_000,
  );

  it.each([
    { dialect: 'postgres', text: 'SELECT 1; SELECT 2', statements: postgresStatements },
    { dialect: 'mysql', text: 'SELECT 1; SELECT 2', statements: mariadbStatements },
    { dialect: 'mysql', text: 'SELECT 1--1;SELECT 2', statements: mariadbStatements },
    { dialect: 'mysql', text: 'SELECT 1; /*!50000 SELECT 2 */', statements: mariadbStatements },
    { dialect: 'mysql', text: 'SELECT 1; DO 1', statements: mariadbStatements },
  ])(
    '$dialect: the oracle itself sees two statements in $text (so it can fail)',
    async ({ statements, text }) => {
      expect(await statements(text)).toBe(2);
    },
  );

  it.each([
    { dialect: 'postgres', statements: postgresStatements },
    { dialect: 'mysql', statements: mariadbStatements },
  ])(
    '$dialect: the oracle counts one statement for a trailing ; and a comment',
    async ({ statements }) => {
      expect(await statements('SELECT 1; -- done')).toBe(1);
      expect(await statements('SELECT 1;')).toBe(1);
    },
  );
});
