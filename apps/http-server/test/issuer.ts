/**
 * A real OAuth 2 / OpenID Connect issuer on 127.0.0.1 for tests, built on
 * oauth2-mock-server: discovery document, JWKS and token endpoint over HTTP,
 * tokens signed with real keys. Nothing is mocked on the verifying side.
 *
 * On top of the mock server it adds what resource-server tests need:
 * - key rotation that *withdraws* the old key from the JWKS (the mock's own
 *   keystore can only add keys, so the JWKS is served by our route from the
 *   set of published kids, and the built-in route is moved out of the way);
 * - a count of JWKS and discovery fetches, to pin caching and rate limits.
 *
 *   await using issuer = await startIssuer();
 *   const token = await issuer.token({ sub: 'alice', aud: 'https://mcp.example' });
 */
import { Events, type JWK, OAuth2Server } from 'oauth2-mock-server';

export interface IssuerOptions {
  /** Algorithms to hold a published key for; the first one signs by default (default ['RS256']). */
  readonly algorithms?: readonly string[];
  /** Claims put in every token (a token's own claims win). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface TokenOptions {
  /** Lifetime from now; negative for an already expired token (default 3600). */
  readonly expiresInSec?: number;
  /** The `kid` written in the header; the token is still signed with the current key (so an unknown kid makes an unverifiable token). */
  readonly kid?: string;
  /** Sign with the current key of this algorithm; it must be one of `IssuerOptions.algorithms`. */
  readonly alg?: string;
  /** Extra protected-header fields (`alg` cannot be changed this way: hand-craft such tokens). */
  readonly header?: Readonly<Record<string, unknown>>;
}

export interface Issuer extends AsyncDisposable {
  /** The issuer identifier, `http://127.0.0.1:<port>` (what tokens carry as `iss`). */
  readonly url: string;
  readonly jwksUri: string;
  /** The underlying mock server, for hooks (`server.service.on(Events.…)`). */
  readonly server: OAuth2Server;
  /**
   * A signed JWT with `iss`, `iat`, `nbf` (now - 10 s) and `exp`, plus the
   * default and given claims. A claim given as `undefined` is removed (e.g.
   * `{ exp: undefined }` for a token that never expires).
   */
  token(claims?: Readonly<Record<string, unknown>>, options?: TokenOptions): Promise<string>;
  /** For each algorithm: a new key becomes the signing key and the old one leaves the JWKS. */
  rotate(): Promise<void>;
  /** The public JWK of the current signing key (default algorithm, or `alg`). */
  publicKey(alg?: string): JWK;
  /** How many times the JWKS was fetched. */
  jwksRequests(): number;
  /** How many times the discovery document (`/.well-known/openid-configuration`) was fetched. */
  discoveryRequests(): number;
  /** Stops the server (idempotent): afterwards every fetch to it fails, as with an issuer that is down. */
  stop(): Promise<void>;
}

const JWKS_PATH = '/jwks';

export async function startIssuer(options: IssuerOptions = {}): Promise<Issuer> {
  const algorithms = options.algorithms ?? ['RS256'];
  const defaultAlg = algorithms[0];
  if (defaultAlg === undefined) throw new Error('startIssuer: algorithms must not be empty');

  // The built-in JWKS route would publish every key ever generated; it is
  // moved to a path nobody is told about, and ours serves the published ones.
  const server = new OAuth2Server(undefined, undefined, {
    endpoints: { jwks: '/.internal/all-keys' },
  });
  /** Algorithm → kid of its current (published, signing) key. */
  const current = new Map<string, string>();
  let jwksCount = 0;
  let discoveryCount = 0;

  async function addKey(alg: string) {
    const key = await server.issuer.keys.generate(alg);
    current.set(alg, key.kid);
  }
  for (const alg of algorithms) await addKey(alg);

  function publicKey(alg: string = defaultAlg as string): JWK {
    const kid = current.get(alg);
    const key = server.issuer.keys.toJSON().find((candidate) => candidate.kid === kid);
    if (key === undefined) {
      throw new Error(`startIssuer: no ${alg} key; list it in startIssuer({ algorithms })`);
    }
    return key;
  }

  server.service.addRoute('GET', JWKS_PATH, (_req, res) => {
    jwksCount += 1;
    const published = new Set(current.values());
    const keys = server.issuer.keys.toJSON().filter((key) => published.has(key.kid));
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ keys }));
  });
  server.service.on(Events.BeforeWellKnownOpenIdConfiguration, (response) => {
    discoveryCount += 1;
    if (typeof response.body === 'object') response.body.jwks_uri = `${url}${JWKS_PATH}`;
  });

  await server.start(0, '127.0.0.1');
  // The mock names itself "localhost", which may resolve to ::1 where nothing listens.
  const url = `http://127.0.0.1:${server.address().port}`;
  server.issuer.url = url;
  let stopped = false;

  async function stop() {
    if (stopped) return;
    stopped = true;
    await server.stop();
  }

  return {
    url,
    jwksUri: `${url}${JWKS_PATH}`,
    server,
    async token(claims = {}, tokenOptions = {}) {
      const alg = tokenOptions.alg ?? defaultAlg;
      const kid = current.get(alg);
      if (kid === undefined) {
        throw new Error(`startIssuer: no ${alg} key; list it in startIssuer({ algorithms })`);
      }
      return server.issuer.buildToken({
        kid,
        expiresIn: tokenOptions.expiresInSec ?? 3600,
        scopesOrTransform: (header, payload) => {
          Object.assign(header, tokenOptions.header ?? {});
          if (tokenOptions.kid !== undefined) header.kid = tokenOptions.kid;
          for (const [name, value] of Object.entries({ ...options.claims, ...claims })) {
            if (value === undefined) delete payload[name];
            else payload[name] = value;
          }
        },
      });
    },
    async rotate() {
      for (const alg of [...current.keys()]) await addKey(alg);
    },
    publicKey,
    jwksRequests: () => jwksCount,
    discoveryRequests: () => discoveryCount,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
