import { createThrowawayPostgres, type ThrowawayPostgres } from '@sqlwarden/testing';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, type RunningServer, startServer, type ToolResult, tempDir } from './harness.js';

// PostgreSQL restarts under a running sqlwarden-stdio with calls in flight
// (issue 16: an operator's server exited on a fast restart with four
// clients calling in a loop). Eight callers share one server process over
// one stdio client: six read (query_read), two write (execute_write, one
// counter each), through a pool of four connections, so calls also queue
// for connections. The cluster is one of the test's own (the shared server
// on 5432 is never restarted). Each restart: the process stays up, nothing
// reaches its last-resort handlers, every call is answered (rows or a tool
// error), the audit has one line per call, no commit reported is lost and
// none that failed was applied, and service resumes.

const CALLERS = 8;
const WRITERS = 2;
const POOL_SIZE = 4;
/** Once the database is back, a call succeeds within this (a correctness bound, not a speed figure). */
const RECOVERY_BOUND_MS = 15_000;
/** No call may stay unanswered longer than this (its time limit is 5 s, the boundary's grace 1 s). */
const CALL_BOUND_MS = 15_000;

let cluster: ThrowawayPostgres;
let server: RunningServer;
const dir = tempDir();

interface Call {
  readonly tool: 'query_read' | 'execute_write';
  /** 'ok', a tool error's code, or 'unanswered: ...'. */
  readonly code: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** For writes: the counter, and whether the answer said committed / outcome unknown. */
  readonly counter?: number;
  readonly committed?: boolean;
  readonly unknown?: boolean;
}
/** Every call made, with how it ended. */
const calls: Call[] = [];

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const counters = () =>
  admin(async (client) => {
    const { rows } = await client.query<{ id: number; n: number }>(
      'SELECT id, n FROM counters ORDER BY id',
    );
    return new Map(rows.map((row) => [row.id, row.n]));
  });

