/**
 * Authentication of HTTP callers: this app is an OAuth 2.1 *resource server*
 * (MCP authorization spec 2025-11-25, RFC 9728, RFC 8707, RFC 6750).
 *
 * Two kinds of credential are accepted, both as `Authorization: Bearer <token>`:
 * - static tokens, configured by their SHA-256 only (a leaked config leaks no
 *   token), compared in constant time;
 * - JWT access tokens from one authorization server, verified against its
 *   published keys (JWKS): signature, `iss`, `aud` (this resource, RFC 8707),
 *   `exp`/`nbf`/`iat`, and an allow-list of asymmetric algorithms.
 *
 * Security checks return results and deny on failure: `authenticate` never
 * throws, and anything unexpected becomes a 401. Descriptions are sent to the
 * client, so they say what was wrong and what to do, and never contain the
 * token or a claim's value (scope names excepted). Nothing here logs: the
 * caller logs `Authentication.detail` and `Caller.fingerprint` if it wants to.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@sqlwarden/core';
import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  type FetchImplementation,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';

export interface StaticToken {
  /** The principal (config principal id) the token maps to. */
  readonly principal: string;
  /** SHA-256 of the token, 64 lower-case hex digits. The token itself is never in the config. */
  readonly sha256: string;
  /** Scopes this token carries (default: none). Mapped to roles like OAuth scopes. */
  readonly scopes?: readonly string[];
}

export interface OAuthSettings {
  /** The authorization server's issuer identifier (exact `iss`). */
  readonly issuer: string;
  /** Where its keys are; default: discovered from `${issuer}/.well-known/oauth-authorization-server`, then `/.well-known/openid-configuration` (`jwks_uri`). */
  readonly jwksUri?: string;
  /** The exact `aud` required: this server's canonical resource URI (RFC 8707). A token whose aud (string or array) does not contain it is refused. */
  readonly audience: string;
  /** Allowed JWS algorithms (default ['RS256','ES256','PS256','EdDSA']); 'none' and HS* are never accepted, even if listed (refuse such a config with an Error at creation). */
  readonly algorithms?: readonly string[];
  /** Clock skew tolerated on exp/nbf/iat, seconds (default 60, max 300). */
  readonly clockToleranceSec?: number;
  /** The claim naming the caller (default 'sub'). */
  readonly principalClaim?: string;
  /** Claim value → principal id. A claim value not listed maps to `defaultPrincipal`, or is refused (401 invalid_token, saying the caller is not known to this server) when there is none. */
  readonly principals?: Readonly<Record<string, string>>;
  readonly defaultPrincipal?: string;
  /** Scope → roles (config role names) that scope grants. Scopes come from the `scope` claim (space-separated string) or `scp` (array). */
  readonly scopes?: Readonly<Record<string, readonly string[]>>;
  /** Scopes every request must carry (403 insufficient_scope naming them when missing). */
  readonly requiredScopes?: readonly string[];
}

export interface Caller {
  readonly principal: string;
  /** OAuth: the verified principalClaim value (`sub`): the person, where many may share a principal. */
  readonly subject?: string;
  readonly via: 'token' | 'oauth';
  /** The scopes the credential carried. */
  readonly scopes: readonly string[];
  /** Roles granted by those scopes (through the scopes map; unknown scopes grant nothing). */
  readonly roles: readonly string[];
  /** Epoch ms when the credential expires (the JWT's exp), if it does. */
  readonly expiresAt?: number;
  /** A short non-reversible fingerprint of the credential (for audit/logs), never the credential. e.g. first 12 hex of sha256. */
  readonly fingerprint: string;
}

export type Authentication =
  | { readonly ok: true; readonly caller: Caller }
  | {
      readonly ok: false;
      readonly status: 401 | 403;
      /** RFC 6750 error code: 'invalid_request' | 'invalid_token' | 'insufficient_scope', or undefined when no credential was sent. */
      readonly error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
      /** Human text that says what was wrong and what to do; never echoes the token or claim values other than scope names. */
      readonly description: string;
      /**
       * For insufficient_scope: the scopes needed. Also set on 401s when
       * `oauth.requiredScopes` is configured, so the challenge tells the
       * client which scopes to ask for (MCP 2025-11-25, scope selection).
       */
      readonly scope?: readonly string[];
      /**
       * For the server's own logs only, never sent to the client: why the
       * authorization server's keys could not be fetched, for instance. Never
       * contains the token or claim values.
       */
      readonly detail?: string;
    };

