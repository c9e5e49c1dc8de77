/**
 * sqlwarden over Streamable HTTP (docs/http.md): one endpoint, stateless,
 * MCP 2026-07-28 and 2025-11-25 from the same handler (SDK v2's
 * createMcpHandler), every call through the runtime's boundary as on stdio.
 *
 * A request passes, in order: the route (the endpoint, /healthz, /readyz,
 * the Protected Resource Metadata), the Host allow-list (DNS rebinding),
 * the Origin allow-list, the bearer credential (a static token's hash or an
 * OAuth JWT: the only source of the principal), the body limit (413), JSON
 * (a malformed body is a JSON-RPC -32700), the step-up check (a tools/call
 * the credential's scopes do not reach but another scope would: 403
 * insufficient_scope naming it), and only then the MCP handler, with a
 * session built from the verified caller. Nothing the client chose (a
 * header, an argument) names a principal.
 *
 * Shutdown stops accepting, answers 503 to new requests, waits for the
 * calls in flight (shutdownGraceMs), then closes the connections; the
 * runtime's pools close after that (cli.ts).
 */
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { toWebRequest } from '@modelcontextprotocol/node';
import {
  type AuthInfo,
  createMcpHandler,
  PROTOCOL_VERSION_META_KEY,
} from '@modelcontextprotocol/server';
import { type SessionContext, toolCapability } from '@sqlwarden/core';
import {
  createMcpServer,
  type HttpTransportConfig,
  MCP_METHODS,
  type Runtime,
} from '@sqlwarden/runtime';
import { serializeError } from '@sqlwarden/security';
import type { Authentication, Authenticator, Caller } from './auth.js';

/** transports.http with every default applied. */
export interface HttpSettings {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** The canonical URL of the endpoint (the resource, RFC 8707/9728); undefined until listening when port is 0. */
  readonly publicUrl: string | undefined;
  readonly allowedOrigins: readonly string[] | undefined;
  readonly allowedHosts: readonly string[] | undefined;
  readonly bodyLimitBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly shutdownGraceMs: number;
  readonly tls: { readonly key: Buffer; readonly cert: Buffer } | undefined;
  /** Scope → roles (OAuth), for step-up answers. */
  readonly scopeRoles: Readonly<Record<string, readonly string[]>>;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_PATH = '/mcp';
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
const METADATA_PATH = '/.well-known/oauth-protected-resource';
const MODERN = '2026-07-28';
const SERVED = new Set(MCP_METHODS);

/** The settings of transports.http (and the command line's host and port), defaults applied. */
export function httpSettings(
  config: HttpTransportConfig | undefined,
  overrides: { host?: string | undefined; port?: number | undefined } = {},
): HttpSettings {
  const tls = config?.tls;
  return {
    host: overrides.host ?? config?.host ?? '127.0.0.1',
    port: overrides.port ?? config?.port ?? DEFAULT_PORT,
    path: config?.path ?? DEFAULT_PATH,
    publicUrl: config?.publicUrl,
    allowedOrigins: config?.allowedOrigins,
    allowedHosts: config?.allowedHosts,
    bodyLimitBytes: config?.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
    headersTimeoutMs: config?.headersTimeoutMs ?? 10_000,
    requestTimeoutMs: config?.requestTimeoutMs ?? 120_000,
    shutdownGraceMs: config?.shutdownGraceMs ?? 10_000,
    tls:
      tls === undefined
        ? undefined
        : { key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile) },
    scopeRoles: config?.auth?.oauth?.scopes ?? {},
  };
}

