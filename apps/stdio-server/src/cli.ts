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
import { ConfigError } from '@sqlwarden/core';
import {
  adapterCatalog,
  type ConfigResult,
  createMcpServer,
  createRuntime,
  kindOfUrl,
  loadConfig,
  loadConfigFile,
  supportedSchemes,
  VERSION,
} from '@sqlwarden/runtime';
import {
  createLogger,
  type Environment,
  loadEnvironment,
  redactConnectionString,
  serializeError,
} from '@sqlwarden/security';
import {
  type ConnxSettings,
  connxConfig,
  DEFAULT_DSN_QUOTA,
  type DsnQuota,
  demoConfig,
  dsnConfig,
  odbcValue,
} from './configs.js';
import { type DemoDatabase, startDemoDatabase } from './demo.js';
import { StdioLineTransport } from './transport.js';

const USAGE = `Usage:
  sqlwarden-stdio --config FILE
  sqlwarden-stdio --dsn URL --allow 'schema.*[,schema.table...]'
  sqlwarden-stdio --connx --allow 'catalog.schema.*[,...]'
  sqlwarden-stdio --demo

Options:
  --config FILE     a sqlwarden configuration (YAML)
  --dsn URL         one read-only source: postgres://... or mysql://... (or set
                    SQLWARDEN_DSN, which keeps a password out of the process list)
  --connx           the CONNX reference server's deployment: an ODBC source from
                    CONNX_DSN, CONNX_USER, CONNX_PASS (CONNX_TIMEOUT seconds to
                    connect, CONNX_MAX_ROWS), its tool query_connx, and
                    update_connx when CONNX_ALLOW_WRITES=true; reads .env in
                    this directory, as it does
  --allow PATTERNS  the tables the local principal may read, comma-separated
  --writable PATTERNS  with --connx and CONNX_ALLOW_WRITES=true: the tables
                    update_connx may change (default: every --allow table)
  --demo            the embedded demo database (no database to install)
  --principal ID    the principal this session runs as (or SQLWARDEN_PRINCIPAL;
                    default: transports.stdio.principal, or the only one)
  --rate N          with --dsn or --connx: calls per second the principal may make
                    (bursts of 2N; default 10)
  --concurrency N   with --dsn or --connx: calls the principal may run at once (default 4)
  --dotenv FILE     read variables from FILE too (default: ./.env when present)
  --help            this text
  --version         the version
`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

// Not --env-file: Node reads that flag even after the script name and exits
// before this program runs when the file is missing (nodejs/node#54232).