export type AuthenticationFailure = Extract<Authentication, { ok: false }>;

export interface AuthenticatorOptions {
  readonly tokens?: readonly StaticToken[];
  readonly oauth?: OAuthSettings;
  /** The Protected Resource Metadata URL (for WWW-Authenticate). */
  readonly resourceMetadataUrl: string;
  /** Injected for tests only: defaults to globalThis.fetch. */
  readonly fetch?: typeof fetch;
  /**
   * How many verified JWTs are remembered (default
   * AUTH_LIMITS.verifiedTokens; 0: none, every request verifies its
   * signature). Tests compare the two.
   */
  readonly verifiedTokens?: number;
}

export interface Authenticator {
  /** Verifies the Authorization header value (or undefined when absent). Never throws: every failure is an Authentication with ok false. */
  authenticate(authorization: string | undefined): Promise<Authentication>;
  /** The WWW-Authenticate header value for a failed Authentication: `Bearer resource_metadata="<url>"` plus, when present, `error="…"`, `error_description="…"` (quotes/backslashes escaped, ASCII only), `scope="a b"`. */
  challenge(failure: AuthenticationFailure): string;
  /** Releases timers/caches. */
  close(): void;
  /** How often a JWT was found among the verified ones, and how often it was verified. */
  stats(): { readonly verifiedHits: number; readonly verifications: number };
}

/** Limits and defaults; each one is a trade-off stated beside it. */
export const AUTH_LIMITS = {
  /** RFC 6750 sets no size; real access tokens are far below 8 KiB. Longer ones are refused before hashing or parsing. */
  maxTokenLength: 8192,
  /** Every fetch to the authorization server (discovery, JWKS) gives up after this: a hung issuer must not hang requests. */
  fetchTimeoutMs: 5_000,
  /**
   * An unknown `kid` refetches the JWKS (key rotation), but at most once per
   * cooldown since the last successful fetch: a flood of tokens with made-up
   * kids costs the issuer one request per 30 s, not one per token. The price:
   * a key first used within 30 s of our last fetch is refused until then.
   */
  jwksCooldownMs: 30_000,
  /** Keys are refetched after this long even if every kid is known, so a key the issuer withdrew stops being trusted. */
  jwksCacheMaxAgeMs: 10 * 60_000,
  defaultClockToleranceSec: 60,
  maxClockToleranceSec: 300,
  /**
   * A JWT whose signature, issuer, audience and algorithm were verified is
   * remembered (the exact token text, at most this many, oldest out first)
   * so that its next requests skip the signature check (about 100 µs of
   * WebCrypto each). Only its time claims are checked again, strictly
   * (expiry more than the tolerance away, nbf and iat not in the future):
   * anything nearer a boundary is verified again in full, so a remembered
   * token is accepted only where a full check would accept it.
   */
  verifiedTokens: 10_000,
  /**
   * How long a verified JWT is remembered: a key the issuer withdraws stops
   * its tokens at most this much later than a full check would (which
   * itself trusts the JWKS for up to jwksCacheMaxAgeMs).
   */
  verifiedTokenTtlMs: 60_000,
} as const;

/** The default allow-list: one per key family, all asymmetric. */
export const DEFAULT_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'ES256',
  'PS256',
  'EdDSA',
]);

/**
 * Algorithms that may be allowed. Only asymmetric ones: with HS* the
 * "secret" would be the issuer's *public* key, which anyone can fetch
 * (the RS256→HS256 key-confusion attack); `none` is no signature at all.
 */
const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

/** RFC 6749 §3.3 scope-token: printable ASCII without space, `"` or `\`; so a scope name is safe inside a quoted header parameter. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** RFC 6750 §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** A compact JWS: three base64url parts (the signature part is empty for `alg: none`, which is recognized so it can be refused by name). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The SHA-256 hex of a token (what an operator puts in the config). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh random bearer token (32 bytes of randomness, base64url), for the server's own generated token. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** RFC 9728 Protected Resource Metadata document for this resource. */
export function protectedResourceMetadata(options: {
  resource: string;
  authorizationServers: readonly string[];
  scopesSupported?: readonly string[];
}): Record<string, unknown> {
  return {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    ...(options.scopesSupported === undefined
      ? {}
      : { scopes_supported: [...options.scopesSupported] }),
    // RFC 6750 §2.2/2.3 (form body, query) are refused: tokens in URLs end up in logs.
    bearer_methods_supported: ['header'],
  };
}

