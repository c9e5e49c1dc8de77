import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { postgresTestUrl } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  onTestPostgres,
  post,
  type RunningHttp,
  runHttpCli,
  startHttp,
  structured,
  tempDir,
  v1Client,
  v2Client,
} from './harness.js';

// sqlwarden-http end to end on the test PostgreSQL: both protocol versions
// from one server, the generated token, and the HTTP hygiene around the
// endpoint. Authentication with configured tokens and OAuth: auth.e2e.test.ts.

const s = `http_e2e_${randomBytes(4).toString('hex')}`;
const dir = tempDir();
let server: RunningHttp;
let config: string;

const MODERN_HEADERS = { 'mcp-protocol-version': '2026-07-28' };

beforeAll(async () => {
  await onTestPostgres(`
    CREATE SCHEMA ${s};
    CREATE TABLE ${s}.items (id int PRIMARY KEY, label text NOT NULL);
    INSERT INTO ${s}.items SELECT g, 'item ' || g FROM generate_series(1, 50) g;
    CREATE TABLE ${s}.secrets (id int PRIMARY KEY, value text);
    INSERT INTO ${s}.secrets VALUES (1, 'classified');
  `);
  config = dir.write(
    'sqlwarden.yaml',
    `sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${s}
    tables: ["${s}.*"]
roles:
  analyst:
    - tool:list_tables
    - tool:describe_table
    - tool:query_read
    - read:main:${s}.items
principals:
  alice: { roles: [analyst] }
`,
  );
  server = await startHttp(['--config', config, '--port', '0'], {
    env: { E2E_DATABASE_URL: postgresTestUrl() },
  });
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await onTestPostgres(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  dir.cleanup();
});

describe('sqlwarden-http without auth configured', () => {
  it('binds loopback and prints a generated token on stderr, never in a log line', () => {
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const logLines = server
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(line).not.toContain(server.token as string);
  });

  it('refuses a call without the token (401 with the resource metadata) and with a wrong one', async () => {
    const none = await post(server.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(
      /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/,
    );
    const wrong = await post(
      server.url,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { authorization: `Bearer ${'x'.repeat(43)}` },
    );
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('serves a 2025-11-25 client (SDK v1) and a 2026-07-28 client (SDK v2) from the same endpoint', async () => {
    const v1 = await v1Client(server.url, server.token);
    const v2 = await v2Client(server.url, server.token);
    try {
      expect(v1.getServerVersion()?.name).toBe('sqlwarden');
      expect(v2.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      const names1 = (await v1.listTools()).tools.map((t) => t.name);
      const names2 = (await v2.listTools()).tools.map((t) => t.name);
      expect(names1).toEqual(['list_tables', 'describe_table', 'query_read']);
      // Deterministic order: the same list, in the same order, on both versions.
      expect(names2).toEqual(names1);
      for (const client of [v1, v2]) {
        const result = await client.callTool({
          name: 'query_read',
          arguments: { sql: `SELECT id, label FROM ${s}.items WHERE id = 42` },
        });
        expect(result.isError).toBeFalsy();
        expect(structured(result).rows).toEqual([[42, 'item 42']]);
      }
      // The boundary is the same: a table the principal may not read is refused on both.
      for (const client of [v1, v2]) {
        const refused = await client.callTool({
          name: 'query_read',
          arguments: { sql: `SELECT value FROM ${s}.secrets` },
        });
        expect(refused.isError).toBe(true);
        expect((structured(refused).error as { code: string }).code).toBe('FORBIDDEN');
      }
      const resources = await v2.listResources();
      expect(resources.resources.map((r) => r.uri)).toContain('schema://main');
    } finally {
      await v1.close();
      await v2.close();
    }
  });

  it('answers 2026-07-28 list results with caching hints and resultType, and server/discover', async () => {
    const headers = { ...MODERN_HEADERS, authorization: `Bearer ${server.token}` };
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    const list = await post(
      server.url,
      { jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: meta } },
      { ...headers, 'mcp-method': 'tools/list' },
    );
    expect(list.status).toBe(200);
    const result = (list.body as { result: Record<string, unknown> }).result;
    expect(result.resultType).toBe('complete');
    expect(typeof result.ttlMs).toBe('number');
    expect(result.cacheScope).toBeDefined();
    const discover = await post(
      server.url,
      { jsonrpc: '2.0', id: 8, method: 'server/discover', params: { _meta: meta } },
      { ...headers, 'mcp-method': 'server/discover' },
    );
    expect(discover.status).toBe(200);
    const found = (discover.body as { result: Record<string, unknown> }).result;
    expect(found.supportedVersions).toContain('2026-07-28');
    // A method the server does not serve: 404 and -32601 (MCP 2026-07-28 over HTTP).
    const missing = await post(
      server.url,
      { jsonrpc: '2.0', id: 9, method: 'prompts/list', params: { _meta: meta } },
      { ...headers, 'mcp-method': 'prompts/list' },
    );
    expect(missing.status).toBe(404);
    expect((missing.body as { error: { code: number } }).error.code).toBe(-32601);
  });

  it('audits each call with the principal of the token', async () => {
    const before = server.auditLines().length;
    const v2 = await v2Client(server.url, server.token);
    await v2.callTool({ name: 'list_tables', arguments: {} });
    await v2.close();
    await expect.poll(() => server.auditLines().length, { timeout: 5000 }).toBeGreaterThan(before);
    const line = server.auditLines().at(-1) as Record<string, unknown>;
    expect(JSON.stringify(line)).toContain('alice');
    expect(JSON.stringify(line)).toContain('http');
  });
});

describe('a client that goes away', () => {
  // Statements of sqlwarden's that run now and carry the marker. Only active
  // client backends count: a connection that ran the marker last, or the
  // probe of a moment ago still closing, shows the text while idle.
  const running = (marker: string) =>
    onTestPostgres(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE state = 'active' AND backend_type = 'client backend'
          AND query LIKE '%${marker}%' AND pid <> pg_backend_pid()`,
    ).then((rows) => Number(rows[0]?.n));
  const slowCall = (marker: string) =>
    JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'query_read',
        arguments: {
          sql: `SELECT count(*) AS ${marker} FROM generate_series(1, 100000) AS a, generate_series(1, 100000) AS b`,
        },
      },
    });
  const headers = () => ({
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
    authorization: `Bearer ${server.token}`,
  });

  it('cancels its call in the database when it disconnects mid-call', async () => {
    const marker = `gone_${randomBytes(4).toString('hex')}`;
    const controller = new AbortController();
    const call = fetch(server.url, {
      method: 'POST',
      signal: controller.signal,
      headers: headers(),
      body: slowCall(marker),
    }).catch((error: unknown) => error);
    await expect.poll(() => running(marker), { timeout: 10_000, interval: 100 }).toBe(1);
    controller.abort();
    await call;
    // Gone well before the source's statement timeout (30 s by default).
    await expect.poll(() => running(marker), { timeout: 5_000, interval: 100 }).toBe(0);
  }, 30_000);

  it('runs nothing for a client that leaves right after its last byte', async () => {
    // The whole request, then the connection closed at once: the server sees
    // the close while it authenticates or reads the body, before the call's
    // cancellation is wired. Such a call must not run for nobody until the
    // statement timeout. Repeated, so the close lands at different moments.
    const url = new URL(server.url);
    const markers: string[] = [];
    for (let i = 0; i < 8; i++) {
      const marker = `left_${randomBytes(4).toString('hex')}`;
      markers.push(marker);
      const body = slowCall(marker);
      await new Promise<void>((resolve) => {
        const socket = connect(Number(url.port), url.hostname, () => {
          const head = Object.entries({
            ...headers(),
            host: url.host,
            'content-length': String(Buffer.byteLength(body)),
          })
            .map(([name, value]) => `${name}: ${value}\r\n`)
            .join('');
          socket.end(`POST ${url.pathname} HTTP/1.1\r\n${head}\r\n${body}`, () => {
            socket.destroy();
            resolve();
          });
        });
        socket.on('error', () => resolve());
      });
    }
    const total = async () => {
      let n = 0;
      for (const marker of markers) n += await running(marker);
      return n;
    };
    // Every statement of these ends well before the statement timeout (30 s):
    // a call that saw the close starts nothing or is cancelled; one that
    // missed it would hold its statement to the timeout.
    await expect.poll(total, { timeout: 8_000, interval: 200 }).toBe(0);
    // And one that starts late (its cancel reached the server before the
    // statement did) is cancelled again: asked again after a pause.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await expect.poll(total, { timeout: 8_000, interval: 200 }).toBe(0);
    // The server still serves.
    const v2 = await v2Client(server.url, server.token);
    const listed = await v2.callTool({ name: 'list_tables', arguments: {} });
    await v2.close();
    expect(listed.isError).not.toBe(true);
  }, 40_000);
});

describe('HTTP hygiene', () => {
  const auth = () => ({ authorization: `Bearer ${server.token}` });

  it('answers /healthz and /readyz (every source reachable) without a token', async () => {
    const base = new URL(server.url).origin;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', sources: { main: true } });
  });

  it('serves the Protected Resource Metadata (RFC 9728) for the endpoint', async () => {
    const base = new URL(server.url).origin;
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
      const document = (await response.json()) as Record<string, unknown>;
      expect(document.resource).toBe(server.url);
      expect(document.bearer_methods_supported).toEqual(['header']);
    }
  });

  it('refuses a foreign Origin and a foreign Host with 403 (DNS rebinding)', async () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const origin = await post(server.url, body, { ...auth(), origin: 'https://evil.example' });
    expect(origin.status).toBe(403);
    // fetch may not set Host: a raw request does, as a rebound browser would send it.
    const port = Number(new URL(server.url).port);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/mcp',
          method: 'POST',
          headers: { ...auth(), host: `evil.example:${port}`, 'content-type': 'application/json' },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode);
        },
      );
      request.on('error', reject);
      request.end(JSON.stringify(body));
    });
    expect(status).toBe(403);
    // A loopback page is local software: accepted.
    const local = await post(server.url, body, {
      ...auth(),
      ...MODERN_HEADERS,
      origin: 'http://localhost:5173',
    });
    expect(local.status).not.toBe(403);
  });

  it('answers 413 past the body limit, and goes on serving', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'query_read', arguments: { sql: `SELECT '${'x'.repeat(2 * 1024 * 1024)}'` } },
    });
    const refused = await post(server.url, big, auth());
    expect(refused.status).toBe(413);
    expect((refused.body as { error: { message: string } }).error.message).toContain(
      'over the limit',
    );
    const health = await fetch(`${new URL(server.url).origin}/healthz`);
    expect(health.status).toBe(200);
  });

  it('answers a malformed body with JSON-RPC -32700, a GET with 405, an unknown path with 404', async () => {
    const bad = await post(server.url, '{"jsonrpc": "2.0", "id": 1, "method": ', auth());
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { code: number } }).error.code).toBe(-32700);
    const get = await fetch(server.url, { headers: auth() });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const other = await fetch(`${new URL(server.url).origin}/admin`, { headers: auth() });
    expect(other.status).toBe(404);
    const text = await other.text();
    expect(text).not.toMatch(/at .*\.js:\d+/);
  });
});

describe('start-up and shutdown', () => {
  it('refuses to listen beyond loopback without auth configured', async () => {
    const exit = await runHttpCli(['--config', config, '--host', '0.0.0.0', '--port', '0'], {
      env: { E2E_DATABASE_URL: postgresTestUrl() },
    });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('needs transports.http.auth');
  });

  it('prints the hash of a token for the configuration (--hash-token)', async () => {
    const exit = await runHttpCli(['--hash-token'], { stdin: 'a-long-enough-token-value\n' });
    expect(exit.code).toBe(0);
    expect(exit.stdout.trim()).toBe(
      (await import('node:crypto'))
        .createHash('sha256')
        .update('a-long-enough-token-value')
        .digest('hex'),
    );
  });

  it('drains a call in flight on SIGTERM, refuses new ones, then exits 0', async () => {
    const own = await startHttp(['--config', config, '--port', '0'], {
      env: { E2E_DATABASE_URL: postgresTestUrl() },
    });
    const client = await v2Client(own.url, own.token);
    const slow = client.callTool({
      name: 'query_read',
      // About a second or two of work that ends by itself.
      arguments: {
        sql: 'SELECT count(*) AS n FROM generate_series(1, 4000) a, generate_series(1, 4000) b',
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const exited = own.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const late = await post(
      own.url,
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { authorization: `Bearer ${own.token}` },
    ).catch(() => ({ status: 0 }));
    // Either refused (503) or the listener is already closed (connection refused).
    expect([0, 503]).toContain(late.status);
    const result = await slow;
    expect(result.isError).toBeFalsy();
    expect(structured(result).rows).toEqual([['16000000']]);
    expect(await exited).toBe(0);
    expect(own.stderr()).toContain('shutting down: draining calls in flight');
  }, 30_000);
});
