// Bench: the ODBC adapter through `sqlwarden-stdio --connx`, against the raw
// `odbc` package, on psqlODBC (the stand-in for CONNX) and the bench data
// set (seed.mjs: 100k customers, 1M orders on the local PostgreSQL).
//
//   pnpm --filter @sqlwarden/bench bench:connx     (after pnpm build)
//
//   1. Point queries, a new literal each call (as agents write SQL):
//      `SELECT id, name FROM <db>.public.customers WHERE id = <n>`.
//      sqlwarden: the built server started with --connx, driven through the
//      MCP SDK's Client over stdio (driver.mjs), calling query_connx; the
//      reference: the raw `odbc` package in a process of its own, on the
//      same DSN, the same statements. Sequential (one caller) and 4 callers
//      (sqlwarden's pool against 4 raw connections). Calls/s and the ratio;
//      beside them sqlwarden --dsn on the same database (the PostgreSQL
//      adapter, `public.customers`): what the boundary costs on any source,
//      so that the ODBC path's own share shows.
//   2. `SELECT * FROM <db>.public.orders` (1M rows), on a fresh server (run
//      before 1): how long until the
//      answer (sqlwarden stops at CONNX_MAX_ROWS, 1000 by default) and the
//      peak RSS of the server plus its ODBC worker (both polled every 20 ms),
//      on a DSN set as docs/connx.md advises for psqlODBC (UseDeclareFetch=1,
//      Fetch=1000) and on a bare DSN (the driver buffers the whole result in
//      the worker: what a CONNX driver that buffers would do). The raw
//      package: its first 1000 rows through a cursor, and with
//      BENCH_CONNX_RAW_ALL=1 the statement read whole with query() (what a
//      server without a row limit does: about 60 s and 8 GB here).
//
// It prints figures; it asserts nothing about them. Exit 0 when everything
// was measured, 1 otherwise. Knobs: BENCH_DATABASE_URL, BENCH_CONNX_CALLS
// (2000 sequential calls per side), SQLWARDEN_CLI.
//
// Only node: built-ins are imported statically, so the Node-20 re-exec below
// happens before anything else runs.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runOnSystemNode, sanitizedPath } from './system-node.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const CLI =
  process.env.SQLWARDEN_CLI || join(BENCH_DIR, '..', 'apps', 'stdio-server', 'dist', 'cli.js');
/** The `odbc` package the adapter uses (the bench does not depend on it itself). */
const requireFromAdapter = createRequire(
  join(BENCH_DIR, '..', 'packages', 'adapter-connx', 'package.json'),
);

// The figures are for the Node users run: the system's, not pnpm's (system-node.mjs).
runOnSystemNode(import.meta.url);

const DATABASE_URL =
  process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/sqlwarden_bench';
const CALLS = Math.max(1, Number(process.env.BENCH_CONNX_CALLS || 2000));
const WARMUP = 200;
const CUSTOMER_IDS = 100_000;
const DB = decodeURIComponent(new URL(DATABASE_URL).pathname.slice(1));
const pointSql = (id) => `SELECT id, name FROM ${DB}.public.customers WHERE id = ${id}`;
const ALL_SQL = `SELECT * FROM ${DB}.public.orders`;

// --- Raw mode: the reference, in a process of its own -----------------------
// node connx.mjs --raw <connectionString> point <calls> <callers>
// node connx.mjs --raw <connectionString> all | first
if (process.argv[2] === '--raw') {
  const odbc = requireFromAdapter('odbc');
  const [connectionString, mode, callsText, callersText] = process.argv.slice(3);
  const peak = { rss: 0 };
  const poll = setInterval(() => {
    peak.rss = Math.max(peak.rss, process.memoryUsage().rss);
  }, 20);
  const open = () => odbc.connect({ connectionString, fetchArray: true });
  if (mode === 'point') {
    const calls = Number(callsText);
    const callers = Number(callersText);
    const connections = await Promise.all(Array.from({ length: callers }, open));
    let next = 0;
    const run = async (connection, n) => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        await connection.query(pointSql(1 + ((i * 7919) % CUSTOMER_IDS)));
      }
    };
    await Promise.all(connections.map((c) => run(c, WARMUP)));
    next = 0;
    const start = performance.now();
    await Promise.all(connections.map((c) => run(c, calls)));
    const ms = performance.now() - start;
    console.log(JSON.stringify({ callsPerSecond: (calls / ms) * 1000 }));
    await Promise.all(connections.map((c) => c.close()));
  } else {
    const connection = await open();
    const start = performance.now();
    let rows = 0;
    if (mode === 'all') {
      rows = (await connection.query(ALL_SQL)).length;
    } else {
      const cursor = await connection.query(ALL_SQL, { cursor: true, fetchSize: 1000 });
      rows = (await cursor.fetch()).length;
      await cursor.close();
    }
    const ms = performance.now() - start;
    peak.rss = Math.max(peak.rss, process.memoryUsage().rss);
    console.log(JSON.stringify({ ms, rows, rssMb: peak.rss / 2 ** 20 }));
    await connection.close();
  }
  clearInterval(poll);
  process.exit(0);
}

