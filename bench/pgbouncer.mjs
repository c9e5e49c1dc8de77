// Bench: what a PostgreSQL read costs per call behind PgBouncer in
// transaction pooling, and what the per-transaction set-up costs
// (docs/postgres.md, "Behind PgBouncer").
//
//   pnpm --filter @sqlwarden/bench bench:pgbouncer   (after pnpm build; PostgreSQL local, pgbouncer installed)
//
// Point reads through the PostgreSQL adapter itself (the built
// packages/adapter-postgres/dist, in this process: no MCP, no guard, so
// the difference between the variants is all there is to see), on the
// bench data set (seed.mjs: 100,000 customers), in four variants:
//
//   direct, session set-up      the default (pooling: session): the session is
//                               set up once per connection, a read is one statement
//   direct, per-txn set-up      pooling: transaction on a direct connection: every
//                               read carries the set-up statement (session.ts)
//   PgBouncer, no set-up        pooling: session behind PgBouncer in transaction
//                               mode: UNSAFE (a reference: what the pooler costs alone)
//   PgBouncer, per-txn set-up   pooling: transaction behind it: the safe configuration
//
// and two statement shapes, as agents write SQL:
//   literal   SELECT id, name, email FROM customers WHERE id = <n>, a new text each call
//   $1        SELECT id, name, email FROM customers WHERE id = $1, n bound
//
// 1. One caller (calls one after the other): µs per call (mean, p50, p95)
//    and CPU per call of this process (the adapter and pg), of the
//    variant's own PostgreSQL backends (found by application_name, so other
//    load on the server does not count) and of PgBouncer. The measured calls go in
//    blocks, the variants taking turns block by block (in a rotating order),
//    so background load falls on all of them; the spread of the block means
//    says what "noise" is on this machine.
// 2. BENCH_PGB_CONCURRENCY callers (8) sharing one adapter (its pool of 8):
//    calls/s, the variants again taking turns in short windows.
//
// Each variant has its own adapter and, behind PgBouncer, its own PgBouncer
// (pool_mode = transaction, default_pool_size 10, packages/testing's
// startPgBouncer), so the UNSAFE variant's session settings land on no other
// variant's server connections.
//
// It prints figures; it asserts nothing. Exit 1 when something could not be
// measured (the database, the build, pgbouncer), 0 otherwise.
//
// Knobs: BENCH_DATABASE_URL, BENCH_PGB_CALLS (3000 measured calls per
// variant and shape, one caller), BENCH_PGB_BLOCK (100 calls per block),
// BENCH_PGB_WARMUP (300 calls per variant), BENCH_PGB_CONCURRENCY (8),
// BENCH_PGB_SECONDS (4 s measured per variant and shape, concurrent),
// SQLWARDEN_ADAPTER_POSTGRES (the adapter's dist/index.js),
// SQLWARDEN_TESTING (packages/testing's dist/index.js).
//
// Only node: built-ins are imported statically, so the Node-20 re-exec below
// happens before anything else runs.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runOnSystemNode } from './system-node.mjs';
import { numberFromEnv, percentile, printTable } from './table.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

// The figures are for the Node users run: the system's, not pnpm's (system-node.mjs).
runOnSystemNode(import.meta.url);

const CONFIG = {
  databaseUrl:
    process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/sqlwarden_bench',
  calls: Math.floor(numberFromEnv('BENCH_PGB_CALLS', 3000, 1)),
  block: Math.floor(numberFromEnv('BENCH_PGB_BLOCK', 100, 1)),
  warmup: Math.floor(numberFromEnv('BENCH_PGB_WARMUP', 300)),
  concurrency: Math.floor(numberFromEnv('BENCH_PGB_CONCURRENCY', 8, 1)),
  seconds: numberFromEnv('BENCH_PGB_SECONDS', 4, 0.5),
  adapter:
    process.env.SQLWARDEN_ADAPTER_POSTGRES ||
    join(BENCH_DIR, '..', 'packages', 'adapter-postgres', 'dist', 'index.js'),
  testing:
    process.env.SQLWARDEN_TESTING ||
    join(BENCH_DIR, '..', 'packages', 'testing', 'dist', 'index.js'),
};

const VARIANTS = [
  { name: 'direct, session set-up', via: 'direct', pooling: 'session' },
  { name: 'direct, per-txn set-up', via: 'direct', pooling: 'transaction' },
  { name: 'PgBouncer, no set-up (unsafe)', via: 'pgbouncer', pooling: 'session' },
  { name: 'PgBouncer, per-txn set-up', via: 'pgbouncer', pooling: 'transaction' },
];

/** Each variant's sessions say which they are (PgBouncer passes the name on to its server connections). */
const applicationNameOf = (variant) => `sqlwarden-bench-${VARIANTS.indexOf(variant)}`;

