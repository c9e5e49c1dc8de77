// Bench: what the cost gate (sources.<id>.costGate) costs per call, and which
// ceilings tell cheap queries from hopeless ones on the bench data set.
//
//   pnpm --filter @sqlwarden/bench bench:cost     (after pnpm build; PostgreSQL and MariaDB local)
//
// Every figure comes from the built server (apps/stdio-server/dist/cli.js,
// started with --config) driven through the MCP SDK's Client over stdio by
// the bench driver (driver.mjs), per engine (PostgreSQL, then MySQL/MariaDB):
//
//   1. Point queries, gate off vs on. Two servers of the same configuration
//      run side by side, one without costGate and one with
//      { maxCost: 100000, maxRows: 1000000 } (a point query passes both).
//      Calls are sequential (one at a time), each a new text with an inline
//      literal, as agents write SQL: SELECT id, name FROM customers WHERE id = <n>.
//      After a warm-up, the measured calls go in blocks, alternating between
//      the servers (off, on, on, off, ...) so background load falls on both.
//      Reported: calls/s, p50/p95 latency (client side), CPU per call of the
//      server process (utime + stime of all its threads, /proc/<pid>/stat),
//      of the database (every postgres / mariadbd process on the machine, so
//      other load on the database counts too), of the harness, and peak RSS.
//   2. Queries on the bench data set, from a point lookup to a cross join of
//      10^16 rows: the planner's estimate (EXPLAIN through pg / mysql2, with
//      the gate's rules, and the gate's own figures from the audit lines of
//      the gated server), how long EXPLAIN takes, and how the query fares on
//      a server without the gate (statement timeout 30 s; the cross joins get
//      5 s, they are not meant to finish). From these it prints the ceilings
//      that separate the queries that answered from the ones that timed out,
//      then runs every query once more on a gated server with those ceilings.
//
// The gate's rules, as the adapters apply them:
//   PostgreSQL  EXPLAIN (FORMAT JSON) <sql>: cost = top plan node "Total Cost",
//               rows = its "Plan Rows" (rows returned, not rows read).
//   MySQL       EXPLAIN FORMAT=JSON <sql>: cost = query_block.cost_info.query_cost,
//               or on MariaDB the session status Last_query_cost read right after;
//               rows = rows examined: per query block, the product of its
//               tables' "rows", summed (docs/cost-gate.md).
//
// It prints figures; it asserts nothing about them. Exit 0 when everything was
// measured, 1 when a database, the server or the gated server was not
// available (whatever could be measured still is).
//
// Knobs: BENCH_ENGINE (postgres, mysql, all), BENCH_DATABASE_URL,
// BENCH_MYSQL_URL, BENCH_COST_CALLS (2000 measured calls per server),
// BENCH_COST_WARMUP (200), BENCH_COST_TIMEOUT_MS (30000),
// BENCH_COST_SHORT_TIMEOUT_MS (5000, for the cross joins), SQLWARDEN_CLI.
//
// Only node: built-ins are imported statically, so the Node-20 re-exec below
// happens before anything else runs.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runOnSystemNode, sanitizedPath } from './system-node.mjs';
import { numberFromEnv, percentile, printTable } from './table.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const CLI =
  process.env.SQLWARDEN_CLI || join(BENCH_DIR, '..', 'apps', 'stdio-server', 'dist', 'cli.js');

// The figures are for the Node users run: the system's, not pnpm's (system-node.mjs).
runOnSystemNode(import.meta.url);

// --- Configuration (environment knobs) -------------------------------------
const ENGINE_CHOICES = ['postgres', 'mysql', 'all'];
const engineChoice = process.env.BENCH_ENGINE || 'all';
if (!ENGINE_CHOICES.includes(engineChoice)) {
  console.error(`BENCH_ENGINE must be one of ${ENGINE_CHOICES.join(', ')} (got ${engineChoice})`);
  process.exit(1);
}

const CONFIG = {
  engine: engineChoice,
  databaseUrl:
    process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/sqlwarden_bench',
  mysqlUrl: process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306/sqlwarden_bench',
  calls: Math.floor(numberFromEnv('BENCH_COST_CALLS', 2000, 1)),
  warmup: Math.floor(numberFromEnv('BENCH_COST_WARMUP', 200)),
  blockSize: 100,
  timeoutMs: numberFromEnv('BENCH_COST_TIMEOUT_MS', 30_000, 100),
  shortTimeoutMs: numberFromEnv('BENCH_COST_SHORT_TIMEOUT_MS', 5_000, 100),
};

