/**
 * The soak: two sqlwarden-http replicas sharing a Redis quota store, behind
 * them PgBouncer in transaction mode and PostgreSQL, all of the soak's own
 * on 127.0.0.1 (a throwaway cluster, Redis server and PgBouncer: nothing
 * shared with other suites is restarted). A mixed load runs while faults
 * are injected on a schedule: PostgreSQL restarted twice (fast, then a
 * crash), Redis killed and started once, a replica killed with SIGKILL and
 * started again, clients killed mid-call. `runSoak` returns the report;
 * `checks` says which of its promises held. docs/deployment.md explains
 * the categories.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  callToolOverHttp,
  createThrowawayPostgres,
  createThrowawayRedis,
  freePort,
  startPgBouncer,
  untilListening,
} from '@sqlwarden/testing';
import { Redis } from 'ioredis';
import pg from 'pg';

const BIN = fileURLToPath(new URL('../apps/http-server/bin/sqlwarden-http.js', import.meta.url));

/** The limits the load runs into (the replicas' configuration below). */
export const LIMITS = {
  timeoutMs: 5000,
  concurrency: 8,
  listTables: { burst: 5, perSecond: 2 },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs at least this long check that the server's RSS is flat after the warm-up. */
const FLATNESS_MIN_SECONDS = 120;
/**
 * What a shorter run's RSS must stay under: a quarter above the plateau the
 * 300 s runs hold (their peaks 245 to 253 MiB: docs/deployment.md), which
 * a replica that does not leak never passes. A leak of ~20 KiB a call
 * passes it within the 60 s run (one that grew to 725 MiB in 300 s was at
 * 371 after 60); a slower one is the longer runs' to find.
 */
const SHORT_RUN_RSS_MIB = 320;

/** Options: seconds (≤ 600), maxCalls (a bound on calls sent), log (progress lines). */
export async function runSoak(options = {}) {
  const seconds = Math.min(600, Math.max(20, options.seconds ?? 60));
  const maxCalls = options.maxCalls ?? 500_000;
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-soak-'));
  const token = randomBytes(24).toString('hex');
  const namespace = `soak-${randomBytes(4).toString('hex')}`;
  const parts = [];
  const cleanup = async () => {
    for (const part of parts.reverse()) await part().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    log('starting PostgreSQL, Redis, PgBouncer');
    const postgres = await createThrowawayPostgres();
    parts.push(async () => postgres.destroy());
    await seed(postgres.url);
    const redis = await createThrowawayRedis();
    parts.push(() => redis.destroy());
    const bouncer = await startPgBouncer({
      target: { host: '127.0.0.1', port: postgres.port },
      poolMode: 'transaction',
      defaultPoolSize: 10,
    });
    parts.push(async () => bouncer.stop());

    const ports = [await freePort(), await freePort()];
    const replicas = ports.map((port, i) => {
      const config = join(dir, `replica-${i}.yaml`);
      writeFileSync(
        config,
        replicaConfig({ port, token, namespace, audit: join(dir, `audit-${i}.jsonl`) }),
      );
      return new Replica(i, config, port, {
        SOAK_DATABASE_URL: bouncer.url('soak'),
        SOAK_REDIS_URL: redis.url,
      });
    });
    parts.push(async () => Promise.all(replicas.map((r) => r.stop())));
    log('starting two replicas');
    await Promise.all(replicas.map((r) => r.start()));

    const monitor = new Redis(redis.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    monitor.on('error', () => {});
    parts.push(async () => monitor.disconnect());
    await monitor.connect();

    // Warm-up, then the baselines: connections once the pools went idle.
    const load = new Load(replicas, token);
    await load.run(3000, 4);
    await sleep(2500);
    const baseline = {
      bouncerClients: await establishedTo(bouncer.port),
      redisClients: await redisClients(monitor),
    };
    // The warm-up's audit lines are not the run's.
    const warmUpAuditLines = replicas.reduce((n, r) => n + r.auditLines(), 0);
    load.reset();

    const rss = { start: 0, middle: 0, end: 0 };
    const schedule = faultSchedule(seconds);
    const started = Date.now();
    const events = [];
    let peakSlots = 0;
    const sampler = setInterval(async () => {
      peakSlots = Math.max(peakSlots, await heldSlots(monitor, namespace).catch(() => 0));
    }, 200);
    // The RSS of the replica never killed, every 5% of the run (the report's series).
    const rssSeries = [];
    const rssSampler = setInterval(() => rssSeries.push(replicas[1].rss()), seconds * 50);
    const faults = (async () => {
      for (const fault of schedule) {
        await sleep(Math.max(0, started + fault.atMs - Date.now()));
        log(`fault: ${fault.name}`);
        events.push({ atS: Math.round((Date.now() - started) / 100) / 10, fault: fault.name });
        if (fault.name === 'rss start') rss.start = await replicas[1].rssSampled();
        else if (fault.name === 'rss middle') rss.middle = await replicas[1].rssSampled();
        else if (fault.name === 'rss end') rss.end = await replicas[1].rssSampled();
        else if (fault.name === 'postgres restart (fast)') await postgres.restart('fast');
        else if (fault.name === 'postgres restart (crash)') await postgres.restart('immediate');
        else if (fault.name === 'redis killed and started') {
          await redis.kill();
          await sleep(1500);
          await redis.start();
          await monitor.connect().catch(() => {});
        } else if (fault.name === 'replica 0 SIGKILLed, started again') {
          load.killing(replicas[0]);
          await replicas[0].kill();
          await sleep(1000);
          await replicas[0].start();
        } else if (fault.name === 'client killed mid-call') {
          await killClientMidCall(replicas[fault.replica], token);
          load.clientKills += 1;
        }
      }
    })();
    await load.run(seconds * 1000 * 0.9, 12, maxCalls);
    await faults;
    clearInterval(sampler);
    clearInterval(rssSampler);
    const windowS = (Date.now() - started) / 1000;

    // Idle: every pool closes its connections past its idle timeout.
    log('load stopped; waiting for the pools to go idle');
    await sleep(4000);
    const after = {
      bouncerClients: await establishedTo(bouncer.port),
      redisClients: await redisClients(monitor),
      postgresBackends: await backends(postgres.url),
    };
    await Promise.all(replicas.map((r) => r.stop()));
    const auditLines = replicas.reduce((n, r) => n + r.auditLines(), 0) - warmUpAuditLines;

    const redisRestarts = events.filter((e) => e.fault.startsWith('redis')).length;
    const bucketBound =
      LIMITS.listTables.burst * (1 + redisRestarts) + LIMITS.listTables.perSecond * windowS + 1;
    const report = load.report({
      windowS,
      seconds,
      rss,
      rssSeries,
      baseline,
      after,
      auditLines,
      events,
      limits: { listTablesGranted: load.granted('list_tables'), bucketBound, peakSlots },
    });
    return report;
  } finally {
    await cleanup();
  }
}

function replicaConfig({ port, token, namespace, audit }) {
  const sha = createHash('sha256').update(token).digest('hex');
  return `server:
  limits: { timeoutMs: ${LIMITS.timeoutMs} }
sources:
  main:
    kind: postgres
    url: \${SOAK_DATABASE_URL}
    pooling: transaction
    defaultSchema: soak
    tables: ["soak.*"]
    pool: { max: 6, idleTimeoutMs: 1000 }
roles:
  agent: [tool:query_read, tool:list_tables, "read:main:soak.items"]
principals:
  agent: { roles: [agent] }
transports:
  http:
    port: ${port}
    auth:
      tokens:
        - { principal: agent, sha256: ${sha} }
quotas:
  perPrincipal:
    concurrency: ${LIMITS.concurrency}
    rate: { burst: 100000, perSecond: 100000 }
  tools:
    list_tables: { rate: { burst: ${LIMITS.listTables.burst}, perSecond: ${LIMITS.listTables.perSecond} } }
  store:
    url: \${SOAK_REDIS_URL}
    namespace: ${namespace}
audit:
  destination: { file: ${JSON.stringify(audit)} }
logging: { level: warn }
`;
}

async function seed(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      CREATE DATABASE soak`);
  } finally {
    await client.end();
  }
  const db = new URL(url);
  db.pathname = '/soak';
  const soak = new pg.Client({ connectionString: db.toString() });
  await soak.connect();
  try {
    await soak.query(`
      CREATE SCHEMA soak;
      CREATE TABLE soak.items (id int PRIMARY KEY, label text NOT NULL);
      INSERT INTO soak.items SELECT g, 'item ' || g FROM generate_series(1, 3000) g;
      CREATE TABLE soak.secrets (id int PRIMARY KEY, value text);
      INSERT INTO soak.secrets VALUES (1, 'classified');`);
  } finally {
    await soak.end();
  }
}

/** When each fault happens, as a share of the run. */
function faultSchedule(seconds) {
  const ms = seconds * 1000;
  const at = (share, name, extra = {}) => ({ atMs: Math.round(ms * share), name, ...extra });
  const schedule = [
    at(0.1, 'rss start'),
    at(0.15, 'postgres restart (fast)'),
    at(0.3, 'redis killed and started'),
    at(0.45, 'rss middle'),
    at(0.5, 'replica 0 SIGKILLed, started again'),
    at(0.65, 'postgres restart (crash)'),
    // Under load still (it stops at 90%): the end of the run, not of its load.
    at(0.85, 'rss end'),
  ];
  for (let share = 0.05; share < 0.85; share += Math.max(0.05, 10 / seconds)) {
    schedule.push(at(share, 'client killed mid-call', { replica: schedule.length % 2 }));
  }
  return schedule.sort((a, b) => a.atMs - b.atMs);
}

class Replica {
  constructor(index, config, port, env) {
    this.index = index;
    this.config = config;
    this.url = `http://127.0.0.1:${port}/mcp`;
    this.port = port;
    this.env = env;
    this.child = undefined;
    this.audit = config.replace(/replica-(\d)\.yaml$/, 'audit-$1.jsonl');
    this.killedAt = 0;
    this.errorLines = [];
  }

  async start() {
    const child = spawn(process.execPath, [BIN, '--config', this.config], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), ...this.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    let tail = '';
    child.stderr.on('data', (chunk) => {
      tail = (tail + chunk.toString('utf8')).slice(-20_000);
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.includes('"level":50') || line.includes('"level":60')) {
          if (this.errorLines.length < 20) this.errorLines.push(line.slice(0, 300));
        }
      }
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const ready = untilListening(this.port, 60_000);
    const early = exited.then((code) => {
      throw new Error(`replica ${this.index} exited with ${code}: ${tail.slice(-2000)}`);
    });
    await Promise.race([ready, early]);
    early.catch(() => {});
  }

  /**
   * The median of five readings 200 ms apart: one reading can land on
   * either side of a garbage collection.
   */
  async rssSampled() {
    const readings = [];
    for (let i = 0; i < 5; i += 1) {
      readings.push(this.rss());
      await sleep(200);
    }
    return readings.sort((a, b) => a - b)[2];
  }

  rss() {
    try {
      const status = readFileSync(`/proc/${this.child?.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      return 0;
    }
  }

  async kill() {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    this.killedAt = Date.now();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop() {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
  }

  auditLines() {
    if (!existsSync(this.audit)) return 0;
    return readFileSync(this.audit, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"tool_call"')).length;
  }
}

/** The mixed load and its accounting. */
class Load {
  constructor(replicas, token) {
    this.replicas = replicas;
    this.token = token;
    this.reset();
  }

  reset() {
    this.outcomes = new Map();
    this.byTool = new Map();
    this.sent = 0;
    this.clientKills = 0;
    this.lostDetails = [];
  }

  killing(replica) {
    replica.killedAt = Date.now();
  }

  count(category, tool) {
    this.outcomes.set(category, (this.outcomes.get(category) ?? 0) + 1);
    if (category === 'ok') this.byTool.set(tool, (this.byTool.get(tool) ?? 0) + 1);
  }

  granted(tool) {
    return this.byTool.get(tool) ?? 0;
  }

  async run(ms, clients, maxCalls = Number.POSITIVE_INFINITY) {
    const until = Date.now() + ms;
    await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        let n = i;
        while (Date.now() < until && this.sent < maxCalls) {
          n += 1;
          await this.one(this.replicas[n % this.replicas.length], n);
        }
      }),
    );
  }

  /** One call of the mix: 70% reads, 10% denials, 10% quota hits, 10% cancelled by the client. */
  async one(replica, n) {
    const kind = n % 10;
    const id = 1 + Math.floor(Math.random() * 3000);
    let tool = 'query_read';
    let args = { sql: `SELECT id, label FROM items WHERE id = ${id}` };
    let abortAfterMs;
    if (kind === 7)
      args =
        n % 20 < 10
          ? { sql: `SELECT value FROM secrets WHERE id = ${id}` }
          : { sql: `DELETE FROM items WHERE id = ${id}` };
    else if (kind === 8) {
      tool = 'list_tables';
      args = {};
    } else if (kind === 9) {
      args = { sql: `SELECT count(*) AS n FROM items a, items b WHERE a.id + b.id > ${id}` };
      abortAfterMs = 30 + (n % 40);
    }
    this.sent += 1;
    const category = await call(replica, this.token, tool, args, abortAfterMs);
    if (category.startsWith('LOST')) {
      if (this.lostDetails.length < 20) this.lostDetails.push(category);
      this.count('LOST', tool);
    } else this.count(category, tool);
    if (category === 'REPLICA_DOWN') await sleep(100);
  }

  report(extra) {
    const outcomes = Object.fromEntries([...this.outcomes].sort((a, b) => b[1] - a[1]));
    const answered = this.outcomes.get('ok') ?? 0;
    const lost = this.outcomes.get('LOST') ?? 0;
    const transport = ['CANCELLED_BY_CLIENT', 'REPLICA_DOWN', 'REPLICA_KILLED'];
    const cleanlyFailed = Object.fromEntries(
      Object.entries(outcomes).filter(([k]) => k !== 'ok' && k !== 'LOST'),
    );
    const toolAnswers = Object.entries(outcomes)
      .filter(([k]) => k !== 'LOST' && !transport.includes(k) && !k.startsWith('HTTP_'))
      .reduce((sum, [, v]) => sum + v, 0);
    const cancelled = this.outcomes.get('CANCELLED_BY_CLIENT') ?? 0;
    const killedInFlight = this.outcomes.get('REPLICA_KILLED') ?? 0;
    const { rss, rssSeries, baseline, after, auditLines, limits, windowS, events, seconds } = extra;
    // Every 5% of the run from 5%: the readings of a share of it.
    const window = (series, from, to) =>
      series.filter((_, i) => (i + 1) / 20 >= from && (i + 1) / 20 < to);
    const peak = (readings) => (readings.length === 0 ? Number.NaN : Math.max(...readings));
    const checks = {
      'no call lost': lost === 0,
      'every answered call audited, no audit line without a call':
        auditLines >= toolAnswers &&
        auditLines <= toolAnswers + cancelled + killedInFlight + this.clientKills,
      // After the warm-up (the heap and the parser's memory grow to a
      // plateau of ~250 MiB at this load, which takes 60 to 90 s), peaks,
      // not readings: a reading lands anywhere on the garbage collector's
      // sawtooth, a leak raises every later peak. A shorter run (the 60 s
      // one in pnpm test) ends inside the warm-up, where RSS still climbs
      // (182 -> 231 MiB over its last 25 s in one run): it can only bound
      // the RSS; flatness is the longer runs' check (pnpm soak, 300 s).
      ...(seconds >= FLATNESS_MIN_SECONDS
        ? {
            'server RSS flat within 15% after the warm-up (peak of 60-90% against 30-60%)':
              peak(window(rssSeries, 0.6, 1)) <= 1.15 * peak(window(rssSeries, 0.3, 0.6)),
          }
        : {
            [`server RSS under ${SHORT_RUN_RSS_MIB} MiB (a run under ${FLATNESS_MIN_SECONDS} s ends in the warm-up)`]:
              peak(rssSeries) <= SHORT_RUN_RSS_MIB * 1024 * 1024,
          }),
      'connections to PgBouncer back to the baseline':
        after.bouncerClients === baseline.bouncerClients,
      'Redis connections back to the baseline': after.redisClients === baseline.redisClients,
      'list_tables rate held across replicas': limits.listTablesGranted <= limits.bucketBound,
      'concurrency held across replicas': limits.peakSlots <= LIMITS.concurrency,
    };
    return {
      windowS: Math.round(windowS),
      sent: this.sent,
      answered,
      cleanlyFailed,
      lost,
      lostDetails: this.lostDetails,
      clientKills: this.clientKills,
      rssMiB: {
        start: mib(rss.start),
        middle: mib(rss.middle),
        end: mib(rss.end),
        series: rssSeries.map(mib),
      },
      connections: { baseline, after },
      auditLines,
      toolAnswers,
      limits: { ...limits, bucketBound: Math.floor(limits.bucketBound) },
      events,
      messages: Object.fromEntries(messages),
      replicaErrors: this.replicas.flatMap((r) => r.errorLines).slice(0, 10),
      checks,
      ok: Object.values(checks).every(Boolean),
    };
  }
}

/** The first message of each error code, for the report. */
const messages = new Map();

const mib = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * One tools/call: 'ok', the tool's error code, or what happened on the way
 * (the client's own abort, a replica that is down or was just killed);
 * anything else is LOST (no answer in time, a reset or an answer that is
 * not MCP from a replica that was not killed).
 */
async function call(replica, token, tool, args, abortAfterMs) {
  const controller = new AbortController();
  const deadline = setTimeout(
    () => controller.abort(new Error('deadline')),
    LIMITS.timeoutMs + 15_000,
  );
  let cancelled = false;
  const cancel =
    abortAfterMs === undefined
      ? undefined
      : setTimeout(() => {
          cancelled = true;
          controller.abort(new Error('cancelled'));
        }, abortAfterMs);
  const sentAt = Date.now();
  try {
    const answer = await callToolOverHttp(replica.url, token, tool, args, {
      signal: controller.signal,
    });
    if (answer.kind === 'http') return `HTTP_${answer.status}`;
    if (answer.kind === 'rpc-error') return `LOST: JSON-RPC error ${answer.message}`;
    if (answer.code === 'ok') return 'ok';
    if (answer.code === 'ERROR') return 'LOST: error without code';
    messages.set(answer.code, messages.get(answer.code) ?? answer.message);
    return answer.code;
  } catch (error) {
    if (cancelled) return 'CANCELLED_BY_CLIENT';
    const code = error?.cause?.code ?? error?.code;
    if (code === 'ECONNREFUSED') return 'REPLICA_DOWN';
    if (replica.killedAt >= sentAt - 100 || Date.now() - replica.killedAt < 3000)
      return 'REPLICA_KILLED';
    return `LOST: ${error?.message} ${code ?? ''} on replica ${replica.index}`;
  } finally {
    clearTimeout(deadline);
    clearTimeout(cancel);
  }
}

/** A client process that starts a slow call and is killed with SIGKILL mid-call. */
async function killClientMidCall(replica, token) {
  const script = `fetch(${JSON.stringify(replica.url)}, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', authorization: 'Bearer ' + process.env.T }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'query_read', arguments: { sql: 'SELECT count(*) AS n FROM items a, items b, items c WHERE a.id < 50' } } }) }).catch(() => {}); setTimeout(() => {}, 60000);`;
  const child = spawn(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', T: token },
    stdio: 'ignore',
  });
  await sleep(400);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Established TCP connections to 127.0.0.1:port (the replicas' side of them). */
async function establishedTo(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // remote address ends in :PORT, state 01 = ESTABLISHED
      if (fields[2]?.endsWith(`:${hex}`) && fields[3] === '01') n += 1;
    }
  }
  return n;
}

async function redisClients(monitor) {
  const list = await monitor.client('LIST');
  // Without the monitor's own connection.
  return String(list).trim().split('\n').length - 1;
}

/** The most concurrency slots any key of the namespace holds now (unexpired leases). */
async function heldSlots(monitor, namespace) {
  const [seconds, micros] = await monitor.time();
  const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  let peak = 0;
  for (const key of await monitor.keys(`sqlwarden:${namespace}:*slots*`)) {
    if ((await monitor.type(key)) !== 'zset') continue;
    peak = Math.max(peak, await monitor.zcount(key, `(${nowMs}`, '+inf'));
  }
  return peak;
}

async function backends(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
    );
    return result.rows[0].n;
  } finally {
    await client.end();
  }
}
