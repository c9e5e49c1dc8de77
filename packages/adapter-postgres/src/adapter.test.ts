import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import { SqlwardenError } from '@sqlwarden/core';
import { postgresTestUrl } from '@sqlwarden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresAdapter, type PgModule } from './index.js';

// Integration tests against the real PostgreSQL of this machine
// (SQLWARDEN_TEST_PG_URL), in a schema of their own, dropped afterwards.

const SCHEMA = `sqlwarden_pg_${process.pid}_${Date.now().toString(36)}`;
const ROLE = `${SCHEMA}_ro`;
let admin: pg.Client;
let adapter: SourceAdapter;

const LIMITS = { maxRows: 1000, maxBytes: 1_048_576, timeoutMs: 5000 };
const signal = () => new AbortController().signal;
const read = (
  sql: string,
  params: unknown[] = [],
  limits: Partial<typeof LIMITS> = {},
  abort?: AbortSignal,
) => adapter.read({ sql, params, limits: { ...LIMITS, ...limits }, signal: abort ?? signal() });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return SqlwardenError.is(error) ? error.code : `not a SqlwardenError: ${String(error)}`;
  }
}

function urlFor(user: string): string {
  const url = new URL(postgresTestUrl());
  url.username = user;
  url.password = '';
  return url.toString();
}

