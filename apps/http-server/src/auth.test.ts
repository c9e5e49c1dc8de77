import { createHmac, createPublicKey } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Issuer, startIssuer } from '../test/issuer.js';
import {
  AUTH_LIMITS,
  type Authentication,
  type AuthenticationFailure,
  type Authenticator,
  type AuthenticatorOptions,
  createAuthenticator,
  generateToken,
  hashToken,
  type OAuthSettings,
  protectedResourceMetadata,
} from './auth.js';

const AUDIENCE = 'https://mcp.example.com/mcp';
const METADATA_URL = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

let issuer: Issuer;
const open: Authenticator[] = [];

beforeAll(async () => {
  issuer = await startIssuer({ algorithms: ['RS256', 'ES256', 'RS384'] });
});
afterAll(async () => {
  await issuer.stop();
});
afterEach(() => {
  vi.useRealTimers();
  for (const authenticator of open.splice(0)) authenticator.close();
});

function authenticator(
  oauth: Partial<OAuthSettings> = {},
  options: Partial<AuthenticatorOptions> = {},
  from: Issuer = issuer,
): Authenticator {
  const created = createAuthenticator({
    resourceMetadataUrl: METADATA_URL,
    oauth: {
      issuer: from.url,
      jwksUri: from.jwksUri,
      audience: AUDIENCE,
      principals: { alice: 'analyst' },
      scopes: { 'sql:read': ['reader'], 'sql:write': ['writer', 'reader'] },
      ...oauth,
    },
    ...options,
  });
  open.push(created);
  return created;
}

function tokenFor(claims: Record<string, unknown> = {}, options = {}, from: Issuer = issuer) {
  return from.token({ sub: 'alice', aud: AUDIENCE, ...claims }, options);
}

