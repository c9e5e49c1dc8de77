/**
 * The fault suite's PostgreSQL server, for every target whose database is
 * PostgreSQL (the PostgreSQL adapter, the ODBC adapter over psqlODBC): a
 * throwaway cluster with durable commits, a database of its own, admin
 * statements each on a connection of their own (an admin connection does
 * not survive the faults), and sessions found by application_name. The
 * target supplies only how its adapter connects.
 */
import type { DatabaseAdapter } from '@sqlwarden/core';
import pg from 'pg';
import { createThrowawayPostgres } from '../postgres-cluster.js';
import type { FaultAdapterOptions, FaultServer } from './faults.js';

/** The database the fault suite's adapter reads, on the throwaway cluster. */
export const POSTGRES_FAULT_DATABASE = 'faults';

export async function postgresFaultServer(
  createAdapter: (
    options: FaultAdapterOptions,
    database: string,
  ) => DatabaseAdapter | Promise<DatabaseAdapter>,
): Promise<FaultServer> {
  const database = POSTGRES_FAULT_DATABASE;
  // Commits acknowledged before a crash must survive it: the suite counts them.
  const cluster = await createThrowawayPostgres({ durableCommits: true });
  const url = (name: string) => {
    const parsed = new URL(cluster.url);
    parsed.pathname = `/${name}`;
    return parsed.toString();
  };
  const run = async (name: string, text: string, values?: unknown[]) => {
    const client = new pg.Client({ connectionString: url(name) });
    client.on('error', () => {});
    await client.connect();
    try {
      const result = await client.query({
        text,
        ...(values !== undefined && { values }),
        rowMode: 'array',
      });
      return result.rows as unknown[][];
    } finally {
      await client.end();
    }
  };
  await run('postgres', `CREATE DATABASE ${database}`);
  const count = async (sql: string, applicationName: string) =>
    Number((await run('postgres', sql, [applicationName]))[0]?.[0]);
  return {
    host: '127.0.0.1',
    port: cluster.port,
    exec: (sql) => run(database, sql),
    createAdapter: (options) => createAdapter(options, database),
    restart: (mode) => cluster.restart(mode === 'graceful' ? 'fast' : 'immediate'),
    terminateSessions: (applicationName) =>
      count(
        // The select list runs after WHERE (an AND could call pg_terminate_backend on any row first).
        'SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1) AS k WHERE done',
        applicationName,
      ),
    sessions: (applicationName) =>
      count('SELECT count(*) FROM pg_stat_activity WHERE application_name = $1', applicationName),
    dropDatabase: async () => {
      await run('postgres', `DROP DATABASE ${database} WITH (FORCE)`);
    },
    createDatabase: async () => {
      await run('postgres', `CREATE DATABASE ${database}`);
    },
    destroy: async () => cluster.destroy(),
  };
}
