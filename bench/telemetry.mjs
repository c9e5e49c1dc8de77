// What OpenTelemetry costs sqlwarden (docs/observability.md, "Cost").
//
// compare.mjs's load (a) on PostgreSQL: `concurrency` callers share one
// stdio connection to sqlwarden-stdio (--dsn on sqlwarden_bench) and loop
// `SELECT * FROM customers WHERE id = <random>` through query_read, 2 s
// warm-up, then a measured window. Each mode runs on a fresh server:
//
//   off          no telemetry (no `telemetry:` key, no OTEL_* variable)
//   on           OTEL_EXPORTER_OTLP_ENDPOINT to an OTLP/HTTP receiver in this
//                process (it answers 200 to every POST and counts the bytes),
//                metrics exported every second so their cost is in the window
//   sampled      as on, with new traces sampled at 10 %
//                (OTEL_TRACES_SAMPLER=parentbased_traceidratio, ARG 0.1)
//   unreachable  OTEL_EXPORTER_OTLP_ENDPOINT to a closed port on 127.0.0.1
//   baseline     telemetry off, on another build: BENCH_BASELINE_CLI (say, a
//                copy of the tree before a change), to see what the disabled
//                path itself costs
//
// Reported per mode: calls/s, the server process's CPU time per call in
// the window (/proc/<pid>/stat, all its threads: exports included), p50
// and p99 latency.
//
// The modes are interleaved round by round (off, on, unreachable, off, ...)
// so drift on a shared machine spreads over all of them; the table shows
// each round and the median. Needs the built apps (pnpm build) and the
// bench database (seeded by seed.mjs, as compare.mjs does).
//
//   node bench/telemetry.mjs
//   BENCH_ROUNDS=5 BENCH_TELEMETRY_MODES=off,on node bench/telemetry.mjs
//   SQLWARDEN_CLI=/elsewhere/apps/stdio-server/dist/cli.js node bench/telemetry.mjs
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { McpDriver } from './driver.mjs';
import { seed } from './seed.mjs';
import { runOnSystemNode, sanitizedPath } from './system-node.mjs';
import { numberFromEnv, percentile, printTable } from './table.mjs';

runOnSystemNode(import.meta.url);

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const CLI =
  process.env.SQLWARDEN_CLI || join(BENCH_DIR, '..', 'apps', 'stdio-server', 'dist', 'cli.js');
const BASELINE_CLI = process.env.BENCH_BASELINE_CLI;
const DSN = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/sqlwarden_bench';
const SECONDS = numberFromEnv('BENCH_SECONDS', 10, 1);
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 2);
const CONCURRENCY = Math.max(1, Math.floor(numberFromEnv('BENCH_CONCURRENCY', 8, 1)));
const ROUNDS = Math.max(1, Math.floor(numberFromEnv('BENCH_ROUNDS', 3, 1)));
const MODES = (
  process.env.BENCH_TELEMETRY_MODES ||
  `${BASELINE_CLI ? 'baseline,' : ''}off,on,sampled,unreachable`
).split(',');
if (MODES.includes('baseline') && !BASELINE_CLI) {
  console.error('bench: the baseline mode needs BENCH_BASELINE_CLI (the cli.js of another build)');
  process.exit(1);
}
const IDS = 100_000;

