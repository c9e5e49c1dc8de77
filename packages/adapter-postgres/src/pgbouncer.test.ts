import { RowBudget, type SourceAdapter } from '@sqlwarden/adapter-kit';
import { ConfigError, SqlwardenError } from '@sqlwarden/core';
import {
  createTestSchema,
  createThrowawayPostgres,
  eventually,
  type PgBouncer,
  postgresTestUrl,
  startPgBouncer,
  type TestSchema,
  type ThrowawayPostgres,
} from '@sqlwarden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresAdapter, type PgModule } from './index.js';
import { adapterPlugin } from './plugin.js';
import { BoundedRead } from './read.js';
import { quoteIdent, transactionSetup } from './session.js';

// The adapter behind a real PgBouncer (packages/testing's startPgBouncer) in
// pool_mode=transaction, in front of the real PostgreSQL of this machine,
// with a server pool of two connections shared by every client: sqlwarden's
// adapters and a hostile neighbour (a plain pg client, the same user) that
// sets session settings on the shared server connections. No mocks.
// docs/postgres.md, "Behind PgBouncer".

const target = new URL(postgresTestUrl());
const DATABASE = target.pathname.slice(1);
const SERVER_POOL = 2;
const LIMITS = { maxRows: 100, maxBytes: 1_048_576, timeoutMs: 5000 };

/** What a hostile neighbour leaves on a server connection; lock_timeout marks its sessions. */
const NEIGHBOUR_SETS = [
  'SET default_transaction_read_only = off',
  'SET statement_timeout = 0',
  'SET standard_conforming_strings = off',
  "SET TimeZone = 'Asia/Tokyo'",
  "SET DateStyle = 'SQL, DMY'",
  "SET work_mem = '1GB'",
  "SET lock_timeout = '12345ms'",
];
const MARK = '12345ms';

let bouncer: PgBouncer;
let ours: TestSchema;
let theirs: TestSchema;
const adapters: SourceAdapter[] = [];
const neighbours: pg.Client[] = [];

interface Options {
  readonly pooling?: 'session' | 'transaction' | 'statement';
  readonly allowWrites?: boolean;
  readonly statementTimeoutMs?: number;
  readonly url?: string;
  readonly schema?: string;
  readonly applicationName?: string;
  readonly pg?: PgModule;
}

function adapter(options: Options = {}): SourceAdapter {
  const made = createPostgresAdapter(
    {
      source: 'pooled',
      connection: {
        connectionString: options.url ?? bouncer.url(DATABASE, target.username),
        pooling: options.pooling ?? 'transaction',
      },
      defaultSchema: options.schema ?? ours.name,
      statementTimeoutMs: options.statementTimeoutMs ?? 5000,
      pool: { max: 3, connectionTimeoutMs: 10_000 },
      allowWrites: options.allowWrites ?? false,
      ...(options.applicationName !== undefined && { applicationName: options.applicationName }),
    },
    options.pg === undefined ? {} : { pg: options.pg },
  );
  adapters.push(made);
  return made;
}

async function neighbour(url = bouncer.url(DATABASE, target.username)): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'neighbour' });
  client.on('error', () => {});
  await client.connect();
  neighbours.push(client);
  return client;
}

const read = (
  on: SourceAdapter,
  sql: string,
  options: { timeoutMs?: number; signal?: AbortSignal; params?: unknown[] } = {},
) =>
  on.read({
    sql,
    params: options.params ?? [],
    limits: { ...LIMITS, ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }) },
    signal: options.signal ?? new AbortController().signal,
  });

/** The call's error: its code and the server's SQLSTATE behind it ('ok' when it succeeded). */
async function failure(promise: Promise<unknown>): Promise<{ code: string; sqlstate?: string }> {
  try {
    await promise;
    return { code: 'ok' };
  } catch (error) {
    if (!SqlwardenError.is(error)) return { code: `not a SqlwardenError: ${String(error)}` };
    const cause = (error as { cause?: { code?: unknown } }).cause;
    return {
      code: error.code,
      ...(typeof cause?.code === 'string' && { sqlstate: cause.code }),
    };
  }
}

/**
 * Runs `work` on every server connection of the pool at once: as many
 * neighbours as the pool has connections each hold one in a transaction
 * (so each is on another one), and the server pids say they are.
 */
