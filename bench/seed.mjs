// Seeds the benchmark databases, one per engine. Importable
// (`import { seed } from "./seed.mjs"`) and runnable (`node seed.mjs`).
//
// Data is generated inside the database server (PostgreSQL's generate_series,
// MariaDB's SEQUENCE engine), so no rows travel through Node, and is
// deterministic: the same run always produces the same rows, so numbers from
// different machines, days and engines compare.
//
//   customers: 100,000 rows  (id integer PK, name, email, city, state char(2), created_at)
//   orders:  1,000,000 rows  (id bigint PK, customer_id FK, status, total numeric(10,2),
//                             created_at, note) + index on orders(customer_id)
//
// Both engines hold the same values in the same columns; only the types are
// each engine's own (PostgreSQL text/timestamptz, MySQL varchar/timestamp).
//
// Idempotent: when both tables exist with exactly these row counts, nothing is done.

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sqlwarden_bench';
export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/sqlwarden_bench';
/** The engines this module seeds, and the database URL each uses by default. */
export const DEFAULT_DATABASE_URLS = Object.freeze({
  postgres: DEFAULT_DATABASE_URL,
  mysql: DEFAULT_MYSQL_URL,
});
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
 * PostgreSQL: creates the database and tables if needed. Returns { seeded, ms }.
 * @param {{ databaseUrl?: string, log?: (msg: string) => void }} [options]
 */
export async function seedPostgres({ databaseUrl = DEFAULT_DATABASE_URL, log = console.log } = {}) {
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

  return report(log, seeded, performance.now() - start, '');
}

function report(log, seeded, ms, prefix) {
  log(
    seeded
      ? `seed: ${prefix}seeded ${CUSTOMERS} customers + ${ORDERS} orders in ${(ms / 1000).toFixed(1)} s`
      : `seed: ${prefix}already seeded (checked in ${ms.toFixed(0)} ms)`,
  );
  return { seeded, ms };
}

// --- MySQL / MariaDB ----------------------------------------------------------

/**
 * mysql2 connection options from a mysql:// URL. `withDatabase: false` leaves
 * the database out (to CREATE it). The session time zone is UTC so the
 * TIMESTAMP values stored are the same on every machine.
 */
function mysqlOptions(databaseUrl, { withDatabase = true } = {}) {
  const url = new URL(databaseUrl);
  return {
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    ...(withDatabase ? { database: mysqlDatabaseName(databaseUrl) } : {}),
    timezone: 'Z',
  };
}

export function mysqlDatabaseName(databaseUrl) {
  return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
}

/** Opens one mysql2 connection to the URL's database (creating it if needed). */
export async function connectMysql(databaseUrl) {
  const name = mysqlDatabaseName(databaseUrl);
  if (!/^\w+$/.test(name)) throw new Error(`seed: unexpected MySQL database name ${name}`);
  const admin = await mysql.createConnection(mysqlOptions(databaseUrl, { withDatabase: false }));
  try {
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4`);
  } finally {
    await admin.end();
  }
  const conn = await mysql.createConnection(mysqlOptions(databaseUrl));
  await conn.query("SET time_zone = '+00:00'");
  return conn;
}

/** Row count of <table> in the current database, or null if it does not exist. */
async function countMysqlRows(conn, table) {
  const [present] = await conn.query(
    'SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
    [table],
  );
  if (present.length === 0) return null;
  const [rows] = await conn.query(`SELECT count(*) AS n FROM \`${table}\``);
  return Number(rows[0].n);
}

/** Rows per INSERT ... SELECT: small transactions keep InnoDB's undo log short. */
const MYSQL_BATCH = 100_000;

// The same expressions as the PostgreSQL seed: ELT(n, ...) is ARRAY[...][n],
// and seq_<from>_to_<to> (MariaDB's SEQUENCE engine) is generate_series.
const MYSQL_SCHEMA = [
  'DROP TABLE IF EXISTS orders',
  'DROP TABLE IF EXISTS customers',
  `CREATE TABLE customers (
    id         int NOT NULL PRIMARY KEY,
    name       varchar(255) NOT NULL,
    email      varchar(255) NOT NULL,
    city       varchar(255) NOT NULL,
    state      char(2) NOT NULL,
    created_at timestamp NOT NULL
  ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`,
  `CREATE TABLE orders (
    id          bigint NOT NULL PRIMARY KEY,
    customer_id int NOT NULL,
    status      varchar(255) NOT NULL,
    total       decimal(10,2) NOT NULL,
    created_at  timestamp NOT NULL,
    note        varchar(255) NULL
  ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`,
];

