import { SqlwardenError } from '@sqlwarden/core';
import { postgresTestUrl } from '@sqlwarden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresAdapter } from './adapter.js';
import { createPostgresAdapter, type PgModule } from './index.js';

// Integration tests against the real PostgreSQL of this machine
// (SQLWARDEN_TEST_PG_URL), in a schema of their own, dropped afterwards.

const SCHEMA = `sqlwarden_pg_${process.pid}_${Date.now().toString(36)}`;
const ROLE = `${SCHEMA}_ro`;
let admin: pg.Client;
let adapter: PostgresAdapter;

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

/** Active statements of this test's sessions, seen from another session. */
async function activeStatements(marker: string): Promise<number> {
  const result = await admin.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'sqlwarden' AND state = 'active' AND query LIKE $1",
    [`%${marker}%`],
  );
  return result.rows[0].n;
}

async function eventually(check: () => Promise<boolean>, ms = 3000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
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
  it('returns columns with type names and rows as arrays', async () => {
    const result = await read('SELECT id, name FROM items ORDER BY id');
    expect(result).toEqual({
      columns: [
        { name: 'id', type: 'int4' },
        { name: 'name', type: 'text' },
      ],
      rows: [
        [1, 'widget'],
        [2, 'unnamed'],
      ],
      rowCount: 2,
      truncated: false,
    });
  });

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

  it('reads a table whose name holds a quote', async () => {
    expect((await read('SELECT id FROM "we\'ird"')).rows).toEqual([[1]]);
  });

  it('refuses a stacked statement sent straight to it, bypassing the guard, and runs none of it', async () => {
    for (const params of [[], [1]]) {
      const sql =
        params.length === 0 ? 'SELECT 1; DROP TABLE items' : 'SELECT $1::int; DROP TABLE items';
      expect(await codeOf(read(sql, params))).toBe('QUERY_FAILED');
    }
    expect((await read('SELECT count(*)::int FROM items')).rows).toEqual([[2]]);
  });

  it('runs in a read-only session: a write that reached it fails, and nothing changes', async () => {
    expect(await codeOf(read("INSERT INTO items (id, name) VALUES (99, 'x')"))).toBe('READ_ONLY');
    expect(await codeOf(read("SELECT nextval('seq')"))).toBe('READ_ONLY');
    expect((await read('SELECT count(*)::int FROM items')).rows).toEqual([[2]]);
  });

  it('sets up the session: read-only, search path, time zone, application name', async () => {
    const result = await read(
      "SELECT current_setting('default_transaction_read_only'), current_setting('search_path'), current_setting('TimeZone'), current_setting('application_name'), current_setting('standard_conforming_strings')",
    );
    expect(result.rows).toEqual([['on', SCHEMA, 'UTC', 'sqlwarden', 'on']]);
  });
});

