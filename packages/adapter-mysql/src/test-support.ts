// Test support for this package's integration tests (never exported from index.ts).
// Each test file gets a database of its own on the real MariaDB of this
// machine (SQLWARDEN_TEST_MYSQL_URL), dropped in afterAll.

import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import { SqlwardenError } from '@sqlwarden/core';
import { mysqlTestUrl } from '@sqlwarden/testing';

export { codeOf, eventually } from '@sqlwarden/testing';

import mysql from 'mysql2/promise';
import type { MysqlAdapterConfig } from './config.js';
import { createMysqlAdapter } from './index.js';
import { quoteIdent } from './session.js';

export interface TestDatabase {
  /** Letters, digits and _ only. */
  readonly name: string;
  /** An admin connection (the test URL's account) in the database. */
  readonly admin: mysql.Connection;
  /** The test URL with this database as its path (and another account, if given). */
  url(account?: { readonly user: string }): string;
  /** An adapter on this database (pool of 3 unless told). */
  adapter(
    overrides?: Partial<Omit<MysqlAdapterConfig, 'connection'>> & {
      readonly connection?: MysqlAdapterConfig['connection'];
    },
  ): SourceAdapter;
  /** Statements of this database's test runs still on the server whose text holds `marker`. */
  running(marker: string): Promise<number>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sqlwarden_my_${process.pid}_${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
  const admin = await mysql.createConnection({ uri: mysqlTestUrl() });
  await admin.query(`CREATE DATABASE ${quoteIdent(name)} CHARACTER SET utf8mb4`);
  await admin.query(`USE ${quoteIdent(name)}`);
  const url = (account?: { readonly user: string }) => {
    const parsed = new URL(mysqlTestUrl());
    parsed.pathname = `/${name}`;
    if (account !== undefined) {
      parsed.username = account.user;
      parsed.password = '';
    }
    return parsed.toString();
  };
  const adapters: SourceAdapter[] = [];
  return {
    name,
    admin,
    url,
    adapter(overrides = {}) {
      const adapter = createMysqlAdapter({
        source: 'main',
        connection: { uri: url() },
        defaultSchema: name,
        statementTimeoutMs: 5000,
        pool: { max: 3, connectionTimeoutMs: 2000 },
        ...overrides,
      });
      adapters.push(adapter);
      return adapter;
    },
    async running(marker) {
      const [rows] = await admin.query(
        'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()',
        [`%${marker}%`],
      );
      return Number((rows as Array<{ n: number | string }>)[0]?.n);
    },
    async drop() {
      await Promise.allSettled(adapters.map((adapter) => adapter.close()));
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** Tables, a view and routines for the catalog tests (introspect.test.ts, grants.test.ts). */
export const CATALOG_FIXTURE: readonly string[] = [
  "CREATE TABLE customers (id int PRIMARY KEY, name varchar(50) NOT NULL) COMMENT 'People who buy'",
  `CREATE TABLE items (
       id int PRIMARY KEY,
       customer_id int,
       name varchar(50) NOT NULL DEFAULT 'unnamed',
       price decimal(12, 2) COMMENT 'Unit price in EUR',
       note text,
       CONSTRAINT items_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
       UNIQUE KEY items_name (name, customer_id),
       KEY items_price (price)
     )`,
  'CREATE TABLE Items (id int)',
  'CREATE VIEW cheap_items AS SELECT id, name FROM items WHERE price < 10',
  'CREATE TABLE numbers (n int PRIMARY KEY)',
  'INSERT INTO numbers SELECT seq FROM seq_1_to_1000',
  'ANALYZE TABLE numbers',
  'CREATE FUNCTION my_writer() RETURNS int MODIFIES SQL DATA RETURN 1',
  'CREATE FUNCTION my_reader() RETURNS int READS SQL DATA RETURN 1',
  'CREATE PROCEDURE my_proc() SELECT 1',
];

export const LIMITS = { maxRows: 1000, maxBytes: 1_048_576, timeoutMs: 5000 };

export const signal = (): AbortSignal => new AbortController().signal;

/** The error a call ends with (fails the test if it succeeds). */
export async function errorOf(promise: Promise<unknown>): Promise<SqlwardenError> {
  try {
    await promise;
  } catch (error) {
    if (SqlwardenError.is(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}
