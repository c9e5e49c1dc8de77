import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_SQL_MODE } from './session.js';
import {
  codeOf,
  createTestDatabase,
  errorOf,
  eventually,
  LIMITS,
  signal,
  type TestDatabase,
} from './test-support.js';

// Integration tests against the real MariaDB of this machine
// (SQLWARDEN_TEST_MYSQL_URL), in a database of their own, dropped afterwards.

let db: TestDatabase;
let adapter: SourceAdapter;

const read = (
  sql: string,
  params: unknown[] = [],
  limits: Partial<typeof LIMITS> = {},
  abort?: AbortSignal,
  on: SourceAdapter = adapter,
) => on.read({ sql, params, limits: { ...LIMITS, ...limits }, signal: abort ?? signal() });

beforeAll(async () => {
  db = await createTestDatabase();
  const statements = [
    'CREATE TABLE customers (id int PRIMARY KEY, name varchar(50) NOT NULL)',
    `CREATE TABLE items (
       id int PRIMARY KEY,
       customer_id int,
       name varchar(50) NOT NULL DEFAULT 'unnamed',
       price decimal(12, 2),
       big bigint,
       ubig bigint unsigned,
       created timestamp(3) NULL,
       day date,
       at datetime(6),
       took time(3),
       data json,
       blob_col blob,
       flag boolean,
       ratio double,
       small_ratio float,
       bits bit(10),
       mood enum('happy', 'sad'),
       tags set('a', 'b'),
       yr year,
       ui int unsigned,
       tiny tinyint,
       medium mediumint,
       vb varbinary(8),
       fixed char(3),
       note text
     )`,
    "CREATE TABLE `we'ird` (id int)",
    "INSERT INTO `we'ird` VALUES (1)",
    'CREATE TABLE shapes (id int, g geometry)',
    "INSERT INTO shapes VALUES (1, ST_GeomFromText('POINT(1 2)'))",
    // 200 000 rows generated on the server (MariaDB's sequence engine).
    'CREATE TABLE numbers (n int PRIMARY KEY, pad varchar(100))',
    "INSERT INTO numbers SELECT seq, REPEAT('x', 100) FROM seq_1_to_200000",
    "INSERT INTO customers VALUES (1, 'Ada')",
    `INSERT INTO items VALUES
       (1, 1, 'widget', 9.99, -9223372036854775808, 18446744073709551615,
        '2024-03-01 10:00:00.250', '2024-03-01', '2024-03-01 10:00:00.500000', '-838:59:59.5',
        '{"a": 12345678901234567890}', x'deadbeef', true, 0.5, 0.1, b'0000000101', 'sad', 'a,b',
        2024, 4294967295, -128, -8388608, x'00ff', 'ab', 'Grüße'),
       (2, NULL, DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  ];
  for (const statement of statements) await db.admin.query(statement);
  adapter = db.adapter();
});

afterAll(async () => {
  await db?.drop();
});

describe('reads', () => {
  it('maps every type as the cross-adapter value contract says', async () => {
    const result = await read(
      `SELECT price, big, ubig, created, day, at, took, data, blob_col, flag, ratio, small_ratio,
              bits, mood, tags, yr, ui, tiny, medium, vb, fixed, note
         FROM items ORDER BY id`,
    );
    expect(result.rows).toEqual([
      [
        '9.99',
        '-9223372036854775808',
        '18446744073709551615',
        '2024-03-01 10:00:00.250+00',
        '2024-03-01',
        '2024-03-01 10:00:00.500000',
        '-838:59:59.500',
        '{"a": 12345678901234567890}',
        '\\xdeadbeef',
        1,
        0.5,
        0.1,
        '0000000101',
        'sad',
        'a,b',
        2024,
        4294967295,
        -128,
        -8388608,
        '\\x00ff',
        'ab',
        'Grüße',
      ],
      Array(22).fill(null),
    ]);
    expect(result.columns.map((c) => c.type)).toEqual([
      'decimal',
      'bigint',
      'bigint',
      'timestamp',
      'date',
      'datetime',
      'time',
      'json',
      'blob',
      'tinyint',
      'double',
      'float',
      'bit',
      'enum',
      'set',
      'year',
      'int',
      'tinyint',
      'mediumint',
      'varbinary',
      'char',
      'text',
    ]);
  });

  it('keeps a column JSON type independent of the row: COUNT and SUM are text even when small', async () => {
    const result = await read('SELECT COUNT(*) AS n, SUM(id) AS s FROM items');
    expect(result.rows).toEqual([['2', '3']]);
    expect(result.columns).toEqual([
      { name: 'n', type: 'bigint' },
      { name: 's', type: 'decimal' },
    ]);
  });

  it('reads TIMESTAMP values in UTC whatever zone they were written in', async () => {
    await db.admin.query("SET time_zone = '+02:00'");
    await db.admin.query("UPDATE items SET created = '2024-06-01 10:00:00' WHERE id = 2");
    await db.admin.query("SET time_zone = '+00:00'");
    const result = await read('SELECT created FROM items WHERE id = 2');
    expect(result.rows).toEqual([['2024-06-01 08:00:00.000+00']]);
    await db.admin.query('UPDATE items SET created = NULL WHERE id = 2');
  });

  it('reads a geometry as the server bytes in hex', async () => {
    const result = await read('SELECT id, g FROM shapes');
    expect(result.columns).toEqual([
      { name: 'id', type: 'int' },
      { name: 'g', type: 'geometry' },
    ]);
    // SRID 0, then WKB: little endian, type 1 (point), x = 1.0, y = 2.0.
    expect(result.rows).toEqual([[1, '\\x000000000101000000000000000000f03f0000000000000040']]);
  });

  it('keeps both columns of a result whose column names repeat', async () => {
    expect((await read('SELECT 1 AS a, 2 AS a')).rows).toEqual([[1, 2]]);
  });

  it('binds parameters, including one that looks like an injection, and LIMIT ?', async () => {
    const attack = "'; DROP TABLE items; --";
    const result = await read('SELECT ? AS v, ? + 1 AS n, ? AS b, ? AS z', [
      attack,
      41,
      true,
      null,
    ]);
    expect(result.rows).toEqual([[attack, 42, 1, null]]);
    expect((await read('SELECT n FROM numbers ORDER BY n LIMIT ?', [3])).rows).toEqual([
      [1],
      [2],
      [3],
    ]);
    expect((await read('SELECT COUNT(*) FROM items')).rows).toEqual([['2']]);
  });

  it('refuses parameters that are not text, numbers, booleans or null', async () => {
    expect(await codeOf(read('SELECT ?', [[1, 2]]))).toBe('INVALID_INPUT');
    expect(await codeOf(read('SELECT ?', [{ a: 1 }]))).toBe('INVALID_INPUT');
    expect(await codeOf(read('SELECT ?', [Number.NaN]))).toBe('INVALID_INPUT');
  });

  it('sets up the session: sql_mode, utf8mb4, UTC, autocommit, read-only, time limit', async () => {
    const result = await read(
      `SELECT @@SESSION.sql_mode, @@character_set_client, @@character_set_connection,
              @@character_set_results, @@time_zone, @@autocommit, @@tx_read_only,
              @@max_statement_time, DATABASE()`,
    );
    expect(result.rows).toEqual([
      [SESSION_SQL_MODE, 'utf8mb4', 'utf8mb4', 'utf8mb4', '+00:00', '1', '1', 5, db.name],
    ]);
    // The guard's lexer reads "..." as a string and \' as an escaped quote, as the server does here.
    expect((await read(`SELECT "a""b", 'it\\'s'`)).rows).toEqual([['a"b', "it's"]]);
  });

  it('does not reuse a connection after a statement that is not a query (it may have changed the session)', async () => {
    const single = db.adapter({ pool: { max: 1 } });
    try {
      const first = await read('SELECT CONNECTION_ID()', [], {}, undefined, single);
      expect(await read('SET SESSION TRANSACTION READ WRITE', [], {}, undefined, single)).toEqual({
        columns: [],
        rows: [],
        rowCount: 0,
        truncated: false,
      });
      const second = await read(
        'SELECT CONNECTION_ID(), @@tx_read_only',
        [],
        {},
        undefined,
        single,
      );
      expect(second.rows[0]?.[0]).not.toBe(first.rows[0]?.[0]);
      expect(second.rows[0]?.[1]).toBe('1');
      expect(
        await codeOf(
          read("INSERT INTO items (id, name) VALUES (98, 'x')", [], {}, undefined, single),
        ),
      ).toBe('READ_ONLY');
    } finally {
      await single.close();
    }
  });

  it('reuses a connection after a read (one session per connection)', async () => {
    const single = db.adapter({ pool: { max: 1 } });
    try {
      const ids = new Set<unknown>();
      for (let i = 0; i < 3; i++)
        ids.add((await read('SELECT CONNECTION_ID()', [], {}, undefined, single)).rows[0]?.[0]);
      expect(ids.size).toBe(1);
    } finally {
      await single.close();
    }
  });
});

