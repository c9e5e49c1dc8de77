import { createHash, randomBytes } from 'node:crypto';
import { postgresTestUrl } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  onTestPostgres,
  post,
  type RunningHttp,
  startHttp,
  structured,
  tempDir,
  v1Client,
  v2Client,
} from './harness.js';
import { type Issuer, startIssuer } from './issuer.js';

// Authentication end to end: sqlwarden-http with a static token (by hash)
// and an OAuth 2.1 issuer running on 127.0.0.1 (real JWKS over HTTP),
// against the test PostgreSQL. The principal of a call comes only from its
// verified credential.

const s = `http_auth_${randomBytes(4).toString('hex')}`;
const dir = tempDir();
const STATIC_TOKEN = randomBytes(32).toString('base64url');
let issuer: Issuer;
let other: Issuer;
let server: RunningHttp;

const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

beforeAll(async () => {
  await onTestPostgres(`
    CREATE SCHEMA ${s};
    CREATE TABLE ${s}.items (id int PRIMARY KEY, label text NOT NULL);
    INSERT INTO ${s}.items VALUES (1, 'one'), (2, 'two');
    CREATE TABLE ${s}.secrets (id int PRIMARY KEY, value text);
    INSERT INTO ${s}.secrets VALUES (1, 'classified');
  `);
  issuer = await startIssuer();
  other = await startIssuer();
  const config = dir.write(
    'sqlwarden.yaml',
    `sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${s}
    tables: ["${s}.*"]
roles:
  reader:
    - tool:list_tables
    - tool:describe_table
    - tool:query_read
    - read:main:${s}.items
  auditor:
    - read:main:${s}.secrets
principals:
  svc: { roles: [reader] }
  alice: { roles: [reader] }
  guest: {}
transports:
  http:
    port: 0
    auth:
      tokens:
        - principal: svc
          sha256: \${E2E_TOKEN_HASH}
      oauth:
        issuer: \${E2E_ISSUER}
        principals: { alice: alice }
        defaultPrincipal: guest
        scopes:
          sql.read: [reader]
          secrets.read: [auditor]
`,
  );
  server = await startHttp(['--config', config], {
    env: {
      E2E_DATABASE_URL: postgresTestUrl(),
      E2E_TOKEN_HASH: createHash('sha256').update(STATIC_TOKEN).digest('hex'),
      E2E_ISSUER: issuer.url,
    },
  });
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await issuer?.stop();
  await other?.stop();
  await onTestPostgres(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  dir.cleanup();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const lastAudit = () => server.auditLines().at(-1) as Record<string, unknown>;

async function tokenFor(sub: string, extra: Record<string, unknown> = {}, options = {}) {
  return issuer.token({ sub, aud: server.url, ...extra }, options);
}

describe('credentials that are accepted', () => {
  it('maps a static token (stored as its hash) to its principal, and generates none', async () => {
    expect(server.token).toBeUndefined();
    const client = await v1Client(server.url, STATIC_TOKEN);
    try {
      const result = await client.callTool({
        name: 'query_read',
        arguments: { sql: `SELECT label FROM ${s}.items ORDER BY id` },
      });
      expect(structured(result).rows).toEqual([['one'], ['two']]);
    } finally {
      await client.close();
    }
    await expect.poll(() => lastAudit()?.principalId, { timeout: 5000 }).toBe('svc');
  });

  it("maps an OAuth token's subject to its principal, over MCP 2026-07-28", async () => {
    const client = await v2Client(server.url, await tokenFor('alice'));
    try {
      const result = await client.callTool({
        name: 'query_read',
        arguments: { sql: `SELECT label FROM ${s}.items WHERE id = 2` },
      });
      expect(structured(result).rows).toEqual([['two']]);
    } finally {
      await client.close();
    }
    await expect.poll(() => lastAudit()?.principalId, { timeout: 5000 }).toBe('alice');
  });

  it('grants the roles of the scopes the token carries, and nothing more', async () => {
    const token = await tokenFor('someone', { scope: 'sql.read' });
    const client = await v2Client(server.url, token);
    try {
      const read = await client.callTool({
        name: 'query_read',
        arguments: { sql: `SELECT count(*) AS n FROM ${s}.items` },
      });
      expect(structured(read).rows).toEqual([['2']]);
      const refused = await client.callTool({
        name: 'query_read',
        arguments: { sql: `SELECT value FROM ${s}.secrets` },
      });
      expect((structured(refused).error as { code: string }).code).toBe('FORBIDDEN');
    } finally {
      await client.close();
    }
    await expect.poll(() => lastAudit()?.principalId, { timeout: 5000 }).toBe('guest');
  });

  it('never takes the principal from a header or an argument the client chose', async () => {
    const token = await tokenFor('someone');
    const response = await post(
      server.url,
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'list_tables', arguments: { principal: 'svc' } },
      },
      {
        ...bearer(token),
        'mcp-protocol-version': '2025-11-25',
        'x-sqlwarden-principal': 'svc',
        'x-forwarded-user': 'svc',
      },
    );
    // guest holds no tool grant; its scopes add none; the step-up names the scope that would.
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(response.headers.get('www-authenticate')).toContain('scope="sql.read"');
  });
});

describe('credentials that are refused (401 invalid_token, with the resource metadata)', () => {
  const refused = async (token: string, words: RegExp) => {
    const response = await post(server.url, list, bearer(token));
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') as string;
    expect(challenge).toContain('resource_metadata="');
    expect(challenge).toContain('error="invalid_token"');
    expect(JSON.stringify(response.body)).toMatch(words);
    expect(JSON.stringify(response.body)).not.toContain(token);
  };

  it('an expired token', async () => {
    await refused(await tokenFor('alice', {}, { expiresInSec: -600 }), /expired/);
  });

  it('a token for another resource (aud)', async () => {
    await refused(
      await issuer.token({ sub: 'alice', aud: 'https://elsewhere.example/mcp' }),
      /resource/,
    );
  });

  it('a token of another issuer (iss), and one signed by another issuer under ours', async () => {
    await refused(await other.token({ sub: 'alice', aud: server.url }), /issu|sign|key/);
    await refused(
      await other.token({ sub: 'alice', aud: server.url, iss: issuer.url }),
      /sign|key|verif/,
    );
  });

  it('alg none', async () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${part({ alg: 'none', typ: 'JWT' })}.${part({
      iss: issuer.url,
      sub: 'alice',
      aud: server.url,
      iat: now,
      exp: now + 600,
    })}.`;
    await refused(unsigned, /algorithm|alg|token/);
  });

  it('an unknown key id', async () => {
    await refused(await tokenFor('alice', {}, { kid: 'not-a-key-of-this-issuer' }), /key/);
  });

  it('a wrong static token, and a malformed header (invalid_request)', async () => {
    const wrong = await post(server.url, list, bearer(`${STATIC_TOKEN.slice(0, -2)}xx`));
    expect(wrong.status).toBe(401);
    const malformed = await post(server.url, list, { authorization: `Basic ${STATIC_TOKEN}` });
    expect(malformed.status).toBe(401);
    expect(malformed.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });
});

describe('refused credentials in the operator log', () => {
  it('says a credential was refused, why and from where, once per kind per 10 s, never the credential', async () => {
    const lines = () =>
      server
        .stderr()
        .split('\n')
        .filter((line) => line.includes('request refused: credential'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    // An expired token now: its kind may already be open from the tests above.
    await post(server.url, list, bearer(await tokenFor('alice', {}, { expiresInSec: -600 })));
    await expect
      .poll(() => lines().filter((line) => line.refusal === 'invalid_token').length)
      .toBeGreaterThanOrEqual(1);
    const invalid = lines().filter((line) => line.refusal === 'invalid_token');
    expect(invalid[0]?.reason).toEqual(expect.any(String));
    expect(invalid[0]?.remote).toMatch(/127\.0\.0\.1/);
    // A burst of the same kind adds no line now; it is counted for the window's summary.
    const before = lines().length;
    for (let i = 0; i < 20; i++) {
      await post(server.url, list, bearer(`${STATIC_TOKEN.slice(0, -3)}x${i}`));
    }
    expect(lines().length).toBe(before);
  });
});

describe('the issuer rotates its keys', () => {
  it('accepts tokens of the new key once the key cache may refresh, refuses the withdrawn key', async () => {
    const before = await tokenFor('alice');
    expect((await post(server.url, list, bearer(before))).status).toBe(200);
    await issuer.rotate();
    // The JWKS is refetched for an unknown kid at most once per 30 s (a flood guard).
    await new Promise((resolve) => setTimeout(resolve, 31_000));
    const after = await tokenFor('alice');
    expect((await post(server.url, list, bearer(after))).status).toBe(200);
    expect((await post(server.url, list, bearer(before))).status).toBe(401);
  }, 60_000);
});

it('never writes a credential to its logs', () => {
  const stderr = server.stderr();
  expect(stderr).not.toContain(STATIC_TOKEN);
  expect(stderr).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
});
