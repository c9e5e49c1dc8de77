// Test support for this package's integration tests (never exported from index.ts).
// Each test file gets a database of its own on the real MariaDB of this
// machine (SQLWARDEN_TEST_MYSQL_URL), dropped in afterAll.

import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import { SqlwardenError } from '@sqlwarden/core';
import { mysqlTestUrl } from '@sqlwarden/testing';
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

export const LIMITS = { maxRows: 1000, maxBytes: 1_048_576, timeoutMs: 5000 };

export const signal = (): AbortSignal => new AbortController().signal;

/** The code a call ends with: 'ok', or the SqlwardenError's code. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return SqlwardenError.is(error) ? error.code : `not a SqlwardenError: ${String(error)}`;
  }
}

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

export async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}
