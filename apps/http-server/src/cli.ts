#!/usr/bin/env node
/**
 * sqlwarden-http: the MCP server over Streamable HTTP (docs/http.md).
 *
 *   sqlwarden-http --config sqlwarden.yaml
 *   sqlwarden-http --dsn postgres://reader@db/shop --allow 'shop.*' [--port N]
 *   sqlwarden-http --demo [--port N]
 *   sqlwarden-http --hash-token        (reads a token on stdin, prints its SHA-256)
 *
 * With transports.http.auth configured, callers present a token it lists
 * (by hash) or an OAuth access token of its issuer. Without, the server
 * binds loopback only and makes a random token at each start, printed on
 * stderr as `token: <value>`, for the local principal (--principal, or the
 * only one). SIGTERM or SIGINT drains the calls in flight, closes the
 * pools and exits 0. A bad configuration exits 2 with every problem listed.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '@sqlwarden/core';
import { VERSION } from '@sqlwarden/runtime';
import { LAUNCH_OPTIONS, LAUNCH_USAGE, launch, runMain } from '@sqlwarden/stdio-server/launch';
import { createAuthenticator, generateToken, hashToken } from './auth.js';
import { httpSettings, isLoopback, startHttpServer } from './server.js';

const USAGE = `Usage:
  sqlwarden-http --config FILE [--port N] [--host ADDRESS]
  sqlwarden-http --dsn URL --allow 'schema.*[,schema.table...]' [--port N]
  sqlwarden-http --demo [--port N]
  sqlwarden-http --hash-token < token-file

Options:
${LAUNCH_USAGE}
  --port N          the port to listen on (default: transports.http.port, or 8080; 0 picks one)
  --host ADDRESS    the address to listen on (default: transports.http.host, or 127.0.0.1);
                    an address other than loopback needs transports.http.auth
  --hash-token      print the SHA-256 of the token read on stdin (for transports.http.auth.tokens)
`;

function fail(lines: readonly string[], code = 2): number {
  process.stderr.write(`${lines.join('\n')}\n`);
  return code;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

async function main(): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse().values;
  } catch (error) {
    return fail([`sqlwarden-http: ${(error as Error).message}`, '', USAGE]);
  }
  if (values.help) return fail([USAGE], 0);
  if (values.version) return fail([VERSION], 0);
  if (values['hash-token']) {
    const token = await readStdin();
    if (token.length < 16) {
      return fail(['sqlwarden-http: --hash-token: give a token of 16 characters or more on stdin']);
    }
    process.stdout.write(`${hashToken(token)}\n`);
    return 0;
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!(Number.isSafeInteger(port) && port >= 0 && port <= 65535)) {
      return fail(['sqlwarden-http: --port must be a port number from 0 to 65535']);
    }
  }
  const launched = await launch('sqlwarden-http', USAGE, values, {
    // Without auth configured, the generated token is the local principal's.
    needsPrincipal: (config) => config.http?.auth === undefined,
    principalHint:
      'transports.http.auth: configure tokens or oauth, or name the local principal the generated token is for (--principal)',
  });
  if (!launched.ok) return fail(launched.lines, launched.code);
  const { config, runtime, logger, demo, principal } = launched;
  const auth = config.http?.auth;

  const stopEarly = async (lines: string[]) => {
    await runtime.close();
    await demo?.stop();
    return fail(lines);
  };
  let settings: ReturnType<typeof httpSettings>;
  try {
    settings = httpSettings(config.http, { host: values.host, port });
  } catch (error) {
    return stopEarly([
      `sqlwarden-http: transports.http.tls: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}: the key or certificate file cannot be read`,
    ]);
  }
  if (auth === undefined && !isLoopback(settings.host)) {
    return stopEarly([
      `sqlwarden-http: listening on ${settings.host} needs transports.http.auth (tokens or oauth): without it only a loopback address (127.0.0.1) is served`,
    ]);
  }
  let generated: string | undefined;
  const tokens = auth?.tokens ?? [];
  if (auth === undefined) {
    generated = generateToken();
    tokens.push({ principal: principal as string, sha256: hashToken(generated) });
  }
  const oauth = auth?.oauth;

  let running: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    running = await startHttpServer({
      runtime,
      settings,
      logger,
      authorizationServers: oauth === undefined ? [] : [oauth.issuer],
      authenticator: (resourceMetadataUrl, resource) =>
        createAuthenticator({
          tokens,
          resourceMetadataUrl,
          ...(oauth !== undefined && {
            oauth: {
              ...oauth,
              audience: oauth.audience ?? resource,
            },
          }),
        }),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      return stopEarly([
        'sqlwarden-http: the configuration has problems:',
        ...error.problems.map((p) => `  - transports.http.auth.${p}`),
      ]);
    }
    const code = (error as NodeJS.ErrnoException).code;
    return stopEarly([
      code === 'EADDRINUSE'
        ? `sqlwarden-http: port ${settings.port} on ${settings.host} is in use: pick another with --port`
        : `sqlwarden-http: cannot listen on ${settings.host}:${settings.port} (${code ?? 'error'})`,
    ]);
  }

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= Promise.resolve().then(async () => {
      logger.info({ reason }, 'shutting down: draining calls in flight');
      await running.close();
      await runtime.close();
      await demo?.stop();
      logger.flush();
      process.exit(0);
    });
    return stopping;
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  logger.info(
    {
      version: VERSION,
      url: running.url,
      auth: auth === undefined ? 'generated token' : Object.keys(auth),
      sources: config.sources.map((s) => s.id),
      readOnly: config.server.readOnly,
    },
    'sqlwarden-http ready',
  );
  // After the logs of start-up, on a line of its own, as notebook servers do.
  if (generated !== undefined) {
    process.stderr.write(`url: ${running.url}\ntoken: ${generated}\n`);
  }
  return -1; // keep running
}

function parse() {
  return parseArgs({
    options: {
      ...LAUNCH_OPTIONS,
      port: { type: 'string' },
      host: { type: 'string' },
      'hash-token': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
}

runMain('sqlwarden-http', main);