async function onEveryBackend<T>(work: (client: pg.Client) => Promise<T>): Promise<T[]> {
  const clients = await Promise.all(Array.from({ length: SERVER_POOL }, () => neighbour()));
  try {
    const pids = await Promise.all(
      clients.map(async (client) => {
        await client.query('BEGIN');
        return (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      }),
    );
    expect(new Set(pids).size).toBe(SERVER_POOL);
    const results = await Promise.all(clients.map(work));
    await Promise.all(clients.map((client) => client.query('COMMIT')));
    return results;
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
  }
}

/** Leaves the neighbour's session settings on every server connection (SET, not SET LOCAL: they outlive COMMIT). */
const poisonEveryBackend = () =>
  onEveryBackend(async (client) => {
    for (const set of NEIGHBOUR_SETS) await client.query(set);
    await client.query(`SET search_path = ${theirs.name}`);
  });

/** Resets every server connection to the server's defaults. */
const resetEveryBackend = () =>
  onEveryBackend(async (client) => {
    await client.query('RESET ALL');
  });

const SHOWN = [
  'default_transaction_read_only',
  'statement_timeout',
  'search_path',
  'standard_conforming_strings',
  'work_mem',
  'hash_mem_multiplier',
  'idle_in_transaction_session_timeout',
  'lock_timeout',
] as const;

/** The settings each server connection has now, seen by a neighbour that set nothing. */
const settingsOfEveryBackend = () =>
  onEveryBackend(async (client) => {
    const shown: Record<string, string> = {};
    for (const name of SHOWN) shown[name] = (await client.query(`SHOW ${name}`)).rows[0][name];
    return shown;
  });

/** The server's defaults for SHOWN, on a fresh direct session. */
async function serverDefaults(): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: postgresTestUrl() });
  await client.connect();
  try {
    const shown: Record<string, string> = {};
    for (const name of SHOWN) shown[name] = (await client.query(`SHOW ${name}`)).rows[0][name];
    return shown;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  theirs = await createTestSchema(
    'sqlwarden_pgb_theirs',
    () => `
      CREATE TABLE whoami (label text);
      INSERT INTO whoami VALUES ('theirs');
    `,
  );
  ours = await createTestSchema(
    'sqlwarden_pgb',
    (schema) => `
      CREATE TABLE whoami (label text);
      INSERT INTO whoami VALUES ('ours');
      CREATE TABLE items (id serial PRIMARY KEY, x int NOT NULL);
      CREATE FUNCTION write_row() RETURNS int LANGUAGE sql VOLATILE
        AS 'INSERT INTO ${schema}.items (x) VALUES (42) RETURNING x';
    `,
  );
  bouncer = await startPgBouncer({
    target: { host: target.hostname, port: Number(target.port || 5432) },
    poolMode: 'transaction',
    databases: [DATABASE],
    defaultPoolSize: SERVER_POOL,
  });
});

afterAll(async () => {
  for (const made of adapters) await made.close().catch(() => {});
  for (const client of neighbours) await client.end().catch(() => {});
  if (process.env.PGB_LOG) console.error(bouncer?.log());
  await bouncer?.stop();
  await ours?.drop();
  await theirs?.drop();
});

