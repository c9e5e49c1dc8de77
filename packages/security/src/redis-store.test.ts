import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '@sqlwarden/core';
import {
  createTcpProxy,
  createTestCertificates,
  eventually,
  freePort,
  tempDir,
  untilListening,
} from '@sqlwarden/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuotaGate } from './quota.js';
import { QuotaStoreUnavailableError } from './quota-store.js';
import {
  createRedisQuotaStore,
  type RedisQuotaStoreOptions,
  reconnectDelay,
  TTL_MARGIN_MS,
} from './redis-store.js';

// Against the real Redis (CI: the redis:7 service container). Each test
// uses a namespace of its own and deletes its keys when it ends.
const REDIS_URL =
  process.env.SQLWARDEN_TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const target = new URL(REDIS_URL);
const REDIS_HOST = target.hostname;
/**
 * "Did not hang": far above the 500 ms command timeout and the 2 s
 * reconnect back-off, far below a TCP timeout or a queue that waits for
 * Redis to come back. Not a speed figure (those are benchmarks').
 */
const NO_HANG_MS = 10_000;
const REDIS_PORT = target.port === '' ? 6379 : Number(target.port);

let admin: Redis;
beforeAll(() => {
  admin = new Redis(REDIS_URL);
});
afterAll(async () => {
  await admin.quit();
});

const namespace = () => `t-${randomBytes(6).toString('hex')}`;

async function keysOf(ns: string): Promise<string[]> {
  return (await admin.keys(`sqlwarden:${ns}:*`)).sort();
}

/** A store on the test Redis, with its own namespace; disposing it closes it and deletes its keys. */
function open(options: Partial<RedisQuotaStoreOptions> = {}) {
  const ns = options.namespace ?? namespace();
  const store = createRedisQuotaStore({
    url: REDIS_URL,
    clock: 'caller',
    ...options,
    namespace: ns,
  });
  return {
    store,
    ns,
    key: (key: string) => `sqlwarden:${ns}:${key}`,
    async [Symbol.asyncDispose]() {
      await store.close();
      const keys = await keysOf(ns);
      if (keys.length > 0) await admin.del(...keys);
    },
  };
}

/** The id Redis gives a store's connection (its name is `sqlwarden-quota:<namespace>`). */
async function connectionId(ns: string): Promise<string | undefined> {
  const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'normal')) as string;
  const line = list.split('\n').find((l) => l.includes(` name=sqlwarden-quota:${ns} `));
  return line?.match(/\bid=(\d+)/)?.[1];
}

/** Every string an error carries (message, stack, causes, own fields), for leak checks. */
function everything(error: unknown, seen = new Set<unknown>()): string {
  if (error === null || typeof error !== 'object' || seen.has(error)) return String(error);
  seen.add(error);
  const parts: string[] = [];
  for (const name of Object.getOwnPropertyNames(error)) {
    const value = (error as Record<string, unknown>)[name];
    parts.push(name, typeof value === 'object' ? everything(value, seen) : String(value));
  }
  return parts.join(' ');
}

async function failure(promise: Promise<unknown>): Promise<QuotaStoreUnavailableError> {
  try {
    await promise;
  } catch (error) {
    expect(QuotaStoreUnavailableError.is(error)).toBe(true);
    return error as QuotaStoreUnavailableError;
  }
  throw new Error('expected the store to fail');
}

const T0 = 1_700_000_000_000;

