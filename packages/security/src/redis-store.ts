import { isIP } from 'node:net';
import { ConfigError } from '@sqlwarden/core';
import { Redis, type RedisOptions } from 'ioredis';
import {
  type QuotaStore,
  QuotaStoreUnavailableError,
  type SlotSpec,
  type TakeTokensResult,
  type TokenBucketSpec,
} from './quota-store.js';

/**
 * The quota store that several replicas share: Redis, through ioredis.
 *
 * Each operation is one Lua script, so it is atomic on the server (no other
 * replica's call interleaves with it) and costs one round trip. The scripts
 * do the arithmetic of `refill` and `msUntilToken` in quota-store.ts
 * exactly (same operations on the same doubles, values stored with 17
 * significant digits so they read back unchanged); the differential test
 * runs random sequences through this store and the memory store and
 * compares every answer.
 *
 * Time comes from Redis (`TIME`) by default, so replicas whose clocks
 * disagree still agree on every bucket; `clock: 'caller'` uses the `nowMs`
 * each call passes (tests). Every key gets a TTL: a bucket lives until it
 * would be full again, a slot set until its last lease expires (each plus
 * TTL_MARGIN_MS), so idle principals leave nothing behind.
 *
 * Fails fast and closed: no offline queue, no retry of a command, a
 * command timeout. Whatever keeps Redis from answering becomes a
 * `QuotaStoreUnavailableError` whose message names Redis by host and port
 * only (never the URL, the user or the password), and the gate denies the
 * call. The connection comes back by itself (reconnects with a capped
 * back-off); nothing needs recreating.
 *
 * Not for Redis Cluster: a script's keys (a principal's and a tool's) may
 * hash to different slots. One primary (or a managed service that fronts
 * one) is what this supports.
 */

/**
 * Added to every TTL. Long enough that a key never expires while the
 * arithmetic still needs it (even with `clock: 'caller'`, whose time need
 * not run with Redis's), short enough that idle keys go within seconds of
 * being useless.
 */
export const TTL_MARGIN_MS = 10_000;

// Numbers go to and from Redis as text. `%.17g` round-trips every double
// (Lua's `tostring` keeps only 14 digits and would drift from the memory
// store); `%.0f` writes a whole number without an exponent, as PEXPIRE needs.
const LUA_PRELUDE = `
local function now_ms(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function num(x) return string.format('%.17g', x) end
local function whole(x) return string.format('%.0f', math.ceil(x)) end
`;

/**
 * KEYS: the buckets. ARGV: now (or '' for Redis's clock), then burst and
 * perSecond of each bucket. Returns 0 when a token was taken from every
 * bucket; otherwise the milliseconds until every bucket holds one, and
 * nothing was spent.
 */
const TAKE_TOKENS = `${LUA_PRELUDE}
local now = now_ms(ARGV[1])
local levels = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i])
  local rate = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'tokens', 'updated')
  local tokens = burst
  if state[1] and state[2] then
    -- A clock that steps back refills nothing rather than draining the bucket.
    local elapsed = math.max(0, now - tonumber(state[2]))
    tokens = math.min(burst, tonumber(state[1]) + (elapsed / 1000) * rate)
  end
  levels[i] = tokens
  if tokens < 1 then
    wait = math.max(wait, math.max(1, math.ceil(((1 - tokens) / rate) * 1000)))
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i])
  local rate = tonumber(ARGV[2 * i + 1])
  local left = levels[i] - 1
  redis.call('HSET', key, 'tokens', num(left), 'updated', num(now))
  redis.call('PEXPIRE', key, whole(((burst - left) / rate) * 1000 + ${TTL_MARGIN_MS}))
end
return 0
`;

/**
 * KEYS: the slot sets (lease -> expiry ms). ARGV: now (or ''), leaseMs,
 * lease, then the limit of each key. Expired leases are dropped first.
 * Returns 1 when the lease holds a slot in every key, 0 when a key was full
 * (and nothing was added anywhere).
 */
const ACQUIRE_SLOTS = `${LUA_PRELUDE}
local now = now_ms(ARGV[1])
local lease_ms = tonumber(ARGV[2])
local lease = ARGV[3]
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', num(now))
  if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then return 0 end
end
local expires = num(now + lease_ms)
local ttl = math.ceil(lease_ms + ${TTL_MARGIN_MS})
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, expires, lease)
  -- At least until this lease expires; never shorter than another holder needs.
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, whole(ttl)) end
end
return 1
`;

/** KEYS: the slot sets. ARGV: the lease. Removing an absent lease is a no-op. */
const RELEASE_SLOTS = `
for _, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[1]) end
return 0
`;

