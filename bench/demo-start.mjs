// Bench: how long `sqlwarden-stdio --demo` takes to give its first answer.
//
//   pnpm --filter @sqlwarden/bench bench:demo      (after pnpm build)
//
// One run = spawn the server's published entry (bin/sqlwarden-stdio.js
// --demo) as an MCP client does (the SDK's StdioClientTransport), then
// initialize, tools/list and one query_read; "first answer" is the time from
// spawn to that call's result with rows. The server's own log lines split it:
//
//   modules      spawn -> "starting the embedded demo database" (Node start,
//                module loading, the environment)
//   db+runtime   -> "sqlwarden-stdio ready" (the demo database worker, then
//                the runtime: the guard's WASM, the pool, the function catalog)
//   mcp          -> the first query_read result (initialize, tools/list, the call)
//
// Cold runs: before each, every file the server reads (its dist/ and each
// file of its dependency closure) is dropped from the OS page cache with
// `dd iflag=nocache` (that file only; nothing else on the machine), like the
// first start after an install. Warm runs follow each other. Medians.
// The demo database alone (the worker, spawn to listening) is timed in
// process too, since it is the largest part.
//
// The machine may be busy with other work: besides the wall-clock medians it
// prints the fastest run and the CPU the server used up to its first answer
// (user + system, all threads, from /proc), which contention changes less.
//
// Knobs: BENCH_DEMO_RUNS (default 5 of each), SQLWARDEN_APP (the app
// directory to start, default apps/stdio-server; its bin, or dist/cli.js
// when it has none). It prints figures; it asserts nothing about them.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runOnSystemNode, sanitizedPath } from './system-node.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const APP_DIR = resolve(process.env.SQLWARDEN_APP || join(BENCH_DIR, '..', 'apps', 'stdio-server'));
// The published entry; dist/cli.js where there is none (an older checkout).
const BIN = [join(APP_DIR, 'bin', 'sqlwarden-stdio.js'), join(APP_DIR, 'dist', 'cli.js')].find(
  (file) => existsSync(file),
);
const RUNS = Math.max(1, Number(process.env.BENCH_DEMO_RUNS || 5));

// The figures are for the Node users run: the system's, not pnpm's (system-node.mjs).
runOnSystemNode(import.meta.url);

if (!existsSync(join(APP_DIR, 'dist', 'cli.js'))) {
  console.error('bench: sqlwarden-stdio is not built (run pnpm build)');
  process.exit(1);
}

const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');

// --- the files a start reads ---------------------------------------------------

/** The directory of package `name` as Node resolves it from `fromDir` (walking up node_modules). */
function packageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return null;
  }
}

/** The stdio server's package and every package it can load at run time (not dev dependencies). */
function dependencyClosure(root) {
  const seen = new Set([realpathSync(root)]);
  const queue = [...seen];
  while (queue.length > 0) {
    const dir = queue.shift();
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const names = Object.keys({
      ...pkg.dependencies,
      ...pkg.optionalDependencies,
      ...pkg.peerDependencies,
    });
    for (const name of names) {
      const found = packageDir(name, dir);
      if (found !== null && !seen.has(found)) {
        seen.add(found);
        queue.push(found);
      }
    }
  }
  return [...seen];
}

function filesUnder(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'src' || entry.name === 'test') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) filesUnder(path, out);
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

const FILES = dependencyClosure(APP_DIR).flatMap((dir) => filesUnder(dir));
const FILE_BYTES = FILES.reduce((sum, file) => sum + statSync(file).size, 0);

/** Drops those files from the page cache; false where dd has no iflag=nocache (not GNU). */
function evict() {
  const result = spawnSync(
    'xargs',
    [
      '-0',
      'sh',
      '-c',
      'for f; do dd if="$f" iflag=nocache count=0 status=none || exit 1; done',
      'sh',
    ],
    { input: FILES.join('\0'), stdio: ['pipe', 'ignore', 'pipe'] },
  );
  return result.status === 0;
}

// --- one run -------------------------------------------------------------------