describe('token buckets', () => {
  it('takes a token from every bucket or from none', async () => {
    await using s = open();
    const a = { key: 'a', burst: 2, perSecond: 0.001 };
    const b = { key: 'b', burst: 1, perSecond: 0.001 };
    expect(await s.store.takeTokens([a, b], T0)).toEqual({ ok: true });
    expect(await s.store.takeTokens([a, b], T0)).toMatchObject({ ok: false });
    // The refusal spent nothing from `a`: its second token is still there.
    expect(await s.store.takeTokens([a], T0)).toEqual({ ok: true });
    expect(await s.store.takeTokens([a], T0)).toMatchObject({ ok: false });
  });

  it('refills at the rate, caps at the burst, and answers the time to the next token', async () => {
    await using s = open();
    const bucket = { key: 'r', burst: 2, perSecond: 4 };
    expect(await s.store.takeTokens([bucket], T0)).toEqual({ ok: true });
    expect(await s.store.takeTokens([bucket], T0)).toEqual({ ok: true });
    expect(await s.store.takeTokens([bucket], T0)).toEqual({ ok: false, retryAfterMs: 250 });
    expect(await s.store.takeTokens([bucket], T0 + 100)).toEqual({ ok: false, retryAfterMs: 150 });
    expect(await s.store.takeTokens([bucket], T0 + 250)).toEqual({ ok: true });
    // A long pause refills to the burst and no further.
    const later = T0 + 3_600_000;
    expect(await s.store.takeTokens([bucket], later)).toEqual({ ok: true });
    expect(await s.store.takeTokens([bucket], later)).toEqual({ ok: true });
    expect(await s.store.takeTokens([bucket], later)).toEqual({ ok: false, retryAfterMs: 250 });
  });

  it('answers the longest wait over the buckets that are short', async () => {
    await using s = open();
    const slow = { key: 'slow', burst: 1, perSecond: 1 };
    const fast = { key: 'fast', burst: 1, perSecond: 4 };
    expect(await s.store.takeTokens([slow, fast], T0)).toEqual({ ok: true });
    expect(await s.store.takeTokens([fast, slow], T0 + 100)).toEqual({
      ok: false,
      retryAfterMs: 900,
    });
  });

  it('refills nothing when the clock steps back', async () => {
    await using s = open();
    const bucket = { key: 'back', burst: 1, perSecond: 1 };
    expect(await s.store.takeTokens([bucket], T0)).toEqual({ ok: true });
    expect(await s.store.takeTokens([bucket], T0 - 10_000)).toEqual({
      ok: false,
      retryAfterMs: 1000,
    });
  });

  it("uses Redis's clock by default, whatever nowMs the caller passes", async () => {
    await using s = open({ clock: 'redis' });
    const bucket = { key: 'clock', burst: 1, perSecond: 1 };
    expect(await s.store.takeTokens([bucket], 0)).toEqual({ ok: true });
    const denied = await s.store.takeTokens([bucket], 9e15);
    expect(denied.ok).toBe(false);
    if (!denied.ok) {
      expect(denied.retryAfterMs).toBeGreaterThan(800);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(1000);
    }
    const [seconds] = await admin.time();
    const updated = Number(await admin.hget(s.key('clock'), 'updated'));
    expect(Math.abs(updated - Number(seconds) * 1000)).toBeLessThan(5000);
  });
});

describe('concurrency slots', () => {
  it('takes a slot under every key or under none', async () => {
    await using s = open();
    const x = { key: 'x', limit: 1 };
    const y = { key: 'y', limit: 2 };
    expect(await s.store.acquireSlots([x, y], 'lease-a', T0, 60_000)).toEqual({ ok: true });
    expect(await s.store.acquireSlots([y, x], 'lease-b', T0, 60_000)).toEqual({ ok: false });
    // `x` was full; nothing was added to `y` either.
    expect(await admin.zrange(s.key('y'), 0, -1)).toEqual(['lease-a']);
    expect(await s.store.acquireSlots([y], 'lease-c', T0, 60_000)).toEqual({ ok: true });
    expect(await s.store.acquireSlots([y], 'lease-d', T0, 60_000)).toEqual({ ok: false });
  });

  it('frees a lease that was never released once it expires', async () => {
    await using s = open();
    const slot = { key: 'held', limit: 1 };
    expect((await s.store.acquireSlots([slot], 'dead-holder', T0, 1000)).ok).toBe(true);
    expect((await s.store.acquireSlots([slot], 'next', T0 + 999, 1000)).ok).toBe(false);
    expect((await s.store.acquireSlots([slot], 'next', T0 + 1000, 1000)).ok).toBe(true);
    expect(await admin.zrange(s.key('held'), 0, -1)).toEqual(['next']);
  });

  it("frees an expired lease by Redis's clock too", async () => {
    await using s = open({ clock: 'redis' });
    const slot = { key: 'held', limit: 1 };
    expect((await s.store.acquireSlots([slot], 'dead-holder', 0, 150)).ok).toBe(true);
    expect((await s.store.acquireSlots([slot], 'next', 0, 150)).ok).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await s.store.acquireSlots([slot], 'next', 0, 150)).ok).toBe(true);
  });

  it('releases idempotently; an unknown lease or key is harmless', async () => {
    await using s = open();
    const slot = { key: 'r', limit: 1 };
    expect((await s.store.acquireSlots([slot], 'a', T0, 60_000)).ok).toBe(true);
    await s.store.releaseSlots(['r', 'never-used'], 'a');
    await s.store.releaseSlots(['r', 'never-used'], 'a');
    await s.store.releaseSlots(['r'], 'unknown');
    await s.store.releaseSlots([], 'a');
    expect((await s.store.acquireSlots([slot], 'b', T0, 60_000)).ok).toBe(true);
    expect((await s.store.acquireSlots([slot], 'c', T0, 60_000)).ok).toBe(false);
  });

  it('never lets more than the limit in: 200 parallel acquires from two connections', async () => {
    await using one = open({ clock: 'redis' });
    await using two = open({ clock: 'redis', namespace: one.ns });
    await Promise.all([one.store.connect(), two.store.connect()]);
    const slot = { key: 'crowd', limit: 5 };
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 === 0 ? one : two).store.acquireSlots([slot], `lease-${i}`, 0, 60_000),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(await admin.zcard(one.key('crowd'))).toBe(5);
  });
});