function failure(result: Authentication): AuthenticationFailure {
  if (result.ok) throw new Error('expected the authentication to fail');
  return result;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('OAuth access tokens (JWT) from a real issuer', () => {
  it('accepts a valid token: principal from the sub mapping, scopes to roles, expiry', async () => {
    const token = await tokenFor({ scope: 'sql:read sql:write unknown' }, { expiresInSec: 600 });
    const result = await authenticator().authenticate(`Bearer ${token}`);
    expect(result).toEqual({
      ok: true,
      caller: {
        principal: 'analyst',
        // The person: the verified claim, kept next to the principal it maps to.
        subject: 'alice',
        via: 'oauth',
        scopes: ['sql:read', 'sql:write', 'unknown'],
        roles: ['reader', 'writer'],
        expiresAt: expect.any(Number),
        fingerprint: hashToken(token).slice(0, 12),
      },
    });
    const expiresAt = result.ok ? (result.caller.expiresAt ?? 0) : 0;
    expect(Math.abs(expiresAt - (Date.now() + 600_000))).toBeLessThan(5_000);
  });

  it('refuses a principal claim that is not a plain identifier: it would reach the database as the subject', async () => {
    for (const sub of ['ali\u0000ce', 'ali\nce', 'x'.repeat(513)]) {
      const result = await authenticator().authenticate(`Bearer ${await tokenFor({ sub })}`);
      expect(result).toMatchObject({ ok: false, status: 401, error: 'invalid_token' });
      if (!result.ok) expect(result.description).toContain('not a usable identifier');
    }
  });

  it('reads scopes from an scp array too', async () => {
    const result = await authenticator().authenticate(
      `Bearer ${await tokenFor({ scp: ['sql:write'] })}`,
    );
    expect(result).toMatchObject({
      ok: true,
      caller: { scopes: ['sql:write'], roles: ['writer', 'reader'] },
    });
  });

  it('accepts a token signed with another allowed algorithm (ES256)', async () => {
    const result = await authenticator().authenticate(
      `Bearer ${await tokenFor({}, { alg: 'ES256' })}`,
    );
    expect(result.ok).toBe(true);
  });

  it('refuses an algorithm outside the allow-list (RS384) without fetching keys', async () => {
    const auth = authenticator();
    const before = issuer.jwksRequests();
    const result = failure(
      await auth.authenticate(`Bearer ${await tokenFor({}, { alg: 'RS384' })}`),
    );
    expect(result).toMatchObject({ status: 401, error: 'invalid_token' });
    expect(result.description).toContain('algorithm this server does not accept');
    expect(issuer.jwksRequests()).toBe(before);
  });

  it('refuses an expired token', async () => {
    const token = await tokenFor(
      {},
      { expiresInSec: -(AUTH_LIMITS.defaultClockToleranceSec + 60) },
    );
    const result = failure(await authenticator().authenticate(`Bearer ${token}`));
    expect(result).toMatchObject({
      status: 401,
      error: 'invalid_token',
      description: 'the token has expired: get a new one',
    });
  });

  it('accepts a token expired by less than the clock tolerance', async () => {
    const token = await tokenFor({}, { expiresInSec: -30 });
    expect((await authenticator().authenticate(`Bearer ${token}`)).ok).toBe(true);
    // ...and refuses it with no tolerance.
    const strict = authenticator({ clockToleranceSec: 0 });
    expect(failure(await strict.authenticate(`Bearer ${token}`)).description).toContain('expired');
  });

  it('refuses a token whose nbf is in the future beyond the clock tolerance', async () => {
    const token = await tokenFor({ nbf: now() + 120 });
    const result = failure(await authenticator().authenticate(`Bearer ${token}`));
    expect(result.error).toBe('invalid_token');
    expect(result.description).toContain('not valid yet (nbf)');
  });

  it('accepts a token whose nbf is in the future within the clock tolerance', async () => {
    const token = await tokenFor({ nbf: now() + 30 });
    expect((await authenticator().authenticate(`Bearer ${token}`)).ok).toBe(true);
  });

  it('refuses a token issued in the future (iat) beyond the clock tolerance', async () => {
    const token = await tokenFor({ iat: now() + 600, nbf: undefined });
    const result = failure(await authenticator().authenticate(`Bearer ${token}`));
    expect(result.description).toContain('issued in the future (iat)');
  });

  it('refuses a token without exp', async () => {
    const token = await tokenFor({ exp: undefined });
    const result = failure(await authenticator().authenticate(`Bearer ${token}`));
    expect(result.description).toContain('(exp)');
  });

  it('refuses a token from another issuer, even one signed with the right key', async () => {
    const token = await tokenFor({ iss: 'https://evil.example.com' });
    const result = failure(await authenticator().authenticate(`Bearer ${token}`));
    expect(result.error).toBe('invalid_token');
    expect(result.description).toBe(
      `the token was issued by another authorization server (iss): get one from ${issuer.url}`,
    );
  });

  it('refuses a token for another resource (aud), saying which resource to ask for', async () => {
    const token = await tokenFor({ aud: 'https://other.example.com/mcp' });
    const result = failure(await authenticator().authenticate(`Bearer ${token}`));
    expect(result.description).toBe(
      `the token is for another resource (aud): request it with resource=${AUDIENCE}`,
    );
  });

  it('refuses a token without aud', async () => {
    const token = await tokenFor({ aud: undefined });
    expect(failure(await authenticator().authenticate(`Bearer ${token}`)).description).toContain(
      '(aud)',
    );
  });

  it('accepts a token whose aud array contains this resource', async () => {
    const token = await tokenFor({ aud: ['https://other.example.com/mcp', AUDIENCE] });
    expect((await authenticator().authenticate(`Bearer ${token}`)).ok).toBe(true);
  });

  it('refuses an unsigned token (alg none)', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
      iss: issuer.url,
      aud: AUDIENCE,
      sub: 'alice',
      exp: now() + 600,
    })}.`;
    const result = failure(await authenticator().authenticate(`Bearer ${token}`));
    expect(result).toMatchObject({ status: 401, error: 'invalid_token' });
    expect(result.description).toContain('alg "none"');
  });

  it("refuses HS256 keyed with the issuer's public key (key confusion)", async () => {
    const jwk = issuer.publicKey();
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: jwk.kid })}.${b64({
      iss: issuer.url,
      aud: AUDIENCE,
      sub: 'alice',
      exp: now() + 600,
    })}`;
    const auth = authenticator();
    for (const secret of [pem, JSON.stringify(jwk)]) {
      const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
      const result = failure(await auth.authenticate(`Bearer ${signingInput}.${signature}`));
      expect(result.error).toBe('invalid_token');
      expect(result.description).toContain('algorithm this server does not accept');
    }
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const [header, , signature] = (await tokenFor()).split('.');
    const forged = b64({ iss: issuer.url, aud: AUDIENCE, sub: 'alice', exp: now() + 600 });
    const result = failure(
      await authenticator().authenticate(`Bearer ${header}.${forged}.${signature}`),
    );
    expect(result.description).toContain('signature is not valid');
  });

  it('refuses a malformed JWT', async () => {
    const result = failure(await authenticator().authenticate('Bearer aaaa.bbbb.cccc'));
    expect(result).toMatchObject({ status: 401, error: 'invalid_token' });
    expect(result.description).toContain('malformed');
  });

  it('refuses an unknown caller, maps it to defaultPrincipal when there is one', async () => {
    const token = await tokenFor({ sub: 'mallory' });
    const result = failure(await authenticator().authenticate(`Bearer ${token}`));
    expect(result.description).toContain('not known to this server');
    const withDefault = authenticator({ defaultPrincipal: 'guest' });
    expect(await withDefault.authenticate(`Bearer ${token}`)).toMatchObject({
      ok: true,
      caller: { principal: 'guest' },
    });
  });

  it('does not map a sub named like an Object.prototype member', async () => {
    for (const sub of ['constructor', '__proto__', 'toString']) {
      const token = await tokenFor({ sub });
      expect(failure(await authenticator().authenticate(`Bearer ${token}`)).status).toBe(401);
    }
  });

  it('names the caller with principalClaim', async () => {
    const token = await tokenFor({ sub: 'nobody', client_id: 'etl-bot' });
    const auth = authenticator({ principalClaim: 'client_id', principals: { 'etl-bot': 'etl' } });
    expect(await auth.authenticate(`Bearer ${token}`)).toMatchObject({
      ok: true,
      caller: { principal: 'etl' },
    });
    const missing = await tokenFor({ client_id: undefined });
    expect(failure(await auth.authenticate(`Bearer ${missing}`)).description).toContain(
      '"client_id" claim',
    );
  });

  it('refuses missing requiredScopes with 403 insufficient_scope naming them', async () => {
    const auth = authenticator({ requiredScopes: ['mcp', 'sql:read'] });
    const result = failure(
      await auth.authenticate(`Bearer ${await tokenFor({ scope: 'sql:read' })}`),
    );
    expect(result).toMatchObject({
      status: 403,
      error: 'insufficient_scope',
      scope: ['mcp', 'sql:read'],
    });
    expect(auth.challenge(result)).toContain('scope="mcp sql:read"');
    const enough = await tokenFor({ scope: 'sql:read mcp' });
    expect((await auth.authenticate(`Bearer ${enough}`)).ok).toBe(true);
  });

  it('tells unauthenticated clients which scopes to request when some are required', async () => {
    const auth = authenticator({ requiredScopes: ['mcp'] });
    const result = failure(await auth.authenticate(undefined));
    expect(auth.challenge(result)).toBe(`Bearer resource_metadata="${METADATA_URL}", scope="mcp"`);
  });
});