const SCRIPTS = {
  takeTokens: { name: 'sqlwardenTakeTokens', lua: TAKE_TOKENS },
  acquireSlots: { name: 'sqlwardenAcquireSlots', lua: ACQUIRE_SLOTS },
  releaseSlots: { name: 'sqlwardenReleaseSlots', lua: RELEASE_SLOTS },
} as const;

/** A value that is revealed only when handed to the driver (a `Secret`). */
export interface SecretLike {
  reveal(): string;
}

export interface RedisTlsOptions {
  /** Certificate authorities to trust instead of Node's (PEM). */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate, for mutual TLS (PEM). */
  readonly cert?: string | Buffer;
  /** Client key, for mutual TLS (PEM). */
  readonly key?: string | Buffer | SecretLike;
  /** Default true. False accepts any certificate: for a test bench only. */
  readonly rejectUnauthorized?: boolean;
  /** The name the certificate must carry. Default: the URL's host. */
  readonly servername?: string;
}

export interface RedisQuotaStoreOptions {
  /**
   * `redis://[user[:password]@]host[:port][/db]`, or `rediss://` for TLS.
   * It may hold a password: pass it from an environment variable (or as a
   * `Secret`), never from a file that is committed. It is never logged and
   * never part of an error message.
   */
  readonly url: string | SecretLike;
  /** Overrides the URL's user. */
  readonly username?: string;
  /** Overrides the URL's password. */
  readonly password?: string | SecretLike;
  /**
   * Prefixes every key as `sqlwarden:<namespace>:`, so deployments can
   * share one Redis without sharing limits. Letters, digits, `.`, `_`, `-`;
   * at most 64. Default `default`.
   */
  readonly namespace?: string;
  /**
   * Whose clock the scripts use: `redis` (default; replicas with skewed
   * clocks agree) or `caller` (the `nowMs` argument; for tests).
   */
  readonly clock?: 'redis' | 'caller';
  /** A command not answered by then fails (the gate denies). Default 500 ms. */
  readonly commandTimeoutMs?: number;
  /** A connection not established by then fails and is retried. Default 2000 ms. */
  readonly connectTimeoutMs?: number;
  /** TLS settings; only with a `rediss://` URL. */
  readonly tls?: RedisTlsOptions;
  /**
   * Told when the connection is lost or cannot be made, once per outage
   * (not at every reconnect attempt). The store keeps reconnecting by
   * itself. A hook that throws is ignored.
   */
  readonly onUnavailable?: (error: QuotaStoreUnavailableError) => void;
}

interface RedisSettings {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: RedisOptions['tls'];
  readonly namespace: string;
  readonly clock: 'redis' | 'caller';
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

const NAMESPACE = /^[A-Za-z0-9._-]{1,64}$/;

function reveal(value: string | SecretLike): string {
  return typeof value === 'string' ? value : value.reveal();
}

function isSecretLike(value: unknown): value is SecretLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { reveal?: unknown }).reveal === 'function'
  );
}

/** A URL's user or password, %-decoded; null when an escape is malformed (the value is not quoted). */
function decoded(part: string | undefined): string | undefined | null {
  if (part === undefined || part === '') return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

function checkMilliseconds(key: string, value: number | undefined, problems: string[]) {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 1 || value > 60_000) {
    problems.push(`${key}: must be a whole number of milliseconds from 1 to 60000`);
  }
}

/**
 * Parses, then validates, reporting every problem at once. No problem quotes
 * the URL (it may hold a password): a URL that does not parse is reported
 * as such, and the parser's error, which holds the input, is dropped.
 */