// ---------------------------------------------------------------------------
// Configuration: parse, normalize, validate; every problem reported at once.

interface NormalizedToken {
  readonly principal: string;
  readonly hash: Buffer;
  readonly scopes: readonly string[];
}

interface NormalizedOAuth {
  readonly issuer: string;
  readonly jwksUri: URL | undefined;
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly clockToleranceSec: number;
  readonly principalClaim: string;
  /** A Map, not the config object: a `sub` of "constructor" or "__proto__" must not find Object.prototype. */
  readonly principals: ReadonlyMap<string, string>;
  readonly defaultPrincipal: string | undefined;
  readonly scopes: ReadonlyMap<string, readonly string[]>;
  readonly requiredScopes: readonly string[];
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * A URL we fetch keys from, or that names the issuer: https, or http on
 * loopback only (development). Keys fetched over plain http from elsewhere
 * could be swapped in transit, and whoever swaps them mints tokens.
 */
function checkTrustedUrl(key: string, value: unknown, problems: string[]): URL | undefined {
  if (!isNonEmptyString(value)) {
    problems.push(`${key}: must be a URL`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${key}: must be an absolute URL`);
    return undefined;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    problems.push(`${key}: must use https (http is allowed on localhost only)`);
  }
  if (url.username !== '' || url.password !== '')
    problems.push(`${key}: must not carry credentials`);
  if (url.hash !== '') problems.push(`${key}: must not have a fragment`);
  return url;
}

function checkScopeNames(key: string, value: unknown, problems: string[]): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push(`${key}: must be a list of scope names`);
    return [];
  }
  value.forEach((scope, index) => {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) {
      problems.push(
        `${key}[${index}]: must be a scope name (printable ASCII, no space, quote or backslash)`,
      );
    }
  });
  return [...new Set(value as string[])];
}

function normalizeTokens(tokens: readonly StaticToken[] | undefined, problems: string[]) {
  const normalized: NormalizedToken[] = [];
  const seen = new Map<string, number>();
  (tokens ?? []).forEach((token, index) => {
    const key = `tokens[${index}]`;
    if (!isNonEmptyString(token.principal))
      problems.push(`${key}.principal: must be a principal id`);
    const scopes = checkScopeNames(`${key}.scopes`, token.scopes, problems);
    // The hash is named by index only: a config error must not print even a hash.
    if (typeof token.sha256 !== 'string' || !SHA256_HEX.test(token.sha256)) {
      problems.push(`${key}.sha256: must be 64 lower-case hex digits (the SHA-256 of the token)`);
      return;
    }
    const earlier = seen.get(token.sha256);
    if (earlier !== undefined) {
      problems.push(`${key}.sha256: is the same token as tokens[${earlier}]`);
      return;
    }
    seen.set(token.sha256, index);
    normalized.push({
      principal: token.principal,
      hash: Buffer.from(token.sha256, 'hex'),
      scopes,
    });
  });
  return normalized;
}

function normalizeOAuth(settings: OAuthSettings, problems: string[]): NormalizedOAuth {
  const issuerUrl = checkTrustedUrl('oauth.issuer', settings.issuer, problems);
  if (issuerUrl !== undefined && issuerUrl.search !== '') {
    problems.push('oauth.issuer: must not have a query (RFC 8414 §2)');
  }
  const jwksUri =
    settings.jwksUri === undefined
      ? undefined
      : checkTrustedUrl('oauth.jwksUri', settings.jwksUri, problems);

  // RFC 8707 §2: the resource is an absolute URI without a fragment.
  if (!isNonEmptyString(settings.audience) || !URL.canParse(settings.audience)) {
    problems.push("oauth.audience: must be this server's canonical URI (an absolute URL)");
  } else if (new URL(settings.audience).hash !== '') {
    problems.push('oauth.audience: must not have a fragment (RFC 8707)');
  }

  const algorithms = settings.algorithms ?? DEFAULT_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    problems.push('oauth.algorithms: must list at least one algorithm');
  } else {
    algorithms.forEach((alg: unknown, index) => {
      const key = `oauth.algorithms[${index}]`;
      if (typeof alg !== 'string') problems.push(`${key}: must be a JWS algorithm name`);
      else if (/^none$/i.test(alg) || /^HS/i.test(alg)) {
        problems.push(
          `${key}: ${alg} is never accepted (unsigned, or keyed with a secret that would be the issuer's public key)`,
        );
      } else if (!ASYMMETRIC_ALGORITHMS.has(alg)) {
        problems.push(`${key}: ${alg} is not one of ${[...ASYMMETRIC_ALGORITHMS].join(', ')}`);
      }
    });
  }

  const clockToleranceSec = settings.clockToleranceSec ?? AUTH_LIMITS.defaultClockToleranceSec;
  if (
    typeof clockToleranceSec !== 'number' ||
    !Number.isFinite(clockToleranceSec) ||
    clockToleranceSec < 0 ||
    clockToleranceSec > AUTH_LIMITS.maxClockToleranceSec
  ) {
    problems.push(
      `oauth.clockToleranceSec: must be between 0 and ${AUTH_LIMITS.maxClockToleranceSec} seconds`,
    );
  }

  const principalClaim = settings.principalClaim ?? 'sub';
  if (!isNonEmptyString(principalClaim))
    problems.push('oauth.principalClaim: must be a claim name');

  const principals = new Map<string, string>();
  for (const [value, principal] of Object.entries(settings.principals ?? {})) {
    if (!isNonEmptyString(principal)) {
      problems.push(`oauth.principals: every entry must map to a principal id`);
    }
    principals.set(value, principal);
  }
  if (settings.defaultPrincipal !== undefined && !isNonEmptyString(settings.defaultPrincipal)) {
    problems.push('oauth.defaultPrincipal: must be a principal id');
  }

  const scopes = new Map<string, readonly string[]>();
  for (const [scope, roles] of Object.entries(settings.scopes ?? {})) {
    if (!SCOPE_TOKEN.test(scope)) {
      problems.push('oauth.scopes: every key must be a scope name (no space, quote or backslash)');
    }
    if (!Array.isArray(roles) || !roles.every(isNonEmptyString)) {
      problems.push(`oauth.scopes.${scope}: must be a list of role names`);
      continue;
    }
    scopes.set(scope, [...new Set(roles)]);
  }

  return {
    issuer: settings.issuer,
    jwksUri,
    audience: settings.audience,
    algorithms: Array.isArray(algorithms) ? [...algorithms] : [],
    clockToleranceSec,
    principalClaim,
    principals,
    defaultPrincipal: settings.defaultPrincipal,
    scopes,
    requiredScopes: checkScopeNames('oauth.requiredScopes', settings.requiredScopes, problems),
  };
}