const SHAPES = [
  {
    name: 'literal',
    statement: (id) => [`SELECT id, name, email FROM customers WHERE id = ${id}`, []],
  },
  { name: '$1', statement: (id) => ['SELECT id, name, email FROM customers WHERE id = $1', [id]] },
];

const LIMITS = { maxRows: 100, maxBytes: 1_048_576, timeoutMs: 10_000 };
const SIGNAL = new AbortController().signal;
const randomId = () => 1 + Math.floor(Math.random() * 100_000);

// --- CPU time from /proc (as cost-gate.mjs) ---------------------------------------

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** utime + stime + cutime + cstime of a pid, in ms; 0 if gone. */
function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** CPU ms of every process named `name` (PostgreSQL's backends, PgBouncer). */
function cpuMsOfAll(name) {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== name) continue;
    } catch {
      continue;
    }
    total += cpuMsOf(entry);
  }
  return total;
}

const selfCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * CPU so far of this process, of the variant's own PostgreSQL backends (the
 * pids whose application_name is the variant's: other load on the server,
 * such as other test suites, does not count) and of every PgBouncer.
 */
const cpuNow = (backends) => ({
  self: selfCpuMs(),
  postgres: backends.reduce((sum, pid) => sum + cpuMsOf(pid), 0),
  pgbouncer: cpuMsOfAll('pgbouncer'),
});

// --- Setup ------------------------------------------------------------------------

async function main() {
  for (const [what, path] of [
    ['the adapter', CONFIG.adapter],
    ['packages/testing', CONFIG.testing],
  ]) {
    if (!existsSync(path)) {
      console.error(`${what} is not built (${path}): run pnpm build`);
      process.exit(1);
    }
  }
  const { createPostgresAdapter } = await import(pathToFileURL(CONFIG.adapter).href);
  const { startPgBouncer } = await import(pathToFileURL(CONFIG.testing).href);
  const { seedPostgres } = await import('./seed.mjs');
  try {
    await seedPostgres({ databaseUrl: CONFIG.databaseUrl });
  } catch (error) {
    console.error(`PostgreSQL not available at ${CONFIG.databaseUrl}: ${error.message}`);
    process.exit(1);
  }

  const url = new URL(CONFIG.databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  const bouncers = [];
  const adapters = new Map();
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: CONFIG.databaseUrl });
  await admin.connect();
  /** The pids of the variant's backends now. */
  const backendsOf = async (variant) =>
    (
      await admin.query('SELECT pid FROM pg_catalog.pg_stat_activity WHERE application_name = $1', [
        applicationNameOf(variant),
      ])
    ).rows.map((row) => row.pid);
  try {
    for (const variant of VARIANTS) {
      let connectionString = CONFIG.databaseUrl;
      if (variant.via === 'pgbouncer') {
        const bouncer = await startPgBouncer({
          target: { host: url.hostname, port: Number(url.port || 5432) },
          poolMode: 'transaction',
          databases: [database],
          defaultPoolSize: 10,
        });
        bouncers.push(bouncer);
        connectionString = bouncer.url(database, decodeURIComponent(url.username || 'postgres'));
      }
      adapters.set(
        variant,
        createPostgresAdapter({
          source: 'bench',
          applicationName: applicationNameOf(variant),
          connection: { connectionString, pooling: variant.pooling },
          defaultSchema: 'public',
          statementTimeoutMs: 10_000,
          pool: { max: CONFIG.concurrency },
        }),
      );
    }

    console.log(
      `pgbouncer bench: node ${process.version}, ${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(
          ' ',
        )}; ${CONFIG.calls} calls per variant and shape (one caller, blocks of ${CONFIG.block}), ${CONFIG.seconds} s per variant and shape (${CONFIG.concurrency} callers)`,
    );
    const read = (adapter, shape) => {
      const [sql, params] = shape.statement(randomId());
      return adapter.read({ sql, params, limits: LIMITS, signal: SIGNAL });
    };

    // Warm-up: every variant, both shapes; the first read also checks the answer.
    for (const variant of VARIANTS) {
      const adapter = adapters.get(variant);
      const first = await adapter.read({
        sql: 'SELECT id, name, email FROM customers WHERE id = 42',
        params: [],
        limits: LIMITS,
        signal: SIGNAL,
      });
      if (first.rows.length !== 1) throw new Error(`${variant.name}: no customer 42`);
      for (const shape of SHAPES)
        for (let i = 0; i < CONFIG.warmup; i++) await read(adapter, shape);
    }

    // 1. One caller.
    const sequential = [];
    for (const shape of SHAPES) {
      const stats = new Map(
        VARIANTS.map((v) => [
          v,
          { latencies: [], blockMeans: [], cpu: { self: 0, postgres: 0, pgbouncer: 0 } },
        ]),
      );
      const blocks = Math.ceil(CONFIG.calls / CONFIG.block);
      for (let b = 0; b < blocks; b++) {
        // A rotating order: no variant always runs first (or right after another).
        const order = VARIANTS.map((_, i) => VARIANTS[(i + b) % VARIANTS.length]);
        for (const variant of order) {
          const adapter = adapters.get(variant);
          const s = stats.get(variant);
          const backends = await backendsOf(variant);
          const before = cpuNow(backends);
          const start = performance.now();
          for (let i = 0; i < CONFIG.block; i++) {
            const t = performance.now();
            await read(adapter, shape);
            s.latencies.push((performance.now() - t) * 1000);
          }
          s.blockMeans.push(((performance.now() - start) * 1000) / CONFIG.block);
          const after = cpuNow(backends);
          for (const key of Object.keys(s.cpu)) s.cpu[key] += after[key] - before[key];
        }
      }
      sequential.push({ shape, stats });
    }

    // 2. Concurrent callers, windows taking turns.
    const concurrent = [];
    for (const shape of SHAPES) {
      const counts = new Map(VARIANTS.map((v) => [v, { calls: 0, ms: 0, errors: 0 }]));
      const windows = 4;
      for (let w = 0; w < windows; w++) {
        const order = VARIANTS.map((_, i) => VARIANTS[(i + w) % VARIANTS.length]);
        for (const variant of order) {
          const adapter = adapters.get(variant);
          const c = counts.get(variant);
          const until = performance.now() + (CONFIG.seconds * 1000) / windows;
          const start = performance.now();
          await Promise.all(
            Array.from({ length: CONFIG.concurrency }, async () => {
              while (performance.now() < until) {
                try {
                  await read(adapter, shape);
                  c.calls++;
                } catch {
                  c.errors++;
                }
              }
            }),
          );
          c.ms += performance.now() - start;
        }
      }
      concurrent.push({ shape, counts });
    }

    report(sequential, concurrent);
  } finally {
    for (const adapter of adapters.values()) await adapter.close().catch(() => {});
    for (const bouncer of bouncers) await bouncer.stop().catch(() => {});
    await admin.end().catch(() => {});
  }
}

