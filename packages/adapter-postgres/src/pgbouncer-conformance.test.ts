import {
  type ConformanceNamespace,
  type ConformanceTarget,
  createTestSchema,
  describeAdapterConformance,
  type FaultServer,
  faultSettings,
  type PgBouncer,
  POSTGRES_FIXTURE,
  postgresFaultServer,
  postgresHeavyQuery,
  postgresTestUrl,
  startPgBouncer,
} from '@sqlwarden/testing';
import { afterAll, beforeAll } from 'vitest';
import { createPostgresAdapter } from './index.js';
import { quoteIdent } from './session.js';

// The adapter conformance suite (docs/conformance.md) with the adapter in
// `pooling: 'transaction'` behind a real PgBouncer in pool_mode=transaction,
// in front of the real PostgreSQL of this machine: every read and write sets
// up its own transaction, on server connections PgBouncer shares between
// the suite's adapters. The admin connection (fixtures, the process list)
// goes to PostgreSQL directly.

const target = new URL(postgresTestUrl());
const DATABASE = target.pathname.slice(1);
let bouncer: PgBouncer;

beforeAll(async () => {
  bouncer = await startPgBouncer({
    target: { host: target.hostname, port: Number(target.port || 5432) },
    poolMode: 'transaction',
    databases: [DATABASE],
    // Enough server connections for the suite's parallel calls (heavy queries
    // hold theirs while others must run), fewer than its client connections.
    defaultPoolSize: 8,
  });
});

afterAll(async () => {
  await bouncer?.stop();
});

/** Our sessions' active statements whose text holds the marker (the admin session excluded). */
const OURS =
  "application_name = 'sqlwarden' AND state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()";

async function count(admin: ConformanceNamespace, sql: string, marker: string): Promise<number> {
  const rows = await admin.exec(sql, [`%${marker}%`]);
  return Number(rows[0]?.[0]);
}

/**
 * The fault suite (faults.ts) runs on the same adapter, `pooling:
 * 'transaction'`, directly against its throwaway cluster, not through
 * PgBouncer: every fault strikes the per-transaction set-up (BEGIN with
 * its set-up, reads with theirs) as it strikes a session-mode adapter.
 * Why not through PgBouncer: the suite counts the adapter's sessions on
 * the server and holds that they end with the server's (a dropped
 * database ends them, "tells the operator once that the database is
 * unavailable..."); behind a pooler the adapter's connections are
 * PgBouncer's clients, which outlive a dropped database, a restart and
 * terminated backends by design, so that case cannot apply as written,
 * and the suite has no way to leave one case out. The faults a pooler
 * adds (PostgreSQL restarting behind PgBouncer, PgBouncer restarting)
 * are pgbouncer.test.ts's.
 */
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
          pooling: 'transaction',
        },
        defaultSchema: 'public',
        ...faultSettings(options),
      },
      { logger: options.logger },
    ),
  );
}

const postgres: ConformanceTarget = {
  name: 'PostgreSQL behind PgBouncer (transaction pooling)',
  dialect: 'postgres',

  async createNamespace(prefix) {
    const schema = await createTestSchema(prefix);
    return {
      name: schema.name,
      async exec(sql, params) {
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
      connection: {
        connectionString: bouncer.url(DATABASE, target.username),
        pooling: 'transaction',
      },
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

describeAdapterConformance(postgres);