// ---------------------------------------------------------------------------
// Results.

/** RFC 6750 §3.1 codes, each with when it is used. */
export const AUTH_ERRORS = {
  /** The Authorization header is not `Bearer <token>`, or the token is oversized. */
  invalid_request: 'invalid_request',
  /** The token is unknown, forged, expired, for another resource or issuer, or could not be checked. */
  invalid_token: 'invalid_token',
  /** The token is good but lacks `oauth.requiredScopes` (403). */
  insufficient_scope: 'insufficient_scope',
} as const;

function invalidRequest(description: string): AuthenticationFailure {
  return { ok: false, status: 401, error: AUTH_ERRORS.invalid_request, description };
}

function invalidToken(description: string, detail?: string): AuthenticationFailure {
  return {
    ok: false,
    status: 401,
    error: AUTH_ERRORS.invalid_token,
    description,
    ...(detail === undefined ? {} : { detail }),
  };
}

const KEYS_UNAVAILABLE = "the authorization server's keys could not be fetched: try again";

/** Thrown inside the key lookup when the issuer cannot give us keys; turned into a 401 at the boundary. */
class KeysUnavailable extends Error {
  constructor(detail: string, options?: ErrorOptions) {
    super(detail, options);
    this.name = 'KeysUnavailable';
  }
}

/** A network error's short reason (e.g. ECONNREFUSED, TimeoutError): about the issuer, never the token. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  const cause = error.cause;
  if (cause instanceof Error && 'code' in cause && typeof cause.code === 'string') {
    return cause.code;
  }
  return `${error.name}: ${error.message}`.slice(0, 200);
}

/** RFC 7230 quoted-string, printable ASCII only: no CR/LF can reach the header, and `"`/`\` are escaped. */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&')}"`;
}