describe('keys: discovery, caching, rotation, outages', () => {
  it('discovers jwks_uri from the issuer metadata once, then serves from cache', async () => {
    await using own = await startIssuer();
    const auth = authenticator({ jwksUri: undefined }, {}, own);
    const token = await tokenFor({}, {}, own);
    expect((await auth.authenticate(`Bearer ${token}`)).ok).toBe(true);
    expect((await auth.authenticate(`Bearer ${token}`)).ok).toBe(true);
    expect(own.discoveryRequests()).toBe(1);
    expect(own.jwksRequests()).toBe(1);
  });

  it('refuses keys from a metadata document that names another issuer', async () => {
    await using own = await startIssuer();
    // The configured issuer differs from the document's by a trailing slash.
    const auth = authenticator({ issuer: `${own.url}/`, jwksUri: undefined }, {}, own);
    const result = failure(await auth.authenticate(`Bearer ${await tokenFor({}, {}, own)}`));
    expect(result.description).toBe(
      "the authorization server's keys could not be fetched: try again",
    );
    expect(result.detail).toContain('another issuer');
    expect(own.jwksRequests()).toBe(0);
  });

  it('refetches the JWKS at most once within the cooldown when flooded with unknown kids', async () => {
    await using own = await startIssuer();
    const auth = authenticator({}, {}, own);
    const bad = await Promise.all(
      Array.from({ length: 20 }, (_, i) => tokenFor({}, { kid: `made-up-${i}` }, own)),
    );
    const concurrent = await Promise.all(bad.map((token) => auth.authenticate(`Bearer ${token}`)));
    for (const token of bad) concurrent.push(await auth.authenticate(`Bearer ${token}`));
    for (const result of concurrent) {
      expect(failure(result).description).toContain('does not publish (kid)');
    }
    expect(own.jwksRequests()).toBeGreaterThanOrEqual(1);
    expect(own.jwksRequests()).toBeLessThanOrEqual(2);
  });

  it('picks up a rotated key without a restart, once the cooldown has passed', async () => {
    await using own = await startIssuer();
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const auth = authenticator({}, {}, own);
    const old = await tokenFor({}, {}, own);
    expect((await auth.authenticate(`Bearer ${old}`)).ok).toBe(true);

    await own.rotate();
    const fresh = await tokenFor({}, {}, own);
    // Within the cooldown the new kid is not fetched for (the flood guard's price).
    expect(failure(await auth.authenticate(`Bearer ${fresh}`)).description).toContain('(kid)');
    expect(own.jwksRequests()).toBe(1);

    vi.setSystemTime(Date.now() + AUTH_LIMITS.jwksCooldownMs + 1_000);
    expect((await auth.authenticate(`Bearer ${fresh}`)).ok).toBe(true);
    expect(own.jwksRequests()).toBe(2);
    // The withdrawn key is no longer trusted.
    expect(failure(await auth.authenticate(`Bearer ${old}`)).description).toContain('(kid)');
  });

  it('answers 401 when the issuer is down (JWKS), never throwing', async () => {
    const own = await startIssuer();
    const token = await tokenFor({}, {}, own);
    await own.stop();
    const auth = authenticator({}, {}, own);
    const result = failure(await auth.authenticate(`Bearer ${token}`));
    expect(result).toMatchObject({
      status: 401,
      error: 'invalid_token',
      description: "the authorization server's keys could not be fetched: try again",
    });
    expect(result.detail).toEqual(expect.any(String));
  });

  it('answers 401 when the issuer is down (discovery)', async () => {
    const own = await startIssuer();
    const token = await tokenFor({}, {}, own);
    await own.stop();
    const auth = authenticator({ jwksUri: undefined }, {}, own);
    const result = failure(await auth.authenticate(`Bearer ${token}`));
    expect(result.description).toBe(
      "the authorization server's keys could not be fetched: try again",
    );
    expect(result.detail).toContain('discovery');
  });

  it('uses the injected fetch for every request to the issuer', async () => {
    const calls: string[] = [];
    const spy: typeof fetch = (input, init) => {
      calls.push(String(input));
      return fetch(input, init);
    };
    const auth = authenticator({ jwksUri: undefined }, { fetch: spy });
    expect((await auth.authenticate(`Bearer ${await tokenFor()}`)).ok).toBe(true);
    expect(calls).toEqual([
      `${issuer.url}/.well-known/oauth-authorization-server`,
      `${issuer.url}/.well-known/openid-configuration`,
      issuer.jwksUri,
    ]);
  });

  it('stops verifying JWTs after close(), without throwing', async () => {
    await using own = await startIssuer();
    const auth = authenticator({}, {}, own);
    auth.close();
    const result = failure(await auth.authenticate(`Bearer ${await tokenFor({}, {}, own)}`));
    expect(result.status).toBe(401);
    expect(own.jwksRequests()).toBe(0);
  });
});