async function run() {
  const lines = [];
  const spawnedAt = Date.now();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, '--demo'],
    env: { PATH: sanitizedPath(), HOME: process.env.HOME ?? '/', SQLWARDEN_LOG_LEVEL: 'info' },
    stderr: 'pipe',
  });
  let buffered = '';
  transport.stderr?.on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  const client = new Client({ name: 'sqlwarden-bench-demo', version: '0.0.0' });
  try {
    await client.connect(transport, { timeout: 120_000 });
    await client.listTools();
    const result = await client.callTool({
      name: 'query_read',
      arguments: { sql: 'SELECT id, status FROM shop.orders ORDER BY id LIMIT 3' },
    });
    const firstAnswer = Date.now() - spawnedAt;
    const cpu = cpuMs(transport.pid);
    if (result.isError || !(result.structuredContent?.rowCount > 0)) {
      throw new Error(`the first query_read gave no rows: ${JSON.stringify(result.content)}`);
    }
    const at = (msg) => {
      for (const line of lines) {
        try {
          const entry = JSON.parse(line);
          if (entry.msg === msg) return Date.parse(entry.time) - spawnedAt;
        } catch {
          // not a log line
        }
      }
      return Number.NaN;
    };
    const starting = at('starting the embedded demo database');
    const ready = at('sqlwarden-stdio ready');
    return {
      firstAnswer,
      cpu,
      modules: starting,
      dbRuntime: ready - starting,
      mcp: firstAnswer - ready,
    };
  } finally {
    await client.close();
  }
}

/** CPU time of a process so far (user + system, all its threads), in ms; NaN without /proc. */
function cpuMs(pid) {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** The demo database worker alone: spawn to listening (in this process). */
async function workerAlone() {
  const started = Date.now();
  const worker = new Worker(join(APP_DIR, 'dist', 'demo-worker.js'));
  const ready = await new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m) => m.type === 'ready' && resolve(m));
  });
  const ms = Date.now() - started;
  await worker.terminate();
  return { ms, origin: ready.origin };
}

const median = (values) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (value) => (Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a');

// --- the runs ------------------------------------------------------------------

console.log(
  `sqlwarden-stdio --demo, time to first answer: Node ${process.version}, ${RUNS} cold and ${RUNS} warm runs, ` +
    `load average ${loadavg()[0].toFixed(2)} (cold: ${FILES.length} files, ${(FILE_BYTES / 1e6).toFixed(0)} MB, evicted before each run)`,
);
const cold = [];
let canEvict = true;
for (let i = 0; i < RUNS && canEvict; i++) {
  canEvict = evict();
  if (canEvict) cold.push(await run());
}
if (!canEvict) console.log('  cold: not measured (dd without iflag=nocache)');
await run(); // caches warm
const warm = [];
for (let i = 0; i < RUNS; i++) warm.push(await run());
const alone = [];
for (let i = 0; i < RUNS; i++) alone.push(await workerAlone());

const header = `${''.padEnd(6)}${'first answer: median'.padStart(21)}${'fastest'.padStart(9)}${'CPU'.padStart(8)}${'modules'.padStart(9)}${'db+runtime'.padStart(12)}${'mcp'.padStart(7)}   all runs`;
console.log(`\n${header}`);
for (const [name, runs] of [
  ['cold', cold],
  ['warm', warm],
]) {
  if (runs.length === 0) continue;
  const first = runs.map((r) => r.firstAnswer);
  console.log(
    `${name.padEnd(6)}${ms(median(first)).padStart(21)}${ms(Math.min(...first)).padStart(9)}` +
      `${ms(median(runs.map((r) => r.cpu))).padStart(8)}` +
      `${ms(median(runs.map((r) => r.modules))).padStart(9)}` +
      `${ms(median(runs.map((r) => r.dbRuntime))).padStart(12)}` +
      `${ms(median(runs.map((r) => r.mcp))).padStart(7)}   ` +
      first.map((value) => Math.round(value)).join(', '),
  );
}
console.log(
  `(medians but "fastest"; modules, db+runtime and mcp split the first answer, see the top of demo-start.mjs)\n` +
    `demo database worker alone (spawn to listening, warm): median ${ms(median(alone.map((a) => a.ms)))}, ` +
    `from ${[...new Set(alone.map((a) => a.origin ?? 'seeded'))].join(' and ')}; load average now ${loadavg()[0].toFixed(2)}`,
);