/** Whether an address is a loopback one (the only binds allowed without auth). */
export function isLoopback(host: string): boolean {
  return (
    host === 'localhost' ||
    host === '::1' ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

export interface HttpServerOptions {
  readonly runtime: Runtime;
  readonly settings: HttpSettings;
  /** Verifies credentials; built with the resource metadata URL `metadataUrl(settings)` gives. */
  readonly authenticator: (resourceMetadataUrl: string, resource: string) => Authenticator;
  /** Authorization servers named in the Protected Resource Metadata. */
  readonly authorizationServers: readonly string[];
  readonly logger: {
    info(object: object, message: string): void;
    warn(object: object, message: string): void;
    error(object: object, message: string): void;
  };
}

export interface RunningHttpServer {
  /** The endpoint's URL as clients reach it. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, drains calls in flight up to the grace, closes connections. */
  close(): Promise<void>;
}

interface Served {
  readonly session: SessionContext;
  /** Aborts when the client's connection goes before its answer (set per exchange). */
  readonly gone?: AbortSignal;
}

type CallerAuth = AuthInfo & { extra: Served };

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** A JSON-RPC error outside the MCP handler (the body never reached it). */
function rpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  id: unknown = null,
) {
  json(res, status, { jsonrpc: '2.0', id, error: { code, message } });
}

class BodyTooLarge extends Error {}

/**
 * Refused credentials, told to the operator (never the credential): the
 * first refusal of each kind (status and error) at once, with the remote
 * address and the reason; the others of that kind within the next
 * REFUSAL_WINDOW_MS as one line with their count, so a flood of bad tokens
 * cannot flood the log.
 */
export const REFUSAL_WINDOW_MS = 10_000;

class RefusalLog {
  readonly #logger: HttpServerOptions['logger'];
  readonly #windows = new Map<string, { count: number; timer: NodeJS.Timeout }>();

  constructor(logger: HttpServerOptions['logger']) {
    this.#logger = logger;
  }

  record(failure: Extract<Authentication, { ok: false }>, remote: string | undefined): void {
    const kind = `${failure.status} ${failure.error ?? 'no credential'}`;
    const open = this.#windows.get(kind);
    if (open !== undefined) {
      open.count++;
      return;
    }
    this.#logger.warn(
      {
        status: failure.status,
        refusal: failure.error ?? 'no credential',
        reason: failure.detail ?? failure.description,
        remote,
      },
      'request refused: credential',
    );
    const window = {
      count: 0,
      timer: setTimeout(() => {
        this.#windows.delete(kind);
        if (window.count > 0) {
          this.#logger.warn(
            {
              status: failure.status,
              refusal: failure.error ?? 'no credential',
              more: window.count,
            },
            `request refused: credential (${window.count} more in ${REFUSAL_WINDOW_MS / 1000} s)`,
          );
        }
      }, REFUSAL_WINDOW_MS),
    };
    window.timer.unref();
    this.#windows.set(kind, window);
  }
}