// ---------------------------------------------------------------------------
// The authenticator.

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const problems: string[] = [];
  checkResourceMetadataUrl(options.resourceMetadataUrl, problems);
  const tokens = normalizeTokens(options.tokens, problems);
  const oauth = options.oauth === undefined ? undefined : normalizeOAuth(options.oauth, problems);
  if (tokens.length === 0 && oauth === undefined) {
    problems.push('tokens, oauth: configure at least one static token or an authorization server');
  }
  if (problems.length > 0) throw new ConfigError('Invalid HTTP authentication settings', problems);

  const fetchImpl = options.fetch ?? globalThis.fetch;
  /** Aborted by close(): in-flight fetches to the issuer stop with it. */
  const closing = new AbortController();
  const scopeHint =
    oauth !== undefined && oauth.requiredScopes.length > 0 ? oauth.requiredScopes : undefined;

  function withScopeHint(failure: AuthenticationFailure): AuthenticationFailure {
    if (failure.status !== 401 || scopeHint === undefined) return failure;
    return { ...failure, scope: scopeHint };
  }

  function fetchSignal(signal?: AbortSignal): AbortSignal {
    const signals = [AbortSignal.timeout(AUTH_LIMITS.fetchTimeoutMs), closing.signal];
    if (signal !== undefined) signals.push(signal);
    return AbortSignal.any(signals);
  }

  /**
   * Every JWKS fetch forgets the remembered tokens: a token is remembered
   * only while the keys it was verified with are the ones a full check
   * would use (a withdrawn key stops its tokens at the refetch, as before).
   */
  const jwksFetch: FetchImplementation = (url, init) => {
    forgetVerified();
    return fetchImpl(url, { ...init, signal: fetchSignal(init.signal) }).finally(() => {
      keysFetchedAt = Date.now();
      forgetVerified();
    });
  };

  let remoteKeys: JWTVerifyGetKey | undefined;
  /** When the JWKS was last fetched (undefined: never). */
  let keysFetchedAt: number | undefined;
  let discovering: Promise<JWTVerifyGetKey> | undefined;

  function remoteKeySet(url: URL): JWTVerifyGetKey {
    return createRemoteJWKSet(url, {
      timeoutDuration: AUTH_LIMITS.fetchTimeoutMs,
      cooldownDuration: AUTH_LIMITS.jwksCooldownMs,
      cacheMaxAge: AUTH_LIMITS.jwksCacheMaxAgeMs,
      [customFetch]: jwksFetch,
    });
  }

  /**
   * The JWKS resolver, created on first use. Without `jwksUri` the issuer's
   * metadata is discovered once; concurrent requests share one discovery, and
   * a failed one is retried by the next request (never cached).
   */
  function keySet(settings: NormalizedOAuth): Promise<JWTVerifyGetKey> {
    if (closing.signal.aborted) return Promise.reject(new KeysUnavailable('authenticator closed'));
    if (remoteKeys !== undefined) return Promise.resolve(remoteKeys);
    if (settings.jwksUri !== undefined) {
      remoteKeys = remoteKeySet(settings.jwksUri);
      return Promise.resolve(remoteKeys);
    }
    discovering ??= discoverJwksUri(settings)
      .then((url) => {
        remoteKeys = remoteKeySet(url);
        return remoteKeys;
      })
      .finally(() => {
        discovering = undefined;
      });
    return discovering;
  }

  /**
   * RFC 8414 §3 and OIDC Discovery, in the order MCP 2025-11-25 gives: for an
   * issuer with a path, the well-known segment is inserted before the path,
   * then OIDC's appended form is tried. The document must name our issuer
   * exactly (RFC 8414 §3.3), or another server could hand us its keys.
   */
  async function discoverJwksUri(settings: NormalizedOAuth): Promise<URL> {
    const issuer = new URL(settings.issuer);
    const path = issuer.pathname.replace(/\/+$/, '');
    const candidates =
      path === ''
        ? [
            `${issuer.origin}/.well-known/oauth-authorization-server`,
            `${issuer.origin}/.well-known/openid-configuration`,
          ]
        : [
            `${issuer.origin}/.well-known/oauth-authorization-server${path}`,
            `${issuer.origin}/.well-known/openid-configuration${path}`,
            `${issuer.origin}${path}/.well-known/openid-configuration`,
          ];
    const misses: string[] = [];
    for (const candidate of candidates) {
      let response: Response;
      try {
        response = await fetchImpl(candidate, {
          headers: { accept: 'application/json' },
          redirect: 'error',
          signal: fetchSignal(),
        });
      } catch (error) {
        // The issuer is unreachable: the other candidates are on the same host.
        throw new KeysUnavailable(`discovery at ${candidate} failed: ${reasonOf(error)}`, {
          cause: error,
        });
      }
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        misses.push(`${candidate}: HTTP ${response.status}`);
        continue;
      }
      let metadata: unknown;
      try {
        metadata = await response.json();
      } catch (error) {
        throw new KeysUnavailable(`discovery at ${candidate}: not JSON`, { cause: error });
      }
      if (typeof metadata !== 'object' || metadata === null) {
        throw new KeysUnavailable(`discovery at ${candidate}: not a JSON object`);
      }
      const document = metadata as Record<string, unknown>;
      if (document.issuer !== settings.issuer) {
        throw new KeysUnavailable(
          `discovery at ${candidate}: the document names another issuer than oauth.issuer`,
        );
      }
      const problems: string[] = [];
      const jwksUri = checkTrustedUrl('jwks_uri', document.jwks_uri, problems);
      if (jwksUri === undefined || problems.length > 0) {
        throw new KeysUnavailable(`discovery at ${candidate}: ${problems.join('; ')}`);
      }
      return jwksUri;
    }
    throw new KeysUnavailable(`no authorization server metadata found (${misses.join(', ')})`);
  }

  async function verifyJwt(
    settings: NormalizedOAuth,
    token: string,
    fingerprint: string,
  ): Promise<Authentication> {
    const known = recall(settings, token);
    if (known !== undefined) {
      verifiedHits++;
      return accept(settings, known, fingerprint);
    }
    verifications++;
    // The header is checked before any key lookup: a token with a refused
    // algorithm never causes a fetch to the issuer.
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return invalidToken('the token is malformed: it is not a valid JSON Web Token');
    }
    if (typeof alg !== 'string') {
      return invalidToken('the token is malformed: its header names no algorithm (alg)');
    }
    if (alg.toLowerCase() === 'none') {
      return invalidToken(
        'the token is not signed (alg "none"): get a signed token from the authorization server',
      );
    }
    if (!settings.algorithms.includes(alg)) {
      return invalidToken(
        `the token is signed with an algorithm this server does not accept (alg): accepted are ${settings.algorithms.join(', ')}`,
      );
    }

    const getKey: JWTVerifyGetKey = async (header, input) => {
      const keys = await keySet(settings);
      try {
        return await keys(header, input);
      } catch (error) {
        if (
          error instanceof errors.JWKSNoMatchingKey ||
          error instanceof errors.JWKSMultipleMatchingKeys
        ) {
          throw error;
        }
        throw new KeysUnavailable(`JWKS: ${reasonOf(error)}`, { cause: error });
      }
    };

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: [...settings.algorithms],
        clockTolerance: settings.clockToleranceSec,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      return describeVerificationError(settings, error);
    }

    // jose checks `iat` only with maxTokenAge; a token "issued" in the future
    // beyond the tolerated skew comes from a broken or hostile clock.
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat === 'number' && payload.iat > now + settings.clockToleranceSec) {
      return invalidToken(
        'the token was issued in the future (iat): check the clocks of the authorization server and this server',
      );
    }

    remember(token, payload);
    return accept(settings, payload, fingerprint);
  }

  interface Verified {
    readonly payload: JWTPayload;
    readonly until: number;
  }
  /** Verified JWTs by their exact text, in the order they were verified. */
  const verified = new Map<string, Verified>();
  const capacity = options.verifiedTokens ?? AUTH_LIMITS.verifiedTokens;
  let verifiedHits = 0;
  let verifications = 0;

  function forgetVerified(): void {
    verified.clear();
  }

  function remember(token: string, payload: JWTPayload): void {
    if (capacity <= 0 || keysFetchedAt === undefined) return;
    verified.delete(token);
    // Never past the age at which a full check would fetch the keys again.
    const until = Math.min(
      Date.now() + AUTH_LIMITS.verifiedTokenTtlMs,
      keysFetchedAt + AUTH_LIMITS.jwksCacheMaxAgeMs,
    );
    verified.set(token, { payload, until });
    if (verified.size > capacity) verified.delete(verified.keys().next().value as string);
  }

  /**
   * The payload of a JWT verified in full less than verifiedTokenTtlMs ago,
   * when its time claims hold with a margin (the tolerance is not used, and
   * a second to spare): else undefined, and the token is verified again.
   */
  function recall(settings: NormalizedOAuth, token: string): JWTPayload | undefined {
    const entry = verified.get(token);
    if (entry === undefined) return undefined;
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    const { exp, nbf, iat } = entry.payload;
    const fresh =
      nowMs < entry.until &&
      typeof exp === 'number' &&
      exp > now + settings.clockToleranceSec + 1 &&
      (nbf === undefined || (typeof nbf === 'number' && nbf <= now)) &&
      (iat === undefined || (typeof iat === 'number' && iat <= now));
    if (!fresh) {
      verified.delete(token);
      return undefined;
    }
    return entry.payload;
  }

  /** The caller a verified payload names, or why it is refused (deterministic in the payload). */
  function accept(
    settings: NormalizedOAuth,
    payload: JWTPayload,
    fingerprint: string,
  ): Authentication {
    const claim = payload[settings.principalClaim];
    if (!isNonEmptyString(claim)) {
      return invalidToken(
        `the token has no "${settings.principalClaim}" claim naming the caller: get a token for a user or client`,
      );
    }
    // It travels on as the session's subject (sqlwarden.subject in the database).
    if (claim.length > 512 || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(claim)) {
      return invalidToken(
        `the token's "${settings.principalClaim}" claim is not a usable identifier (at most 512 printable characters): get a token whose claim names the caller plainly`,
      );
    }
    const principal = settings.principals.get(claim) ?? settings.defaultPrincipal;
    if (principal === undefined) {
      return invalidToken(
        'the caller is not known to this server: ask its operator to map them in oauth.principals',
      );
    }

    const scopes = scopesOf(payload);
    const missing = settings.requiredScopes.filter((scope) => !scopes.includes(scope));
    if (missing.length > 0) {
      return {
        ok: false,
        status: 403,
        error: AUTH_ERRORS.insufficient_scope,
        description: `the token lacks the scopes this server requires: request ${settings.requiredScopes.join(' ')}`,
        scope: settings.requiredScopes,
      };
    }

    return {
      ok: true,
      caller: {
        principal,
        subject: claim,
        via: 'oauth',
        scopes,
        roles: rolesOf(scopes),
        ...(typeof payload.exp === 'number' ? { expiresAt: payload.exp * 1000 } : {}),
        fingerprint,
      },
    };
  }

  function rolesOf(scopes: readonly string[]): readonly string[] {
    const roles = new Set<string>();
    for (const scope of scopes) for (const role of oauth?.scopes.get(scope) ?? []) roles.add(role);
    return [...roles];
  }

  /**
   * Constant-time lookup of a static token. Hashes (not tokens) are
   * compared, all of them, with timingSafeEqual: timing can reveal neither
   * the token's bytes nor which entry matched beyond a branch on the result.
   */
  function matchStaticToken(digest: Buffer): NormalizedToken | undefined {
    let found: NormalizedToken | undefined;
    for (const candidate of tokens) {
      const equal = timingSafeEqual(candidate.hash, digest);
      if (equal) found = candidate;
    }
    return found;
  }

  async function authenticateUnsafe(authorization: string | undefined): Promise<Authentication> {
    if (authorization === undefined) {
      // RFC 6750 §3.1: no credentials, no error code; just the challenge.
      return {
        ok: false,
        status: 401,
        description: 'this server requires a bearer token: send "Authorization: Bearer <token>"',
      };
    }
    // Bounded before any other work on attacker-sized input.
    if (authorization.length > AUTH_LIMITS.maxTokenLength + 64) {
      return invalidRequest('the token is longer than 8 KiB: this server refuses it');
    }
    const space = authorization.indexOf(' ');
    const scheme = space === -1 ? authorization : authorization.slice(0, space);
    if (scheme.toLowerCase() !== 'bearer') {
      return invalidRequest(
        'the Authorization header must be "Bearer <token>": this server accepts bearer tokens only',
      );
    }
    const token = space === -1 ? '' : authorization.slice(space).replace(/^ +/, '');
    if (token === '') {
      return invalidRequest('the Authorization header has no token after "Bearer"');
    }
    if (token.length > AUTH_LIMITS.maxTokenLength) {
      return invalidRequest('the token is longer than 8 KiB: this server refuses it');
    }
    if (!B64TOKEN.test(token)) {
      return invalidRequest(
        'the token has characters a bearer token cannot have (RFC 6750): check it was copied whole, with nothing after it',
      );
    }

    const digest = createHash('sha256').update(token, 'utf8').digest();
    const fingerprint = digest.toString('hex').slice(0, 12);
    const known = matchStaticToken(digest);
    if (known !== undefined) {
      return {
        ok: true,
        caller: {
          principal: known.principal,
          via: 'token',
          scopes: known.scopes,
          roles: rolesOf(known.scopes),
          fingerprint,
        },
      };
    }
    if (oauth !== undefined && JWT_SHAPE.test(token)) {
      return verifyJwt(oauth, token, fingerprint);
    }
    return invalidToken(
      oauth === undefined
        ? 'the token is not valid for this server: check it was copied whole'
        : 'the token is neither a token configured on this server nor a JWT: get one from the authorization server',
    );
  }

  return {
    async authenticate(authorization) {
      let result: Authentication;
      try {
        result = await authenticateUnsafe(authorization);
      } catch (error) {
        // Deny on anything unexpected; the reason goes to the operator only.
        result = invalidToken('the token could not be verified: try again', reasonOf(error));
      }
      return result.ok ? result : withScopeHint(result);
    },

    challenge(failure) {
      const params = [`resource_metadata=${quoted(options.resourceMetadataUrl)}`];
      // RFC 6750 §3.1: a request without credentials gets no error information,
      // only where to find the authorization server (and the scopes to ask for).
      if (failure.error !== undefined) {
        params.push(`error=${quoted(failure.error)}`);
        params.push(`error_description=${quoted(failure.description)}`);
      }
      if (failure.scope !== undefined && failure.scope.length > 0) {
        params.push(`scope=${quoted(failure.scope.join(' '))}`);
      }
      return `Bearer ${params.join(', ')}`;
    },

    close() {
      closing.abort();
      remoteKeys = undefined;
      discovering = undefined;
      verified.clear();
    },
    stats: () => ({ verifiedHits, verifications }),
  };
}