describe('keys', () => {
  it('prefixes every key with sqlwarden:<namespace>:, and namespaces do not share limits', async () => {
    await using blue = open();
    await using green = open();
    const bucket = { key: 'sqlwarden:rate:alice', burst: 1, perSecond: 0.001 };
    expect((await blue.store.takeTokens([bucket], T0)).ok).toBe(true);
    expect((await blue.store.takeTokens([bucket], T0)).ok).toBe(false);
    expect((await green.store.takeTokens([bucket], T0)).ok).toBe(true);
    expect(await keysOf(blue.ns)).toEqual([`sqlwarden:${blue.ns}:sqlwarden:rate:alice`]);
    expect(blue.store.prefix).toBe(`sqlwarden:${blue.ns}:`);
  });

  it('leaves no key without a TTL: a bucket lives until full again, a slot set until its last lease expires', async () => {
    await using s = open();
    await s.store.takeTokens([{ key: 'bucket', burst: 10, perSecond: 2 }], T0);
    await s.store.acquireSlots([{ key: 'slots', limit: 3 }], 'long', T0, 60_000);
    await s.store.acquireSlots([{ key: 'slots', limit: 3 }], 'short', T0, 1000);
    await s.store.acquireSlots([{ key: 'gone', limit: 3 }], 'only', T0, 1000);
    await s.store.releaseSlots(['gone'], 'only');
    expect(await keysOf(s.ns)).toEqual([s.key('bucket'), s.key('slots')]);
    // One token spent at 2 per second: full again in 500 ms.
    const bucketTtl = await admin.pttl(s.key('bucket'));
    expect(bucketTtl).toBeGreaterThan(TTL_MARGIN_MS);
    expect(bucketTtl).toBeLessThanOrEqual(500 + TTL_MARGIN_MS);
    // The shorter lease did not shorten the set's life.
    const slotsTtl = await admin.pttl(s.key('slots'));
    expect(slotsTtl).toBeGreaterThan(59_000);
    expect(slotsTtl).toBeLessThanOrEqual(60_000 + TTL_MARGIN_MS);
  });

  it('runs its scripts again after Redis forgot them (SCRIPT FLUSH answers NOSCRIPT)', async () => {
    await using s = open();
    const bucket = { key: 'flush', burst: 3, perSecond: 0.001 };
    expect((await s.store.takeTokens([bucket], T0)).ok).toBe(true);
    await admin.script('FLUSH');
    expect((await s.store.takeTokens([bucket], T0)).ok).toBe(true);
    expect((await s.store.acquireSlots([{ key: 'f', limit: 1 }], 'l', T0, 1000)).ok).toBe(true);
    await s.store.releaseSlots(['f'], 'l');
  });
});