function fail(lines: readonly string[], code = 2): number {
  process.stderr.write(`${lines.join('\n')}\n`);
  return code;
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (error) {
    return fail([`sqlwarden-stdio: ${(error as Error).message}`, '', USAGE]);
  }
  const { values } = args;
  if (values.help) return fail([USAGE], 0);
  if (values.version) return fail([VERSION], 0);

  if (
    (values.rate !== undefined || values.concurrency !== undefined) &&
    (values.config !== undefined || values.demo === true)
  ) {
    return fail([
      'sqlwarden-stdio: --rate and --concurrency go with --dsn or --connx; a configuration file sets quotas under quotas:',
    ]);
  }
  if (values.writable !== undefined && values.connx !== true) {
    return fail([
      'sqlwarden-stdio: --writable goes with --connx; a configuration file sets writable tables under sources.<id>.writable',
    ]);
  }
  const modes = [
    values.config !== undefined,
    values.dsn !== undefined || (values.allow !== undefined && values.connx !== true),
    values.connx === true,
    values.demo === true,
  ];
  if (modes.filter(Boolean).length > 1)
    return fail([
      'sqlwarden-stdio: use one of --config, --dsn/--allow, --connx/--allow or --demo',
      '',
      USAGE,
    ]);

  let base: Environment;
  try {
    base = loadEnvironment({ ...(values.dotenv !== undefined && { envFile: values.dotenv }) });
  } catch (error) {
    // CredentialError names the file, never its contents.
    return fail([`sqlwarden-stdio: ${(error as Error).message} (--dotenv)`]);
  }
  // SQLWARDEN_LOG_LEVEL wins over the config's logging.level (applied once it is read).
  const levelFromEnv = base.get('SQLWARDEN_LOG_LEVEL');
  if (levelFromEnv !== undefined && !LOG_LEVELS.includes(levelFromEnv)) {
    return fail([`sqlwarden-stdio: SQLWARDEN_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`]);
  }
  const logger = createLogger({ level: levelFromEnv ?? 'info' });
  let demo: DemoDatabase | undefined;
  let result: ConfigResult;

  if (values.demo) {
    logger.info('starting the embedded demo database');
    demo = await startDemoDatabase();
    result = await loadConfig(
      demoConfig(),
      loadEnvironment({ env: { SQLWARDEN_DEMO_URL: demo.url }, envFile: false }),
    );
  } else if (values.config !== undefined) {
    result = await loadConfigFile(values.config, base);
  } else if (values.connx === true) {
    const profile = connxProfile(base, values);
    if (typeof profile === 'string') return fail([`sqlwarden-stdio: ${profile}`]);
    result = await loadConfig(
      connxConfig(profile.patterns, profile.settings, profile.quota),
      loadEnvironment({
        env: {
          ...process.env,
          SQLWARDEN_CONNX_CONNECTION: profile.connection,
          // The reference server's switch is this deployment's write switch.
          SQLWARDEN_ALLOW_WRITES: profile.settings.writable === undefined ? 'false' : 'true',
        },
        envFile: false,
      }),
    );
    if (profile.settings.writable !== undefined) {
      logger.warn(
        { writable: profile.settings.writable },
        'CONNX_ALLOW_WRITES=true: update_connx may change these tables (one INSERT, UPDATE or DELETE per call, in a transaction)',
      );
    }
  } else {
    const dsn = values.dsn ?? base.get('SQLWARDEN_DSN');
    if (dsn === undefined)
      return fail([
        'sqlwarden-stdio: give --config FILE, --dsn URL (or SQLWARDEN_DSN), or --demo',
        '',
        USAGE,
      ]);
    const catalog = adapterCatalog();
    const kind = kindOfUrl(dsn, catalog);
    if (kind === undefined) {
      // Only the scheme is shown: the rest of the URL may hold a password.
      const scheme = /^([A-Za-z][A-Za-z0-9+.-]{0,20}):/.exec(dsn)?.[1];
      return fail([
        `sqlwarden-stdio: ${values.dsn !== undefined ? '--dsn' : 'SQLWARDEN_DSN'}: ${scheme === undefined ? 'not a URL' : `the scheme ${scheme}:// is not supported`}; use one of ${supportedSchemes(catalog)}`,
      ]);
    }
    const quota = dsnQuota(values.rate, values.concurrency);
    if (typeof quota === 'string') return fail([`sqlwarden-stdio: ${quota}`]);
    const patterns = (values.allow ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (patterns.length === 0)
      return fail(["sqlwarden-stdio: --allow is needed with --dsn, e.g. --allow 'public.*'"]);
    if (values.dsn !== undefined && new URL(values.dsn, 'postgres://x').password !== '') {
      logger.warn(
        { dsn: redactConnectionString(values.dsn) },
        'the --dsn URL holds a password, which other users of this machine can see in the process list; set SQLWARDEN_DSN instead',
      );
    }
    result = await loadConfig(
      dsnConfig(kind, patterns, quota),
      loadEnvironment({ env: { ...process.env, SQLWARDEN_DSN: dsn }, envFile: false }),
    );
  }
  if (!result.ok) {
    await demo?.stop();
    return fail([
      'sqlwarden-stdio: the configuration has problems:',
      ...result.problems.map((p) => `  - ${p}`),
    ]);
  }
  const { config } = result;
  if (levelFromEnv === undefined) logger.level = config.logging.level;
  const chosen = values.principal ?? base.get('SQLWARDEN_PRINCIPAL');
  const principal = chosen ?? config.stdioPrincipal;
  const known = Object.keys(config.principals);
  if (principal === undefined || !known.includes(principal)) {
    await demo?.stop();
    const from = values.principal !== undefined ? '--principal' : 'SQLWARDEN_PRINCIPAL';
    return fail(
      chosen === undefined
        ? [
            'sqlwarden-stdio: the configuration has problems:',
            `  - transports.stdio.principal: name the principal a stdio session runs as (or pass --principal); principals: ${known.join(', ')}`,
          ]
        : [
            `sqlwarden-stdio: ${from}: ${shownId(chosen)} is not a principal of this configuration; principals: ${known.join(', ')}`,
          ],
    );
  }

  let runtime: Awaited<ReturnType<typeof createRuntime>>;
  try {
    runtime = await createRuntime({ config, logger });
  } catch (error) {
    await demo?.stop();
    // Problems found once the sources are known (declared tools): the same report as the file's.
    if (error instanceof ConfigError) {
      return fail([
        'sqlwarden-stdio: the configuration has problems:',
        ...error.problems.map((p) => `  - ${p}`),
      ]);
    }
    throw error;
  }
  const server = createMcpServer(runtime, runtime.session('stdio', principal));
  const transport = new StdioLineTransport();

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    // Assigned before the body runs: closing the server closes the transport,
    // whose onclose calls shutdown again, and must find it under way.
    stopping ??= Promise.resolve().then(async () => {
      logger.info({ reason }, 'shutting down');
      await server.close().catch(() => {});
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
  transport.onclose = () => void shutdown('transport closed');

  await server.connect(transport);
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

/** What `--connx` runs with, from the CONNX variables and the flags, or what is wrong with them. */
function connxProfile(
  env: Environment,
  values: {
    allow?: string | undefined;
    writable?: string | undefined;
    rate?: string | undefined;
    concurrency?: string | undefined;
  },
):
  | string
  | {
      connection: string;
      patterns: string[];
      settings: ConnxSettings;
      quota: DsnQuota;
    } {
  const missing = ['CONNX_DSN', 'CONNX_USER', 'CONNX_PASS'].filter((key) => !env.get(key));
  if (missing.length > 0) {
    return `--connx needs ${missing.join(', ')} (in the environment or ./.env)`;
  }
  const switchText = (env.get('CONNX_ALLOW_WRITES') ?? 'false').trim().toLowerCase();
  if (switchText !== 'true' && switchText !== 'false') {
    return 'CONNX_ALLOW_WRITES must be true or false';
  }
  const list = (text: string | undefined) =>
    (text ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
  const patterns = list(values.allow);
  if (patterns.length === 0) {
    return "--allow is needed with --connx, e.g. --allow 'daea_mainframe_vsam.dbo.*'";
  }
  const settings: {
    maxRows?: number;
    connectTimeoutMs?: number;
    writable?: readonly string[];
  } = {};
  if (values.writable !== undefined && switchText !== 'true') {
    return '--writable goes with CONNX_ALLOW_WRITES=true (writes are off without it)';
  }
  if (switchText === 'true') {
    const writable = values.writable === undefined ? patterns : list(values.writable);
    if (writable.length === 0) return '--writable needs at least one table pattern';
    settings.writable = writable;
  }
  const maxRows = env.get('CONNX_MAX_ROWS');
  if (maxRows !== undefined) {
    const n = Number(maxRows);
    if (!(Number.isSafeInteger(n) && n >= 1 && n <= 1_000_000)) {
      return 'CONNX_MAX_ROWS must be a whole number of rows from 1 to 1000000';
    }
    settings.maxRows = n;
  }
  const timeout = env.get('CONNX_TIMEOUT');
  if (timeout !== undefined) {
    const seconds = Number(timeout);
    if (!(Number.isSafeInteger(seconds) && seconds >= 1 && seconds <= 120)) {
      return 'CONNX_TIMEOUT must be a whole number of seconds from 1 to 120 (how long connecting may take)';
    }
    settings.connectTimeoutMs = seconds * 1000;
  }
  const quota = dsnQuota(values.rate, values.concurrency);
  if (typeof quota === 'string') return quota;
  const connection = [
    `DSN=${odbcValue(env.get('CONNX_DSN') as string)}`,
    `UID=${odbcValue(env.get('CONNX_USER') as string)}`,
    `PWD=${odbcValue(env.get('CONNX_PASS') as string)}`,
  ].join(';');
  return { connection, patterns, settings, quota };
}

/** The --dsn quota from the flags, or what is wrong with them. */
function dsnQuota(rate: string | undefined, concurrency: string | undefined): DsnQuota | string {
  const perSecond = rate === undefined ? DEFAULT_DSN_QUOTA.perSecond : Number(rate);
  if (!(Number.isFinite(perSecond) && perSecond > 0 && perSecond <= 1_000_000))
    return '--rate must be a number of calls per second above 0 (e.g. 10, or 0.5 for one every 2 s)';
  const slots = concurrency === undefined ? DEFAULT_DSN_QUOTA.concurrency : Number(concurrency);
  if (!(Number.isSafeInteger(slots) && slots >= 1 && slots <= 10_000))
    return '--concurrency must be a whole number from 1 to 10000';
  return { perSecond, concurrency: slots };
}

/** A principal id as the operator typed it, safe to print. */
function shownId(id: string): string {
  const clean = id.replace(/[^\w.-]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 63)}…` : clean;
}

function parse() {
  return parseArgs({
    options: {
      config: { type: 'string' },
      dsn: { type: 'string' },
      allow: { type: 'string' },
      writable: { type: 'string' },
      connx: { type: 'boolean' },
      demo: { type: 'boolean' },
      principal: { type: 'string' },
      rate: { type: 'string' },
      concurrency: { type: 'string' },
      dotenv: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
}

process.on('unhandledRejection', (error) => {
  process.stderr.write(
    `${JSON.stringify({ level: 50, msg: 'unhandled rejection', err: serializeError(error) })}\n`,
  );
});

// The last line of defence: an exception no call caught (thrown from a driver's
// event handler, say) is logged and the server goes on serving the other calls.
// The failures known to come from one call (a driver's parser on one connection)
// are caught where they happen and fail that call alone (core's wire.ts).
process.on('uncaughtException', (error) => {
  process.stderr.write(
    `${JSON.stringify({ level: 60, msg: 'uncaught exception; the server goes on', err: serializeError(error) })}\n`,
  );
});

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(
      `${JSON.stringify({ level: 60, msg: 'sqlwarden-stdio failed to start', err: serializeError(error) })}\n`,
    );
    process.exit(1);
  },
);
