/**
 * The analysts' queries, over both engines: every query of
 * packages/sql-guard/corpus/analyst.jsonl (ordinary reads an analyst or an
 * agent writes: aggregates, windows, CTEs, every kind of join, JSON,
 * percentiles, trailing semicolons, comments, and the MariaDB syntax of the
 * second parser) must be accepted by the guard with the shop schema's allow
 * list, and must then run on the real server, through the real adapter
 * (prepared statements, a read-only transaction), as the text the tools send
 * (statementText: the one trailing `;` cut), returning rows.
 *
 * Each run builds the shop (tests/guard/shop.ts) in a schema / database of
 * its own and drops it.
 */
import { readFileSync } from 'node:fs';
import { createMysqlAdapter } from '@sqlwarden/adapter-mysql';
import { createPostgresAdapter } from '@sqlwarden/adapter-postgres';
import type { DatabaseAdapter } from '@sqlwarden/core';
import {
  ALLOWED_FUNCTIONS,
  analyze,
  checkRead,
  type Dialect,
  loadSqlGuard,
  statementText,
} from '@sqlwarden/sql-guard';
import { mysqlTestUrl, postgresTestUrl } from '@sqlwarden/testing';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shopSetup } from './shop.js';

interface AnalystQuery {
  readonly id: string;
  readonly dialect: 'postgres' | 'mysql';
  readonly sql: string;
}

const QUERIES: AnalystQuery[] = readFileSync(
  new URL('../../packages/sql-guard/corpus/analyst.jsonl', import.meta.url),
  'utf8',
)
  .split('\n')
  .filter((line) => line.trim().length > 0)
  .map((line) => JSON.parse(line) as AnalystQuery);

const NAME = `sqlwarden_analyst_${process.pid}_${Date.now().toString(36)}`;
const LIMITS = { maxRows: 1000, maxBytes: 10_000_000, timeoutMs: 10_000 };

let pgAdmin: pg.Client | undefined;
let myAdmin: mysql.Connection | undefined;
const adapters: Partial<Record<'postgres' | 'mysql', DatabaseAdapter>> = {};

beforeAll(async () => {
  await loadSqlGuard();
  pgAdmin = new pg.Client({ connectionString: postgresTestUrl() });
  await pgAdmin.connect();
  await pgAdmin.query(`CREATE SCHEMA ${NAME}`);
  await pgAdmin.query(`SET search_path = ${NAME}`);
  for (const statement of shopSetup('postgres')) await pgAdmin.query(statement);
  myAdmin = await mysql.createConnection({ uri: mysqlTestUrl() });
  await myAdmin.query(`CREATE DATABASE ${NAME} CHARACTER SET utf8mb4`);
  await myAdmin.query(`USE ${NAME}`);
  for (const statement of shopSetup('mysql')) await myAdmin.query(statement);
  adapters.postgres = createPostgresAdapter({
    source: 'shop',
    connection: { connectionString: postgresTestUrl() },
    defaultSchema: NAME,
    statementTimeoutMs: 10_000,
  });
  const uri = new URL(mysqlTestUrl());
  uri.pathname = `/${NAME}`;
  adapters.mysql = createMysqlAdapter({
    source: 'shop',
    connection: { uri: uri.toString() },
    defaultSchema: NAME,
    statementTimeoutMs: 10_000,
    pool: { max: 2, connectionTimeoutMs: 5000 },
  });
}, 60_000);

afterAll(async () => {
  await adapters.postgres?.close();
  await adapters.mysql?.close();
  await pgAdmin?.query(`DROP SCHEMA IF EXISTS ${NAME} CASCADE`).catch(() => {});
  await pgAdmin?.end();
  await myAdmin?.query(`DROP DATABASE IF EXISTS ${NAME}`).catch(() => {});
  await myAdmin?.end();
});

describe.each([
  ['postgres', 'PostgreSQL'],
  ['mysql', 'MariaDB'],
] as const)('the analysts’ queries on %s', (dialect: Dialect & ('postgres' | 'mysql'), engine) => {
  const queries = QUERIES.filter((q) => q.dialect === dialect);

  it('are about seventy', () => {
    expect(queries.length).toBeGreaterThanOrEqual(70);
  });

  // Functions are default deny: everything the analysts call must be on the
  // guard's list of functions that compute only on their arguments.
  it('call only functions on the allow list of the dialect', () => {
    const allowed = new Set(Object.values(ALLOWED_FUNCTIONS[dialect]).flat());
    const called = new Set<string>();
    for (const query of queries) {
      const result = analyze(query.sql, { dialect });
      if (!result.ok) continue;
      for (const fn of result.analysis.functions) called.add(fn.name);
    }
    const name = (n: string) => (dialect === 'mysql' ? n.toLowerCase() : n);
    expect([...called].filter((n) => !allowed.has(name(n)))).toEqual([]);
    expect(called.size).toBeGreaterThan(20);
  });

  // As the runtime judges them: with the function policy built from the source's
  // real catalog (volatile, user-defined and known functions), not only the built-in lists.
  it("are accepted with the policy of the source's real function catalog", async () => {
    const adapter = adapters[dialect] as DatabaseAdapter;
    const catalog = await adapter.functionCatalog?.();
    expect(catalog).toBeDefined();
    const functionPolicy = {
      volatile: catalog?.volatile ?? [],
      deny: catalog?.userDefined ?? [],
      ...(catalog?.system !== undefined && { known: catalog.system }),
    };
    const refused = queries
      .map((q) => ({
        id: q.id,
        verdict: checkRead(q.sql, {
          dialect,
          defaultSchema: NAME,
          allowedTables: [`${NAME}.*`],
          functionPolicy,
        }),
      }))
      .filter((r) => !r.verdict.ok)
      .map((r) => `${r.id}: ${r.verdict.ok ? '' : r.verdict.message}`);
    expect(refused).toEqual([]);
  });

  it.each(queries.map((q) => [q.id, q] as const))(
    `%s is accepted by the guard and returns rows on ${engine}`,
    async (_id, query) => {
      const verdict = checkRead(query.sql, {
        dialect,
        defaultSchema: NAME,
        allowedTables: [`${NAME}.*`],
      });
      expect(verdict.ok ? 'accepted' : `${verdict.reason}: ${verdict.message}`).toBe('accepted');
      const adapter = adapters[dialect] as DatabaseAdapter;
      const result = await adapter.read({
        sql: statementText(query.sql, { dialect }),
        params: [],
        limits: LIMITS,
        signal: new AbortController().signal,
      });
      expect(result.rowCount).toBeGreaterThan(0);
      expect(result.truncated).toBe(false);
    },
    20_000,
  );
});