describe('options', () => {
  it('reports every problem at once, never quoting the URL', () => {
    const attempt = (options: RedisQuotaStoreOptions) => {
      try {
        createRedisQuotaStore(options);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    const bad = attempt({
      url: 'http://:s3cret-pw@cache:6379/x',
      namespace: 'has space',
      clock: 'wall' as never,
      commandTimeoutMs: 0,
      tls: { ca: 'pem' },
    });
    expect(bad.problems).toEqual([
      'url: must start with redis:// or rediss:// (TLS)',
      'url: the path, if any, must be a database number (/0 to /99)',
      'namespace: must be 1 to 64 letters, digits, ".", "_" or "-" (no spaces, no ":")',
      'clock: must be "redis" or "caller"',
      'commandTimeoutMs: must be a whole number of milliseconds from 1 to 60000',
      'tls: needs a rediss:// URL (redis:// is plain TCP)',
    ]);
    expect(everything(bad)).not.toContain('s3cret-pw');
    const unparsable = attempt({ url: 'redis://:s3cret-pw@[bad' });
    expect(unparsable.problems).toEqual([
      'url: is not a URL (expected redis://host:port or rediss://host:port)',
    ]);
    expect(everything(unparsable)).not.toContain('s3cret-pw');
    const malformed = attempt({ url: 'redis://user:s3cret-pw%zz@cache:6379' });
    expect(malformed.problems).toEqual([
      'url: the user or the password holds a malformed %-escape',
    ]);
    expect(everything(malformed)).not.toContain('s3cret-pw');
    expect(attempt({ url: REDIS_URL, namespace: 'a:b' }).problems).toHaveLength(1);
    expect(attempt({ url: REDIS_URL, namespace: 'x'.repeat(65) }).problems).toHaveLength(1);
  });

  it('reconnects with a back-off capped at 2 s, forever', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100, 10_000].map(reconnectDelay)).toEqual([
      50, 100, 200, 400, 800, 1600, 2000, 2000, 2000,
    ]);
  });

  it('takes the user and password from the URL or from options, and never shows the password', async () => {
    const user = `sqlwarden-test-${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '+@all');
    try {
      const url = new URL(REDIS_URL);
      url.username = user;
      url.password = password;
      await using fromUrl = open({ url: url.toString() });
      expect((await fromUrl.store.takeTokens([{ key: 'k', burst: 1, perSecond: 1 }], T0)).ok).toBe(
        true,
      );
      await using fromOptions = open({ username: user, password });
      expect(
        (await fromOptions.store.takeTokens([{ key: 'k', burst: 1, perSecond: 1 }], T0)).ok,
      ).toBe(true);
      const seen: QuotaStoreUnavailableError[] = [];
      url.password = 'wrong-s3cret-pw';
      await using wrong = open({ url: url.toString(), onUnavailable: (e) => seen.push(e) });
      const error = await failure(
        wrong.store.takeTokens([{ key: 'k', burst: 1, perSecond: 1 }], T0),
      );
      expect(error.message).toBe(
        `The quota store (Redis at ${REDIS_HOST}:${REDIS_PORT}) is unavailable: it refused the credentials.`,
      );
      expect(everything(error)).not.toContain('wrong-s3cret-pw');
      expect(seen.length).toBeGreaterThanOrEqual(1);
      expect(everything(seen)).not.toContain('wrong-s3cret-pw');
    } finally {
      await admin.call('ACL', 'DELUSER', user);
    }
  });
});

describe('TLS (rediss://)', () => {
  it('verifies the server against the given CA and its name, and refuses otherwise', async () => {
    const certificates = createTestCertificates();
    const dir = tempDir();
    const port = await freePort();
    const server = spawn(
      process.env.SQLWARDEN_TEST_REDIS_SERVER ?? 'redis-server',
      [
        ...['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1'],
        ...['--tls-cert-file', dir.write('cert.pem', certificates.cert)],
        ...['--tls-key-file', dir.write('key.pem', certificates.key)],
        ...['--tls-ca-cert-file', dir.write('ca.pem', certificates.ca)],
        ...['--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no'],
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => server.once('exit', resolve));
    // No redis-server binary: say so, rather than wait for a port that never opens.
    const failed = new Promise<never>((_, reject) => server.once('error', reject));
    try {
      await Promise.race([untilListening(port, 10_000), failed]);
      const bucket = { key: 'k', burst: 1, perSecond: 1 };
      await using trusted = open({
        url: `rediss://localhost:${port}`,
        tls: { ca: certificates.ca },
      });
      expect((await trusted.store.takeTokens([bucket], T0)).ok).toBe(true);
      await using unknownCa = open({
        url: `rediss://localhost:${port}`,
        tls: { ca: certificates.otherCa },
      });
      expect((await failure(unknownCa.store.takeTokens([bucket], T0))).reason).toBe(
        'the TLS handshake failed',
      );
      // The certificate names localhost, not 127.0.0.1.
      await using wrongName = open({
        url: `rediss://127.0.0.1:${port}`,
        tls: { ca: certificates.ca },
      });
      expect((await failure(wrongName.store.takeTokens([bucket], T0))).reason).toBe(
        'the TLS handshake failed',
      );
      // Plain TCP to a TLS port does not get an answer it can use.
      await using plain = open({ url: `redis://localhost:${port}`, commandTimeoutMs: 300 });
      await failure(plain.store.takeTokens([bucket], T0));
    } finally {
      if (server.pid !== undefined && server.exitCode === null) {
        server.kill('SIGKILL');
        await exited;
      }
      dir.cleanup();
    }
  });
});