function newAdapter(
  overrides: { user?: string; timeoutMs?: number; url?: string; allowWrites?: boolean } = {},
) {
  return createPostgresAdapter({
    allowWrites: overrides.allowWrites ?? false,
    source: 'main',
    connection: {
      connectionString:
        overrides.url ?? urlFor(overrides.user ?? new URL(postgresTestUrl()).username),
    },
    defaultSchema: SCHEMA,
    statementTimeoutMs: overrides.timeoutMs ?? 5000,
    pool: { max: 3, connectionTimeoutMs: 2000 },
  });
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: postgresTestUrl() });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${SCHEMA}`);
  await admin.query(`SET search_path = ${SCHEMA}`);
  await admin.query(`
    CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
    COMMENT ON TABLE customers IS 'People who buy';
    CREATE TABLE items (
      id int PRIMARY KEY,
      customer_id int REFERENCES customers (id),
      name text NOT NULL DEFAULT 'unnamed',
      price numeric(12, 2),
      big int8,
      created timestamptz,
      day date,
      data jsonb,
      blob bytea,
      flag bool,
      ratio float8,
      tags text[]
    );
    COMMENT ON COLUMN items.price IS 'Unit price in EUR';
    CREATE INDEX items_customer ON items (customer_id);
    CREATE VIEW cheap_items AS SELECT id, name FROM items WHERE price < 10;
    CREATE TABLE numbers AS SELECT g AS n, repeat('x', 100) AS pad FROM generate_series(1, 200000) g;
    ANALYZE numbers;
    CREATE TABLE "we'ird" (id int);
    INSERT INTO "we'ird" VALUES (1);
    CREATE SEQUENCE seq;
    CREATE FUNCTION my_volatile() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1';
    CREATE FUNCTION lower(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1';
    INSERT INTO customers VALUES (1, 'Ada');
    INSERT INTO items VALUES
      (1, 1, 'widget', 9.99, 9007199254740993, '2024-03-01 10:00:00+02', '2024-03-01', '{"a": 12345678901234567890}', '\\xdeadbeef', true, 0.5, '{a,"b c"}'),
      (2, NULL, DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'NaN', NULL);
  `);
  adapter = newAdapter();
});

afterAll(async () => {
  await adapter?.close();
  await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin?.query(`DROP ROLE IF EXISTS ${ROLE}`);
  await admin?.end();
});

describe('reads', () => {
  it('keeps values JSON cannot hold exactly as the exact text the server sent', async () => {
    const result = await read(
      'SELECT price, big, created, day, data, blob, flag, ratio, tags FROM items ORDER BY id',
    );
    expect(result.rows).toEqual([
      [
        '9.99',
        '9007199254740993',
        '2024-03-01 08:00:00+00',
        '2024-03-01',
        '{"a": 12345678901234567890}',
        '\\xdeadbeef',
        true,
        0.5,
        '{a,"b c"}',
      ],
      [null, null, null, null, null, null, null, 'NaN', null],
    ]);
    expect(result.columns.map((c) => c.type)).toEqual([
      'numeric',
      'int8',
      'timestamptz',
      'date',
      'jsonb',
      'bytea',
      'bool',
      'float8',
      'text[]',
    ]);
  });

  it('binds parameters, including one that looks like an injection', async () => {
    const attack = "'; DROP TABLE items; --";
    const result = await read(
      'SELECT $1::text AS v, $2::int + 1 AS n, $3::bool AS b, $4::int[] AS a',
      [attack, 41, true, [1, 2]],
    );
    expect(result.rows).toEqual([[attack, 42, true, '{1,2}']]);
    expect((await read('SELECT count(*)::int FROM items')).rows).toEqual([[2]]);
  });

  it('runs in a read-only session: a volatile function that writes (nextval) fails with READ_ONLY', async () => {
    expect(await codeOf(read("SELECT nextval('seq')"))).toBe('READ_ONLY');
  });

  it('sets up the session: read-only, search path, time zone, application name', async () => {
    const result = await read(
      "SELECT current_setting('default_transaction_read_only'), current_setting('search_path'), current_setting('TimeZone'), current_setting('application_name'), current_setting('standard_conforming_strings')",
    );
    expect(result.rows).toEqual([['on', SCHEMA, 'UTC', 'sqlwarden', 'on']]);
  });
});

describe("the session's share of the server", () => {
  const CAPPED = `${SCHEMA}_cap`;
  beforeAll(async () => {
    await admin.query(`CREATE ROLE ${CAPPED} LOGIN`);
    await admin.query(`GRANT USAGE ON SCHEMA ${SCHEMA} TO ${CAPPED}`);
    await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${SCHEMA} TO ${CAPPED}`);
  });
  afterAll(async () => {
    await admin.query(`DROP OWNED BY ${CAPPED}`);
    await admin.query(`DROP ROLE IF EXISTS ${CAPPED}`);
  });

  it('lowers work_mem and hash_mem_multiplier to their caps, never raising them', async () => {
    const settings =
      "SELECT current_setting('work_mem'), current_setting('hash_mem_multiplier'), current_setting('idle_in_transaction_session_timeout')";
    // The test role's own work_mem is above the cap, then below it.
    const rowOf = async (on: SourceAdapter) =>
      (await on.read({ sql: settings, params: [], limits: LIMITS, signal: signal() })).rows[0];
    // Role settings apply when a connection opens: each adapter reads right after the ALTER.
    await admin.query(`ALTER ROLE ${CAPPED} SET work_mem = '256MB'`);
    const high = newAdapter({ user: CAPPED });
    const low = newAdapter({ user: CAPPED });
    try {
      expect(await rowOf(high)).toEqual(['16MB', '2', '10s']);
      await admin.query(`ALTER ROLE ${CAPPED} SET work_mem = '1MB'`);
      expect((await rowOf(low))?.[0]).toBe('1MB');
    } finally {
      await high.close();
      await low.close();
      await admin.query(`ALTER ROLE ${CAPPED} RESET work_mem`);
    }
  });

  it("a role's temp_file_limit (the recipe's) ends a statement that spills too much: QUERY_FAILED, not an outage", async () => {
    await admin.query(`ALTER ROLE ${CAPPED} SET temp_file_limit = '1MB'`);
    await admin.query(`ALTER ROLE ${CAPPED} SET work_mem = '64kB'`);
    const limited = newAdapter({ user: CAPPED });
    try {
      // A full sort of 200 000 rows with 64 kB of work_mem spills far past 1 MB.
      const error = await limited
        .read({
          sql: 'SELECT n, md5(n::text) AS h FROM numbers ORDER BY h',
          params: [],
          limits: LIMITS,
          signal: signal(),
        })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(SqlwardenError.is(error) && error.code).toBe('QUERY_FAILED');
      expect(SqlwardenError.is(error) && error.message).toMatch(/temporary/);
    } finally {
      await limited.close();
      await admin.query(`ALTER ROLE ${CAPPED} RESET temp_file_limit`);
      await admin.query(`ALTER ROLE ${CAPPED} RESET work_mem`);
    }
  });
});

