#!/usr/bin/env node
/**
 * sqlwarden-stdio: the MCP server over stdio, as a desktop client starts it.
 *
 *   sqlwarden-stdio --config sqlwarden.yaml
 *   sqlwarden-stdio --dsn postgres://reader@db/shop --allow 'shop.*'
 *   sqlwarden-stdio --demo
 *
 * stdout carries the protocol and nothing else; logs and audit go to
 * stderr (or the configured audit file). Closing stdin, SIGTERM or SIGINT
 * closes the pools and exits 0. A bad configuration exits 2 with every
 * problem listed.
 */
import { parseArgs } from 'node:util';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { createMcpServer, VERSION } from '@sqlwarden/runtime';
import { serializeError } from '@sqlwarden/security';
import { LAUNCH_OPTIONS, LAUNCH_USAGE, launch, runMain } from './launch.js';
import { StdioLineTransport } from './transport.js';

const USAGE = `Usage:
  sqlwarden-stdio --config FILE
  sqlwarden-stdio --dsn URL --allow 'schema.*[,schema.table...]'
  sqlwarden-stdio --connx --allow 'catalog.schema.*[,...]'
  sqlwarden-stdio --demo

Options:
${LAUNCH_USAGE}
`;

// Not --env-file: Node reads that flag even after the script name and exits
// before this program runs when the file is missing (nodejs/node#54232).

function fail(lines: readonly string[], code = 2): number {
  process.stderr.write(`${lines.join('\n')}\n`);
  return code;
}

async function main(): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse().values;
  } catch (error) {
    return fail([`sqlwarden-stdio: ${(error as Error).message}`, '', USAGE]);
  }
  if (values.help) return fail([USAGE], 0);
  if (values.version) return fail([VERSION], 0);
  const launched = await launch('sqlwarden-stdio', USAGE, values);
  if (!launched.ok) return fail(launched.lines, launched.code);
  const { config, runtime, logger, demo } = launched;
  const principal = launched.principal as string;

  // One session for the process; the SDK asks for a server per connection
  // (and one for a 2026-07-28 server/discover probe): a 2025-11-25 client
  // must initialize first, a 2026-07-28 one sends its version in each request.
  const session = runtime.session('stdio', principal);
  const transport = new StdioLineTransport();

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    // Assigned before the body runs: closing the server closes the transport,
    // whose onclose calls shutdown again, and must find it under way.
    stopping ??= Promise.resolve().then(async () => {
      logger.info({ reason }, 'shutting down');
      await served?.close().catch(() => {});
      await runtime.close();
      await demo?.stop();
      logger.flush();
      process.exit(0);
    });
    return stopping;
  };
  process.stdin.once('end', () => void shutdown('stdin closed'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGHUP', () => void shutdown('SIGHUP'));
  const served = serveStdio(
    ({ era }) => createMcpServer(runtime, session, { handshake: era === 'legacy' }),
    {
      transport,
      onerror: (error) => logger.warn({ error: serializeError(error) }, 'protocol error'),
    },
  );
  const onclose = transport.onclose;
  transport.onclose = () => {
    onclose?.();
    void shutdown('transport closed');
  };
  logger.info(
    {
      version: VERSION,
      principal,
      sources: config.sources.map((s) => s.id),
      readOnly: config.server.readOnly,
    },
    'sqlwarden-stdio ready',
  );
  return -1; // keep running
}

function parse() {
  return parseArgs({ options: LAUNCH_OPTIONS, strict: true, allowPositionals: false });
}

runMain('sqlwarden-stdio', main);
