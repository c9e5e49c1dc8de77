import {
  describeAdapterConformance,
  type PgBouncer,
  postgresTestUrl,
  startPgBouncer,
} from '@sqlwarden/testing';
import { afterAll, beforeAll } from 'vitest';
import { postgresConformanceTarget } from './conformance-target.js';

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
describeAdapterConformance(
  postgresConformanceTarget({
    name: 'PostgreSQL behind PgBouncer (transaction pooling)',
    connection: () => ({
      connectionString: bouncer.url(DATABASE, target.username),
      pooling: 'transaction',
    }),
    pooling: 'transaction',
  }),
);