function checkResourceMetadataUrl(value: unknown, problems: string[]) {
  if (!isNonEmptyString(value) || !URL.canParse(value)) {
    problems.push('resourceMetadataUrl: must be an absolute URL');
  }
}

/** Scopes from `scope` (RFC 8693/9068: space-separated) or `scp` (array, or a string in some servers). */
function scopesOf(payload: JWTPayload): readonly string[] {
  const raw = payload.scope ?? payload.scp;
  const list =
    typeof raw === 'string'
      ? raw.split(' ')
      : Array.isArray(raw)
        ? raw.filter((scope): scope is string => typeof scope === 'string')
        : [];
  return [...new Set(list.filter((scope) => scope !== ''))];
}

/** jose's errors → what the client is told. Claim *names* only, never values. */
function describeVerificationError(
  settings: NormalizedOAuth,
  error: unknown,
): AuthenticationFailure {
  if (error instanceof KeysUnavailable) return invalidToken(KEYS_UNAVAILABLE, error.message);
  if (error instanceof errors.JWTExpired) {
    return invalidToken('the token has expired: get a new one');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return invalidToken(
          `the token was issued by another authorization server (iss): get one from ${settings.issuer}`,
        );
      case 'aud':
        return invalidToken(
          `the token is for another resource (aud): request it with resource=${settings.audience}`,
        );
      case 'nbf':
        return invalidToken(
          'the token is not valid yet (nbf): check the clocks of the authorization server and this server',
        );
      case 'exp':
        return invalidToken(
          'the token has no valid expiry (exp): this server only accepts tokens that expire',
        );
      default:
        return invalidToken(`the token's "${error.claim}" claim is not valid: get a new token`);
    }
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return invalidToken(
      'the token was signed with a key the authorization server does not publish (kid): get a new token',
    );
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return invalidToken(
      'the token names no key (kid) and the authorization server publishes several: get a token that names its key',
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalidToken(
      "the token's signature is not valid: get a new token from the authorization server",
    );
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return invalidToken(
      `the token is signed with an algorithm this server does not accept (alg): accepted are ${settings.algorithms.join(', ')}`,
    );
  }
  if (
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JOSENotSupported
  ) {
    return invalidToken('the token is malformed: it is not a valid JSON Web Token');
  }
  return invalidToken('the token could not be verified: try again', reasonOf(error));
}