describe('static tokens', () => {
  const secret = generateToken();
  const staticAuth = (extra: Partial<AuthenticatorOptions> = {}) => {
    const created = createAuthenticator({
      resourceMetadataUrl: METADATA_URL,
      tokens: [
        { principal: 'ops', sha256: hashToken(generateToken()) },
        { principal: 'analyst', sha256: hashToken(secret), scopes: ['sql:read'] },
      ],
      ...extra,
    });
    open.push(created);
    return created;
  };

  it('accepts a configured token, by hash', async () => {
    const result = await staticAuth().authenticate(`Bearer ${secret}`);
    expect(result).toEqual({
      ok: true,
      caller: {
        principal: 'analyst',
        via: 'token',
        scopes: ['sql:read'],
        roles: [],
        fingerprint: hashToken(secret).slice(0, 12),
      },
    });
  });

  it('maps static token scopes to roles through oauth.scopes', async () => {
    const result = await staticAuth({
      oauth: { issuer: issuer.url, audience: AUDIENCE, scopes: { 'sql:read': ['reader'] } },
    }).authenticate(`Bearer ${secret}`);
    expect(result).toMatchObject({ ok: true, caller: { roles: ['reader'] } });
  });

  it('accepts any case of the scheme and several spaces', async () => {
    expect((await staticAuth().authenticate(`bEaReR   ${secret}`)).ok).toBe(true);
  });

  it('refuses a wrong token with invalid_token', async () => {
    const result = failure(await staticAuth().authenticate(`Bearer ${generateToken()}`));
    expect(result).toMatchObject({ status: 401, error: 'invalid_token' });
  });

  it('refuses a header that is not "Bearer <token>" with invalid_request', async () => {
    const auth = staticAuth();
    for (const header of [
      `Basic ${Buffer.from(`user:${secret}`).toString('base64')}`,
      'Bearer',
      'Bearer ',
      `Bearer${secret}`,
      `Bearer ${secret} extra`,
      `Bearer\t${secret}`,
      `${secret}`,
      'Bearer tök',
      '',
    ]) {
      const result = failure(await auth.authenticate(header));
      expect(result, header).toMatchObject({ status: 401, error: 'invalid_request' });
    }
  });

  it('answers a missing header with 401 and no error code', async () => {
    const auth = staticAuth();
    const result = failure(await auth.authenticate(undefined));
    expect(result.status).toBe(401);
    expect(result.error).toBeUndefined();
    expect(auth.challenge(result)).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
  });

  it('refuses a token over 8 KiB with invalid_request, and reads one of exactly 8 KiB', async () => {
    const auth = staticAuth();
    const over = failure(await auth.authenticate(`Bearer ${'a'.repeat(8193)}`));
    expect(over).toMatchObject({ error: 'invalid_request' });
    expect(over.description).toContain('8 KiB');
    const huge = failure(await auth.authenticate(`Bearer ${'a'.repeat(1_000_000)}`));
    expect(huge.error).toBe('invalid_request');
    const exact = failure(await auth.authenticate(`Bearer ${'a'.repeat(8192)}`));
    expect(exact.error).toBe('invalid_token');
  });
});