/** The gate of the "on" server in 1: the example ceilings of the configuration docs. */
const POINT_GATE = Object.freeze({ maxCost: 100_000, maxRows: 1_000_000 });

const CUSTOMER_IDS = 100_000;
const pointSql = (id) => `SELECT id, name FROM customers WHERE id = ${id}`;

/**
 * The queries of 2, cheap to hopeless. `long: true` runs on the server with
 * the short statement timeout: they are there for their estimate, and are
 * cancelled, not run to completion.
 */
const QUERIES = [
  { key: 'point', label: 'point lookup', sql: 'SELECT id, name FROM customers WHERE id = 42' },
  { key: 'count', label: '1M-row scan, count', sql: 'SELECT count(*) FROM orders' },
  { key: 'all', label: '1M-row scan, all rows', sql: 'SELECT * FROM orders' },
  {
    key: 'join42',
    label: 'join, one customer',
    sql: 'SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.id = 42',
  },
  {
    key: 'join',
    label: 'join, no filter',
    sql: 'SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id',
  },
  {
    key: 'joinagg',
    label: 'join, aggregated',
    sql: 'SELECT c.state, count(*), sum(o.total) FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.state',
  },
  {
    key: 'cross2',
    label: 'cross join, 10^10',
    sql: 'SELECT count(*) FROM customers a, customers b',
    long: true,
  },
  {
    key: 'cross3',
    label: 'cross join, 10^16',
    sql: 'SELECT count(*) FROM customers a, customers b, orders c',
    long: true,
  },
];

/** The database name in a URL's path (`mysql://h/sqlwarden_bench` -> sqlwarden_bench). */
const databaseNameOf = (url) => decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));

const ENGINES = [
  {
    key: 'postgres',
    title: 'PostgreSQL',
    kind: 'postgres',
    url: CONFIG.databaseUrl,
    pattern: 'public.*',
    dbProcesses: ['postgres'],
    explainer: postgresExplainer,
  },
  {
    key: 'mysql',
    title: 'MySQL (MariaDB)',
    kind: 'mysql',
    url: CONFIG.mysqlUrl,
    pattern: `${databaseNameOf(CONFIG.mysqlUrl)}.*`,
    dbProcesses: ['mariadbd', 'mysqld'],
    explainer: mysqlExplainer,
  },
];

// --- Small helpers ----------------------------------------------------------
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtMs = (ms) => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0));
const fmtTime = (ms) =>
  ms < 1000 ? `${fmtMs(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const fmtUs = (us) => `${us.toFixed(0)} µs`;
const fmtSigned = (value, fmt) => (value >= 0 ? `+${fmt(value)}` : `-${fmt(-value)}`);
/** An estimate: grouped digits below 10^9, then 1.0e+14 style. */
function fmtEstimate(n) {
  if (n === undefined || n === null || !Number.isFinite(n)) return '-';
  if (Math.abs(n) >= 1e9) return n.toExponential(1);
  if (Number.isInteger(n)) return fmtInt(n);
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** A URL as printed: a password in it becomes ***. */
function shown(text) {
  try {
    const url = new URL(text);
    if (!url.password) return text;
    url.password = '***';
    return url.toString();
  } catch {
    return text;
  }
}

const median = (values) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

// --- CPU time from /proc ---------------------------------------------------------

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** utime + stime (+ cutime + cstime: children already reaped) of a pid, in ms; null if gone. */
function cpuMsOf(pid, { children = false } = {}) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime, stime,
    // cutime, cstime are the 12th to 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let ticks = Number(fields[11]) + Number(fields[12]);
    if (children) ticks += Number(fields[13]) + Number(fields[14]);
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/**
 * CPU ms of every process whose name is one of `names` (the database server:
 * PostgreSQL's postmaster and backends, or mariadbd). Reaped backends count
 * through their parent's cutime/cstime, so the sum only grows.
 */
function databaseCpuMs(names) {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let comm;
    try {
      comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue; // gone
    }
    if (!names.includes(comm)) continue;
    total += cpuMsOf(entry, { children: true }) ?? 0;
  }
  return total;
}

const clientCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

// --- EXPLAIN with the gate's rules ----------------------------------------------

/** PostgreSQL: the top plan node's Total Cost and Plan Rows. */
function postgresEstimate(explainJson) {
  const plan = explainJson?.[0]?.Plan;
  if (!plan) throw new Error('EXPLAIN (FORMAT JSON): no Plan');
  return { cost: Number(plan['Total Cost']), rows: Number(plan['Plan Rows']) };
}

const isNode = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every query block of a MySQL/MariaDB plan (an object with a select_id). */
function queryBlocks(node, found = []) {
  if (Array.isArray(node)) {
    for (const item of node) queryBlocks(item, found);
  } else if (isNode(node)) {
    if ('select_id' in node) found.push(node);
    for (const value of Object.values(node)) queryBlocks(value, found);
  }
  return found;
}

/** The rows of each table a block reads itself (not those of the blocks inside it). */
function blockTableRows(node, rows, top) {
  if (Array.isArray(node)) {
    for (const item of node) blockTableRows(item, rows, false);
  } else if (isNode(node)) {
    if (!top && 'select_id' in node) return rows;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'table' && isNode(value)) {
        const count = Number(value.rows ?? value.rows_examined_per_scan);
        if (Number.isFinite(count) && count >= 0) rows.push(count);
      }
      blockTableRows(value, rows, false);
    }
  }
  return rows;
}

/**
 * MySQL/MariaDB rows examined: per query block (the statement, each part of
 * a UNION, each subquery), the product of its tables' rows ("rows" on
 * MariaDB, "rows_examined_per_scan" on MySQL; a table wrapped in MariaDB's
 * "block-nl-join" counts too), summed over the blocks.
 */
function mysqlRowsExamined(plan) {
  let total = 0;
  for (const block of queryBlocks(plan)) {
    const rows = blockTableRows(block, [], true);
    if (rows.length > 0) total += rows.reduce((product, n) => product * Math.max(n, 1), 1);
  }
  return total;
}

/**
 * MySQL/MariaDB: query_block.cost_info.query_cost (MySQL 8), else
 * Last_query_cost (MariaDB), which is no estimate for a plan of several
 * query blocks (the gate refuses those; here the cost is NaN).
 */
function mysqlEstimate(plan, lastQueryCost) {
  const queryCost = Number(plan?.query_block?.cost_info?.query_cost);
  const cost = Number.isFinite(queryCost)
    ? queryCost
    : queryBlocks(plan).length > 1
      ? Number.NaN
      : Number(lastQueryCost);
  return { cost, rows: mysqlRowsExamined(plan) };
}

async function postgresExplainer(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    async explain(sql) {
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`);
      return postgresEstimate(rows[0]['QUERY PLAN']);
    },
    close: () => client.end(),
  };
}