describe('reads behind PgBouncer in transaction mode', () => {
  it('are read-only, time-limited, in their own schema and read backslashes as the guard does, on server connections a hostile neighbour set up', async () => {
    const ourAdapters = [adapter(), adapter(), adapter()];
    const stop = new AbortController();
    // The neighbour keeps setting its session on whichever server connection it gets.
    const hostile = await neighbour();
    const noise = (async () => {
      while (!stop.signal.aborted) {
        for (const set of [...NEIGHBOUR_SETS, `SET search_path = ${theirs.name}`])
          await hostile.query(set);
      }
    })();
    let poisoned = 0;
    try {
      for (let round = 0; round < 4; round++) {
        await poisonEveryBackend();
        await Promise.all(
          ourAdapters.map(async (on) => {
            for (let i = 0; i < 3; i++) {
              const settings = await read(
                on,
                `SELECT current_setting('transaction_read_only'), current_setting('statement_timeout'),
                        current_setting('search_path'), current_setting('standard_conforming_strings'),
                        current_setting('TimeZone'), current_setting('DateStyle'),
                        current_setting('work_mem'), current_setting('lock_timeout')`,
                { timeoutMs: 1500 },
              );
              const [ro, timeout, path, scs, zone, style, mem, lock] = settings.rows[0] as string[];
              expect([ro, timeout, path, scs, zone, style, mem]).toEqual([
                'on',
                '1500ms',
                quoteIdent(ours.name),
                'on',
                'UTC',
                'ISO, YMD',
                '16MB',
              ]);
              // The neighbour's own setting, which the set-up leaves alone: this read ran on its connection.
              if (lock === MARK) poisoned += 1;

              expect(await failure(read(on, 'SELECT write_row()'))).toEqual({
                code: 'READ_ONLY',
                sqlstate: '25006',
              });
              expect(
                await failure(read(on, 'SELECT pg_sleep(3)', { timeoutMs: 300 })),
              ).toMatchObject({ code: 'QUERY_TIMEOUT', sqlstate: '57014' });
              expect((await read(on, 'SELECT label FROM whoami')).rows).toEqual([['ours']]);
              const text = await read(on, "SELECT 'a\\b' AS v, length('a\\b') AS n");
              expect(text.rows).toEqual([['a\\b', 3]]);
              // With values bound, and a timestamp in the set-up's zone and style.
              const bound = await read(
                on,
                "SELECT $1::text AS v, timestamptz '2024-03-01 10:00:00+02' AS t",
                { params: ['x\\y'] },
              );
              expect(bound.rows).toEqual([['x\\y', '2024-03-01 08:00:00+00']]);
            }
          }),
        );
      }
    } finally {
      stop.abort();
      await noise;
    }
    expect(poisoned).toBeGreaterThan(0);
    // Nothing was written by the refused function.
    expect((await ours.client.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(0);
    // And the neighbour's settings are still its own: the set-up was local to our
    // transactions. (Not standard_conforming_strings: PgBouncer itself gives each
    // client its own value of the parameters it tracks, client_encoding, DateStyle,
    // TimeZone, standard_conforming_strings and application_name, when it hands a
    // server connection over; the test on a hostile session below covers it.)
    for (const shown of await settingsOfEveryBackend()) {
      expect(shown).toMatchObject({
        default_transaction_read_only: 'off',
        statement_timeout: '0',
        search_path: theirs.name,
        work_mem: '1GB',
        lock_timeout: MARK,
      });
    }
  }, 120_000);

  it('estimate plans in their own schema under their own time limit (the cost gate)', async () => {
    await poisonEveryBackend();
    const on = adapter();
    // A plan of `whoami` in the neighbour's schema would work too; a table only ours has tells them apart.
    const answer = await on.read({
      sql: 'SELECT id FROM items WHERE x = 1',
      params: [],
      limits: LIMITS,
      signal: new AbortController().signal,
      costCeiling: { maxCost: 1e9 },
    });
    expect(answer.estimate?.cost).toBeGreaterThan(0);
  });
});

describe('what sqlwarden leaves on shared server connections', () => {
  it('is nothing: after reads, estimates, time limits and writes the server connections have the server defaults', async () => {
    await resetEveryBackend();
    const defaults = await serverDefaults();
    const on = adapter({ allowWrites: true, statementTimeoutMs: 4000 });
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 6; i++) {
      // Time limits that change from call to call (the kit's setTimeLimit).
      calls.push(read(on, 'SELECT count(*) FROM whoami', { timeoutMs: 1000 + i * 100 }));
      calls.push(
        on.read({
          sql: 'SELECT * FROM items',
          params: [],
          limits: LIMITS,
          signal: new AbortController().signal,
          costCeiling: { maxCost: 1e9 },
        }),
      );
      calls.push(
        on.write({
          sql: 'INSERT INTO items (x) VALUES ($1)',
          params: [i],
          maxAffectedRows: 1,
          timeoutMs: 2000 + i,
          dryRun: i % 2 === 0,
          signal: new AbortController().signal,
        }),
      );
    }
    await Promise.all(calls);
    for (const shown of await settingsOfEveryBackend()) expect(shown).toEqual(defaults);
  });

  it('is what a session-mode adapter would leave (the check sees a leak when there is one)', async () => {
    await resetEveryBackend();
    const defaults = await serverDefaults();
    // pooling: session behind a transaction pooler: what the operator must not configure.
    const wrong = adapter({ pooling: 'session' });
    await Promise.all(Array.from({ length: 4 }, () => read(wrong, 'SELECT 1')));
    const leaked = (await settingsOfEveryBackend()).filter(
      (shown) => shown.default_transaction_read_only !== defaults.default_transaction_read_only,
    );
    expect(leaked.length).toBeGreaterThan(0);
    await resetEveryBackend();
  });
});

describe('writes behind PgBouncer in transaction mode', () => {
  it('commit in their own schema, and are time-limited by the server, on connections a neighbour set up', async () => {
    await poisonEveryBackend();
    const on = adapter({ allowWrites: true });
    const write = (sql: string, timeoutMs = 5000) =>
      on.write({
        sql,
        params: [],
        maxAffectedRows: 10,
        timeoutMs,
        dryRun: false,
        signal: new AbortController().signal,
      });
    const before = Number((await ours.client.query('SELECT count(*) FROM items')).rows[0].count);
    expect(await write('INSERT INTO items (x) VALUES (7)')).toEqual({
      affectedRows: 1,
      committed: true,
    });
    expect(
      await failure(write('INSERT INTO items (x) SELECT 8 FROM pg_sleep(3)', 300)),
    ).toMatchObject({ code: 'QUERY_TIMEOUT', sqlstate: '57014' });
    const after = await ours.client.query('SELECT x FROM items ORDER BY id');
    expect(after.rows.length).toBe(before + 1);
    expect(after.rows.at(-1)).toEqual({ x: 7 });
    // Reads on the same adapter are still read-only afterwards.
    expect((await failure(read(on, 'SELECT write_row()'))).code).toBe('READ_ONLY');
  });
});

describe('cancellation through PgBouncer', () => {
  it('stops a long read on the server (a CancelRequest to the PgBouncer port) when the caller aborts', async () => {
    const on = adapter({ statementTimeoutMs: 60_000 });
    const abort = new AbortController();
    const started = Date.now();
    const running = read(on, 'SELECT pg_sleep(30) AS sqlwarden_pgb_cancel_me', {
      timeoutMs: 60_000,
      signal: abort.signal,
    });
    const active = async () =>
      Number(
        (
          await ours.client.query(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%sqlwarden_pgb_cancel_me%' AND pid <> pg_backend_pid()",
          )
        ).rows[0].count,
      );
    expect(await eventually(async () => (await active()) === 1, 10_000)).toBe(true);
    abort.abort();
    expect(await failure(running)).toMatchObject({ code: 'QUERY_CANCELLED', sqlstate: '57014' });
    // Stopped by the server (the kit's grace would only have closed our socket, and pg_sleep would go on).
    expect(await eventually(async () => (await active()) === 0, 3000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(15_000);
    // The pool serves again.
    expect((await read(on, 'SELECT 1 AS one')).rows).toEqual([[1]]);
  });
});

describe('without a pooler, on sessions set against the adapter', () => {
  it('keeps every read safe with pooling: transaction, whatever the session holds (the set-up alone)', async () => {
    // A schema name with a quote, a double quote and a backslash, bound (never
    // quoted into the set-up's text) under standard_conforming_strings = off.
    const odd = `${ours.name}_o'd"d\\`;
    await ours.client.query(`CREATE SCHEMA ${quoteIdent(odd)}`);
    try {
      await ours.client.query(
        `CREATE TABLE ${quoteIdent(odd)}.whoami (label text); INSERT INTO ${quoteIdent(odd)}.whoami VALUES ('odd')`,
      );
      const sets = [...NEIGHBOUR_SETS, `SET search_path = ${theirs.name}`].join('; ');
      class HostileSession extends pg.Client {
        override async connect(): Promise<pg.Client> {
          await super.connect();
          await super.query(sets);
          return this;
        }
      }
      const on = adapter({
        url: postgresTestUrl(),
        schema: odd,
        pg: { Client: HostileSession } as unknown as PgModule,
      });
      const settings = await read(
        on,
        "SELECT current_setting('transaction_read_only'), current_setting('standard_conforming_strings'), current_setting('lock_timeout'), label FROM whoami",
      );
      expect(settings.rows).toEqual([['on', 'on', MARK, 'odd']]);
      expect((await read(on, "SELECT 'a\\b' AS v")).rows).toEqual([['a\\b']]);
      expect(await failure(read(on, `SELECT ${ours.name}.write_row()`))).toEqual({
        code: 'READ_ONLY',
        sqlstate: '25006',
      });
      expect(await failure(read(on, 'SELECT pg_sleep(3)', { timeoutMs: 300 }))).toMatchObject({
        code: 'QUERY_TIMEOUT',
        sqlstate: '57014',
      });
      await on.close();
    } finally {
      await ours.client.query(`DROP SCHEMA ${quoteIdent(odd)} CASCADE`);
    }
  });
});

describe('faults behind PgBouncer', () => {
  // A cluster of the test's own (it is restarted; the shared server never is),
  // a PgBouncer of its own in front of it.
  let cluster: ThrowawayPostgres;
  let pooler: PgBouncer;

  beforeAll(async () => {
    cluster = await createThrowawayPostgres();
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query(
      'CREATE TABLE ft (id int PRIMARY KEY); INSERT INTO ft SELECT generate_series(1, 100)',
    );
    await admin.end();
    pooler = await startPgBouncer({
      target: { host: '127.0.0.1', port: cluster.port },
      poolMode: 'transaction',
      defaultPoolSize: SERVER_POOL,
      settings: { query_wait_timeout: 5 },
    });
  }, 120_000);

  afterAll(async () => {
    await pooler?.stop();
    cluster?.destroy();
  });

  /** Four callers reading in a loop until `work` is done: the codes they got. */
  async function underLoad(on: SourceAdapter, work: () => Promise<void>): Promise<string[]> {
    const codes: string[] = [];
    let running = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (running) codes.push((await failure(read(on, 'SELECT count(*) FROM ft'))).code);
    });
    try {
      await work();
    } finally {
      running = false;
      await Promise.all(loops);
    }
    return codes;
  }

  const serves = (on: SourceAdapter) =>
    eventually(
      async () => (await failure(read(on, 'SELECT count(*) FROM ft'))).code === 'ok',
      15_000,
    );

  it('serves again once PostgreSQL behind it restarts or crashes, every call in flight answered, no broken connection left', async () => {
    const on = adapter({ url: pooler.url('postgres'), schema: 'public' });
    for (const mode of ['fast', 'immediate'] as const) {
      const codes = await underLoad(on, async () => {
        await cluster.restart(mode);
        expect(await serves(on), `serves again after a ${mode} restart`).toBe(true);
      });
      // Every call ended with an answer of the adapter's (PgBouncer's own FATAL
      // errors, 08P01, come back as QUERY_FAILED today: docs/postgres.md).
      expect(codes.filter((code) => code.startsWith('not a'))).toEqual([]);
      const parallel = await Promise.all(
        Array.from({ length: 3 }, () => failure(read(on, 'SELECT count(*) FROM ft'))),
      );
      expect(parallel.map((r) => r.code)).toEqual(['ok', 'ok', 'ok']);
    }
  }, 120_000);

  it('serves again once PgBouncer itself restarts', async () => {
    const on = adapter({ url: pooler.url('postgres'), schema: 'public' });
    const codes = await underLoad(on, async () => {
      await pooler.restart();
      expect(await serves(on)).toBe(true);
    });
    expect(codes.filter((code) => code.startsWith('not a'))).toEqual([]);
    const parallel = await Promise.all(
      Array.from({ length: 3 }, () => failure(read(on, 'SELECT count(*) FROM ft'))),
    );
    expect(parallel.map((r) => r.code)).toEqual(['ok', 'ok', 'ok']);
  }, 60_000);
});

describe("the set-up in the read's row accounting", () => {
  const dataRow = (length: number) => {
    const header = Buffer.alloc(5);
    header[0] = 'D'.charCodeAt(0);
    header.writeInt32BE(length + 4, 1);
    return header;
  };
  const setup = transactionSetup({ kind: 'read', timeLimitMs: 1000, defaultSchema: 'public' });

  it('counts only the rows after the read described its columns', () => {
    const read = new BoundedRead('SELECT 1', [], new RowBudget(LIMITS), setup);
    // A row whose description is earlier in the same chunk: parse what came before, then ask again.
    expect(read.admit(dataRow(20), 20)).toBe('sync');
    read.handleRowDescription({ fields: [{ name: 'one', dataTypeID: 23 }] });
    expect(read.admit(dataRow(20), 20)).toBe(true);
  });

  it('fails the read, rather than count it, on a row that comes before any description (a set-up that returned one)', () => {
    const read = new BoundedRead('SELECT 1', [], new RowBudget(LIMITS), setup);
    expect(read.admit(dataRow(20), 20)).toBe('sync');
    expect(() => read.admit(dataRow(20), 20)).toThrow(/before the read described its columns/);
  });
});

describe('statement pooling', () => {
  it('is refused when the adapter is created, with what to do instead', () => {
    const create = () =>
      createPostgresAdapter({
        source: 'pooled',
        connection: { connectionString: postgresTestUrl(), pooling: 'statement' },
        defaultSchema: 'public',
        statementTimeoutMs: 5000,
      });
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(/connection\.pooling: statement pooling cannot be made safe/);
    expect(create).toThrow(/pool_mode = transaction/);
  });

  it('is a problem of the configuration, naming its key, when the runtime checks the source', () => {
    const verdict = adapterPlugin.check({ pooling: 'statement' }, 'sources.main');
    expect(verdict.problems).toEqual([
      expect.stringMatching(
        /^sources\.main\.pooling: statement pooling cannot be made safe.*pool_mode = transaction/,
      ),
    ]);
    expect(adapterPlugin.check({ pooling: 'transaction' }, 'sources.main').problems).toEqual([]);
  });
});
