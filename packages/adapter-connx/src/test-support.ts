// Test support for this package's integration tests (never exported from index.ts):
// a schema of its own on the local PostgreSQL and a database of its own on
// the local MariaDB, reached through the real ODBC drivers.

import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import { mysqlTestUrl, postgresTestUrl } from '@sqlwarden/testing';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { type AdapterInternals, connxAdapter } from './adapter.js';
import type { ConnxAdapterConfig } from './config.js';
import type { WorkerHost } from './host.js';

export { codeOf, eventually } from '@sqlwarden/testing';

export interface OdbcTarget {
  readonly name: string;
  readonly profile: 'postgres' | 'mariadb';
  readonly connectionString: string;
  /** Runs a statement of the test's own (set-up), on an admin connection. */
  admin(sql: string): Promise<unknown[]>;
  /** How many statements holding `marker` run on the server now (not the one asking). */
  running(marker: string): Promise<number>;
  adapter(
    overrides?: Partial<Omit<ConnxAdapterConfig, 'connection'>> & {
      readonly connection?: Partial<ConnxAdapterConfig['connection']>;
    },
    internals?: AdapterInternals,
  ): { adapter: SourceAdapter; host: WorkerHost };
  drop(): Promise<void>;
}

const suffix = () => `${process.pid}_${Math.floor(Math.random() * 36 ** 6).toString(36)}`;

function track(
  target: Omit<OdbcTarget, 'adapter' | 'drop'>,
  drop: () => Promise<void>,
): OdbcTarget {
  const made: Array<{ adapter: SourceAdapter }> = [];
  return {
    ...target,
    adapter(overrides = {}, internals = {}) {
      const { connection, ...rest } = overrides;
      const built = connxAdapter(
        {
          source: 'main',
          defaultSchema: target.name,
          statementTimeoutMs: 5000,
          pool: { max: 2, connectionTimeoutMs: 5000 },
          ...rest,
          connection: {
            connectionString: target.connectionString,
            profile: target.profile,
            ...connection,
          },
        },
        internals,
      );
      made.push(built);
      return built;
    },
    async drop() {
      await Promise.all(made.map((m) => m.adapter.close().catch(() => {})));
      await drop();
    },
  };
}

export async function postgresTarget(): Promise<OdbcTarget> {
  const name = `sqlwarden_odbc_${suffix()}`;
  const url = new URL(postgresTestUrl());
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(`CREATE SCHEMA ${name}`);
  await client.query(`SET search_path TO ${name}`);
  const connectionString = [
    'DRIVER={PostgreSQL Unicode}',
    `SERVER=${url.hostname}`,
    `PORT=${url.port || '5432'}`,
    `DATABASE=${decodeURIComponent(url.pathname.slice(1)) || 'test'}`,
    `UID=${decodeURIComponent(url.username) || 'postgres'}`,
    `PWD=${decodeURIComponent(url.password)}`,
  ].join(';');
  return track(
    {
      name,
      profile: 'postgres',
      connectionString,
      admin: async (sql) => (await client.query(sql)).rows,
      running: async (marker) => {
        const result = await client.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid() AND state = 'active'",
          [marker],
        );
        return result.rows[0].n as number;
      },
    },
    async () => {
      await client.query(`DROP SCHEMA ${name} CASCADE`);
      await client.end();
    },
  );
}

export async function mariadbTarget(): Promise<OdbcTarget> {
  const name = `sqlwarden_odbc_${suffix()}`;
  const url = new URL(mysqlTestUrl());
  const admin = await mysql.createConnection({ uri: url.toString() });
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
  await admin.query(`USE ${name}`);
  const connectionString = [
    'DRIVER={MariaDB Unicode}',
    `SERVER=${url.hostname}`,
    `PORT=${url.port || '3306'}`,
    `DATABASE=${name}`,
    `UID=${decodeURIComponent(url.username) || 'root'}`,
    `PWD=${decodeURIComponent(url.password)}`,
  ].join(';');
  return track(
    {
      name,
      profile: 'mariadb',
      connectionString,
      admin: async (sql) => (await admin.query(sql))[0] as unknown[],
      running: async (marker) => {
        const [rows] = await admin.query(
          "SELECT count(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE CONCAT('%', ?, '%') AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep'",
          [marker],
        );
        return Number((rows as Array<{ n: number }>)[0]?.n);
      },
    },
    async () => {
      await admin.query(`DROP DATABASE ${name}`);
      await admin.end();
    },
  );
}

/** Both stand-in drivers, for `describe.each(BOTH_DRIVERS)`: a title and how to make the target. */
export const BOTH_DRIVERS: ReadonlyArray<readonly [string, () => Promise<OdbcTarget>]> = [
  ['psqlODBC', postgresTarget],
  ['MariaDB ODBC', mariadbTarget],
];

/** A statement that runs long on each server (no sleep on MariaDB: BENCHMARK) and errors when cancelled. */
export const SLOW: Readonly<Record<OdbcTarget['profile'], (marker: string) => string>> = {
  postgres: (marker) => `SELECT pg_sleep(20), '${marker}' AS m`,
  mariadb: (marker) => `SELECT BENCHMARK(5000000000, MD5('${marker}'))`,
};
