// Seeds the benchmark database. Importable (`import { seed } from "./seed.mjs"`)
// and runnable (`node seed.mjs`).
//
// Data is generated inside PostgreSQL with generate_series (no rows travel
// through Node), and is deterministic: the same run always produces the same
// rows, so numbers from different machines and days compare.
//
//   customers: 100,000 rows  (id integer PK, name, email, city, state char(2), created_at)
//   orders:  1,000,000 rows  (id bigint PK, customer_id FK, status, total numeric(10,2),
//                             created_at, note) + index on orders(customer_id)
//
// Idempotent: when both tables exist with exactly these row counts, nothing is done.

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sqlwarden_bench';
export const CUSTOMERS = 100_000;
export const ORDERS = 1_000_000;

/** Same server, database "postgres": used to CREATE DATABASE. */
function adminUrl(databaseUrl) {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
}

function databaseName(databaseUrl) {
  return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
}

async function withClient(connectionString, fn) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function ensureDatabase(databaseUrl) {
  const name = databaseName(databaseUrl);
  await withClient(adminUrl(databaseUrl), async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      // Identifiers cannot be bound as parameters; quote it by hand.
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      console.log(`seed: created database ${name}`);
    }
  });
}

/** Row count of public.<table>, or null if the table does not exist. */
async function countRows(client, table) {
  const { rows } = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [
    `public.${table}`,
  ]);
  if (!rows[0].present) return null;
  const res = await client.query(`SELECT count(*)::bigint AS n FROM public.${table}`);
  return Number(res.rows[0].n);
}

const SCHEMA_AND_DATA = `
DROP TABLE IF EXISTS public.orders;
DROP TABLE IF EXISTS public.customers;

CREATE TABLE public.customers (
  id         integer PRIMARY KEY,
  name       text NOT NULL,
  email      text NOT NULL,
  city       text NOT NULL,
  state      char(2) NOT NULL,
  created_at timestamptz NOT NULL
);

INSERT INTO public.customers (id, name, email, city, state, created_at)
SELECT i,
       'Customer ' || i,
       'customer' || i || '@example.com',
       (ARRAY['Springfield','Riverside','Franklin','Greenville','Bristol','Clinton',
              'Fairview','Salem','Madison','Georgetown'])[1 + (i * 7) % 10],
       (ARRAY['CA','TX','NY','FL','IL','PA','OH','GA','NC','MI'])[1 + (i * 13) % 10],
       timestamptz '2020-01-01 00:00:00+00' + (i % 1461) * interval '1 day' + (i % 86400) * interval '1 second'
FROM generate_series(1, ${CUSTOMERS}) AS s(i);

CREATE TABLE public.orders (
  id          bigint PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES public.customers (id),
  status      text NOT NULL,
  total       numeric(10,2) NOT NULL,
  created_at  timestamptz NOT NULL,
  note        text
);

INSERT INTO public.orders (id, customer_id, status, total, created_at, note)
SELECT i,
       (1 + (i * 7919) % ${CUSTOMERS})::integer,
       (ARRAY['pending','paid','shipped','delivered','cancelled'])[1 + i % 5],
       ((i * 37) % 100000) / 100.0,
       timestamptz '2023-01-01 00:00:00+00' + i * interval '30 seconds',
       CASE WHEN i % 4 = 0 THEN NULL ELSE 'order note ' || i || ': deliver to front desk' END
FROM generate_series(1::bigint, ${ORDERS}) AS s(i);

CREATE INDEX orders_customer_id_idx ON public.orders (customer_id);
`;

/**
 * Creates the database and tables if needed. Returns { seeded, ms }.
 * @param {{ databaseUrl?: string, log?: (msg: string) => void }} [options]
 */
export async function seed({ databaseUrl = DEFAULT_DATABASE_URL, log = console.log } = {}) {
  const start = performance.now();
  await ensureDatabase(databaseUrl);

  const seeded = await withClient(databaseUrl, async (client) => {
    const customers = await countRows(client, 'customers');
    const orders = await countRows(client, 'orders');
    if (customers === CUSTOMERS && orders === ORDERS) return false;

    log(`seed: customers=${customers ?? 'missing'} orders=${orders ?? 'missing'}; (re)creating`);
    await client.query('BEGIN');
    try {
      await client.query(SCHEMA_AND_DATA);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    // VACUUM FREEZE sets hint bits and the visibility map now, so the first
    // server to scan the fresh tables does not pay for writing them (that
    // would make whichever server runs first look slower). ANALYZE gives the
    // planner statistics. Neither can run inside a transaction block.
    await client.query('VACUUM (FREEZE, ANALYZE) public.customers');
    await client.query('VACUUM (FREEZE, ANALYZE) public.orders');
    return true;
  });

  const ms = performance.now() - start;
  log(
    seeded
      ? `seed: seeded ${CUSTOMERS} customers + ${ORDERS} orders in ${(ms / 1000).toFixed(1)} s`
      : `seed: already seeded (checked in ${ms.toFixed(0)} ms)`,
  );
  return { seeded, ms };
}

// Runnable: `node seed.mjs` (uses BENCH_DATABASE_URL if set).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  seed({ databaseUrl: process.env.BENCH_DATABASE_URL || DEFAULT_DATABASE_URL }).catch((error) => {
    console.error('seed failed:', error);
    process.exitCode = 1;
  });
}