const us = (value) => `${value.toFixed(0)} µs`;
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
const stddev = (values) => {
  const m = mean(values);
  return Math.sqrt(mean(values.map((v) => (v - m) ** 2)));
};

function report(sequential, concurrent) {
  for (const { shape, stats } of sequential) {
    const base = stats.get(VARIANTS[0]);
    // The median, not the mean: on a shared machine a few stalled calls move the mean.
    const p50 = (s) =>
      percentile(
        [...s.latencies].sort((a, b) => a - b),
        50,
      );
    const baseP50 = p50(base);
    const rows = VARIANTS.map((variant) => {
      const s = stats.get(variant);
      const sorted = [...s.latencies].sort((a, b) => a - b);
      const m = mean(s.latencies);
      const n = s.latencies.length;
      const delta = p50(s) - baseP50;
      return [
        variant.name,
        `${Math.round(1e6 / m).toLocaleString('en-US')}`,
        us(m),
        us(percentile(sorted, 50)),
        us(percentile(sorted, 95)),
        variant === VARIANTS[0]
          ? ''
          : `${delta >= 0 ? '+' : ''}${delta.toFixed(0)} µs (${((delta / baseP50) * 100).toFixed(0)}%)`,
        `±${stddev(s.blockMeans).toFixed(0)} µs`,
        us((s.cpu.self * 1000) / n),
        us((s.cpu.postgres * 1000) / n),
        variant.via === 'pgbouncer' ? us((s.cpu.pgbouncer * 1000) / n) : '',
      ];
    });
    printTable(
      `1. Point reads, one caller, ${shape.name} (${base.latencies.length} calls per variant)`,
      [
        'variant',
        'calls/s',
        'mean',
        'p50',
        'p95',
        'p50 vs direct, session set-up',
        'block spread (sd)',
        'CPU: this process',
        'CPU: its backends',
        'CPU: PgBouncer',
      ],
      rows,
    );
  }
  for (const { shape, counts } of concurrent) {
    const rate = (v) => {
      const c = counts.get(v);
      return (c.calls * 1000) / c.ms;
    };
    const base = rate(VARIANTS[0]);
    printTable(
      `2. Point reads, ${CONFIG.concurrency} callers, ${shape.name} (${CONFIG.seconds} s per variant)`,
      ['variant', 'calls/s', 'µs per call', 'vs direct, session set-up', 'errors'],
      VARIANTS.map((variant) => {
        const r = rate(variant);
        return [
          variant.name,
          Math.round(r).toLocaleString('en-US'),
          us(1e6 / r),
          variant === VARIANTS[0] ? '' : `${(((r - base) / base) * 100).toFixed(0)}%`,
          counts.get(variant).errors,
        ];
      }),
    );
  }
  console.log(
    `\nload average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (the figures are comparable within one run)`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
