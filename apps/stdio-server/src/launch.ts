/**
 * What both bins (sqlwarden-stdio, sqlwarden-http) do before they serve:
 * the flags they share, the environment (and .env), the configuration from
 * --config, --dsn/--allow, --connx or --demo, the embedded demo database,
 * the principal a local session runs as, and the runtime. Every problem is
 * a `Failed` with the lines to print and the exit code (2); nothing here
 * writes to stdout or exits.
 */
import { ConfigError } from '@sqlwarden/core';
import {
  adapterCatalog,
  type ConfigResult,
  createRuntime,
  kindOfUrl,
  loadConfig,
  loadConfigFile,
  type NormalizedConfig,
  type Runtime,
  supportedSchemes,
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

/** The flags both bins take (node:util parseArgs options). */
export const LAUNCH_OPTIONS = {
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
} as const;

/** The values of LAUNCH_OPTIONS as parseArgs gives them. */
export interface LaunchValues {
  config?: string | undefined;
  dsn?: string | undefined;
  allow?: string | undefined;
  writable?: string | undefined;
  connx?: boolean | undefined;
  demo?: boolean | undefined;
  principal?: string | undefined;
  rate?: string | undefined;
  concurrency?: string | undefined;
  dotenv?: string | undefined;
}

/** The usage lines of LAUNCH_OPTIONS, under "Options:". */
export const LAUNCH_USAGE = `  --config FILE     a sqlwarden configuration (YAML)
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
  --principal ID    the principal a local session runs as (or SQLWARDEN_PRINCIPAL;
                    default: transports.stdio.principal, or the only one)
  --rate N          with --dsn or --connx: calls per second the principal may make
                    (bursts of 2N; default 10)
  --concurrency N   with --dsn or --connx: calls the principal may run at once (default 4)
  --dotenv FILE     read variables from FILE too (default: ./.env when present)
  --help            this text
  --version         the version`;

export interface LaunchOptions {
  /** Whether a local principal must be chosen for this configuration (default: always). */
  readonly needsPrincipal?: (config: NormalizedConfig) => boolean;
  /** What the problem line says when no principal could be chosen. */
  readonly principalHint?: string;
}

export interface Launched {
  readonly ok: true;
  readonly config: NormalizedConfig;
  readonly runtime: Runtime;
  readonly logger: ReturnType<typeof createLogger>;
  readonly env: Environment;
  /** The principal a local session runs as (undefined when not needed and not given). */
  readonly principal: string | undefined;
  /** The embedded demo database, when --demo: stop it after the runtime. */
  readonly demo: DemoDatabase | undefined;
}

export interface Failed {
  readonly ok: false;
  /** Exit code: 2 for a usage or configuration problem. */
  readonly code: number;
  readonly lines: readonly string[];
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Runs a bin's main: an exit code >= 0 ends the process with it, -1 keeps it
 * serving. Installs the last lines of defence first: an unhandled rejection
 * or an exception no call caught (thrown from a driver's event handler, say)
 * is logged and the server goes on serving the other calls. The failures
 * known to come from one call (a driver's parser on one connection) are
 * caught where they happen and fail that call alone (core's wire.ts).
 */
export function runMain(program: string, main: () => Promise<number>): void {
  const line = (level: number, msg: string, error: unknown) =>
    process.stderr.write(`${JSON.stringify({ level, msg, err: serializeError(error) })}\n`);
  process.on('unhandledRejection', (error) => line(50, 'unhandled rejection', error));
  process.on('uncaughtException', (error) =>
    line(60, 'uncaught exception; the server goes on', error),
  );
  main().then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (error: unknown) => {
      line(60, `${program} failed to start`, error);
      process.exit(1);
    },
  );
}

function fail(lines: readonly string[], code = 2): Failed {
  return { ok: false, code, lines };
}

/**
 * The runtime the flags and environment describe, or every problem with them.
 * `program` prefixes each message (sqlwarden-stdio, sqlwarden-http).
 */
export async function launch(
  program: string,
  usage: string,
  values: LaunchValues,
  options: LaunchOptions = {},
): Promise<Launched | Failed> {
  if (
    (values.rate !== undefined || values.concurrency !== undefined) &&
    (values.config !== undefined || values.demo === true)
  ) {
    return fail([
      `${program}: --rate and --concurrency go with --dsn or --connx; a configuration file sets quotas under quotas:`,
    ]);
  }
  if (values.writable !== undefined && values.connx !== true) {
    return fail([
      `${program}: --writable goes with --connx; a configuration file sets writable tables under sources.<id>.writable`,
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
      `${program}: use one of --config, --dsn/--allow, --connx/--allow or --demo`,
      '',
      usage,
    ]);

  let base: Environment;
  try {
    base = loadEnvironment({ ...(values.dotenv !== undefined && { envFile: values.dotenv }) });
  } catch (error) {
    // CredentialError names the file, never its contents.
    return fail([`${program}: ${(error as Error).message} (--dotenv)`]);
  }
  // SQLWARDEN_LOG_LEVEL wins over the config's logging.level (applied once it is read).
  const levelFromEnv = base.get('SQLWARDEN_LOG_LEVEL');
  if (levelFromEnv !== undefined && !LOG_LEVELS.includes(levelFromEnv)) {
    return fail([`${program}: SQLWARDEN_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`]);
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
    if (typeof profile === 'string') return fail([`${program}: ${profile}`]);
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
        `${program}: give --config FILE, --dsn URL (or SQLWARDEN_DSN), or --demo`,
        '',
        usage,
      ]);
    const catalog = adapterCatalog();
    const kind = kindOfUrl(dsn, catalog);
    if (kind === undefined) {
      // Only the scheme is shown: the rest of the URL may hold a password.
      const scheme = /^([A-Za-z][A-Za-z0-9+.-]{0,20}):/.exec(dsn)?.[1];
      return fail([
        `${program}: ${values.dsn !== undefined ? '--dsn' : 'SQLWARDEN_DSN'}: ${scheme === undefined ? 'not a URL' : `the scheme ${scheme}:// is not supported`}; use one of ${supportedSchemes(catalog)}`,
      ]);
    }
    const quota = dsnQuota(values.rate, values.concurrency);
    if (typeof quota === 'string') return fail([`${program}: ${quota}`]);
    const patterns = (values.allow ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (patterns.length === 0)
      return fail([`${program}: --allow is needed with --dsn, e.g. --allow 'public.*'`]);
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
      `${program}: the configuration has problems:`,
      ...result.problems.map((p) => `  - ${p}`),
    ]);
  }
  const { config } = result;
  if (levelFromEnv === undefined) logger.level = config.logging.level;
  const chosen = values.principal ?? base.get('SQLWARDEN_PRINCIPAL');
  const principal = chosen ?? config.stdioPrincipal;
  const known = Object.keys(config.principals);
  const needed = options.needsPrincipal?.(config) ?? true;
  if (needed && (principal === undefined || !known.includes(principal))) {
    await demo?.stop();
    const from = values.principal !== undefined ? '--principal' : 'SQLWARDEN_PRINCIPAL';
    return fail(
      chosen === undefined
        ? [
            `${program}: the configuration has problems:`,
            `  - ${options.principalHint ?? 'transports.stdio.principal: name the principal a stdio session runs as (or pass --principal)'}; principals: ${known.join(', ')}`,
          ]
        : [
            `${program}: ${from}: ${shownId(chosen)} is not a principal of this configuration; principals: ${known.join(', ')}`,
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
        `${program}: the configuration has problems:`,
        ...error.problems.map((p) => `  - ${p}`),
      ]);
    }
    throw error;
  }
  return { ok: true, config, runtime, logger, env: base, principal, demo };
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
