import {
  type ConformanceNamespace,
  type ConformanceTarget,
  createTestSchema,
  type FaultServer,
  faultSettings,
  POSTGRES_FIXTURE,
  postgresFaultServer,
  postgresHeavyQuery,
} from '@sqlwarden/testing';
import type { PostgresConnectionOptions } from './config.js';
import { createPostgresAdapter } from './index.js';
import { quoteIdent } from './session.js';

/**
 * The conformance suite's PostgreSQL target (docs/conformance.md), for the
 * adapter on `connection`: directly (conformance.test.ts) or behind
 * PgBouncer (pgbouncer-conformance.test.ts). Its namespaces are schemas of
 * the test server, its admin connection goes to the server directly, and
 * its fault suite runs on a throwaway cluster of its own with `pooling`.
 */
export function postgresConformanceTarget(target: {
  readonly name: string;
  readonly connection: () => PostgresConnectionOptions;
  readonly pooling?: PostgresConnectionOptions['pooling'];
}): ConformanceTarget {
  function faultServer(): Promise<FaultServer> {
    return postgresFaultServer((options, database) =>
      createPostgresAdapter(
        {
          source: 'faults',
          connection: {
            host: options.host,
            port: options.port,
            user: 'postgres',
            database,
            ...(target.pooling !== undefined && { pooling: target.pooling }),
          },
          defaultSchema: 'public',
          ...faultSettings(options),
        },
        { logger: options.logger },
      ),
    );
  }

  return {
    name: target.name,
    dialect: 'postgres',

    async createNamespace(prefix) {
      const schema = await createTestSchema(prefix);
      return {
        name: schema.name,
        async exec(sql, params) {
          // Without values pg uses the simple protocol (admin DDL); with values, bound parameters.
          const result = await schema.client.query({
            text: sql,
            ...(params !== undefined && { values: [...params] }),
            rowMode: 'array',
          });
          return result.rows as unknown[][];
        },
        drop: () => schema.drop(),
      };
    },

    createAdapter(options) {
      return createPostgresAdapter({
        source: 'conformance',
        connection: target.connection(),
        defaultSchema: options.namespace,
        statementTimeoutMs: options.statementTimeoutMs,
        pool: { max: options.poolSize, connectionTimeoutMs: options.acquireTimeoutMs },
        allowWrites: options.allowWrites,
      });
    },
    quoteIdent,
    placeholder: (index) => `$${index}`,

    fixture: POSTGRES_FIXTURE,

    expected: {
      resultTypes: {
        id: 'int4',
        n_int: 'int4',
        n_big: 'int8',
        n_dec: 'numeric',
        n_float: 'float8',
        d_date: 'date',
        d_ts: 'timestamp',
        d_tstz: 'timestamptz',
        d_time: 'time',
        b_bin: 'bytea',
        j_doc: 'jsonb',
        s_text: 'text',
        b_flag: 'bool',
      },
      columnTypes: {
        cf_parent: { id: 'integer', code: 'character varying(20)', name: 'character varying(100)' },
        cf_child: { id: 'integer', parent_id: 'integer', note: 'character varying(100)' },
      },
      nameDefault: "'unnamed'::character varying",
    },

    // 10^10 rows from two small generated sets: minutes of work, no sleep function.
    wideText: (length) => `repeat('x', ${length})`,
    heavyQuery: postgresHeavyQuery,

    runningStatements: (admin, marker) =>
      count(admin, `SELECT count(*) FROM pg_stat_activity WHERE ${OURS}`, marker),

    killSession: (admin, marker) =>
      count(
        admin,
        `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE ${OURS}) AS k WHERE done`,
        marker,
      ),

    faults: { createServer: faultServer },
  };
}

/** Our sessions' active statements whose text holds the marker (the admin session excluded). */
const OURS =
  "application_name = 'sqlwarden' AND state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()";

async function count(admin: ConformanceNamespace, sql: string, marker: string): Promise<number> {
  const rows = await admin.exec(sql, [`%${marker}%`]);
  return Number(rows[0]?.[0]);
}