describe('when Redis cannot answer', () => {
  it('fails fast on a port where nothing listens, naming host and port but never the password', async () => {
    const port = await freePort();
    const seen: QuotaStoreUnavailableError[] = [];
    await using s = open({
      url: `redis://:s3cret-pw@127.0.0.1:${port}`,
      onUnavailable: (error) => seen.push(error),
    });
    const started = Date.now();
    const error = await failure(s.store.takeTokens([{ key: 'k', burst: 1, perSecond: 1 }], T0));
    expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
    expect(error.message).toBe(
      `The quota store (Redis at 127.0.0.1:${port}) is unavailable: the connection was refused.`,
    );
    expect(error.store).toBe(`Redis at 127.0.0.1:${port}`);
    expect(everything(error)).not.toContain('s3cret-pw');
    // Later calls fail at once (no queue, no wait) while it keeps reconnecting.
    // (Not a timeout's reason: nothing waited for an answer.)
    for (const later of [
      await failure(s.store.acquireSlots([{ key: 's', limit: 1 }], 'l', T0, 1000)),
      await failure(s.store.releaseSlots(['s'], 'l')),
    ]) {
      expect(later.reason).not.toMatch(/did not answer/);
    }
    // Told once per outage, not at every reconnect attempt.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(seen).toHaveLength(1);
    expect(everything(seen)).not.toContain('s3cret-pw');
  });

  it('times out instead of hanging when Redis stops answering', async () => {
    const proxy = await createTcpProxy({ host: REDIS_HOST, port: REDIS_PORT });
    try {
      await using s = open({ url: `redis://127.0.0.1:${proxy.port}`, commandTimeoutMs: 200 });
      const bucket = { key: 'k', burst: 5, perSecond: 1 };
      expect((await s.store.takeTokens([bucket], T0)).ok).toBe(true);
      proxy.stall();
      const started = Date.now();
      const error = await failure(s.store.takeTokens([bucket], T0));
      expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
      expect(error.reason).toBe('it did not answer within 200 ms');
      proxy.forward();
    } finally {
      await proxy.close();
    }
  });

  it('waits for a first connection no longer than the connect timeout', async () => {
    const proxy = await createTcpProxy({ host: REDIS_HOST, port: REDIS_PORT });
    try {
      proxy.stall();
      await using s = open({
        url: `redis://127.0.0.1:${proxy.port}`,
        commandTimeoutMs: 100,
        connectTimeoutMs: 200,
      });
      const started = Date.now();
      const error = await failure(s.store.takeTokens([{ key: 'k', burst: 1, perSecond: 1 }], T0));
      expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
      expect(error.reason).toBe('it did not accept a connection within 200 ms');
      proxy.forward();
    } finally {
      await proxy.close();
    }
  });

  it('fails calls in flight when its connection is killed, and comes back by itself', async () => {
    const seen: QuotaStoreUnavailableError[] = [];
    await using s = open({ clock: 'redis', onUnavailable: (error) => seen.push(error) });
    const bucket = { key: 'k', burst: 1_000_000, perSecond: 1 };
    await s.store.connect();
    const id = await connectionId(s.ns);
    expect(id).toBeDefined();
    // Calls run while the connection is killed: each answers or fails fast, none hangs.
    const inFlight = Array.from({ length: 50 }, (_, i) =>
      new Promise((resolve) => setTimeout(resolve, i)).then(async () => {
        const started = Date.now();
        try {
          await s.store.takeTokens([bucket], 0);
          return { outcome: 'ok', ms: Date.now() - started };
        } catch (error) {
          expect(QuotaStoreUnavailableError.is(error)).toBe(true);
          return { outcome: 'unavailable', ms: Date.now() - started };
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    await admin.call('CLIENT', 'KILL', 'ID', id as string);
    const outcomes = await Promise.all(inFlight);
    for (const { ms } of outcomes) expect(ms).toBeLessThan(NO_HANG_MS);
    expect(await eventually(async () => seen.length > 0, 3000)).toBe(true);
    // Which the client hears first, the socket's close or its error, is the kernel's to say.
    expect(seen[0]?.message).toMatch(
      new RegExp(
        `^The quota store \\(Redis at ${REDIS_HOST.replaceAll('.', '\\.')}:${REDIS_PORT}\\) is unavailable: the connection (was closed|failed)\\.$`,
      ),
    );
    // The same store, not a new one, answers again once it has reconnected.
    expect(
      await eventually(async () => {
        try {
          return (await s.store.takeTokens([bucket], 0)).ok;
        } catch {
          return false;
        }
      }, 5000),
    ).toBe(true);
    expect(await connectionId(s.ns)).not.toBe(id);
  });

  it('fails every call at once while its connection is cut, and answers again when it is back', async () => {
    const proxy = await createTcpProxy({ host: REDIS_HOST, port: REDIS_PORT });
    try {
      await using s = open({ url: `redis://127.0.0.1:${proxy.port}`, commandTimeoutMs: 300 });
      const bucket = { key: 'k', burst: 1_000_000, perSecond: 1 };
      expect((await s.store.takeTokens([bucket], T0)).ok).toBe(true);
      // Cut, and let no new connection through: the store cannot reconnect.
      proxy.stall();
      proxy.cutAll();
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let i = 0; i < 5; i += 1) {
        const started = Date.now();
        const error = await failure(s.store.takeTokens([bucket], T0));
        expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
        // Closed, or (on a slow machine) the reconnection's first command timed out.
        expect(['the connection was closed', 'it did not answer within 300 ms']).toContain(
          error.reason,
        );
      }
      proxy.forward();
      expect(
        await eventually(async () => {
          try {
            return (await s.store.takeTokens([bucket], T0)).ok;
          } catch {
            return false;
          }
        }, 5000),
      ).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('makes a gate deny QUOTA_UNAVAILABLE, tell the operator, and let reads through only with failOpen', async () => {
    const port = await freePort();
    await using s = open({ url: `redis://:s3cret-pw@127.0.0.1:${port}` });
    const told: unknown[] = [];
    const policy = { perPrincipal: { concurrency: 2, rate: { burst: 10, perSecond: 1 } } };
    const closed = createQuotaGate({
      policy,
      store: s.store,
      onStoreUnavailable: (error) => told.push(error),
    });
    const read = { principalId: 'alice', tool: 'query_read', kind: 'read' } as const;
    const write = { principalId: 'alice', tool: 'execute_write', kind: 'write' } as const;
    const denied = await closed.acquire(read);
    expect(denied).toEqual({
      ok: false,
      code: 'QUOTA_UNAVAILABLE',
      message:
        'Quotas cannot be checked right now (the quota service is unreachable); retry shortly.',
      retryAfterMs: 1000,
    });
    expect(told).toHaveLength(1);
    expect(QuotaStoreUnavailableError.is(told[0])).toBe(true);
    expect(everything(told)).not.toContain('s3cret-pw');
    expect(JSON.stringify(denied)).not.toContain('s3cret-pw');

    const open_ = createQuotaGate({ policy, store: s.store, failOpen: 'reads' });
    const allowed = await open_.acquire(read);
    expect(allowed.ok).toBe(true);
    if (allowed.ok) await expect(allowed.lease.release()).resolves.toBeUndefined();
    expect(await open_.acquire(write)).toMatchObject({ ok: false, code: 'QUOTA_UNAVAILABLE' });
  });

  it('refuses calls after close(), which is bounded and idempotent', async () => {
    const s = open();
    await s.store.connect();
    const started = Date.now();
    await s.store.close();
    await s.store.close();
    expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
    const error = await failure(s.store.takeTokens([{ key: 'k', burst: 1, perSecond: 1 }], T0));
    expect(error.reason).toBe('the store was closed');
    await s[Symbol.asyncDispose]();
    // A store that never connected closes too.
    const never = createRedisQuotaStore({ url: REDIS_URL, namespace: namespace() });
    await never.close();
  });
});