describe('pool', () => {
  it('calls the password function each time it opens a connection', async () => {
    let calls = 0;
    const url = new URL(db.url());
    const counted = db.adapter({
      connection: {
        uri: url.toString(),
        password: () => {
          calls++;
          return decodeURIComponent(url.password);
        },
      },
      pool: { max: 2 },
    });
    try {
      const controller = new AbortController();
      const held = codeOf(
        read('SELECT SLEEP(20) AS held_marker', [], {}, controller.signal, counted),
      );
      expect(await eventually(async () => (await db.running('held_marker')) === 1)).toBe(true);
      expect((await read('SELECT 1', [], {}, undefined, counted)).rows).toEqual([[1]]);
      expect(calls).toBe(2);
      controller.abort();
      expect(await held).toBe('QUERY_CANCELLED');
    } finally {
      await counted.close();
    }
  });
});

describe('limits', () => {
  it('stops the transfer of a SELECT * over 200 000 rows: the statement ends on the server and the pool stays healthy', async () => {
    const marker = 'select_star_marker';
    for (let i = 0; i < 5; i++) {
      const result = await read(`SELECT n AS ${marker}, pad FROM numbers`, [], { maxRows: 1000 });
      expect(result).toMatchObject({ rowCount: 1000, truncated: true, truncatedReason: 'maxRows' });
    }
    // Nothing of ours still streams (the socket was closed and the statement killed).
    expect(await eventually(async () => (await db.running(marker)) === 0)).toBe(true);
    expect(await adapter.health()).toMatchObject({ ok: true });
    expect((await read('SELECT COUNT(*) FROM numbers')).rows).toEqual([['200000']]);
  });

  it('stops a server still computing after the rows it sent (KILL QUERY, not only the socket)', async () => {
    const marker = 'sparse_marker';
    // 5 000 matches at once (enough to fill the server's network buffer), then a
    // search through 10^10 pairs for matches that never come. A closed socket
    // alone would stop it only at its next write, that is never.
    const sql = `SELECT a.seq AS ${marker} FROM seq_1_to_100000 a, seq_1_to_100000 b
                  WHERE (b.seq = 1 AND a.seq <= 5000) OR a.seq = b.seq + 100000`;
    const result = await read(sql, [], { maxRows: 10, timeoutMs: 5000 });
    expect(result).toMatchObject({ rowCount: 10, truncated: true, truncatedReason: 'maxRows' });
    expect(await eventually(async () => (await db.running(marker)) === 0, 2000)).toBe(true);
  });
});

