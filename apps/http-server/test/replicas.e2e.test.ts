import { createHash, randomBytes } from 'node:crypto';
import { freePort, postgresTestUrl } from '@sqlwarden/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, onTestPostgres, type RunningHttp, startHttp, tempDir } from './harness.js';

// Two sqlwarden-http replicas on different ports share one Redis quota
// store (quotas.store): the limits hold for the pair, not per replica, and
// a replica killed with SIGKILL mid-call gives its concurrency slots back
// when their leases expire. The same load on two replicas with the memory
// store shows what the test catches: each replica grants the whole limit.

const s = `replicas_${randomBytes(4).toString('hex')}`;
const namespace = `e2e-${randomBytes(6).toString('hex')}`;
const REDIS_URL =
  process.env.SQLWARDEN_TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dir = tempDir();
const TOKENS = { rate: randomBytes(24).toString('hex'), held: randomBytes(24).toString('hex') };

// The limits under test (the configuration below).
const BURST = 20;
const PER_SECOND = 10;
const CONCURRENCY = 3;
// Leases live as long as the longest call can: server.limits.timeoutMs + 5 s (runtime quotas.ts).
const TIMEOUT_MS = 4000;
const LEASE_MS = TIMEOUT_MS + 5000;

function configText(withStore: boolean): string {
  const sha = (token: string) => createHash('sha256').update(token).digest('hex');
  return `server:
  limits: { timeoutMs: ${TIMEOUT_MS} }
sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${s}
    tables: ["${s}.*"]
roles:
  reader:
    - tool:query_read
    - read:main:${s}.*
principals:
  rater: { roles: [reader] }
  holder: { roles: [reader] }
transports:
  http:
    port: 0
    auth:
      tokens:
        - { principal: rater, sha256: ${sha(TOKENS.rate)} }
        - { principal: holder, sha256: ${sha(TOKENS.held)} }
quotas:
  perPrincipal:
    rate: { burst: ${BURST}, perSecond: ${PER_SECOND} }
    concurrency: ${CONCURRENCY}
${withStore ? `  store:\n    url: \${SQLWARDEN_REDIS_URL}\n    namespace: ${namespace}\n` : ''}`;
}

async function startPair(withStore: boolean): Promise<[RunningHttp, RunningHttp]> {
  const config = dir.write(withStore ? 'shared.yaml' : 'memory.yaml', configText(withStore));
  const env = { E2E_DATABASE_URL: postgresTestUrl(), SQLWARDEN_REDIS_URL: REDIS_URL };
  return Promise.all([
    startHttp(['--config', config], { env }),
    startHttp(['--config', config], { env }),
  ]);
}

/**
 * Calls from `clients` loops split over the replicas for `ms`: what each
 * answered, and the window from the first send to the last answer.
 */
async function drive(replicas: readonly RunningHttp[], clients: number, ms: number) {
  const outcomes: string[] = [];
  const start = Date.now();
  const until = start + ms;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const replica = replicas[i % replicas.length] as RunningHttp;
      while (Date.now() < until) {
        // A new text each call, as agents write SQL.
        const n = Math.floor(Math.random() * 1e9);
        outcomes.push(
          (await callTool(replica.url, TOKENS.rate, 'query_read', { sql: `SELECT ${n} AS n` }))
            .code,
        );
      }
    }),
  );
  return { outcomes, windowMs: Date.now() - start };
}

const count = (outcomes: readonly string[], code: string) =>
  outcomes.filter((c) => c === code).length;

beforeAll(async () => {
  await onTestPostgres(`
    CREATE SCHEMA ${s};
    CREATE TABLE ${s}.gate (id int PRIMARY KEY);
    INSERT INTO ${s}.gate VALUES (1);
    CREATE TABLE ${s}.free (id int PRIMARY KEY);
    INSERT INTO ${s}.free VALUES (1);
  `);
}, 60_000);