describe('limits', () => {
  it('stops at maxRows over a large table and says so', async () => {
    const result = await read('SELECT * FROM numbers', [], { maxRows: 10 });
    expect(result.rowCount).toBe(10);
    expect(result.rows.map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(result).toMatchObject({ truncated: true, truncatedReason: 'maxRows' });
  });

  it('is not truncated when the result has exactly maxRows rows', async () => {
    const result = await read('SELECT n FROM numbers WHERE n <= 10', [], { maxRows: 10 });
    expect(result).toMatchObject({ rowCount: 10, truncated: false });
  });

  it('stops at maxBytes and keeps the rows within the budget', async () => {
    const result = await read('SELECT * FROM numbers', [], { maxRows: 1000, maxBytes: 2000 });
    expect(result).toMatchObject({ truncated: true, truncatedReason: 'maxBytes' });
    expect(result.rowCount).toBeGreaterThan(0);
    expect(Buffer.byteLength(JSON.stringify(result.rows))).toBeLessThanOrEqual(2000);
  });

  it('answers a SELECT * over a large table with at most maxRows rows', async () => {
    const result = await read('SELECT * FROM numbers', [], { maxRows: 1000 });
    expect(result).toMatchObject({ rowCount: 1000, truncated: true });
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
    const rowOf = async (on: PostgresAdapter) =>
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
  it('answers the rows that fit when later rows pass maxBytes, not a timeout', async () => {
    // 200 rows of 100 kB: about 10 fit in 1 MiB; the rest must not be read.
    const result = await read("SELECT repeat('y', 100000) AS v FROM generate_series(1, 200)");
    expect(result).toMatchObject({ truncated: true, truncatedReason: 'maxBytes' });
    expect(result.rowCount).toBe(10);
    expect(Buffer.byteLength(JSON.stringify(result.rows))).toBeLessThanOrEqual(LIMITS.maxBytes);
    expect((await read('SELECT 1 AS ok')).rows).toEqual([[1]]);
  });

  it('never reads a value wider than what the call may receive', async () => {
    const result = await read("SELECT repeat('x', 100000000) AS big");
    expect(result).toMatchObject({
      rowCount: 0,
      truncated: true,
      truncatedReason: 'maxBytes',
      columns: [{ name: 'big', type: 'text' }],
    });
    expect((await read('SELECT 2 AS ok')).rows).toEqual([[2]]);
  });

  it('keeps the rows before a row too wide, and stops there', async () => {
    const result = await read(
      "SELECT n, CASE WHEN n = 3 THEN repeat('z', 20000000) ELSE 'small' END AS v FROM generate_series(1, 5) n ORDER BY n",
    );
    expect(result.rows).toEqual([
      [1, 'small'],
      [2, 'small'],
    ]);
    expect(result).toMatchObject({ truncated: true, truncatedReason: 'maxBytes' });
  });

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

describe('time limits and cancellation', () => {
  const HEAVY = 'SELECT count(*) FROM generate_series(1, 500000000) AS heavy_marker_TAG';

  it('cancels a statement past its time on the server, and the connection stays usable', async () => {
    const sql = HEAVY.replace('TAG', 'timeout');
    expect(await codeOf(read(sql, [], { timeoutMs: 300 }))).toBe('QUERY_TIMEOUT');
    expect(
      await eventually(async () => (await activeStatements('heavy_marker_timeout')) === 0),
    ).toBe(true);
    expect((await read('SELECT 1 AS ok')).rows).toEqual([[1]]);
  });

  it('cancels a statement on the server when the call is aborted', async () => {
    const controller = new AbortController();
    const sql = HEAVY.replace('TAG', 'abort');
    const pending = codeOf(read(sql, [], {}, controller.signal));
    await eventually(async () => (await activeStatements('heavy_marker_abort')) === 1);
    controller.abort();
    expect(await pending).toBe('QUERY_CANCELLED');
    expect(await eventually(async () => (await activeStatements('heavy_marker_abort')) === 0)).toBe(
      true,
    );
    expect((await read('SELECT 1 AS ok')).rows).toEqual([[1]]);
  });

  it('never raises the session limit: a call asking for more gets the source ceiling', async () => {
    const strict = newAdapter({ timeoutMs: 300 });
    try {
      expect(
        await codeOf(
          strict.read({
            sql: HEAVY.replace('TAG', 'ceiling'),
            params: [],
            limits: { ...LIMITS, timeoutMs: 60_000 },
            signal: signal(),
          }),
        ),
      ).toBe('QUERY_TIMEOUT');
    } finally {
      await strict.close();
    }
  });
});

describe('connection loss', () => {
  it('reports DB_UNAVAILABLE when its backend is killed mid-statement, then recovers', async () => {
    const pending = codeOf(read('SELECT pg_sleep(5) AS kill_marker'));
    await eventually(async () => (await activeStatements('kill_marker')) === 1);
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sqlwarden' AND query LIKE '%kill_marker%' AND pid <> pg_backend_pid()",
    );
    expect(await pending).toBe('DB_UNAVAILABLE');
    expect((await read('SELECT 1 AS back')).rows).toEqual([[1]]);
  });

  it('reports DB_UNAVAILABLE promptly when nothing listens', async () => {
    const url = new URL(postgresTestUrl());
    url.port = '1';
    const nowhere = newAdapter({ url: url.toString() });
    try {
      expect(
        await codeOf(
          nowhere.read({ sql: 'SELECT 1', params: [], limits: LIMITS, signal: signal() }),
        ),
      ).toBe('DB_UNAVAILABLE');
      expect(await nowhere.health()).toMatchObject({ ok: false });
    } finally {
      await nowhere.close();
    }
  });

  it('tells the operator once why the database is unavailable (SQLSTATE, not the message)', async () => {
    const url = new URL(postgresTestUrl());
    url.pathname = `/${SCHEMA}_no_such_database`;
    const lines: Array<{ level: string; object: Record<string, unknown>; message: string }> = [];
    const record = (level: string) => (object: Record<string, unknown>, message: string) =>
      lines.push({ level, object, message });
    const missing = createPostgresAdapter(
      {
        source: 'main',
        connection: { connectionString: url.toString() },
        defaultSchema: SCHEMA,
        statementTimeoutMs: 5000,
      },
      { logger: { info: record('info'), warn: record('warn'), error: record('error') } },
    );
    try {
      const once = () =>
        codeOf(missing.read({ sql: 'SELECT 1', params: [], limits: LIMITS, signal: signal() }));
      expect(await once()).toBe('DB_UNAVAILABLE');
      expect(await once()).toBe('DB_UNAVAILABLE');
      const warnings = lines.filter((l) => l.message.includes('unavailable'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.level).toBe('warn');
      expect(warnings[0]?.object.err).toMatchObject({ code: '3D000' });
      // The logger gets the error's code, never the driver's message (it names the database).
      expect(warnings[0]?.object.err).not.toBeInstanceOf(Error);
      expect(JSON.stringify(lines)).not.toContain('no_such_database');
    } finally {
      await missing.close();
    }
  });

  it("gives every client an error listener before pg-pool hands it out (the pool's 'connect' event)", async () => {
    // A pg whose pool emits 'error' on each client right after handing it out,
    // before the adapter's own code runs: the gap an error listener added at
    // first use would leave. Without a listener, emit throws.
    const emitted: unknown[] = [];
    class EagerPool extends pg.Pool {
      override async connect(): Promise<pg.PoolClient> {
        const client = await super.connect();
        emitted.push(client.emit('error', new Error('an error between hand-over and first use')));
        return client;
      }
    }
    const eager = createPostgresAdapter(
      {
        source: 'main',
        connection: { connectionString: postgresTestUrl() },
        defaultSchema: SCHEMA,
        statementTimeoutMs: 5000,
      },
      { pg: { Pool: EagerPool } as unknown as PgModule },
    );
    try {
      expect(
        (await eager.read({ sql: 'SELECT 1', params: [], limits: LIMITS, signal: signal() })).rows,
      ).toEqual([[1]]);
      expect(emitted).toEqual([true]);
    } finally {
      await eager.close();
    }
  });

  it('answers DB_UNAVAILABLE, not SOURCE_BUSY, when the pool is full of connections that cannot open', async () => {
    // A port that accepts and never answers: the pool's slots fill with
    // connections still opening, and a queued call times out. Calls do not
    // hold those connections, so the source is not busy: it is unavailable.
    const { createServer } = await import('node:net');
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const url = new URL(postgresTestUrl());
    url.hostname = '127.0.0.1';
    url.port = String(port);
    const stuck = createPostgresAdapter({
      source: 'main',
      connection: { connectionString: url.toString() },
      defaultSchema: SCHEMA,
      statementTimeoutMs: 5000,
      pool: { max: 1, connectionTimeoutMs: 500 },
    });
    try {
      const once = () =>
        codeOf(stuck.read({ sql: 'SELECT 1', params: [], limits: LIMITS, signal: signal() }));
      expect(await Promise.all([once(), once(), once()])).toEqual([
        'DB_UNAVAILABLE',
        'DB_UNAVAILABLE',
        'DB_UNAVAILABLE',
      ]);
    } finally {
      await stuck.close();
      silent.close();
    }
  });

  it('is unavailable after close, and close is idempotent', async () => {
    const closing = newAdapter();
    await closing.close();
    await closing.close();
    expect(
      await codeOf(closing.read({ sql: 'SELECT 1', params: [], limits: LIMITS, signal: signal() })),
    ).toBe('DB_UNAVAILABLE');
  });
});

describe('writes', () => {
  const write = (
    target: PostgresAdapter,
    sql: string,
    params: unknown[] = [],
    options: { maxAffectedRows?: number; dryRun?: boolean; timeoutMs?: number } = {},
    abort?: AbortSignal,
  ) =>
    target.write({
      sql,
      params,
      maxAffectedRows: options.maxAffectedRows ?? 100,
      timeoutMs: options.timeoutMs ?? 5000,
      dryRun: options.dryRun ?? false,
      signal: abort ?? signal(),
    });
  let writer: PostgresAdapter;
  const names = async () =>
    (await admin.query('SELECT id, name FROM customers ORDER BY id')).rows.map(
      (r: { id: number; name: string }) => `${r.id}:${r.name}`,
    );

  beforeAll(() => {
    writer = newAdapter({ allowWrites: true });
  });
  afterAll(async () => {
    await writer?.close();
    await admin.query('DELETE FROM customers WHERE id >= 100');
  });

  it('refuses every write unless the source allows writes', async () => {
    expect(await codeOf(write(adapter, 'INSERT INTO customers VALUES (100, $1)', ['x']))).toBe(
      'READ_ONLY',
    );
    expect(await names()).toEqual(['1:Ada']);
  });

  it('commits one statement and reports the affected rows', async () => {
    expect(
      await write(writer, 'INSERT INTO customers VALUES (100, $1), (101, $2)', ['Bo', 'Cy']),
    ).toEqual({
      affectedRows: 2,
      committed: true,
    });
    expect(
      await write(writer, 'UPDATE customers SET name = upper(name) WHERE id >= $1', [100]),
    ).toEqual({ affectedRows: 2, committed: true });
    expect(await names()).toEqual(['1:Ada', '100:BO', '101:CY']);
  });

  it('rolls back a dry run and says how many rows it would change', async () => {
    expect(
      await write(writer, 'DELETE FROM customers WHERE id >= $1', [100], { dryRun: true }),
    ).toEqual({ affectedRows: 2, committed: false });
    expect(await names()).toEqual(['1:Ada', '100:BO', '101:CY']);
  });

  it('rolls back a write over the affected-row ceiling', async () => {
    const error = await write(writer, 'DELETE FROM customers WHERE id >= $1', [100], {
      maxAffectedRows: 1,
    }).catch((e: unknown) => e);
    expect(SqlwardenError.is(error) && error.code).toBe('WRITE_LIMIT_EXCEEDED');
    expect((error as Error).message).toMatch(/2 rows, more than the limit of 1/);
    expect(await names()).toEqual(['1:Ada', '100:BO', '101:CY']);
  });

  it('leaves nothing half-applied when the statement fails', async () => {
    expect(
      await codeOf(
        write(writer, 'INSERT INTO customers VALUES (102, $1), (100, $2)', ['Di', 'dup']),
      ),
    ).toBe('QUERY_FAILED');
    expect(await names()).toEqual(['1:Ada', '100:BO', '101:CY']);
  });

  it('runs one statement only, even without parameters (never the simple protocol)', async () => {
    expect(
      await codeOf(write(writer, "INSERT INTO customers VALUES (103, 'x'); DELETE FROM customers")),
    ).not.toBe('ok');
    expect(await names()).toEqual(['1:Ada', '100:BO', '101:CY']);
  });

  it('cancels a write past its time, commits nothing, and keeps reads read-only', async () => {
    const code = await codeOf(
      write(
        writer,
        'INSERT INTO customers SELECT 200 + count(*)::int, $1 FROM numbers a, numbers b',
        ['slow'],
        { timeoutMs: 300 },
      ),
    );
    expect(code).toBe('QUERY_TIMEOUT');
    expect(await names()).toEqual(['1:Ada', '100:BO', '101:CY']);
    // The pool's sessions are still read-only for reads.
    expect(
      await codeOf(
        writer.read({
          sql: 'DELETE FROM customers WHERE id = 100',
          params: [],
          limits: LIMITS,
          signal: signal(),
        }),
      ),
    ).toBe('READ_ONLY');
  });

  it('cancels a write when the call is aborted, and commits nothing', async () => {
    const controller = new AbortController();
    const pending = codeOf(
      write(
        writer,
        'INSERT INTO customers SELECT 300 + count(*)::int, $1 FROM numbers a, numbers b',
        ['aborted'],
        { timeoutMs: 5000 },
        controller.signal,
      ),
    );
    await eventually(async () => (await activeStatements('300 + count')) === 1);
    controller.abort();
    expect(await pending).toBe('QUERY_CANCELLED');
    expect(await eventually(async () => (await activeStatements('300 + count')) === 0)).toBe(true);
    expect(await names()).toEqual(['1:Ada', '100:BO', '101:CY']);
  });
});

describe('introspection', () => {
  it('lists tables and views of the given schemas, with kind, estimate and comment', async () => {
    const tables = await adapter.listTables({ schemas: [SCHEMA], signal: signal() });
    expect(tables.map((t) => `${t.name}:${t.kind}`)).toEqual([
      'cheap_items:view',
      'customers:table',
      'items:table',
      'numbers:table',
      "we'ird:table",
    ]);
    expect(tables.find((t) => t.name === 'customers')).toMatchObject({
      schema: SCHEMA,
      comment: 'People who buy',
    });
    expect(tables.find((t) => t.name === 'numbers')?.estimatedRows).toBeGreaterThan(100_000);
  });

  it('describes a table: columns, primary key, foreign keys, indexes', async () => {
    const table = await adapter.describeTable({
      table: { schema: SCHEMA, name: 'items' },
      signal: signal(),
    });
    expect(table).toMatchObject({
      schema: SCHEMA,
      name: 'items',
      kind: 'table',
      primaryKey: ['id'],
      foreignKeys: [
        {
          columns: ['customer_id'],
          references: { schema: SCHEMA, name: 'customers', columns: ['id'] },
        },
      ],
    });
    expect(table?.columns.slice(0, 4)).toEqual([
      { name: 'id', type: 'integer', nullable: false, default: null, comment: null },
      { name: 'customer_id', type: 'integer', nullable: true, default: null, comment: null },
      { name: 'name', type: 'text', nullable: false, default: "'unnamed'::text", comment: null },
      {
        name: 'price',
        type: 'numeric(12,2)',
        nullable: true,
        default: null,
        comment: 'Unit price in EUR',
      },
    ]);
    expect(table?.indexes.map((i) => [i.name, i.unique, i.primary, i.columns])).toEqual([
      ['items_customer', false, false, ['customer_id']],
      ['items_pkey', true, true, ['id']],
    ]);
  });

  it('returns null for a table that does not exist', async () => {
    expect(
      await adapter.describeTable({ table: { schema: SCHEMA, name: 'nope' }, signal: signal() }),
    ).toBeNull();
  });

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