async function mysqlExplainer(url) {
  const { connectMysql } = await import('./seed.mjs');
  const conn = await connectMysql(url);
  return {
    async explain(sql) {
      const [rows] = await conn.query(`EXPLAIN FORMAT=JSON ${sql}`);
      const plan = JSON.parse(rows[0].EXPLAIN);
      const [status] = await conn.query("SHOW SESSION STATUS LIKE 'Last_query_cost'");
      return mysqlEstimate(plan, status[0]?.Value);
    },
    close: () => conn.end(),
  };
}

// --- The server ----------------------------------------------------------------

/**
 * One configuration, written as JSON (which is YAML): one source of the
 * engine, one principal reading its tables with query_read, no quotas, audit
 * to a file, and the gate when `costGate` is given.
 */
function serverConfig(engine, { timeoutMs, costGate, auditFile }) {
  return {
    server: { limits: { timeoutMs } },
    sources: {
      main: {
        kind: engine.kind,
        url: '${BENCH_SOURCE_URL}',
        tables: [engine.pattern],
        ...(costGate ? { costGate } : {}),
      },
    },
    roles: { reader: ['tool:query_read', `read:main:${engine.pattern}`] },
    principals: { bench: { roles: ['reader'] } },
    audit: { destination: { file: auditFile } },
    logging: { level: 'warn' },
  };
}

/** Reads the audit file's JSON lines (the gate adds estimatedCost and estimatedRows). */
function readAudit(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        return {};
      }
    });
}