afterAll(async () => {
  await onTestPostgres(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`sqlwarden:${namespace}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  dir.cleanup();
});

describe('two replicas, one Redis quota store', () => {
  let a: RunningHttp;
  let b: RunningHttp;
  beforeAll(async () => {
    [a, b] = await startPair(true);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('the combined rate never exceeds the token bucket (burst + perSecond x window + 1)', async () => {
    // As many clients as the concurrency limit: every refusal is the rate's.
    const { outcomes, windowMs } = await drive([a, b], CONCURRENCY, 3000);
    const granted = count(outcomes, 'ok');
    // Redis's clock decides every refill, so the bound over the window from
    // the first send to the last answer (which contains every server-side
    // decision) is exact; +1 for a token that completes at the window's edge.
    const bound = BURST + PER_SECOND * (windowMs / 1000) + 1;
    expect(granted).toBeLessThanOrEqual(bound);
    // And the limit is not over-restrictive: the refill was granted too.
    expect(granted).toBeGreaterThan(BURST);
    expect(count(outcomes, 'RATE_LIMITED')).toBe(outcomes.length - granted);
    // Both replicas granted some: the limit is shared, not held by one. (The
    // audit lines arrive on stderr a moment after the answers: polled.)
    const perReplica = () =>
      [a, b].map(
        (r) =>
          r.auditLines().filter((l) => l.principalId === 'rater' && l.decision === 'allow').length,
      );
    await expect.poll(() => perReplica().reduce((x, y) => x + y, 0)).toBe(granted);
    expect(perReplica().every((n) => n > 0)).toBe(true);
  }, 30_000);

  it('the combined concurrency never exceeds its limit: calls beyond it are refused at once', async () => {
    const calls = await withLockedGate(async (waiting) => {
      // Ten calls at once, split over both replicas, each blocked on the lock.
      const started = Array.from({ length: 10 }, (_, i) =>
        callTool((i % 2 === 0 ? a : b).url, TOKENS.held, 'query_read', {
          sql: `SELECT id FROM gate WHERE id = ${i}`,
        }),
      );
      await expect.poll(waiting, { timeout: 10_000 }).toBe(CONCURRENCY);
      // The others were refused without waiting for a slot.
      const refused = await Promise.all(
        started.map((call) =>
          Promise.race([call, new Promise((resolve) => setTimeout(resolve, 1000, undefined))]),
        ),
      );
      expect(refused.filter((r) => r !== undefined).length).toBe(10 - CONCURRENCY);
      // Still exactly the limit in the database after a while: nothing queued behind.
      expect(await waiting()).toBe(CONCURRENCY);
      return started;
    });
    const codes = (await Promise.all(calls)).map((r) => r.code);
    expect(count(codes, 'ok')).toBe(CONCURRENCY);
    expect(count(codes, 'CONCURRENCY_LIMITED')).toBe(10 - CONCURRENCY);
  }, 30_000);

  it('a replica killed with SIGKILL mid-call frees its slots within the lease TTL', async () => {
    const lockedAt = Date.now();
    let freedAfterMs = -1;
    let refusedWhileHeld = 0;
    await withLockedGate(async (waiting) => {
      const held = Array.from({ length: CONCURRENCY }, (_, i) =>
        // Their connections die with the replica: a rejection, handled here.
        callTool(a.url, TOKENS.held, 'query_read', {
          sql: `SELECT id FROM gate WHERE id = ${i}`,
        }).catch((error: unknown) => error),
      );
      await expect.poll(waiting, { timeout: 10_000 }).toBe(CONCURRENCY);
      const acquiredBy = Date.now();
      expect(await a.stop('SIGKILL')).toBe(null);
      await Promise.allSettled(held);
      // The dead replica's leases are still in Redis: the other refuses...
      for (;;) {
        const { code } = await callTool(b.url, TOKENS.held, 'query_read', {
          sql: 'SELECT id FROM free',
        });
        if (code === 'ok') break;
        expect(code).toBe('CONCURRENCY_LIMITED');
        refusedWhileHeld += 1;
        expect(Date.now() - acquiredBy).toBeLessThan(LEASE_MS + 3000);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      // ...until the leases, taken before `acquiredBy`, expire.
      freedAfterMs = Date.now() - lockedAt;
      return [];
    });
    expect(refusedWhileHeld).toBeGreaterThan(0);
    expect(freedAfterMs).toBeLessThan(LEASE_MS + 3000);
  }, 40_000);
});

describe('two replicas, each with the memory store (what the shared store prevents)', () => {
  it('each grants the whole bucket: together more than the limit', async () => {
    const pair = await startPair(false);
    try {
      const { outcomes, windowMs } = await drive(pair, CONCURRENCY, 2000);
      expect(count(outcomes, 'ok')).toBeGreaterThan(BURST + PER_SECOND * (windowMs / 1000) + 1);
    } finally {
      await Promise.all(pair.map((r) => r.stop()));
    }
  }, 60_000);
});

describe('a replica whose Redis does not answer', () => {
  it('starts, warns once, refuses calls with QUOTA_UNAVAILABLE; failOpen: reads serves reads unmetered', async () => {
    const dead = `redis://:never-logged-pw@127.0.0.1:${await freePort()}`;
    for (const failOpen of ['none', 'reads'] as const) {
      const config = dir.write(
        `dead-${failOpen}.yaml`,
        configText(true).replace(
          `namespace: ${namespace}\n`,
          `namespace: ${namespace}\n    failOpen: ${failOpen}\n`,
        ),
      );
      const server = await startHttp(['--config', config], {
        env: { E2E_DATABASE_URL: postgresTestUrl(), SQLWARDEN_REDIS_URL: dead },
      });
      try {
        const codes: string[] = [];
        for (let i = 0; i < 5; i += 1) {
          codes.push(
            (await callTool(server.url, TOKENS.rate, 'query_read', { sql: `SELECT ${i} AS n` }))
              .code,
          );
        }
        expect(codes).toEqual(Array(5).fill(failOpen === 'reads' ? 'ok' : 'QUOTA_UNAVAILABLE'));
        const warnings = server
          .stderr()
          .split('\n')
          .filter((line) => line.includes('quota store unreachable'));
        // One at start-up, none per call.
        expect(warnings).toHaveLength(1);
        expect(server.stderr()).not.toContain('never-logged-pw');
      } finally {
        await server.stop();
      }
    }
  }, 90_000);
});

/**
 * Holds an ACCESS EXCLUSIVE lock on `gate` while `body` runs, so reads of
 * it wait in the database (no CPU spent); `waiting()` counts them, from a
 * connection of its own (in the lock's transaction pg_stat_activity would
 * be the snapshot of its first read).
 */
async function withLockedGate<T>(body: (waiting: () => Promise<number>) => Promise<T>) {
  const holder = new pg.Client({ connectionString: postgresTestUrl() });
  const observer = new pg.Client({ connectionString: postgresTestUrl() });
  await Promise.all([holder.connect(), observer.connect()]);
  try {
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${s}.gate IN ACCESS EXCLUSIVE MODE`);
    const waiting = async () =>
      Number(
        (
          await observer.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%gate WHERE%' AND pid <> pg_backend_pid()`,
          )
        ).rows[0]?.n,
      );
    return await body(waiting);
  } finally {
    await holder.query('ROLLBACK').catch(() => {});
    await Promise.all([holder.end(), observer.end()]);
  }
}