describe('challenge()', () => {
  it('formats resource_metadata, error, error_description and scope', () => {
    const auth = authenticator();
    expect(
      auth.challenge({
        ok: false,
        status: 403,
        error: 'insufficient_scope',
        description: 'need more',
        scope: ['a', 'b'],
      }),
    ).toBe(
      `Bearer resource_metadata="${METADATA_URL}", error="insufficient_scope", error_description="need more", scope="a b"`,
    );
  });

  it('escapes quotes and backslashes and keeps the value printable ASCII (no header injection)', () => {
    const value = authenticator().challenge({
      ok: false,
      status: 401,
      error: 'invalid_token',
      description: 'say "hi" \\ to ünïcode\r\nX-Injected: 1',
    });
    expect(value).toContain('error_description="say \\"hi\\" \\\\ to ?n?code??X-Injected: 1"');
    expect(value).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('descriptions', () => {
  it('never contain the token, its parts or its claim values', async () => {
    const auth = authenticator({ requiredScopes: ['mcp'] });
    const sub = 'mallory-distinctive-subject';
    const tokens = [
      await tokenFor({ sub }, { expiresInSec: -3600 }),
      await tokenFor({ sub, aud: 'https://aud-distinctive.example' }),
      await tokenFor({ sub, iss: 'https://iss-distinctive.example' }),
      await tokenFor({ sub, nbf: now() + 3600 }),
      await tokenFor({ sub }, { kid: 'kid-distinctive' }),
      await tokenFor({ sub }),
      await tokenFor({ scope: 'sql:read' }),
      `${b64({ alg: 'none' })}.${b64({ sub })}.`,
      generateToken(),
    ];
    for (const token of tokens) {
      const result = failure(await auth.authenticate(`Bearer ${token}`));
      const said = [result.description, result.detail ?? '', auth.challenge(result)].join('\n');
      for (const part of [token, ...token.split('.').filter((p) => p.length > 8)]) {
        expect(said).not.toContain(part);
      }
      for (const value of [sub, 'aud-distinctive', 'iss-distinctive', 'kid-distinctive']) {
        expect(said).not.toContain(value);
      }
    }
  });
});

describe('configuration', () => {
  it('refuses a hash that is not 64 hex, naming the index and not the value', () => {
    const bad = 'not-a-hash-but-maybe-a-token';
    expect(() =>
      createAuthenticator({
        resourceMetadataUrl: METADATA_URL,
        tokens: [
          { principal: 'a', sha256: hashToken('x') },
          { principal: 'b', sha256: bad },
        ],
      }),
    ).toThrowError(/tokens\[1\]\.sha256/);
    try {
      createAuthenticator({
        resourceMetadataUrl: METADATA_URL,
        tokens: [{ principal: 'b', sha256: bad }],
      });
    } catch (error) {
      expect(String(error)).not.toContain(bad);
    }
  });

  it('refuses none and HS* algorithms, even listed', () => {
    for (const alg of ['none', 'HS256', 'hs512']) {
      expect(() => authenticator({ algorithms: ['RS256', alg] })).toThrowError(
        /oauth\.algorithms\[1\]/,
      );
    }
  });

  it('reports every problem at once, each naming its key', () => {
    let message = '';
    try {
      createAuthenticator({
        resourceMetadataUrl: 'not a url',
        oauth: {
          issuer: 'http://auth.example.com',
          audience: 'mcp',
          clockToleranceSec: 301,
          requiredScopes: ['has space'],
        },
      });
    } catch (error) {
      message = String(error);
    }
    for (const key of [
      'resourceMetadataUrl',
      'oauth.issuer',
      'oauth.audience',
      'oauth.clockToleranceSec',
      'oauth.requiredScopes[0]',
    ]) {
      expect(message).toContain(key);
    }
  });

  it('refuses a duplicate static token and an authenticator with no credentials at all', () => {
    const sha256 = hashToken('same');
    expect(() =>
      createAuthenticator({
        resourceMetadataUrl: METADATA_URL,
        tokens: [
          { principal: 'a', sha256 },
          { principal: 'b', sha256 },
        ],
      }),
    ).toThrowError(/tokens\[1\]\.sha256: is the same token as tokens\[0\]/);
    expect(() => createAuthenticator({ resourceMetadataUrl: METADATA_URL })).toThrowError(
      /at least one/,
    );
  });
});

describe('helpers', () => {
  it('hashToken is SHA-256 hex', () => {
    expect(hashToken('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('generateToken gives 32 random bytes as base64url', () => {
    const a = generateToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(generateToken()).not.toBe(a);
  });

  it('protectedResourceMetadata follows RFC 9728', () => {
    expect(
      protectedResourceMetadata({
        resource: AUDIENCE,
        authorizationServers: ['https://auth.example.com'],
        scopesSupported: ['mcp'],
      }),
    ).toEqual({
      resource: AUDIENCE,
      authorization_servers: ['https://auth.example.com'],
      scopes_supported: ['mcp'],
      bearer_methods_supported: ['header'],
    });
  });
});

describe('remembered JWTs answer exactly as a full verification (differential)', () => {
  /** Flips one character of a part of a JWT: a look-alike of a remembered token. */
  function lookAlike(token: string, part: 0 | 1 | 2, seed: number): string {
    const parts = token.split('.');
    const text = parts[part] as string;
    const at = seed % text.length;
    const replacement = text[at] === 'A' ? 'B' : 'A';
    parts[part] = text.slice(0, at) + replacement + text.slice(at + 1);
    return parts.join('.');
  }

  it('gives the same answer with and without the memory, over time, on a corpus and its look-alikes', async () => {
    const settings = { clockToleranceSec: 1, defaultPrincipal: 'guest' };
    const remembering = authenticator(settings);
    const verifying = authenticator(settings, { verifiedTokens: 0 });
    const t = now();
    const corpus: string[] = [];
    // Valid tokens expiring inside the run, around the tolerance, and later.
    for (const expiresInSec of [1, 2, 3, 4, 5, 600]) {
      corpus.push(await tokenFor({}, { expiresInSec }));
      corpus.push(await tokenFor({ sub: 'someone', scope: 'sql:read' }, { expiresInSec }));
    }
    // Not yet valid: nbf and iat now, in a second, in two, in five.
    for (const ahead of [0, 1, 2, 5]) {
      corpus.push(await tokenFor({ nbf: t + ahead }, { expiresInSec: 600 }));
      corpus.push(await tokenFor({ iat: t + ahead }, { expiresInSec: 600 }));
    }
    // Refused whatever the time: audience, issuer claim, no subject, no expiry.
    corpus.push(await tokenFor({ aud: 'https://elsewhere.example/mcp' }));
    corpus.push(await tokenFor({ iss: 'https://other.example' }));
    corpus.push(await tokenFor({ sub: undefined }));
    corpus.push(await tokenFor({ exp: undefined }));
    // Look-alikes of the valid ones: each part changed in one character.
    const valid = corpus.slice(0, 12);
    for (const [i, token] of valid.entries()) {
      for (const part of [0, 1, 2] as const) corpus.push(lookAlike(token, part, i * 7 + part));
    }

    let compared = 0;
    let skipped = 0;
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      for (const token of corpus) {
        const second = now();
        const [fast, slow] = await Promise.all([
          remembering.authenticate(`Bearer ${token}`),
          verifying.authenticate(`Bearer ${token}`),
        ]);
        // A second boundary crossed between the two: time differs, not the paths.
        if (now() !== second) {
          skipped++;
          continue;
        }
        expect(fast).toEqual(slow);
        compared++;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(compared).toBeGreaterThan(corpus.length * 10);
    expect(skipped).toBeLessThan(compared / 5);
    // The memory answered most of the valid calls, and the full check all of the other side's.
    expect(remembering.stats().verifiedHits).toBeGreaterThan(corpus.length);
    expect(verifying.stats().verifiedHits).toBe(0);
  }, 30_000);

  it('verifies a remembered token again once its memory lapses, and forgets them all on close', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const remembering = authenticator();
    const token = await tokenFor({}, { expiresInSec: 3600 });
    expect((await remembering.authenticate(`Bearer ${token}`)).ok).toBe(true);
    vi.setSystemTime(Date.now() + 2000);
    expect((await remembering.authenticate(`Bearer ${token}`)).ok).toBe(true);
    expect(remembering.stats()).toEqual({ verifiedHits: 1, verifications: 1 });
    vi.setSystemTime(Date.now() + AUTH_LIMITS.verifiedTokenTtlMs + 1);
    expect((await remembering.authenticate(`Bearer ${token}`)).ok).toBe(true);
    expect(remembering.stats()).toEqual({ verifiedHits: 1, verifications: 2 });
    remembering.close();
    expect((await remembering.authenticate(`Bearer ${token}`)).ok).toBe(false);
  });
});