export function redisSettings(options: RedisQuotaStoreOptions): RedisSettings {
  const problems: string[] = [];
  let url: URL | undefined;
  if (typeof options.url !== 'string' && !isSecretLike(options.url)) {
    problems.push('url: must be a redis:// or rediss:// URL');
  } else {
    try {
      url = new URL(reveal(options.url));
    } catch {
      problems.push('url: is not a URL (expected redis://host:port or rediss://host:port)');
    }
  }
  const secure = url?.protocol === 'rediss:';
  if (url !== undefined) {
    if (url.protocol !== 'redis:' && !secure) {
      problems.push('url: must start with redis:// or rediss:// (TLS)');
    }
    if (url.hostname === '') problems.push('url: has no host');
    if (url.search !== '' || url.hash !== '') {
      problems.push('url: takes no query or fragment; set options as options');
    }
    if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d{1,2}$/.test(url.pathname)) {
      problems.push('url: the path, if any, must be a database number (/0 to /99)');
    }
  }
  const username = decoded(url?.username);
  const urlPassword = decoded(url?.password);
  if (username === null || urlPassword === null) {
    problems.push('url: the user or the password holds a malformed %-escape');
  }
  const namespace = options.namespace ?? 'default';
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    problems.push(
      'namespace: must be 1 to 64 letters, digits, ".", "_" or "-" (no spaces, no ":")',
    );
  }
  if (options.clock !== undefined && options.clock !== 'redis' && options.clock !== 'caller') {
    problems.push('clock: must be "redis" or "caller"');
  }
  checkMilliseconds('commandTimeoutMs', options.commandTimeoutMs, problems);
  checkMilliseconds('connectTimeoutMs', options.connectTimeoutMs, problems);
  if (options.tls !== undefined && url !== undefined && !secure) {
    problems.push('tls: needs a rediss:// URL (redis:// is plain TCP)');
  }
  if (options.tls?.rejectUnauthorized !== undefined) {
    if (typeof options.tls.rejectUnauthorized !== 'boolean') {
      problems.push('tls.rejectUnauthorized: must be true or false');
    }
  }
  if (problems.length > 0 || url === undefined || username === null || urlPassword === null) {
    throw new ConfigError('Invalid quota store', problems);
  }

  const password = options.password === undefined ? urlPassword : reveal(options.password);
  const tls = options.tls;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  // SNI takes a name, never an address (RFC 6066); the certificate is
  // checked against the host either way.
  const servername = tls?.servername ?? (isIP(host) === 0 ? host : undefined);
  return {
    host,
    port: url.port === '' ? 6379 : Number(url.port),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    username: options.username ?? username,
    password,
    tls: secure
      ? {
          ...(servername === undefined ? {} : { servername }),
          rejectUnauthorized: tls?.rejectUnauthorized ?? true,
          ...(tls?.ca === undefined ? {} : { ca: tls.ca as string | Buffer | (string | Buffer)[] }),
          ...(tls?.cert === undefined ? {} : { cert: tls.cert }),
          ...(tls?.key === undefined
            ? {}
            : { key: isSecretLike(tls.key) ? tls.key.reveal() : tls.key }),
        }
      : undefined,
    namespace,
    clock: options.clock ?? 'redis',
    commandTimeoutMs: options.commandTimeoutMs ?? 500,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
  };
}

/** Reconnect back-off: 50 ms, doubling, never more than 2 s apart, forever. */
export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt - 1, 10), 2000);
}

/**
 * Why Redis did not answer, in our own words. The driver's message is not
 * reused: it is not ours to promise safe (an address, a server's reply).
 */
function reasonOf(error: unknown, commandTimeoutMs: number): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name did not resolve';
  if (code === 'ETIMEDOUT' || code === 'ECONNRESET' || code === 'EPIPE') {
    return 'the connection failed';
  }
  if (
    typeof code === 'string' &&
    /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/.test(code)
  ) {
    return 'the TLS handshake failed';
  }
  if (message === 'Command timed out') return `it did not answer within ${commandTimeoutMs} ms`;
  if (/^(NOAUTH|WRONGPASS)\b/.test(message)) return 'it refused the credentials';
  if (/^NOPERM\b/.test(message)) return 'the user may not run the quota scripts';
  if (error instanceof Error && error.name === 'ReplyError') return 'it answered with an error';
  if (/Connection is closed|MaxRetriesPerRequest|Reached the max retries/.test(message)) {
    return 'the connection was closed';
  }
  if (/Stream isn't writeable/.test(message)) return 'it is not connected';
  return 'it did not answer';
}

/**
 * The driver's error, as a copy that keeps its name, message, code and
 * stack and drops the rest: ioredis hangs the failed command on a reply
 * error (`error.command.args`), and for AUTH those arguments are the user
 * and the password.
 */
function safeCause(error: unknown): Error | undefined {
  if (!(error instanceof Error)) return undefined;
  const copy = new Error(error.message);
  copy.name = error.name;
  copy.stack = error.stack;
  for (const field of ['code', 'errno', 'syscall'] as const) {
    const value = (error as unknown as Record<string, unknown>)[field];
    if (value !== undefined) Object.defineProperty(copy, field, { value, enumerable: true });
  }
  return copy;
}

type ScriptCall = (numberOfKeys: number, ...args: string[]) => Promise<unknown>;

/**
 * The Redis quota store. Create it with `createRedisQuotaStore`; close it
 * with `close()` (or `await using`).
 */