/** The receiver: every POST answered 200 with an empty JSON object, bytes counted per path. */
async function startReceiver() {
  const received = new Map();
  const server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      const entry = received.get(req.url) ?? { posts: 0, bytes: 0 };
      entry.posts += 1;
      entry.bytes += bytes;
      received.set(req.url, entry);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * The CPU time (user + system, ms) a process has used: /proc/<pid>/stat's
 * utime and stime, in clock ticks of 10 ms. Less sensitive to other load on
 * a shared machine than calls/s, so it is reported beside it.
 */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A port nothing listens on (bound, then closed). */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function environment(mode, receiver, deadPort) {
  const base = { PATH: sanitizedPath(), HOME: process.env.HOME ?? tmpdir() };
  if (mode === 'off' || mode === 'baseline') return base;
  const endpoint = mode === 'unreachable' ? `http://127.0.0.1:${deadPort}` : receiver.url;
  return {
    ...base,
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_SERVICE_NAME: 'sqlwarden-bench',
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
    ...(mode === 'sampled' && {
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    }),
  };
}

async function measure(mode, receiver, deadPort) {
  const cwd = mkdtempSync(join(tmpdir(), 'sqlwarden-bench-telemetry-'));
  const driver = await McpDriver.start({
    name: `sqlwarden (${mode})`,
    command: process.execPath,
    args: [
      mode === 'baseline' ? BASELINE_CLI : CLI,
      '--dsn',
      DSN,
      '--allow',
      'public.*',
      '--rate',
      '100000',
      '--concurrency',
      '10000',
    ],
    env: environment(mode, receiver, deadPort),
    cwd,
  });
  try {
    const start = performance.now();
    const windowStart = start + WARMUP_SECONDS * 1000;
    const windowEnd = windowStart + SECONDS * 1000;
    const latencies = [];
    let errors = 0;
    let firstError;
    let cpuStart = Number.NaN;
    const opening = setTimeout(() => {
      cpuStart = cpuMs(driver.pid);
    }, WARMUP_SECONDS * 1000);
    const caller = async () => {
      while (performance.now() < windowEnd && driver.alive) {
        const id = 1 + Math.floor(Math.random() * IDS);
        const r = await driver.call(
          'query_read',
          { sql: `SELECT * FROM customers WHERE id = ${id}` },
          { keepResult: true },
        );
        const done = performance.now();
        const text = (r.result?.content ?? []).map((c) => c.text ?? '').join('\n');
        const good = r.ok && text.includes(`customer${id}@example.com`);
        if (!good) firstError ??= r.message ?? text.slice(0, 120);
        if (done < windowStart || done > windowEnd) continue;
        if (good) latencies.push(r.durationMs);
        else errors++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, caller));
    clearTimeout(opening);
    const cpuPerCallUs = ((cpuMs(driver.pid) - cpuStart) * 1000) / latencies.length;
    latencies.sort((a, b) => a - b);
    return {
      cpuPerCallUs,
      callsPerSec: latencies.length / SECONDS,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      errors,
      firstError,
    };
  } finally {
    await driver.close();
    rmSync(cwd, { recursive: true, force: true });
  }
}

const seeded = await seed({ engine: 'postgres', databaseUrl: DSN, log: () => {} }).catch(
  (error) => error,
);
if (seeded instanceof Error) {
  console.error(`bench: the database cannot be seeded: ${seeded.message}`);
  process.exit(1);
}
const receiver = await startReceiver();
const deadPort = await closedPort();
const results = new Map(MODES.map((mode) => [mode, []]));
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of MODES) {
      const result = await measure(mode, receiver, deadPort);
      results.get(mode).push(result);
      console.log(
        `round ${round} ${mode.padEnd(11)} ${result.callsPerSec.toFixed(0).padStart(6)} calls/s  ${result.cpuPerCallUs.toFixed(0).padStart(5)} µs CPU/call  p50 ${result.p50?.toFixed(2)} ms  p99 ${result.p99?.toFixed(2)} ms  errors ${result.errors}${result.firstError ? ` (${result.firstError})` : ''}`,
      );
    }
  }
} finally {
  await receiver.close();
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
printTable(
  `sqlwarden-stdio, ${CONCURRENCY} callers, ${SECONDS} s windows, ${ROUNDS} rounds (${process.version})`,
  [
    'telemetry',
    'calls/s per round',
    'median calls/s',
    'server CPU/call per round (µs)',
    'median CPU/call (µs)',
    'median p50 ms',
    'median p99 ms',
    'errors',
  ],
  MODES.map((mode) => {
    const runs = results.get(mode);
    return [
      mode,
      runs.map((r) => r.callsPerSec.toFixed(0)).join(', '),
      median(runs.map((r) => r.callsPerSec)).toFixed(0),
      runs.map((r) => r.cpuPerCallUs.toFixed(0)).join(', '),
      median(runs.map((r) => r.cpuPerCallUs)).toFixed(0),
      median(runs.map((r) => r.p50 ?? 0)).toFixed(2),
      median(runs.map((r) => r.p99 ?? 0)).toFixed(2),
      String(runs.reduce((n, r) => n + r.errors, 0)),
    ];
  }),
);
for (const [path, entry] of receiver.received) {
  console.log(`receiver: ${path}: ${entry.posts} POSTs, ${(entry.bytes / 1024).toFixed(0)} KiB`);
}