const mysqlCustomersFrom = (from, to) => `
INSERT INTO customers (id, name, email, city, state, created_at)
SELECT seq,
       CONCAT('Customer ', seq),
       CONCAT('customer', seq, '@example.com'),
       ELT(1 + (seq * 7) % 10, 'Springfield','Riverside','Franklin','Greenville','Bristol',
           'Clinton','Fairview','Salem','Madison','Georgetown'),
       ELT(1 + (seq * 13) % 10, 'CA','TX','NY','FL','IL','PA','OH','GA','NC','MI'),
       TIMESTAMP'2020-01-01 00:00:00' + INTERVAL (seq % 1461) DAY + INTERVAL (seq % 86400) SECOND
FROM seq_${from}_to_${to}`;

const mysqlOrdersFrom = (from, to) => `
INSERT INTO orders (id, customer_id, status, total, created_at, note)
SELECT seq,
       1 + (seq * 7919) % ${CUSTOMERS},
       ELT(1 + seq % 5, 'pending','paid','shipped','delivered','cancelled'),
       ((seq * 37) % 100000) / 100.0,
       TIMESTAMP'2023-01-01 00:00:00' + INTERVAL (seq * 30) SECOND,
       CASE WHEN seq % 4 = 0 THEN NULL ELSE CONCAT('order note ', seq, ': deliver to front desk') END
FROM seq_${from}_to_${to}`;

/** Runs `statementFor(from, to)` over 1..total in batches of MYSQL_BATCH. */
async function insertInBatches(conn, total, statementFor) {
  for (let from = 1; from <= total; from += MYSQL_BATCH) {
    await conn.query(statementFor(from, Math.min(total, from + MYSQL_BATCH - 1)));
  }
}

/**
 * MySQL / MariaDB: creates the database and tables if needed. Needs MariaDB's
 * SEQUENCE engine (MariaDB >= 10.0; not in Oracle MySQL). Returns { seeded, ms }.
 * @param {{ databaseUrl?: string, log?: (msg: string) => void }} [options]
 */
export async function seedMysql({ databaseUrl = DEFAULT_MYSQL_URL, log = console.log } = {}) {
  const start = performance.now();
  const conn = await connectMysql(databaseUrl);
  let seeded = false;
  try {
    const customers = await countMysqlRows(conn, 'customers');
    const orders = await countMysqlRows(conn, 'orders');
    if (customers !== CUSTOMERS || orders !== ORDERS) {
      log(
        `seed: mysql: customers=${customers ?? 'missing'} orders=${orders ?? 'missing'}; (re)creating`,
      );
      // Session-only: skip per-row foreign key and unique checks while loading
      // rows that are correct by construction; the constraints are added after.
      await conn.query('SET SESSION foreign_key_checks = 0, unique_checks = 0');
      for (const statement of MYSQL_SCHEMA) await conn.query(statement);
      await insertInBatches(conn, CUSTOMERS, mysqlCustomersFrom);
      await insertInBatches(conn, ORDERS, mysqlOrdersFrom);
      // One pass builds the index that the foreign key needs (named as in
      // PostgreSQL); with foreign_key_checks = 0 the rows are not re-checked.
      await conn.query(
        `ALTER TABLE orders ADD INDEX orders_customer_id_idx (customer_id),
           ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id)`,
      );
      await conn.query('SET SESSION foreign_key_checks = 1, unique_checks = 1');
      // Statistics for the optimizer, as VACUUM ANALYZE does for PostgreSQL.
      await conn.query('ANALYZE TABLE customers, orders');
      seeded = true;
    }
  } finally {
    await conn.end();
  }
  return report(log, seeded, performance.now() - start, 'mysql: ');
}

/** Seeds one engine's database: `postgres` or `mysql`. */
export async function seed({ engine = 'postgres', databaseUrl, log = console.log } = {}) {
  const url = databaseUrl ?? DEFAULT_DATABASE_URLS[engine];
  switch (engine) {
    case 'postgres':
      return seedPostgres({ databaseUrl: url, log });
    case 'mysql':
      return seedMysql({ databaseUrl: url, log });
    default:
      throw new Error(`seed: unknown engine ${engine} (postgres or mysql)`);
  }
}

// Runnable: `node seed.mjs` seeds the engines of BENCH_ENGINE (postgres, mysql
// or all; default all) at BENCH_DATABASE_URL / BENCH_MYSQL_URL if set.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const choice = process.env.BENCH_ENGINE || 'all';
  const engines = choice === 'all' ? ['postgres', 'mysql'] : [choice];
  const urls = {
    postgres: process.env.BENCH_DATABASE_URL || DEFAULT_DATABASE_URL,
    mysql: process.env.BENCH_MYSQL_URL || DEFAULT_MYSQL_URL,
  };
  (async () => {
    for (const engine of engines) await seed({ engine, databaseUrl: urls[engine] });
  })().catch((error) => {
    console.error('seed failed:', error);
    process.exitCode = 1;
  });
}