describe("the session's share of the server", () => {
  it('lowers per-statement buffers and temporary tables to their caps, never raising one', async () => {
    const names = [
      'tmp_table_size',
      'max_heap_table_size',
      'sort_buffer_size',
      'join_buffer_size',
      'group_concat_max_len',
      'tmp_disk_table_size',
    ];
    const [globals] = await db.admin.query(
      `SELECT ${names.map((n) => `@@GLOBAL.${n}`).join(', ')}`,
    );
    const global = Object.values((globals as Array<Record<string, unknown>>)[0] ?? {}).map(Number);
    const session = (await read(`SELECT ${names.map((n) => `@@SESSION.${n}`).join(', ')}`))
      .rows[0] as unknown[];
    const caps = [16_777_216, 16_777_216, 2_097_152, 1_048_576, 1_048_576, 1_073_741_824];
    names.forEach((name, i) => {
      expect(Number(session[i]), name).toBe(Math.min(global[i] as number, caps[i] as number));
    });
  });
});

describe('memory bounded per value (the frame gate)', () => {
  it('never reads a row wider than what the call may receive, however it is split in packets', async () => {
    // 4 values of 16 MB: a 64 MB row, sent as a chain of 16 MiB packets (the
    // bench reads the 480 MB row of the red team: bench/wide-values.mjs).
    const wide = Array.from({ length: 4 }, (_, i) => `REPEAT('x', 16000000) AS c${i}`).join(', ');
    const marker = 'wide_row_marker';
    // The server takes seconds to build the row on a loaded machine: a source whose ceiling allows it.
    const patient = db.adapter({ statementTimeoutMs: 30_000 });
    const result = await read(
      `SELECT 1 AS ${marker}, ${wide}`,
      [],
      { maxBytes: 1_048_576, timeoutMs: 30_000 },
      undefined,
      patient,
    );
    expect(result).toMatchObject({ rowCount: 0, truncated: true, truncatedReason: 'maxBytes' });
    expect(result.columns).toHaveLength(5);
    expect(await eventually(async () => (await db.running(marker)) === 0)).toBe(true);
    expect((await read('SELECT 2 AS ok', [], {}, undefined, patient)).rows).toEqual([[2]]);
  }, 60_000);
});

describe('time limits and cancellation', () => {
  const HEAVY =
    'SELECT COUNT(*) AS heavy_marker_TAG FROM seq_1_to_100000 a, seq_1_to_100000 b WHERE a.seq <> b.seq';

  it("kills a statement that lifted the server's limit at the adapter's own deadline", async () => {
    // SET STATEMENT ... FOR (MariaDB) lifts max_statement_time for one statement;
    // the guard refuses it, this test sends it straight to the adapter.
    const sql = `SET STATEMENT max_statement_time = 0 FOR ${HEAVY.replace('TAG', 'deadline')}`;
    const error = await errorOf(read(sql, [], { timeoutMs: 300 }));
    expect(error.code).toBe('QUERY_TIMEOUT');
    expect(await eventually(async () => (await db.running('heavy_marker_deadline')) === 0)).toBe(
      true,
    );
    expect((await read('SELECT 1 AS ok')).rows).toEqual([[1]]);
  });

  it('sets a lower time limit for one call, and the session keeps the value it has now', async () => {
    expect((await read('SELECT @@max_statement_time', [], { timeoutMs: 1500 })).rows).toEqual([
      [1.5],
    ]);
  });
});
