// What data governance costs sqlwarden per call (docs/governance.md).
//
// Point reads as agents write them (literals inline, a new SQL text every
// call) through sqlwarden-stdio on PostgreSQL: `concurrency` callers share
// one stdio connection and loop query_read for a warm-up, then a measured
// window. The data is the script's own: a database sqlwarden_bench_gov_<tag>
// with hr.people(id int primary key, name, email, ssn, salary), 10,000 rows,
// and a NOLOGIN role for (4); both are dropped at the end, on failure and on
// SIGINT/SIGTERM too. Each mode runs on a fresh server with its own file:
//
//   baseline  no column policies, no identity, `governance: { untrustedData: off }`
//   framed    no `governance` key at all: results framed as data (the default)
//   policies  framed, plus for the principal's role: ssn deny, email mask
//             partial, salary mask hash (maskKey from the environment)
//   identity  policies, plus principals.ana.database.main.role: every read
//             runs SET LOCAL ROLE and sets sqlwarden.subject in its set-up
//   refused   the policies server, sent `SELECT id FROM people WHERE ssn
//             LIKE '<n>%'`: how fast a refusal (COLUMN_DENIED) comes back
//
// Modes 1 to 4 send `SELECT id, name, email, salary FROM people WHERE id = <n>`
// (the masked columns, in 3 and 4) and check every answer: the row's real
// e-mail address in 1 and 2; its name, no real address and a hash token in
// 3 and 4. Mode 5 checks that every answer is QUERY_REJECTED naming ssn.
// Before its window, the identity server must fail a read of a table its
// role has no grant on (which the policies server reads), so the role is in
// force.
//
// Reported per mode: calls/s, p50 and p99 latency (client side), the server
// process's CPU per call (/proc/<pid>/stat, all threads) and the CPU per
// call of its PostgreSQL backends (the backends of the bench database, found
// in pg_stat_activity at the window's start): each median over the rounds.
// Also the text bytes (what a model reads) of a 100-row result, per mode:
// `SELECT * ... ORDER BY id LIMIT 100` where * is allowed, and the explicit
// list `SELECT id, name, email, salary ...` everywhere.
//
// The modes are interleaved round by round, so drift on a shared machine
// spreads over all of them. The machine's load average is printed before
// and after. Needs the built stdio server (pnpm turbo build --filter
// @sqlwarden/stdio-server...) and PostgreSQL; it asserts nothing about speed.
//
//   node bench/governance.mjs
//   BENCH_ROUNDS=5 BENCH_GOVERNANCE_MODES=baseline,policies node bench/governance.mjs
//   BENCH_GOVERNANCE_CPU_PROF=/tmp/prof node bench/governance.mjs   # node --cpu-prof on each server
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { McpDriver, textOf } from './driver.mjs';
import { runOnSystemNode, sanitizedPath } from './system-node.mjs';
import { numberFromEnv, percentile, printTable } from './table.mjs';

runOnSystemNode(import.meta.url);

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const CLI =
  process.env.SQLWARDEN_CLI || join(BENCH_DIR, '..', 'apps', 'stdio-server', 'dist', 'cli.js');
/** The server to create the bench database on (its own database is only used to connect). */
const ADMIN_URL =
  process.env.BENCH_GOVERNANCE_PG_URL ||
  process.env.SQLWARDEN_TEST_PG_URL ||
  'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = numberFromEnv('BENCH_SECONDS', 8, 1);
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 2);
const CONCURRENCY = Math.max(1, Math.floor(numberFromEnv('BENCH_CONCURRENCY', 8, 1)));
const ROUNDS = Math.max(1, Math.floor(numberFromEnv('BENCH_ROUNDS', 3, 1)));
const ALL_MODES = ['baseline', 'framed', 'policies', 'identity', 'refused'];
const MODES = (process.env.BENCH_GOVERNANCE_MODES || ALL_MODES.join(',')).split(',');
const CPU_PROF_DIR = process.env.BENCH_GOVERNANCE_CPU_PROF;
const ROWS = 10_000;

const unknownModes = MODES.filter((mode) => !ALL_MODES.includes(mode));
if (unknownModes.length > 0) {
  console.error(
    `bench: unknown mode(s) ${unknownModes.join(', ')} in BENCH_GOVERNANCE_MODES; use ${ALL_MODES.join(', ')}`,
  );
  process.exit(1);
}
if (!existsSync(CLI)) {
  console.error(
    `bench: ${CLI} is missing: build it with pnpm turbo build --filter @sqlwarden/stdio-server...`,
  );
  process.exit(1);
}