const { McpDriver, readRssKb } = await import('./driver.mjs');
const { seedPostgres } = await import('./seed.mjs');

/** RSS (kB) of a pid, 0 once it is gone. */
const rssKb = (pid) => readRssKb(pid)?.rssKb ?? 0;

/** The pids whose parent is `pid` (the server's ODBC worker): the kernel's list of its threads' children. */
function childrenOf(pid) {
  const found = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text !== '') found.push(...text.split(' ').map(Number));
    }
  } catch {}
  return found;
}

/** Polls the peak RSS of a process and its children, summed per sample. */
function watchTree(pid) {
  const peak = { total: 0, server: 0, worker: 0 };
  const sample = () => {
    const server = rssKb(pid);
    const worker = childrenOf(pid).reduce((sum, child) => sum + rssKb(child), 0);
    peak.server = Math.max(peak.server, server);
    peak.worker = Math.max(peak.worker, worker);
    peak.total = Math.max(peak.total, server + worker);
  };
  sample();
  const timer = setInterval(sample, 20);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const mb = (kb) => kb / 1024;
      return { total: mb(peak.total), server: mb(peak.server), worker: mb(peak.worker) };
    },
  };
}

function raw(connectionString, env, ...args) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--raw', connectionString, ...args],
      { env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()));
      else reject(new Error(`raw odbc ${args.join(' ')} exited ${code}`));
    });
  });
}

/** A private ODBCSYSINI: psqlODBC without its CommLog, and the bench DSNs. */
function odbcSetUp() {
  const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-bench-odbc-'));
  const url = new URL(DATABASE_URL);
  const server = `Servername=${url.hostname}\nPort=${url.port || '5432'}\nDatabase=${DB}\n`;
  writeFileSync(
    join(dir, 'odbcinst.ini'),
    '[PostgreSQL Unicode]\nDriver=psqlodbcw.so\nCommLog=0\nDebug=0\n',
  );
  writeFileSync(
    join(dir, 'odbc.ini'),
    [
      `[bench_cursor]\nDriver=PostgreSQL Unicode\n${server}UseDeclareFetch=1\nFetch=1000\n`,
      `[bench_bare]\nDriver=PostgreSQL Unicode\n${server}`,
    ].join('\n'),
  );
  return { dir, user: decodeURIComponent(url.username) || 'postgres' };
}

const QUOTA = ['--rate', '100000', '--concurrency', '64'];

async function startServer(env, dsn, user) {
  const driver = await McpDriver.start({
    name: `sqlwarden --connx (${dsn})`,
    command: process.execPath,
    args: [CLI, '--connx', '--allow', `${DB}.public.*`, ...QUOTA],
    env: {
      ...env,
      CONNX_DSN: dsn,
      CONNX_USER: user,
      CONNX_PASS: 'unused-with-trust-auth',
      SQLWARDEN_LOG_LEVEL: 'warn',
    },
    cwd: tmpdir(),
    timeoutMs: 120_000,
  });
  return driver;
}

async function startDsnServer(env) {
  return McpDriver.start({
    name: 'sqlwarden --dsn',
    command: process.execPath,
    args: [CLI, '--dsn', DATABASE_URL, '--allow', 'public.*', ...QUOTA],
    env: { ...env, SQLWARDEN_LOG_LEVEL: 'warn' },
    cwd: tmpdir(),
  });
}