class Server {
  /** Starts a server and checks that it answers SELECT 1 (retried for 5 s). */
  static async start(drivers, engine, name, options) {
    const dir = mkdtempSync(join(tmpdir(), `bench-cost-${name}-`));
    const auditFile = join(dir, 'audit.jsonl');
    const configFile = join(dir, 'sqlwarden.yaml');
    writeFileSync(
      configFile,
      `${JSON.stringify(serverConfig(engine, { ...options, auditFile }), null, 2)}\n`,
    );
    let driver;
    try {
      driver = await drivers.McpDriver.start({
        name,
        command: process.execPath,
        args: [CLI, '--config', configFile],
        cwd: dir,
        env: {
          PATH: sanitizedPath(),
          HOME: process.env.HOME ?? dir,
          BENCH_SOURCE_URL: engine.url,
        },
        timeoutMs: options.timeoutMs + 15_000,
      });
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const server = new Server(name, driver, dir, auditFile);
    const deadline = performance.now() + 5000;
    for (;;) {
      const r = await server.query('SELECT 1');
      if (r.ok) break;
      if (!driver.alive || performance.now() >= deadline) {
        await server.close();
        throw new Error(`${name}: SELECT 1 failed: ${r.code ?? r.failure}: ${r.message ?? ''}`);
      }
      await sleep(250);
    }
    return server;
  }

  constructor(name, driver, dir, auditFile) {
    this.name = name;
    this.driver = driver;
    this.dir = dir;
    this.auditFile = auditFile;
  }

  get pid() {
    return this.driver.pid;
  }

  /** One query_read call: { ok, code, message, durationMs, rowCount, truncated, rows }. */
  async query(sql) {
    const r = await this.driver.call('query_read', { sql }, { keepResult: true });
    const content = r.result?.structuredContent;
    return {
      ok: r.ok,
      failure: r.failure,
      code: content?.error?.code ?? (r.ok ? null : r.failure),
      message: content?.error?.message ?? r.message,
      durationMs: r.durationMs,
      rowCount: content?.rowCount,
      truncated: content?.truncated,
      truncatedReason: content?.truncatedReason,
      rows: content?.rows,
    };
  }

  /** Audit lines written so far. */
  audit() {
    return readAudit(this.auditFile);
  }

  /** Waits (up to 2 s) for the audit file to hold more than `count` lines; the last one. */
  async auditAfter(count) {
    const deadline = performance.now() + 2000;
    for (;;) {
      const lines = this.audit();
      if (lines.length > count) return lines[lines.length - 1];
      if (performance.now() >= deadline) return null;
      await sleep(10);
    }
  }

  async close() {
    await this.driver.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The reason a server could not start, in one line. */
const startFailure = (error) =>
  String(error?.message ?? error)
    .replace(/\s+/g, ' ')
    .slice(0, 300);

// --- 1. Point queries, gate off vs on ----------------------------------------------

/** The n-th id a server asks for: distinct for n < 100,000, so every text is new. */
const idFor = (n, salt) => 1 + ((n * 7919 + salt * 104_729) % CUSTOMER_IDS);

function newTally() {
  return {
    latencies: [],
    errors: 0,
    firstError: null,
    wallMs: 0,
    serverCpuMs: 0,
    dbCpuMs: 0,
    clientCpuMs: 0,
  };
}

/** `count` sequential point queries on one server, starting at call number `from`. */
async function pointBlock(server, engine, tally, from, count, salt) {
  const server0 = cpuMsOf(server.pid);
  const db0 = databaseCpuMs(engine.dbProcesses);
  const client0 = clientCpuMs();
  const t0 = performance.now();
  for (let n = from; n < from + count; n++) {
    const id = idFor(n, salt);
    const r = await server.query(pointSql(id));
    const good = r.ok && r.rows?.[0]?.[1] === `Customer ${id}`;
    if (good) tally.latencies.push(r.durationMs);
    else {
      tally.errors++;
      tally.firstError ??= `${r.code ?? 'unexpected answer'}: ${r.message ?? JSON.stringify(r.rows)}`;
    }
  }
  tally.wallMs += performance.now() - t0;
  tally.clientCpuMs += clientCpuMs() - client0;
  tally.dbCpuMs += databaseCpuMs(engine.dbProcesses) - db0;
  tally.serverCpuMs += (cpuMsOf(server.pid) ?? Number.NaN) - server0;
}

function summarize(tally, server) {
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  const calls = sorted.length + tally.errors;
  return {
    calls,
    errors: tally.errors,
    firstError: tally.firstError,
    callsPerSec: calls / (tally.wallMs / 1000),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    serverUs: (tally.serverCpuMs * 1000) / calls,
    dbUs: (tally.dbCpuMs * 1000) / calls,
    clientUs: (tally.clientCpuMs * 1000) / calls,
    peakRssMb: server.driver.peakRssMb(),
  };
}

async function measurePoint(drivers, engine) {
  const result = { off: null, on: null };
  let off = null;
  let on = null;
  try {
    try {
      off = await Server.start(drivers, engine, 'gate-off', { timeoutMs: CONFIG.timeoutMs });
    } catch (error) {
      result.offError = startFailure(error);
      return result;
    }
    try {
      on = await Server.start(drivers, engine, 'gate-on', {
        timeoutMs: CONFIG.timeoutMs,
        costGate: POINT_GATE,
      });
    } catch (error) {
      result.onError = startFailure(error);
    }
    const servers = [
      { key: 'off', server: off, salt: 1, tally: newTally() },
      ...(on ? [{ key: 'on', server: on, salt: 2, tally: newTally() }] : []),
    ];
    console.log(
      `  1. point queries: ${CONFIG.warmup} warm-up + ${CONFIG.calls} measured sequential calls per server, ` +
        `blocks of ${CONFIG.blockSize} alternating (${servers.map((s) => `gate ${s.key} pid ${s.server.pid}`).join(', ')})`,
    );
    for (const s of servers)
      await pointBlock(s.server, engine, newTally(), 0, CONFIG.warmup, s.salt);
    const auditBefore = on ? on.audit().length : 0;
    for (let from = CONFIG.warmup, b = 0; from < CONFIG.warmup + CONFIG.calls; b++) {
      const count = Math.min(CONFIG.blockSize, CONFIG.warmup + CONFIG.calls - from);
      // off, on, on, off, off, on, ...: each goes first as often as the other.
      const order = b % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) await pointBlock(s.server, engine, s.tally, from, count, s.salt);
      from += count;
    }
    for (const s of servers) result[s.key] = summarize(s.tally, s.server);
    if (on) {
      await sleep(200); // the last audit lines
      const lines = on.audit().slice(auditBefore);
      const gated = lines.filter((l) => l.estimatedCost !== undefined);
      result.onAudit = {
        lines: lines.length,
        gated: gated.length,
        cost: gated.length ? median(gated.map((l) => Number(l.estimatedCost))) : undefined,
        rows: gated.length ? median(gated.map((l) => Number(l.estimatedRows))) : undefined,
      };
    }
    for (const key of ['off', 'on']) {
      const r = result[key];
      if (r)
        console.log(
          `     gate ${key}: ${r.callsPerSec.toFixed(0)} calls/s, p50 ${fmtMs(r.p50)} ms, p95 ${fmtMs(r.p95)} ms, ` +
            `server ${fmtUs(r.serverUs)}/call, errors ${r.errors}`,
        );
    }
    return result;
  } finally {
    await off?.close();
    await on?.close();
  }
}

// --- 2. Estimates and run times ------------------------------------------------------

/** Direct EXPLAIN of every query: the estimate and the median time of 5 EXPLAINs. */
async function directEstimates(engine) {
  const explainer = await engine.explainer(engine.url);
  try {
    const out = {};
    for (const q of QUERIES) {
      const times = [];
      let estimate;
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        estimate = await explainer.explain(q.sql);
        times.push(performance.now() - t0);
      }
      out[q.key] = { ...estimate, explainMs: median(times) };
    }
    return out;
  } finally {
    await explainer.close();
  }
}

const describeAnswer = (r) =>
  r.ok
    ? `${fmtInt(r.rowCount)} row${r.rowCount === 1 ? '' : 's'}${r.truncated ? ` (truncated, ${r.truncatedReason})` : ''}`
    : `${r.code}`;

/**
 * Every query on servers without the gate: the 30 s one (each query twice,
 * the faster run kept, unless the first took over 5 s) and, for the long
 * ones, the 5 s one (once).
 */
async function ungatedRuns(drivers, engine) {
  const out = {};
  const run = async (name, timeoutMs, queries, repeat) => {
    let server;
    try {
      server = await Server.start(drivers, engine, name, { timeoutMs });
    } catch (error) {
      for (const q of queries) out[q.key] = { error: startFailure(error) };
      return;
    }
    try {
      for (const q of queries) {
        let best = await server.query(q.sql);
        if (repeat && best.ok && best.durationMs < 5000) {
          const again = await server.query(q.sql);
          if (again.ok && again.durationMs < best.durationMs) best = again;
        }
        out[q.key] = { ...best, timeoutMs, rows: undefined };
        console.log(`     ${q.label}: ${describeAnswer(best)} in ${fmtTime(best.durationMs)}`);
      }
    } finally {
      await server.close();
    }
  };
  console.log(`  2. ungated runs (statement timeout ${fmtTime(CONFIG.timeoutMs)})`);
  await run(
    'ungated',
    CONFIG.timeoutMs,
    QUERIES.filter((q) => !q.long),
    true,
  );
  console.log(`     (statement timeout ${fmtTime(CONFIG.shortTimeoutMs)})`);
  await run(
    'ungated-short',
    CONFIG.shortTimeoutMs,
    QUERIES.filter((q) => q.long),
    false,
  );
  return out;
}

/** A round number in [low, high): low < result < high when there is room. */
function roundBetween(low, high) {
  const mid = low > 0 ? Math.sqrt(low * high) : high / 10;
  const scale = 10 ** Math.floor(Math.log10(mid));
  for (const candidate of [Math.round(mid / scale) * scale, Math.ceil(mid / scale) * scale]) {
    if (candidate > low && candidate < high) return candidate;
  }
  return mid;
}

/**
 * The ceilings on one measure (cost or rows) that let every query that
 * answered through and refuse every one that timed out: any value in
 * [largest accepted, smallest refused). null bounds when a side is empty.
 */
function separation(queries, measure) {
  const answered = queries.filter((q) => q.class === 'answered');
  const hopeless = queries.filter((q) => q.class === 'hopeless');
  const largest = answered.reduce(
    (m, q) => (q.est[measure] > (m?.est[measure] ?? -1) ? q : m),
    null,
  );
  const smallest = hopeless.reduce(
    (m, q) => (q.est[measure] < (m?.est[measure] ?? Number.POSITIVE_INFINITY) ? q : m),
    null,
  );
  if (!largest || !smallest) return { largest, smallest, separates: false };
  const low = largest.est[measure];
  const high = smallest.est[measure];
  const separates = low < high;
  return {
    largest,
    smallest,
    separates,
    suggested: separates ? roundBetween(low, high) : undefined,
  };
}

async function measureQueries(drivers, engine) {
  const result = {};
  console.log('  2. EXPLAIN of each query (direct, through the Node driver)');
  result.direct = await directEstimates(engine);
  result.runs = await ungatedRuns(drivers, engine);

  const rows = QUERIES.map((q) => {
    const run = result.runs[q.key];
    const cls = run?.ok
      ? 'answered'
      : run?.code === 'QUERY_TIMEOUT' || run?.failure === 'timeout'
        ? 'hopeless'
        : 'other';
    return { ...q, est: result.direct[q.key], run, class: cls };
  });
  result.rows = rows;
  result.cost = separation(rows, 'cost');
  result.rowsSep = separation(rows, 'rows');

  // The gated server: the suggested ceilings (or the example ones where a
  // measure separates nothing), every query once; its audit lines give the
  // gate's own estimates.
  const gate = {
    maxCost: result.cost.suggested ?? POINT_GATE.maxCost,
    maxRows: result.rowsSep.suggested ?? POINT_GATE.maxRows,
  };
  result.gate = gate;
  let server;
  try {
    server = await Server.start(drivers, engine, 'gated', {
      timeoutMs: CONFIG.timeoutMs,
      costGate: gate,
    });
  } catch (error) {
    result.gatedError = startFailure(error);
    return result;
  }
  try {
    console.log(
      `  2. gated server (maxCost ${fmtEstimate(gate.maxCost)}, maxRows ${fmtEstimate(gate.maxRows)})`,
    );
    result.gated = {};
    for (const q of QUERIES) {
      const before = server.audit().length;
      let r = await server.query(q.sql);
      const line = await server.auditAfter(before);
      // As without the gate: twice, the faster kept, unless the first took over 5 s.
      if (r.durationMs < 5000) {
        const again = await server.query(q.sql);
        if (again.ok === r.ok && again.durationMs < r.durationMs) r = again;
      }
      result.gated[q.key] = {
        ...r,
        rows: undefined,
        auditCost: line?.estimatedCost,
        auditRows: line?.estimatedRows,
        auditCode: line?.code,
      };
      console.log(
        `     ${q.label}: ${describeAnswer(r)} in ${fmtTime(r.durationMs)}; audit estimatedCost ${line?.estimatedCost ?? '-'}, estimatedRows ${line?.estimatedRows ?? '-'}`,
      );
    }
  } finally {
    await server.close();
  }
  return result;
}

// --- Report --------------------------------------------------------------------------

function reportPoint(engine, point) {
  const title = `1. ${engine.title}: ${pointSql('<n>')}, sequential, ${CONFIG.calls} calls per server after ${CONFIG.warmup} warm-up`;
  if (!point) return printTable(title, ['gate'], [{ span: ['-', 'not measured'] }]);
  const row = (label, r) => [
    label,
    r.callsPerSec.toFixed(0),
    fmtMs(r.p50),
    fmtMs(r.p95),
    fmtUs(r.serverUs),
    fmtUs(r.dbUs),
    fmtUs(r.clientUs),
    `${r.peakRssMb.toFixed(0)} MB`,
    String(r.errors),
  ];
  const rows = [];
  if (point.off) rows.push(row('off', point.off));
  else rows.push({ span: ['off', `not available: ${point.offError}`] });
  if (point.on)
    rows.push(row(`on (${fmtInt(POINT_GATE.maxCost)} / ${fmtInt(POINT_GATE.maxRows)})`, point.on));
  else if (point.onError) rows.push({ span: ['on', `not available: ${point.onError}`] });
  if (point.off && point.on) {
    const d = (key) => point.on[key] - point.off[key];
    rows.push([
      'difference',
      fmtSigned(point.on.callsPerSec - point.off.callsPerSec, (v) => v.toFixed(0)),
      fmtSigned(d('p50'), fmtMs),
      fmtSigned(d('p95'), fmtMs),
      fmtSigned(d('serverUs'), fmtUs),
      fmtSigned(d('dbUs'), fmtUs),
      fmtSigned(d('clientUs'), fmtUs),
      fmtSigned(d('peakRssMb'), (v) => `${v.toFixed(0)} MB`),
      '',
    ]);
  }
  printTable(
    title,
    [
      'gate',
      'calls/s',
      'p50 ms',
      'p95 ms',
      'server CPU/call',
      'DB CPU/call',
      'client CPU/call',
      'peak RSS',
      'errors',
    ],
    rows,
  );
  for (const key of ['off', 'on']) {
    if (point[key]?.firstError)
      console.log(`gate ${key}: first error: ${point[key].firstError.slice(0, 200)}`);
  }
  if (point.onAudit) {
    const a = point.onAudit;
    console.log(
      a.gated > 0
        ? `gate on: the audit shows the gate on ${a.gated} of ${a.lines} measured calls (median estimatedCost ${fmtEstimate(a.cost)}, estimatedRows ${fmtEstimate(a.rows)})`
        : `gate on: no audit line carries estimatedCost (${a.lines} lines): the gate did not run?`,
    );
  }
}

function runCell(run) {
  if (!run) return '-';
  if (run.error) return `not available: ${run.error.slice(0, 60)}`;
  if (run.ok) return fmtTime(run.durationMs);
  if (run.code === 'QUERY_TIMEOUT' || run.failure === 'timeout')
    return `> ${fmtTime(run.timeoutMs)} (cancelled)`;
  return `${fmtTime(run.durationMs)}`;
}

function reportQueries(engine, q) {
  const title = `2. ${engine.title}: estimates (EXPLAIN, the gate's rules) and runs without the gate (limits: maxRows 1000, timeout ${fmtTime(CONFIG.timeoutMs)}; the cross joins ${fmtTime(CONFIG.shortTimeoutMs)})`;
  if (!q?.rows) return printTable(title, ['query'], [{ span: ['-', 'not measured'] }]);
  const gatedCell = (key) => {
    if (q.gatedError) return 'n/a';
    const g = q.gated?.[key];
    if (!g) return '-';
    return g.ok ? `ran, ${fmtTime(g.durationMs)}` : `${g.code}, ${fmtTime(g.durationMs)}`;
  };
  printTable(
    title,
    [
      'query',
      'est. cost',
      'est. rows',
      'EXPLAIN (direct)',
      'ungated: time',
      'answer',
      'gated: outcome, time',
    ],
    q.rows.map((r) => [
      r.label,
      fmtEstimate(r.est.cost),
      fmtEstimate(r.est.rows),
      fmtTime(r.est.explainMs),
      runCell(r.run),
      r.run?.error ? '-' : describeAnswer(r.run ?? {}),
      gatedCell(r.key),
    ]),
  );
  for (const r of q.rows) console.log(`  ${r.label}: ${r.sql}`);

  // The gate's own figures (audit) against the direct EXPLAIN.
  if (q.gated) {
    const mismatches = q.rows.filter((r) => {
      const g = q.gated[r.key];
      const close = (a, b) =>
        a !== undefined && Math.abs(Number(a) - b) <= Math.max(0.01, Math.abs(b) * 1e-6);
      return !(close(g?.auditCost, r.est.cost) && close(g?.auditRows, r.est.rows));
    });
    if (mismatches.length === 0) {
      console.log(
        `\nThe gate's estimates (audit lines) equal the direct EXPLAIN for all ${q.rows.length} queries.`,
      );
    } else {
      printTable(
        "The gate's estimates (audit lines) that differ from the direct EXPLAIN",
        ['query', 'audit cost', 'audit rows', 'direct cost', 'direct rows'],
        mismatches.map((r) => [
          r.label,
          fmtEstimate(
            q.gated[r.key]?.auditCost === undefined ? undefined : Number(q.gated[r.key].auditCost),
          ),
          fmtEstimate(
            q.gated[r.key]?.auditRows === undefined ? undefined : Number(q.gated[r.key].auditRows),
          ),
          fmtEstimate(r.est.cost),
          fmtEstimate(r.est.rows),
        ]),
      );
    }
  }

  // Which ceilings separate the answered from the hopeless.
  const lines = [];
  for (const [name, sep, measure] of [
    ['maxCost', q.cost, 'cost'],
    ['maxRows', q.rowsSep, 'rows'],
  ]) {
    if (!sep.largest || !sep.smallest) {
      lines.push(
        `${name}: nothing to separate (answered: ${sep.largest ? 'some' : 'none'}, timed out: ${sep.smallest ? 'some' : 'none'})`,
      );
    } else if (sep.separates) {
      lines.push(
        `${name}: any value from ${fmtEstimate(sep.largest.est[measure])} (largest answered: ${sep.largest.label}) ` +
          `to below ${fmtEstimate(sep.smallest.est[measure])} (smallest timed out: ${sep.smallest.label}); e.g. ${fmtEstimate(sep.suggested)}`,
      );
    } else {
      lines.push(
        `${name}: does not separate: ${sep.smallest.label} (timed out) estimates ${fmtEstimate(sep.smallest.est[measure])}, ` +
          `no more than ${sep.largest.label} (answered) at ${fmtEstimate(sep.largest.est[measure])}`,
      );
    }
  }
  const example = q.rows
    .filter((r) => r.est.cost > POINT_GATE.maxCost || r.est.rows > POINT_GATE.maxRows)
    .map((r) => r.label);
  lines.push(
    `the example ceilings (maxCost ${fmtInt(POINT_GATE.maxCost)}, maxRows ${fmtInt(POINT_GATE.maxRows)}) would refuse: ${example.join(', ') || 'none'}`,
  );
  if (q.gatedError) lines.push(`gated server: not available: ${q.gatedError}`);
  else
    lines.push(
      `"gated" column: a server with costGate { maxCost: ${q.gate.maxCost}, maxRows: ${q.gate.maxRows} } (these ceilings), best of two runs`,
    );
  console.log(`\nCeilings (${engine.title}):`);
  for (const line of lines) console.log(`  ${line}`);
}

// --- Main ------------------------------------------------------------------------------

async function main() {
  console.log(
    `bench: cost gate, harness on node ${process.version}, ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const { seed } = await import('./seed.mjs');
  const drivers = await import('./driver.mjs');
  const built = existsSync(CLI);
  if (!built) console.log(`bench: sqlwarden is not built (${CLI}): run pnpm build`);

  const sections = [];
  for (const engine of ENGINES.filter((e) => CONFIG.engine === 'all' || e.key === CONFIG.engine)) {
    console.log(`\n##### ${engine.title}: ${shown(engine.url)}`);
    const section = { engine };
    sections.push(section);
    try {
      await seed({ engine: engine.key, databaseUrl: engine.url });
    } catch (error) {
      // The other engine is still measured; the run exits 1 at the end.
      section.databaseError = error?.message ?? String(error);
      console.log(`bench: ${engine.title}: database not available: ${section.databaseError}`);
      continue;
    }
    if (!built) {
      section.queries = { direct: await directEstimates(engine) };
      continue;
    }
    section.point = await measurePoint(drivers, engine);
    section.queries = await measureQueries(drivers, engine);
    section.load = loadavg();
    console.log(
      `  load average after ${engine.title}: ${section.load.map((l) => l.toFixed(2)).join(' ')}`,
    );
  }

  let incomplete = !built;
  for (const { engine, databaseError, point, queries } of sections) {
    console.log(`\n=== Results: ${engine.title} (${shown(engine.url)}) ===`);
    if (databaseError) {
      console.log(`database not available: ${databaseError}`);
      incomplete = true;
      continue;
    }
    if (!built) {
      printTable(
        `2. ${engine.title}: estimates only (sqlwarden not built)`,
        ['query', 'est. cost', 'est. rows', 'EXPLAIN'],
        QUERIES.map((q) => [
          q.label,
          fmtEstimate(queries.direct[q.key].cost),
          fmtEstimate(queries.direct[q.key].rows),
          fmtTime(queries.direct[q.key].explainMs),
        ]),
      );
      continue;
    }
    reportPoint(engine, point);
    reportQueries(engine, queries);
    if (!point?.off || !point?.on || queries?.gatedError) incomplete = true;
  }
  if (incomplete) {
    console.log('\nbench: not everything could be measured (see above); exit code 1');
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error('bench failed:', error);
  process.exitCode = 1;
});