const TAG = `${process.pid}_${randomBytes(3).toString('hex')}`;
const DATABASE = `sqlwarden_bench_gov_${TAG}`;
const ROLE = `sqlwarden_bench_gov_${TAG}`;
const SCHEMA = 'hr';
/** 64 hex characters, given to the server in its environment (never on its command line). */
const MASK_KEY = randomBytes(32).toString('hex');

function databaseUrl(name) {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
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

// --- the data ----------------------------------------------------------------

async function createData() {
  await withClient(ADMIN_URL, (admin) => admin.query(`CREATE DATABASE ${DATABASE}`));
  await withClient(databaseUrl(DATABASE), (db) =>
    db.query(`
      CREATE SCHEMA ${SCHEMA};
      CREATE TABLE ${SCHEMA}.people (
        id int PRIMARY KEY, name text NOT NULL, email text, ssn text NOT NULL, salary numeric(10,2));
      INSERT INTO ${SCHEMA}.people
        SELECT i, 'name' || i, 'person' || i || '@example.com',
               lpad((i * 7919 % 1000)::text, 3, '0') || '-' || lpad((i % 100)::text, 2, '0') || '-' || lpad(i::text, 4, '0'),
               30000 + (i * 104729 % 70000) + (i % 100) / 100.0
        FROM generate_series(1, ${ROWS}) AS i;
      -- A table the identity's role may not read: the check that the role is in force.
      CREATE TABLE ${SCHEMA}.payroll_secret (id int PRIMARY KEY);
      INSERT INTO ${SCHEMA}.payroll_secret VALUES (1);
      ANALYZE ${SCHEMA}.people;
      CREATE ROLE ${ROLE} NOLOGIN;
      GRANT USAGE ON SCHEMA ${SCHEMA} TO ${ROLE};
      GRANT SELECT ON ${SCHEMA}.people TO ${ROLE};
      -- The source's user must be a member (a superuser need not be; granted anyway, as documented).
      GRANT ${ROLE} TO CURRENT_USER;`),
  );
}

let droppedData = false;
async function dropData() {
  if (droppedData) return;
  droppedData = true;
  await withClient(ADMIN_URL, async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${ROLE}`);
  });
}

// --- configurations ----------------------------------------------------------

const POLICIES = `  maskKey: \${BENCH_GOV_MASK_KEY}
  columns:
    - { source: main, table: ${SCHEMA}.people, columns: [ssn], action: deny, roles: [analyst] }
    - { source: main, table: ${SCHEMA}.people, columns: [email], action: mask, mask: partial, roles: [analyst] }
    - { source: main, table: ${SCHEMA}.people, columns: [salary], action: mask, mask: hash, roles: [analyst] }
`;

/** The configuration file of a mode: one source, one role, one principal, no quotas. */
function configYaml(mode) {
  const identity = mode === 'identity' ? `, database: { main: { role: ${ROLE} } }` : '';
  const governance = {
    baseline: 'governance:\n  untrustedData: off\n',
    framed: '',
    policies: `governance:\n${POLICIES}`,
    identity: `governance:\n${POLICIES}`,
    refused: `governance:\n${POLICIES}`,
  }[mode];
  return `sources:
  main:
    kind: postgres
    url: \${BENCH_GOV_DATABASE_URL}
    defaultSchema: ${SCHEMA}
    tables: ["${SCHEMA}.*"]
roles:
  analyst: [tool:query_read, "read:main:${SCHEMA}.*"]
principals:
  ana: { roles: [analyst]${identity} }
${governance}`;
}

// --- one call per mode, and how its answer is checked --------------------------

const POINT = (id) => `SELECT id, name, email, salary FROM people WHERE id = ${id}`;
const ATTACK = (prefix) => `SELECT id FROM people WHERE ssn LIKE '${prefix}%'`;
const randomId = () => 1 + Math.floor(Math.random() * ROWS);

/** The statement a caller sends next, and a check of its answer (a reason when it is wrong). */
function nextCall(mode) {
  if (mode === 'refused') {
    const prefix = String(Math.floor(Math.random() * 1000)).padStart(3, '0');
    return {
      sql: ATTACK(prefix),
      wrong: (r) => {
        const code = r.result?.structuredContent?.error?.code;
        if (code !== 'QUERY_REJECTED') return `expected QUERY_REJECTED, got ${code ?? 'a result'}`;
        return textOf(r.result).includes('ssn') ? null : 'the refusal does not name ssn';
      },
    };
  }
  const id = randomId();
  const email = `person${id}@example.com`;
  const masked = mode === 'policies' || mode === 'identity';
  return {
    sql: POINT(id),
    wrong: (r) => {
      if (!r.ok) return r.message ?? r.failure;
      const text = textOf(r.result);
      if (!masked) return text.includes(email) ? null : `no ${email} in the answer`;
      if (text.includes(`person${id}@`)) return 'the real e-mail address in a masked answer';
      if (!text.includes(`name${id}`) || !/h:[0-9a-f]{16}/.test(text)) {
        return `expected name${id} and a hash token: ${text.slice(0, 120)}`;
      }
      return null;
    },
  };
}

// --- CPU time from /proc ---------------------------------------------------------

/**
 * CPU time (user + system, ms) of a process: /proc/<pid>/stat's utime and
 * stime in clock ticks of 10 ms; 0 once it is gone.
 */
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** The PostgreSQL backends of the bench database: the server's pool (the script holds none there). */
async function backendPids(admin) {
  const { rows } = await admin.query(
    'SELECT pid FROM pg_catalog.pg_stat_activity WHERE datname = $1',
    [DATABASE],
  );
  return rows.map((row) => row.pid);
}

const sumCpuMs = (pids) => pids.reduce((total, pid) => total + cpuMs(pid), 0);

// --- one measurement ---------------------------------------------------------------

async function startServer(mode, dir) {
  const file = join(dir, `${mode}.yaml`);
  writeFileSync(file, configYaml(mode));
  const profile = CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', join(CPU_PROF_DIR, mode)] : [];
  return McpDriver.start({
    name: `sqlwarden (${mode})`,
    command: process.execPath,
    args: [...profile, CLI, '--config', file, '--principal', 'ana'],
    env: {
      PATH: sanitizedPath(),
      HOME: dir,
      BENCH_GOV_DATABASE_URL: databaseUrl(DATABASE),
      BENCH_GOV_MASK_KEY: MASK_KEY,
    },
    cwd: dir,
  });
}

/** Text bytes of two 100-row reads (null where the mode refuses or does not read). */
async function hundredRowBytes(driver, mode) {
  const read = async (sql) => {
    const r = await driver.call('query_read', { sql }, { keepResult: true });
    const rows = r.result?.structuredContent?.rows;
    return r.ok && rows?.length === 100 ? r.textBytes : null;
  };
  if (mode === 'refused') return { star: null, list: null };
  const masked = mode === 'policies' || mode === 'identity';
  return {
    // Under the policies `*` is refused (ssn is denied): the explicit list is the comparable read.
    star: masked ? null : await read('SELECT * FROM people ORDER BY id LIMIT 100'),
    list: await read('SELECT id, name, email, salary FROM people ORDER BY id LIMIT 100'),
  };
}

/** Fails unless the identity's role is in force: it may not read payroll_secret, the source's user may. */
async function checkIdentity(driver, mode) {
  const r = await driver.call('query_read', { sql: 'SELECT id FROM payroll_secret' });
  if (mode === 'identity' && !r.message?.includes('FORBIDDEN')) {
    throw new Error(
      `identity: a read the role has no grant for was not refused as FORBIDDEN (${r.ok ? 'it succeeded' : r.message}): the role is not in force`,
    );
  }
  if (mode === 'policies' && !r.ok) {
    throw new Error(`policies: the source's user could not read payroll_secret: ${r.message}`);
  }
}

async function measure(mode, admin, dir) {
  const driver = await startServer(mode, dir);
  try {
    if (mode === 'identity' || mode === 'policies') await checkIdentity(driver, mode);
    const bytes = await hundredRowBytes(driver, mode);
    const start = performance.now();
    const windowStart = start + WARMUP_SECONDS * 1000;
    const windowEnd = windowStart + SECONDS * 1000;
    const latencies = [];
    let errors = 0;
    let firstError;
    let opened;
    const opening = new Promise((resolve, reject) => {
      setTimeout(() => {
        const server = cpuMs(driver.pid);
        backendPids(admin).then((pids) => {
          opened = { server, pids, backends: sumCpuMs(pids) };
          resolve();
        }, reject);
      }, WARMUP_SECONDS * 1000);
    });
    const caller = async () => {
      while (performance.now() < windowEnd && driver.alive) {
        const { sql, wrong } = nextCall(mode);
        const r = await driver.call('query_read', { sql }, { keepResult: true });
        const done = performance.now();
        const problem = wrong(r);
        if (problem) firstError ??= problem;
        if (done < windowStart || done > windowEnd) continue;
        if (problem) errors++;
        else latencies.push(r.durationMs);
      }
    };
    await Promise.all([opening, ...Array.from({ length: CONCURRENCY }, caller)]);
    const calls = latencies.length + errors;
    const serverCpuUs = ((cpuMs(driver.pid) - opened.server) * 1000) / calls;
    const backendCpuUs = ((sumCpuMs(opened.pids) - opened.backends) * 1000) / calls;
    latencies.sort((a, b) => a - b);
    return {
      bytes,
      serverCpuUs,
      backendCpuUs,
      backends: opened.pids.length,
      callsPerSec: latencies.length / SECONDS,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      errors,
      firstError,
    };
  } finally {
    await driver.close();
  }
}

// --- the run -------------------------------------------------------------------------

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)];
};
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-bench-governance-'));
if (CPU_PROF_DIR)
  for (const mode of MODES) mkdirSync(join(CPU_PROF_DIR, mode), { recursive: true });