async function sqlwardenPoint(driver, calls, callers, tool = 'query_connx', sql = pointSql) {
  let next = 0;
  let failed = 0;
  let firstFailure;
  const run = async (n) => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      const id = 1 + ((i * 7919) % CUSTOMER_IDS);
      const result = await driver.call(
        tool,
        tool === 'query_connx' ? { query: sql(id) } : { sql: sql(id) },
      );
      if (!result.ok) {
        failed++;
        firstFailure ??= result.message;
      }
    }
  };
  await Promise.all(Array.from({ length: callers }, () => run(WARMUP)));
  next = 0;
  failed = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: callers }, () => run(calls)));
  const ms = performance.now() - start;
  if (firstFailure !== undefined) {
    console.log(`  ${tool}: first failure: ${firstFailure}`);
    // What the server's operator log said (warnings and errors, never SQL).
    for (const line of driver
      .stderrTail()
      .split('\n')
      .filter((l) => /"level":(40|50|60)/.test(l))
      .slice(-3)) {
      console.log(`  server log: ${line.slice(0, 400)}`);
    }
  }
  return { callsPerSecond: (calls / ms) * 1000, failed };
}

async function sqlwardenAll(driver) {
  const watch = watchTree(driver.pid);
  const result = await driver.call('query_connx', { query: ALL_SQL }, { keepResult: true });
  const rss = watch.stop();
  return {
    ms: result.durationMs,
    ok: result.ok,
    rows: result.result?.structuredContent?.rowCount,
    truncated: result.result?.structuredContent?.truncated,
    message: result.message,
    rss,
  };
}

const f = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));

async function main() {
  console.log(
    `bench connx: node ${process.version}, ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; database ${DB}`,
  );
  await seedPostgres({ databaseUrl: DATABASE_URL });
  const { dir, user } = odbcSetUp();
  const env = { ...process.env, PATH: sanitizedPath(), ODBCSYSINI: dir };
  const cursorString = `DSN=bench_cursor;UID=${user}`;
  const bareString = `DSN=bench_bare;UID=${user}`;
  let exit = 0;
  const servers = [];
  try {
    const server = await startServer(env, 'bench_cursor', user);
    servers.push(server);
    // The 1M-row read first, on the fresh server: its RSS is then the
    // server's and the worker's for that call, not the point queries' heap.
    const cursorAll = await sqlwardenAll(server);

    const dsn = await startDsnServer(env);
    servers.push(dsn);
    console.log('\n1. Point queries, a new literal each call (calls/s)');
    console.log('callers | raw odbc | sqlwarden --connx | ratio to raw | sqlwarden --dsn (pg)');
    for (const callers of [1, 4]) {
      const rawPoint = await raw(cursorString, env, 'point', String(CALLS), String(callers));
      const ours = await sqlwardenPoint(server, CALLS, callers);
      const pg = await sqlwardenPoint(
        dsn,
        CALLS,
        callers,
        'query_read',
        (id) => `SELECT id, name FROM public.customers WHERE id = ${id}`,
      );
      if (ours.failed > 0 || pg.failed > 0) exit = 1;
      console.log(
        `${callers}       | ${f(rawPoint.callsPerSecond)}     | ${f(ours.callsPerSecond)}${ours.failed ? ` (${ours.failed} failed)` : ''}              | ${f(ours.callsPerSecond / rawPoint.callsPerSecond, 2)}x        | ${f(pg.callsPerSecond)}${pg.failed ? ` (${pg.failed} failed)` : ''}`,
      );
    }

    console.log(`\n2. ${ALL_SQL} (1M rows), each on a fresh server`);
    const bare = await startServer(env, 'bench_bare', user);
    servers.push(bare);
    const bareAll = await sqlwardenAll(bare);
    for (const [label, r] of [
      ['sqlwarden --connx, DSN UseDeclareFetch=1;Fetch=1000', cursorAll],
      ['sqlwarden --connx, bare DSN (driver buffers all)', bareAll],
    ]) {
      if (!r.ok) exit = 1;
      console.log(
        `${label}: answer in ${f(r.ms)} ms, ${r.rows} rows${r.truncated ? ' (truncated)' : ''}${r.ok ? '' : ` FAILED: ${r.message}`}; peak RSS server+worker ${f(r.rss.total)} MB (server ${f(r.rss.server)}, worker ${f(r.rss.worker)})`,
      );
    }
    const rawFirst = await raw(cursorString, env, 'first');
    console.log(
      `raw odbc, cursor, first 1000 rows: ${f(rawFirst.ms)} ms, RSS ${f(rawFirst.rssMb)} MB`,
    );
    if (process.env.BENCH_CONNX_RAW_ALL === '1') {
      const rawAll = await raw(bareString, env, 'all');
      console.log(
        `raw odbc, query() of every row: ${f(rawAll.ms)} ms, ${rawAll.rows} rows, RSS ${f(rawAll.rssMb)} MB`,
      );
    }
  } catch (error) {
    console.error(`bench connx: ${error?.message ?? error}`);
    exit = 1;
  } finally {
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return exit;
}

process.exit(await main());