export class RedisQuotaStore implements QuotaStore, AsyncDisposable {
  /** The keys' prefix, `sqlwarden:<namespace>:`. */
  readonly prefix: string;
  readonly #client: Redis;
  readonly #settings: RedisSettings;
  /** `Redis at host:port`: all an error message may say of the store. */
  readonly #label: string;
  readonly #onUnavailable: ((error: QuotaStoreUnavailableError) => void) | undefined;
  readonly #scripts: Record<keyof typeof SCRIPTS, ScriptCall>;
  #everReady = false;
  #connectedNow = false;
  #inOutage = false;
  #closed = false;
  #lastReason = 'it is not connected';

  constructor(options: RedisQuotaStoreOptions) {
    const settings = redisSettings(options);
    this.#settings = settings;
    this.prefix = `sqlwarden:${settings.namespace}:`;
    this.#label = `Redis at ${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`;
    this.#onUnavailable = options.onUnavailable;
    this.#client = new Redis({
      host: settings.host,
      port: settings.port,
      db: settings.db,
      username: settings.username,
      password: settings.password,
      tls: settings.tls,
      connectionName: `sqlwarden-quota:${settings.namespace}`,
      // Connect on first use (or `connect()`), not while being constructed.
      lazyConnect: true,
      connectTimeout: settings.connectTimeoutMs,
      commandTimeout: settings.commandTimeoutMs,
      // Fail fast instead of queueing: a call while Redis is away is denied
      // now, not answered minutes later from a queue that grew meanwhile.
      enableOfflineQueue: false,
      // A command in flight when the connection drops fails at once, and is
      // not sent again after reconnecting (its caller was already told no).
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: reconnectDelay,
      // A READONLY replica after a failover: reconnect to find the primary.
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
    });
    guardStreams(this.#client);
    // Without a listener ioredis prints every error to the console; with
    // one, the errors come here: remembered, and reported once per outage.
    this.#client.on('error', (error: unknown) => {
      this.#lastReason = reasonOf(error, settings.commandTimeoutMs);
      this.#outage(error);
    });
    this.#client.on('close', () => {
      const wasConnected = this.#connectedNow;
      this.#connectedNow = false;
      // A connection that never opened keeps the reason its error gave.
      if (!wasConnected || this.#closed) return;
      this.#lastReason = 'the connection was closed';
      this.#outage(undefined);
    });
    this.#client.on('ready', () => {
      this.#everReady = true;
      this.#connectedNow = true;
      this.#inOutage = false;
    });
    const scripts = {} as Record<keyof typeof SCRIPTS, ScriptCall>;
    for (const [operation, { name, lua }] of Object.entries(SCRIPTS)) {
      // defineCommand sends EVAL the first time on each connection and
      // EVALSHA after, and answers NOSCRIPT (a SCRIPT FLUSH, a restarted
      // Redis) by sending the script again: one round trip either way.
      this.#client.defineCommand(name, { lua });
      const call = (this.#client as unknown as Record<string, ScriptCall>)[name] as ScriptCall;
      scripts[operation as keyof typeof SCRIPTS] = call.bind(this.#client);
    }
    this.#scripts = scripts;
  }

  /** Where the store is, for messages: `Redis at host:port`. */
  get label(): string {
    return this.#label;
  }

  /**
   * Connects now rather than at the first call, and waits until Redis
   * answers (bounded by `connectTimeoutMs`). Rejects with
   * QuotaStoreUnavailableError; the store keeps trying in the background
   * either way.
   */
  async connect(): Promise<void> {
    await this.#connected(this.#settings.connectTimeoutMs);
  }

  async takeTokens(buckets: readonly TokenBucketSpec[], nowMs: number): Promise<TakeTokensResult> {
    if (buckets.length === 0) return { ok: true };
    const args = [this.#now(nowMs)];
    for (const bucket of buckets) args.push(String(bucket.burst), String(bucket.perSecond));
    const reply = await this.#run('takeTokens', this.#keys(buckets), args);
    const retryAfterMs = this.#integer(reply);
    return retryAfterMs === 0 ? { ok: true } : { ok: false, retryAfterMs };
  }

  async acquireSlots(
    slots: readonly SlotSpec[],
    lease: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<{ readonly ok: boolean }> {
    if (slots.length === 0) return { ok: true };
    const args = [this.#now(nowMs), String(leaseMs), lease];
    for (const slot of slots) args.push(String(slot.limit));
    const reply = await this.#run('acquireSlots', this.#keys(slots), args);
    return { ok: this.#integer(reply) === 1 };
  }

  async releaseSlots(keys: readonly string[], lease: string): Promise<void> {
    if (keys.length === 0) return;
    await this.#run(
      'releaseSlots',
      keys.map((key) => this.prefix + key),
      [lease],
    );
  }

  /**
   * Closes the connection (QUIT, bounded by the command timeout, then a
   * hard disconnect) and stops reconnecting. Calls after this throw
   * QuotaStoreUnavailableError. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client;
    if (client.status === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#settings.commandTimeoutMs);
      });
      await Promise.race([client.quit().then(noop, noop), timeout]);
      clearTimeout(timer);
    }
    client.disconnect();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #keys(specs: readonly { readonly key: string }[]): string[] {
    return specs.map((spec) => this.prefix + spec.key);
  }

  #now(nowMs: number): string {
    return this.#settings.clock === 'caller' ? String(nowMs) : '';
  }

  async #run(operation: keyof typeof SCRIPTS, keys: string[], args: string[]): Promise<unknown> {
    await this.#connected(this.#settings.connectTimeoutMs);
    try {
      return await this.#scripts[operation](keys.length, ...keys, ...args);
    } catch (error) {
      throw this.#unavailable(reasonOf(error, this.#settings.commandTimeoutMs), error);
    }
  }

  #integer(reply: unknown): number {
    if (typeof reply !== 'number' || !Number.isSafeInteger(reply) || reply < 0) {
      throw this.#unavailable('it answered with something other than the script result');
    }
    return reply;
  }

  /**
   * Ready, or fails at once. Only the very first connection is waited for
   * (bounded by the connect timeout, as a TLS handshake on a loaded machine
   * can take longer than a command): a store used right after it was
   * created should not deny the first calls. Once connected, a lost connection fails calls at once
   * while ioredis reconnects in the background.
   */
  async #connected(waitMs: number): Promise<void> {
    if (this.#closed) throw this.#unavailable('the store was closed');
    const client = this.#client;
    if (client.status === 'ready') return;
    if (this.#everReady) throw this.#unavailable(this.#lastReason);
    if (client.status === 'wait') client.connect().catch(noop);
    if (client.status !== 'connecting' && client.status !== 'connect') {
      throw this.#unavailable(this.#lastReason);
    }
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: QuotaStoreUnavailableError) => {
        clearTimeout(timer);
        client.off('ready', onReady);
        client.off('error', onError);
        client.off('close', onClose);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onReady = () => settle();
      const onError = (error: unknown) =>
        settle(this.#unavailable(reasonOf(error, this.#settings.commandTimeoutMs), error));
      const onClose = () => settle(this.#unavailable(this.#lastReason));
      const timer = setTimeout(
        () => settle(this.#unavailable(`it did not accept a connection within ${waitMs} ms`)),
        waitMs,
      );
      client.on('ready', onReady);
      client.on('error', onError);
      client.on('close', onClose);
    });
  }

  #unavailable(reason: string, cause?: unknown): QuotaStoreUnavailableError {
    const safe = safeCause(cause);
    return new QuotaStoreUnavailableError(
      this.#label,
      reason,
      safe === undefined ? {} : { cause: safe },
    );
  }

  #outage(cause: unknown) {
    if (this.#inOutage || this.#closed) return;
    this.#inOutage = true;
    const hook = this.#onUnavailable;
    if (hook === undefined) return;
    try {
      hook(this.#unavailable(this.#lastReason, cause));
    } catch {
      // An operator hook must not break the store.
    }
  }
}

function noop() {}

/**
 * A Redis quota store. Validates the options (ConfigError naming every
 * problem, never quoting the URL) and returns without connecting: the
 * first call, or `connect()`, connects.
 */
export function createRedisQuotaStore(options: RedisQuotaStoreOptions): RedisQuotaStore {
  return new RedisQuotaStore(options);
}

/**
 * ioredis listens for a socket's errors with `once` (twice: its connector
 * and its client), so a third error on the same socket, which a TLS socket
 * whose handshake failed can emit (the server's alert after our own), has
 * no listener and would end the process (ioredis pull request #961, never
 * merged; seen here: "tlsv1 alert decode error" after a refused
 * certificate). Every socket its connector makes gets a listener of ours
 * for its whole life; the first errors still reach ioredis, which decides.
 */
function guardStreams(client: Redis): void {
  const connector = (client as unknown as { connector?: { connect?: unknown } }).connector;
  if (connector === undefined || typeof connector.connect !== 'function') return;
  const connect = (connector.connect as (...args: unknown[]) => Promise<unknown>).bind(connector);
  connector.connect = async (...args: unknown[]) => {
    const stream = await connect(...args);
    (stream as { on?: (event: string, listener: () => void) => void }).on?.('error', () => {});
    return stream;
  };
}