let cleaning;
const cleanUp = () => {
  cleaning ??= dropData()
    .catch((error) =>
      console.error(
        `bench: could not drop ${DATABASE} or role ${ROLE}: ${error.message}; drop them by hand`,
      ),
    )
    .finally(() => rmSync(dir, { recursive: true, force: true }));
  return cleaning;
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`bench: ${signal}: dropping ${DATABASE} and role ${ROLE}`);
    cleanUp().finally(() => process.exit(130));
  });
}

const loadBefore = load();
const results = new Map(MODES.map((mode) => [mode, []]));
let failed = false;
try {
  await createData();
  await withClient(ADMIN_URL, async (admin) => {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of MODES) {
        const r = await measure(mode, admin, dir);
        results.get(mode).push(r);
        console.log(
          `round ${round} ${mode.padEnd(8)} ${r.callsPerSec.toFixed(0).padStart(6)} calls/s  server ${r.serverCpuUs.toFixed(0).padStart(5)} µs CPU/call  PostgreSQL ${r.backendCpuUs.toFixed(0).padStart(4)} µs (${r.backends} backends)  p50 ${r.p50?.toFixed(2)} ms  p99 ${r.p99?.toFixed(2)} ms  errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}  load ${load()}`,
        );
      }
    }
  });
} catch (error) {
  failed = true;
  console.error(`bench: ${error.message}`);
} finally {
  await cleanUp();
}