describe('memory bounded per value (the frame gate)', () => {
  it('turns a value past what the driver can hold into INTERNAL for that call, and goes on', async () => {
    // Admitted (maxBytes is 1 GiB), then too long for a JavaScript string: the
    // driver throws in its socket handler, which would end the process.
    const patient = newAdapter({ timeoutMs: 60_000 });
    try {
      const error = await patient
        .read({
          sql: "SELECT repeat('x', 540000000) AS big",
          params: [],
          limits: { ...LIMITS, maxBytes: 1_073_741_824, timeoutMs: 60_000 },
          signal: signal(),
        })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(SqlwardenError.is(error) && error.code).toBe('INTERNAL');
      const next = await patient.read({
        sql: 'SELECT 3 AS ok',
        params: [],
        limits: LIMITS,
        signal: signal(),
      });
      expect(next.rows).toEqual([[3]]);
    } finally {
      await patient.close();
    }
  }, 60_000);
});

describe('connection loss', () => {
  it('gives every client an error listener from its construction, before it connects', async () => {
    // A pg whose client emits 'error' as soon as it has connected, before the
    // kit's own code runs: without a listener from construction on, emit
    // throws (and an 'error' event nobody listens to ends the process). The
    // call still answers; the client, reported lost, is not reused.
    const emitted: unknown[] = [];
    class EagerClient extends pg.Client {
      constructor(config: pg.ClientConfig) {
        super(config);
        this.once('connect', () => {
          emitted.push(this.emit('error', new Error('an error right after the handshake')));
        });
      }
    }
    const eager = createPostgresAdapter(
      {
        source: 'main',
        connection: { connectionString: postgresTestUrl() },
        defaultSchema: SCHEMA,
        statementTimeoutMs: 5000,
        pool: { max: 1 },
      },
      { pg: { Client: EagerClient } as unknown as PgModule },
    );
    try {
      const once = async () =>
        (await eager.read({ sql: 'SELECT 1', params: [], limits: LIMITS, signal: signal() })).rows;
      expect(await once()).toEqual([[1]]);
      expect(await once()).toEqual([[1]]);
      expect(emitted).toEqual([true, true]);
    } finally {
      await eager.close();
    }
  });
});

describe('introspection', () => {
  it('reads the function catalog as PostgreSQL resolves names', async () => {
    const catalog = await adapter.functionCatalog();
    expect(catalog.volatile).toEqual(
      expect.arrayContaining(['random', 'nextval', 'my_volatile', `${SCHEMA}.my_volatile`]),
    );
    expect(catalog.volatile).not.toContain('upper');
    expect(catalog.userDefined).toEqual(
      expect.arrayContaining(['my_volatile', `${SCHEMA}.my_volatile`, `${SCHEMA}.lower`]),
    );
    // lower(x) resolves to pg_catalog.lower first: the user function of that name does not make it refused.
    expect(catalog.userDefined).not.toContain('lower');
    expect(await adapter.functionCatalog()).toBe(catalog);
  });
});

describe('least-privilege report', () => {
  const serves = (schema: string) => schema === SCHEMA;

  it('warns when a read-only source connects as a superuser', async () => {
    const report = await adapter.privilegeReport({ readOnly: true, serves });
    expect(report.warnings.join('\n')).toMatch(/superuser.*least-privilege/s);
  });

  it('is quiet for a SELECT-only role, and warns once that role can write a served table', async () => {
    await admin.query(`CREATE ROLE ${ROLE} LOGIN`);
    await admin.query(`GRANT USAGE ON SCHEMA ${SCHEMA} TO ${ROLE}`);
    await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${SCHEMA} TO ${ROLE}`);
    const limited = newAdapter({ user: ROLE });
    try {
      expect((await limited.privilegeReport({ readOnly: true, serves })).warnings).toEqual([]);
      await admin.query(`GRANT INSERT ON ${SCHEMA}.items TO ${ROLE}`);
      const report = await limited.privilegeReport({ readOnly: true, serves });
      expect(report.warnings).toEqual([
        expect.stringMatching(
          new RegExp(`can write 1 of the tables it serves \\(${SCHEMA}\\.items\\)`),
        ),
      ]);
    } finally {
      await limited.close();
      await admin.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${SCHEMA} FROM ${ROLE}`);
      await admin.query(`REVOKE ALL ON SCHEMA ${SCHEMA} FROM ${ROLE}`);
    }
  });
});