/** The request body, refused past `limit` bytes without reading the rest into memory. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req) {
    const bytes = chunk as Buffer;
    length += bytes.length;
    if (length > limit) throw new BodyTooLarge();
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, length);
}

function hostOf(value: string): string {
  // Host header: name[:port] or [v6]:port.
  const bracket = /^(\[[^\]]+\])(?::\d+)?$/.exec(value);
  if (bracket !== null) return (bracket[1] as string).toLowerCase();
  return (value.split(':')[0] as string).toLowerCase();
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { runtime, settings, logger } = options;
  let draining = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  // Filled once listening (the port may be chosen by the system).
  let publicUrl = settings.publicUrl ?? '';
  let metadataUrl = '';
  let authenticator: Authenticator | undefined;
  let allowedHosts: Set<string>;
  let allowedOrigin: (origin: string) => boolean;

  const handler = createMcpHandler(
    (ctx) => {
      const served = (ctx.authInfo as CallerAuth | undefined)?.extra;
      // Every request reaching the handler was authenticated (below).
      if (served === undefined) throw new Error('unauthenticated request reached the MCP handler');
      return createMcpServer(runtime, served.session, {
        handshake: false,
        ...(served.gone !== undefined && { signal: served.gone }),
      });
    },
    {
      onerror: (error) =>
        logger.warn({ error: serializeError(error) }, 'MCP request refused by the protocol layer'),
    },
  );

  /**
   * One MCP exchange: the web Request the SDK handler takes, whose signal
   * aborts when the client goes away before its answer (the SDK then closes
   * the exchange and the call's signal cancels the statement in the
   * database), and the handler's Response written back.
   */
  const mcp = async (
    req: IncomingMessage,
    res: ServerResponse,
    parsed: unknown,
    auth: AuthInfo,
  ) => {
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    // A client that left while it was authenticated or its body read: its
    // 'close' has been and gone, so the listener above never fires, and the
    // call would run in the database for nobody. It is not started.
    if (res.destroyed || req.socket.destroyed) return;
    const request = await toWebRequest(req, parsed, {
      signal: gone.signal,
      maxRequestBodySize: settings.bodyLimitBytes,
    });
    if (gone.signal.aborted) return;
    // The SDK's own abort of the exchange can miss a close that lands while it
    // sets the exchange up (the call then ran to its statement timeout for
    // nobody): the connection's signal also reaches the call itself.
    const response = await handler.fetch(request, {
      authInfo: { ...auth, extra: { ...auth.extra, gone: gone.signal } },
      parsedBody: parsed,
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    res.writeHead(response.status, headers);
    if (response.body === null) {
      res.end();
      return;
    }
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (res.destroyed) break;
        res.write(value);
      }
    } finally {
      reader.releaseLock();
      if (res.destroyed) {
        await response.body.cancel().catch(() => {});
      } else {
        res.end();
      }
    }
  };

  const ready = async (): Promise<{ ok: boolean; sources: Record<string, boolean> }> => {
    const results = await Promise.all(
      runtime.sources.map(async (source) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          const health = await Promise.race([
            source.adapter.health(),
            new Promise<{ ok: false }>((resolve) => {
              timer = setTimeout(() => resolve({ ok: false }), 5000);
            }),
          ]);
          return [source.id, health.ok] as const;
        } catch {
          return [source.id, false] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const sources = Object.fromEntries(results);
    return { ok: !draining && results.every(([, ok]) => ok), sources };
  };

  const sessionOf = (caller: Caller): SessionContext =>
    runtime.session('http', caller.principal, {
      roles: caller.roles,
      ...(caller.expiresAt !== undefined && { expiresAt: caller.expiresAt }),
      ...(caller.subject !== undefined && { subject: caller.subject }),
    });

  /** Scopes that would let this caller call `tool`, when its own do not: the step-up answer. */
  const stepUp = async (caller: Caller, session: SessionContext, tool: string) => {
    if (runtime.registry.get(tool) === undefined) return undefined;
    const required = [toolCapability(tool)];
    const decision = await runtime.deps.authorizer.authorize({ session, tool, required });
    if (decision.ok) return undefined;
    for (const [scope, roles] of Object.entries(settings.scopeRoles)) {
      if (caller.scopes.includes(scope)) continue;
      const widened = { ...session, roles: [...session.roles, ...roles] };
      const would = await runtime.deps.authorizer.authorize({ session: widened, tool, required });
      if (would.ok) return [...caller.scopes, scope];
    }
    return undefined;
  };

  const refusals = new RefusalLog(logger);
  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    failure: Extract<Authentication, { ok: false }>,
  ) => {
    refusals.record(failure, req.socket.remoteAddress);
    const challenge = (authenticator as Authenticator).challenge(failure);
    json(
      res,
      failure.status,
      {
        error: failure.error ?? 'unauthorized',
        error_description: failure.description,
      },
      { 'www-authenticate': challenge },
    );
  };

  const serveMcp = async (req: IncomingMessage, res: ServerResponse) => {
    const auth = await (authenticator as Authenticator).authenticate(req.headers.authorization);
    if (!auth.ok) return refuse(req, res, auth);
    const { caller } = auth;
    if (req.method !== 'POST') {
      // Stateless: no server-initiated stream (GET) and no session to end (DELETE).
      res.setHeader('allow', 'POST');
      return rpcError(
        res,
        405,
        -32000,
        'Method not allowed: send each JSON-RPC request as a POST.',
      );
    }
    let body: Buffer;
    try {
      body = await readBody(req, settings.bodyLimitBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        return rpcError(
          res,
          413,
          -32600,
          `The request body is over the limit of ${settings.bodyLimitBytes} bytes; send less (large values do not belong in a tool call).`,
        );
      }
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return rpcError(res, 400, -32700, 'Parse error: the request body is not valid JSON.');
    }
    const message = parsed as {
      id?: unknown;
      method?: unknown;
      params?: { name?: unknown; _meta?: Record<string, unknown> };
    } | null;
    if (
      message !== null &&
      typeof message === 'object' &&
      typeof message.method === 'string' &&
      message.id !== undefined &&
      !SERVED.has(message.method) &&
      (req.headers['mcp-protocol-version'] === MODERN ||
        message.params?._meta?.[PROTOCOL_VERSION_META_KEY] === MODERN)
    ) {
      // MCP 2026-07-28 over HTTP: a method the server does not serve is 404.
      return rpcError(res, 404, -32601, 'Method not found', message.id);
    }
    const session = sessionOf(caller);
    if (
      message !== null &&
      typeof message === 'object' &&
      message.method === 'tools/call' &&
      typeof message.params?.name === 'string'
    ) {
      const scope = await stepUp(caller, session, message.params.name);
      if (scope !== undefined) {
        return refuse(req, res, {
          ok: false,
          status: 403,
          error: 'insufficient_scope',
          description: `calling ${message.params.name} needs the scope ${scope[scope.length - 1]}: ask the authorization server for a token with it`,
          scope,
        });
      }
    }
    const authInfo: CallerAuth = {
      // Never the credential itself: its fingerprint.
      token: caller.fingerprint,
      clientId: caller.principal,
      scopes: [...caller.scopes],
      ...(caller.expiresAt !== undefined && { expiresAt: Math.floor(caller.expiresAt / 1000) }),
      extra: { session },
    };
    await mcp(req, res, parsed, authInfo);
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      return json(res, 200, { status: 'ok' });
    }
    if (path === '/readyz' && (req.method === 'GET' || req.method === 'HEAD')) {
      const state = await ready();
      return json(res, state.ok ? 200 : 503, {
        status: state.ok ? 'ready' : draining ? 'shutting down' : 'not ready',
        sources: state.sources,
      });
    }
    const host = req.headers.host;
    if (host === undefined || !allowedHosts.has(hostOf(host))) {
      return json(res, 403, {
        error: 'forbidden',
        error_description:
          'This Host is not served here (transports.http.allowedHosts; DNS rebinding protection).',
      });
    }
    if (path === METADATA_PATH || path === `${METADATA_PATH}${settings.path}`) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET');
        return json(res, 405, { error: 'method_not_allowed' });
      }
      return json(res, 200, {
        resource: publicUrl,
        authorization_servers: options.authorizationServers,
        bearer_methods_supported: ['header'],
        ...(Object.keys(settings.scopeRoles).length > 0 && {
          scopes_supported: Object.keys(settings.scopeRoles),
        }),
        resource_name: runtime.config.server.name,
      });
    }
    if (path !== settings.path) {
      return json(res, 404, {
        error: 'not_found',
        error_description: `Nothing here: the MCP endpoint is ${settings.path}.`,
      });
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigin(origin)) {
      return json(res, 403, {
        error: 'forbidden',
        error_description:
          'Requests from this Origin are refused (transports.http.allowedOrigins).',
      });
    }
    if (draining) {
      res.setHeader('connection', 'close');
      return json(
        res,
        503,
        {
          error: 'shutting_down',
          error_description: 'The server is shutting down: retry on another.',
        },
        { 'retry-after': '1' },
      );
    }
    inFlight++;
    try {
      await serveMcp(req, res);
    } finally {
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    onRequest(req, res).catch((error: unknown) => {
      logger.error({ error: serializeError(error) }, 'HTTP request failed');
      if (!res.headersSent) {
        rpcError(res, 500, -32603, 'Internal error: the request could not be answered.');
      } else {
        res.destroy();
      }
    });
  };
  // Node checks header and request timeouts every connectionsCheckingInterval
  // (30 s by default): often enough that a slow client is cut near its limit.
  const timeouts = {
    headersTimeout: settings.headersTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(100, settings.headersTimeoutMs / 4)),
  };
  const server: Server =
    settings.tls === undefined
      ? createHttpServer(timeouts, listener)
      : createHttpsServer(
          { ...timeouts, key: settings.tls.key, cert: settings.tls.cert },
          listener,
        );
  server.keepAliveTimeout = 5000;
  // A request the HTTP parser refused, or one too slow: a status line, no body, no detail.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const status =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = settings.tls === undefined ? 'http' : 'https';
  const shownHost = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const local = `${scheme}://${shownHost}:${port}${settings.path}`;
  publicUrl = settings.publicUrl ?? local;
  const resource = new URL(publicUrl);
  metadataUrl = `${resource.origin}${METADATA_PATH}${resource.pathname === '/' ? '' : resource.pathname}`;
  try {
    authenticator = options.authenticator(metadataUrl, publicUrl);
  } catch (error) {
    // Settings the configuration's checks let through: no half-started server.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }
  allowedHosts = new Set(
    (
      settings.allowedHosts ?? [
        ...(isLoopback(settings.host) ? LOOPBACK_HOSTS : [settings.host]),
        resource.hostname,
      ]
    ).map((h) => hostOf(h)),
  );
  const origins = new Set(
    (settings.allowedOrigins ?? [resource.origin]).map((o) => o.toLowerCase()),
  );
  // By default a page on a loopback origin (any port: local software) may call too.
  const loopbackOrigins = settings.allowedOrigins === undefined;
  allowedOrigin = (origin) => {
    if (origins.has(origin.toLowerCase())) return true;
    if (!loopbackOrigins) return false;
    try {
      const url = new URL(origin);
      return (
        (url.protocol === 'http:' || url.protocol === 'https:') &&
        LOOPBACK_HOSTS.includes(url.hostname.toLowerCase())
      );
    } catch {
      return false;
    }
  };

  let closing: Promise<void> | undefined;
  return {
    url: publicUrl,
    port,
    close() {
      closing ??= (async () => {
        draining = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            drained = resolve;
            setTimeout(resolve, settings.shutdownGraceMs).unref();
          });
        }
        if (inFlight > 0) {
          logger.warn({ inFlight }, 'shutdown grace over: closing calls still in flight');
        }
        server.closeAllConnections();
        await stopped;
        authenticator?.close();
      })();
      return closing;
    },
  };
}