const loadAfter = load();
const fixed = (value, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const baselineRate = median((results.get('baseline') ?? []).map((r) => r.callsPerSec));
if (!failed || [...results.values()].some((runs) => runs.length > 0)) {
  printTable(
    `sqlwarden-stdio on PostgreSQL, ${CONCURRENCY} callers, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s windows, ${ROUNDS} rounds, medians (${process.version}, ${cpus().length} cores, load ${loadBefore} before, ${loadAfter} after)`,
    [
      'mode',
      'calls/s per round',
      'calls/s',
      'vs baseline',
      'p50 ms',
      'p99 ms',
      'server CPU/call µs',
      'PostgreSQL CPU/call µs',
      'errors',
    ],
    MODES.filter((mode) => results.get(mode).length > 0).map((mode) => {
      const runs = results.get(mode);
      const rate = median(runs.map((r) => r.callsPerSec));
      return [
        mode,
        runs.map((r) => r.callsPerSec.toFixed(0)).join(', '),
        fixed(rate),
        Number.isFinite(baselineRate) ? `${((rate / baselineRate - 1) * 100).toFixed(0)}%` : '-',
        fixed(median(runs.map((r) => r.p50)), 2),
        fixed(median(runs.map((r) => r.p99)), 2),
        fixed(median(runs.map((r) => r.serverCpuUs))),
        fixed(median(runs.map((r) => r.backendCpuUs))),
        String(runs.reduce((n, r) => n + r.errors, 0)),
      ];
    }),
  );
  printTable(
    'text bytes of a 100-row result (what the model reads)',
    ['mode', 'SELECT * ... LIMIT 100', 'SELECT id, name, email, salary ... LIMIT 100'],
    MODES.filter((mode) => mode !== 'refused' && results.get(mode).length > 0).map((mode) => {
      const { star, list } = results.get(mode)[0].bytes;
      return [mode, star === null ? 'refused (ssn denied)' : String(star), String(list ?? '-')];
    }),
  );
}
if (failed) process.exit(1);