beforeAll(async () => {
  // Commits acknowledged before a crash must survive it: the test counts them.
  cluster = await createThrowawayPostgres({ durableCommits: true });
  await admin((client) =>
    client.query(
      `CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL);
       INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 200) AS g;
       CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL);
       INSERT INTO counters SELECT g, 0 FROM generate_series(0, ${CALLERS - 1}) AS g;`,
    ),
  );
  // A pool smaller than the callers, writes on one table, quotas none of the callers reaches.
  const config = dir.write(
    'faults.yaml',
    `server:
  readOnly: false
sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: public
    tables: ["public.items", "public.counters"]
    writable: ["public.counters"]
    pool: { max: ${POOL_SIZE} }
roles:
  worker: ["tool:query_read", "tool:execute_write", "read:main:public.*", "write:main:public.counters"]
principals:
  worker: { roles: [worker] }
transports:
  stdio: { principal: worker }
quotas:
  perPrincipal:
    rate: { burst: 100000, perSecond: 100000 }
    concurrency: ${CALLERS * 2}
`,
  );
  server = await startServer(['--config', config], {
    E2E_DATABASE_URL: cluster.url,
    SQLWARDEN_ALLOW_WRITES: 'true',
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  cluster?.destroy();
  dir.cleanup();
});

function codeOf(result: ToolResult): string {
  if (!result.isError) return 'ok';
  const error = (result.structuredContent as { error?: { code?: string } } | undefined)?.error;
  return error?.code ?? 'error without a code';
}

/** One call, recorded; never throws (an SDK failure is an unanswered call). */
async function callOnce(caller: number): Promise<string> {
  const write = caller >= CALLERS - WRITERS;
  const tool = write ? 'execute_write' : 'query_read';
  const args = write
    ? { sql: 'UPDATE counters SET n = n + 1 WHERE id = $1', params: [caller] }
    : { sql: 'SELECT id, label FROM items WHERE id <= 50 ORDER BY id' };
  const startedAt = Date.now();
  let code: string;
  let result: ToolResult | undefined;
  try {
    result = await call(server, tool, args, { signal: AbortSignal.timeout(CALL_BOUND_MS) });
    code = codeOf(result);
  } catch (error) {
    code = `unanswered: ${String(error)}`;
  }
  const content = result?.structuredContent as
    | { committed?: boolean; error?: { message?: string } }
    | undefined;
  calls.push({
    tool,
    code,
    startedAt,
    endedAt: Date.now(),
    ...(write && {
      counter: caller,
      committed: code === 'ok' && content?.committed === true,
      unknown: code === 'OUTCOME_UNKNOWN',
    }),
  });
  return code;
}

async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** Runs CALLERS loops of query_read around `strike`, and checks what the brief asks of each fault. */
async function underFault(strike: () => Promise<void>) {
  const first = calls.length;
  const before = await counters();
  let running = true;
  const successes = new Map<number, number>();
  const loops = Array.from({ length: CALLERS }, async (_, caller) => {
    while (running) {
      const startedAt = Date.now();
      if ((await callOnce(caller)) === 'ok') successes.set(caller, startedAt);
    }
  });
  const everyCallerSince = (since: number) =>
    eventually(
      () => [...Array(CALLERS).keys()].every((caller) => (successes.get(caller) ?? 0) >= since),
      RECOVERY_BOUND_MS,
    );
  expect(await everyCallerSince(0), 'warm-up: calls in flight on every caller').toBe(true);

  await strike();
  const back = Date.now();
  expect(
    await eventually(async () => (await callOnce(0)) === 'ok', RECOVERY_BOUND_MS),
    'a call succeeds once the database is back',
  ).toBe(true);
  const recoveredMs = Date.now() - back;
  expect(await everyCallerSince(back), 'every caller is served again').toBe(true);
  running = false;
  await Promise.all(loops);

  const mine = calls.slice(first);
  const codes: Record<string, number> = {};
  for (const { code } of mine) codes[code] = (codes[code] ?? 0) + 1;
  // A write whose COMMIT went unanswered says so (OUTCOME_UNKNOWN); a read never can.
  expect(
    mine
      .filter(
        (c) =>
          c.code !== 'ok' &&
          c.code !== 'DB_UNAVAILABLE' &&
          !(c.tool === 'execute_write' && c.code === 'OUTCOME_UNKNOWN'),
      )
      .map((c) => `${c.tool} ${c.code}`),
    `every call answered with rows, DB_UNAVAILABLE, or OUTCOME_UNKNOWN for a write: ${JSON.stringify(codes)}`,
  ).toEqual([]);
  expect(codes.DB_UNAVAILABLE ?? 0, 'the outage was seen by calls in flight').toBeGreaterThan(0);

  // The process is up, and nothing reached its last-resort handlers.
  expect(() => process.kill(server.pid, 0)).not.toThrow();
  expect(server.stderr()).not.toMatch(/uncaught exception|unhandled rejection/);
  // One audit line per call, all of them (stderr may trail the answers a little).
  expect(
    await eventually(() => server.auditLines().length === calls.length, 5000),
    `audit lines (${server.auditLines().length}) == calls (${calls.length})`,
  ).toBe(true);
  // No commit reported is lost, and no write that failed was applied (unless its outcome was unknown).
  const after = await counters();
  for (let counter = CALLERS - WRITERS; counter < CALLERS; counter++) {
    const writes = mine.filter((c) => c.counter === counter);
    const committed = writes.filter((c) => c.committed === true).length;
    const unknown = writes.filter((c) => c.unknown === true).length;
    const applied = (after.get(counter) ?? 0) - (before.get(counter) ?? 0);
    expect(committed, `counter ${counter}: some writes committed`).toBeGreaterThan(0);
    expect(applied, `counter ${counter}: no commit lost`).toBeGreaterThanOrEqual(committed);
    expect(applied, `counter ${counter}: no failed write applied`).toBeLessThanOrEqual(
      committed + unknown,
    );
  }
  if (process.env.SQLWARDEN_FAULT_REPORT === '1') {
    const longest = Math.max(...mine.map((c) => c.endedAt - c.startedAt));
    process.stderr.write(
      `${JSON.stringify({ e2e: 'stdio', calls: mine.length, codes, recoveredMs, longestCallMs: longest })}\n`,
    );
  }
}

it('survives a fast restart of PostgreSQL with eight callers in flight: every call answered and audited, service resumes', async () => {
  await underFault(() => cluster.restart('fast'));
  expect(calls.filter((c) => c.tool === 'execute_write' && c.code === 'ok').length).toBeGreaterThan(
    0,
  );
}, 90_000);

it('survives an immediate shutdown (a crash) the same way', async () => {
  await underFault(() => cluster.restart('immediate'));
}, 90_000);

it('leaves no connection of its own on the database once the client goes', async () => {
  await server.close();
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  try {
    const ours = async () =>
      Number(
        (
          await admin.query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sqlwarden'",
          )
        ).rows[0]?.count,
      );
    expect(await eventually(async () => (await ours()) === 0, 10_000)).toBe(true);
  } finally {
    await admin.end();
  }
}, 30_000);
