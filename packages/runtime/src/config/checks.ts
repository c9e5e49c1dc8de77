/**
 * The cross-checks that a schema cannot express: the secrets rule, source
 * URLs (scheme, TLS), references between sections, grants that can never
 * apply, limits that would raise a limit, the writes switch. Each problem
 * names its key. `broken` holds the entries the schema already refused
 * (`sources.main`, `roles.analyst`...): a reference to one of them is not
 * reported again as missing, so one mistake reads as one problem.
 */
import {
  type AdapterPlugin,
  DEFAULT_LIMITS,
  type ExecutionLimits,
  LIMIT_KEYS,
  parseTablePattern,
  tablePatternMatches,
  tablePatternsOverlap,
} from '@sqlwarden/core';
import {
  type ColumnPolicy,
  type Environment,
  MIN_MASK_KEY_LENGTH,
  parseCapability,
  Secret,
} from '@sqlwarden/security';
import { allowEntryProblem } from '@sqlwarden/sql-guard';
import { BUILT_IN_TOOL_NAMES, CONNX_TOOLS } from '@sqlwarden/tools';
import { type AdapterCatalog, type AdapterLoadFailure, isLoadFailure } from '../adapters.js';
import type { ParsedConfig, SourceConfig } from './schema.js';
import { parseSourceUrl, type SourceTls, tlsFromMode } from './url.js';

/** The environment switch every write needs, on top of the configuration. */
export const WRITES_SWITCH = 'SQLWARDEN_ALLOW_WRITES';

/** A source's connection, checked: the URL without its TLS parameters, TLS as the adapters take it. */
export interface SourceConnection {
  readonly url?: Secret;
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly password?: Secret;
  /** TLS: undefined when the configuration says nothing (the driver's default: off). */
  readonly ssl?: SourceTls;
  /** A PostgreSQL source behind a pooler: its mode (the adapter refuses `statement`). */
  readonly pooling?: 'session' | 'transaction' | 'statement';
  /** The host the source connects to, for the plain-text warning ('' for the driver's default). */
  readonly hostName: string;
  /** Keys whose password is shorter than a strong one (warned about at start-up), with its length. */
  readonly weakPasswords: ReadonlyArray<readonly [string, number]>;
  /** An ODBC source's connection: its string a Secret (it may hold PWD=). */
  readonly odbc?: {
    readonly connectionString: Secret;
    readonly profile?: string;
    readonly fetchSize?: number;
    readonly trimChar?: boolean;
    readonly workerMemoryMb?: number;
  };
}

/** The password an ODBC connection string holds (PWD= or PASSWORD=), '' when none. */
export function odbcPassword(connectionString: string): string {
  const match = /(?:^|;)\s*(?:PWD|PASSWORD)\s*=\s*(\{[^}]*\}|[^;]*)/i.exec(connectionString);
  const value = match?.[1]?.trim() ?? '';
  return value.startsWith('{') ? value.slice(1, -1) : value;
}

/** The checks of an ODBC source's connection (kind odbc): the string, its password from the environment. */
function checkOdbc(
  source: SourceConfig,
  at: string,
  fromEnv: ReadonlySet<string>,
  problems: string[],
): SourceConnection['odbc'] {
  if (source.kind !== 'odbc') {
    if (source.odbc !== undefined)
      problems.push(`${at}.odbc: only a kind: odbc source has an ODBC connection`);
    return undefined;
  }
  if (source.odbc === undefined) {
    problems.push(
      `${at}.odbc: give the ODBC connection: odbc: { connectionString: "\${ODBC_CONNECTION}" }`,
    );
    return undefined;
  }
  for (const key of ['url', 'host', 'port', 'database', 'user', 'password', 'ssl'] as const) {
    if (source[key] !== undefined) {
      problems.push(
        `${at}.${key}: an ODBC source connects with odbc.connectionString only; leave ${key} out`,
      );
    }
  }
  const cs = source.odbc.connectionString;
  const password = odbcPassword(cs);
  if (/(?:^|;)\s*(?:PWD|PASSWORD)\s*=/i.test(cs) && !fromEnv.has(`${at}.odbc.connectionString`)) {
    problems.push(
      `${at}.odbc.connectionString: holds a password (PWD=); put the whole connection string in an environment variable (connectionString: \${ODBC_CONNECTION})`,
    );
  }
  // Registered on its own too: a log line may hold the password without the string around it.
  if (password !== '') new Secret(`${at}.odbc.connectionString password`, password);
  return {
    connectionString: new Secret(`${at}.odbc.connectionString`, cs),
    ...(source.odbc.profile !== undefined && { profile: source.odbc.profile }),
    ...(source.odbc.fetchSize !== undefined && { fetchSize: source.odbc.fetchSize }),
    ...(source.odbc.trimChar !== undefined && { trimChar: source.odbc.trimChar }),
    ...(source.odbc.workerMemoryMb !== undefined && {
      workerMemoryMb: source.odbc.workerMemoryMb,
    }),
  };
}

/** A source after the cross-checks: its connection, its adapter, where its unqualified names resolve. */
export interface CheckedSource {
  readonly connection: SourceConnection;
  /** Undefined only when the configuration has a problem with it (its kind). */
  readonly adapter?: AdapterPlugin;
  readonly defaultSchema: string;
  /** ODBC sources that name tables `catalog.schema.table` only. */
  readonly defaultCatalog?: string;
}

/** The adapters of the configured kinds, as loadAdapters found them. */
export interface LoadedAdapters {
  readonly catalog: AdapterCatalog;
  readonly plugins: ReadonlyMap<string, AdapterPlugin | AdapterLoadFailure>;
}

/**
 * Passwords shorter than this are warned about at start-up: guessable, and
 * under MIN_SCRUBBABLE_LENGTH (4) not even scrubbed from logs.
 */
export const MIN_STRONG_PASSWORD_LENGTH = 12;

/** The password of a URL, decoded; '' when it has none or is not a URL. */
function urlPassword(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}

/** The `ssl` key as the adapters take it. */
function tlsOfConfig(
  ssl: NonNullable<SourceConfig['ssl']>,
  key: string,
  problems: string[],
): SourceTls {
  if (ssl === true) return tlsFromMode('verify-full');
  if (ssl === false) return false;
  if ((ssl.cert === undefined) !== (ssl.key === undefined)) {
    problems.push(`${key}: a client certificate needs both cert and key`);
  }
  return tlsFromMode(ssl.mode ?? 'verify-full', {
    ...(ssl.ca !== undefined && { ca: ssl.ca }),
    ...(ssl.cert !== undefined && { cert: ssl.cert }),
    ...(ssl.key !== undefined && { key: ssl.key }),
  });
}

/**
 * The secrets rule and the connection of every source: a password (or a URL
 * holding one, or a TLS key) only from the environment; url or host, not
 * both; the URL's scheme matching the source's kind; TLS from the URL or
 * from `ssl`, not both.
 */
export function checkSources(
  config: ParsedConfig,
  fromEnv: ReadonlySet<string>,
  adapters: LoadedAdapters,
  problems: string[],
): Map<string, CheckedSource> {
  const checked = new Map<string, CheckedSource>();
  for (const [id, source] of Object.entries(config.sources)) {
    const at = `sources.${id}`;
    const loaded = adapters.plugins.get(source.kind);
    const adapter = loaded === undefined || isLoadFailure(loaded) ? undefined : loaded;
    let defaultSchema = source.defaultSchema ?? '';
    if (adapter === undefined) {
      problems.push(
        `${at}.kind: ${loaded === undefined ? `there is no adapter for the kind ${source.kind} (kinds: ${adapters.catalog.kinds.join(', ')})` : (loaded as AdapterLoadFailure).problem}`,
      );
    } else {
      const verdict = adapter.check(
        {
          ...(source.url !== undefined && { url: source.url }),
          ...(source.database !== undefined && { database: source.database }),
          ...(source.defaultSchema !== undefined && { defaultSchema: source.defaultSchema }),
          ...(source.pooling !== undefined && { pooling: source.pooling }),
        },
        at,
      );
      problems.push(...verdict.problems);
      defaultSchema = verdict.defaultSchema;
    }
    if (source.password !== undefined && !fromEnv.has(`${at}.password`)) {
      problems.push(
        `${at}.password: write it as \${VARIABLE} and set the variable; passwords never go in the file`,
      );
    }
    if (
      typeof source.ssl === 'object' &&
      source.ssl.key !== undefined &&
      !fromEnv.has(`${at}.ssl.key`)
    ) {
      problems.push(
        `${at}.ssl.key: write it as \${VARIABLE} and set the variable; private keys never go in the file`,
      );
    }
    if (adapter !== undefined) checkNames(source, adapter, at, problems);
    (source.functions?.allow ?? []).forEach((entry, i) => {
      if (adapter === undefined) return;
      const problem = allowEntryProblem(adapter.dialect, entry);
      if (problem !== undefined) problems.push(`${at}.functions.allow[${i}]: ${entry}: ${problem}`);
    });
    // Pooling modes are PgBouncer's, and only the PostgreSQL adapter sets up its transactions for them.
    if (source.pooling !== undefined && source.kind !== 'postgres') {
      problems.push(`${at}.pooling: only a kind: postgres source has a pooling mode`);
    }
    const odbc = checkOdbc(source, at, fromEnv, problems);
    if (source.kind !== 'odbc' && source.url === undefined && source.host === undefined) {
      problems.push(`${at}: give url, or host (with port, database, user as needed)`);
    }
    if (
      source.url !== undefined &&
      (source.host !== undefined || source.port !== undefined || source.database !== undefined)
    ) {
      problems.push(`${at}: give either url or host/port/database, not both`);
    }
    let ssl = source.ssl === undefined ? undefined : tlsOfConfig(source.ssl, `${at}.ssl`, problems);
    let url: Secret | undefined;
    let hostName = source.host ?? '';
    if (source.url !== undefined && urlPassword(source.url) !== '' && !fromEnv.has(`${at}.url`)) {
      problems.push(
        `${at}.url: holds a password; put the whole URL in an environment variable (url: \${DATABASE_URL})`,
      );
    }
    // Without an adapter the kind is already a problem, and there is no scheme to check the URL against.
    if (source.url !== undefined && adapter !== undefined) {
      const parsed = parseSourceUrl(source.url, source.kind, `${at}.url`, adapters.catalog);
      if (!parsed.ok) {
        problems.push(...parsed.problems);
      } else {
        if (parsed.tls !== undefined && source.ssl !== undefined) {
          problems.push(`${at}: give TLS either in the URL (sslmode) or in ssl, not both`);
        }
        ssl = parsed.tls ?? ssl;
        url = new Secret(`${at}.url`, parsed.url);
        hostName = parsed.host;
      }
    }
    const weakPasswords: Array<readonly [string, number]> = [];
    const passwords: Array<readonly [string, string]> = [
      [`${at}.password`, source.password ?? ''],
      [`${at}.url`, source.url === undefined ? '' : urlPassword(source.url)],
    ];
    for (const [key, password] of passwords) {
      if (password === '') continue;
      // Registered on its own too: a log line may hold the password without the URL around it.
      new Secret(`${key} password`, password);
      if (password.length < MIN_STRONG_PASSWORD_LENGTH) weakPasswords.push([key, password.length]);
    }
    const connection: SourceConnection = {
      ...(url !== undefined && { url }),
      ...(source.host !== undefined && { host: source.host }),
      ...(source.port !== undefined && { port: source.port }),
      ...(source.database !== undefined && { database: source.database }),
      ...(source.user !== undefined && { user: source.user }),
      ...(source.password !== undefined && {
        password: new Secret(`${at}.password`, source.password),
      }),
      ...(ssl !== undefined && { ssl }),
      ...(source.pooling !== undefined && { pooling: source.pooling }),
      ...(odbc !== undefined && { odbc }),
      hostName,
      weakPasswords,
    };
    checked.set(id, {
      connection,
      defaultSchema,
      ...(source.defaultCatalog !== undefined && { defaultCatalog: source.defaultCatalog }),
      ...(adapter !== undefined && { adapter }),
    });
  }
  return checked;
}

const CATALOGS = { catalogs: true } as const;

/** Whether a source names tables `catalog.schema.table`: a default catalog or a three-part pattern. */
export function sourceNamesCatalogs(source: SourceConfig): boolean {
  return (
    source.defaultCatalog !== undefined ||
    [...source.tables, ...(source.writable ?? [])].some(
      (text) => parseTablePattern(text, CATALOGS)?.catalog !== undefined,
    )
  );
}

/**
 * Three-part names are for ODBC sources only (CONNX: catalog.schema.table):
 * elsewhere `defaultCatalog` and three-part patterns are refused. On an ODBC
 * source that names catalogs, every pattern names its catalog: a two-part
 * pattern would match no table there (the guard resolves every name to
 * catalog.schema.table), so it is refused rather than left dead.
 */
function checkNames(source: SourceConfig, adapter: AdapterPlugin, at: string, problems: string[]) {
  const lists = [
    ['tables', source.tables],
    ['writable', source.writable ?? []],
  ] as const;
  if (adapter.dialect !== 'odbc') {
    if (source.defaultCatalog !== undefined) {
      problems.push(
        `${at}.defaultCatalog: only ODBC sources name tables catalog.schema.table; a ${source.kind} source names them schema.table, so remove defaultCatalog`,
      );
    }
    for (const [key, patterns] of lists) {
      patterns.forEach((text, i) => {
        if (parseTablePattern(text, CATALOGS)?.catalog !== undefined) {
          problems.push(
            `${at}.${key}[${i}]: ${text} has three parts; only ODBC sources name tables catalog.schema.table, write schema.table or schema.*`,
          );
        }
      });
    }
    return;
  }
  if (!sourceNamesCatalogs(source)) return;
  for (const [key, patterns] of lists) {
    patterns.forEach((text, i) => {
      const pattern = parseTablePattern(text, CATALOGS);
      if (pattern !== undefined && pattern.catalog === undefined) {
        problems.push(
          `${at}.${key}[${i}]: ${text} names no catalog, but the source names tables catalog.schema.table (defaultCatalog or a three-part pattern); write catalog.${text}`,
        );
      }
    });
  }
}

/**
 * Whether a grant's table part (`schema.table`, or `catalog.schema.table`)
 * can ever match a table the source serves. A whole-source grant
 * (`read:<source>:*`) always can.
 */
function overlaps(
  patterns: readonly string[],
  granted: { readonly catalog?: string; readonly schema: string; readonly table: string },
): boolean {
  if (granted.catalog === undefined && granted.schema === '*') return patterns.length > 0;
  return patterns.some((text) => {
    const pattern = parseTablePattern(text, CATALOGS);
    return pattern !== undefined && tablePatternsOverlap(pattern, granted);
  });
}

function checkGrants(
  key: string,
  grants: readonly string[],
  config: ParsedConfig,
  broken: ReadonlySet<string>,
  problems: string[],
) {
  grants.forEach((grant, i) => {
    const parsed = parseCapability(grant);
    if (!parsed.ok) {
      problems.push(`${key}[${i}]: "${grant}" ${parsed.problem}`);
      return;
    }
    const { action, segments } = parsed.capability;
    if (action === 'tool') return;
    const [source = '*', ...object] = segments;
    if (source === '*' || broken.has(`sources.${source}`)) return;
    const [catalog, schema = '*', table = '*'] =
      object.length === 3 ? object : [undefined, ...object];
    const named = `${catalog === undefined ? '' : `${catalog}.`}${schema}.${table}`;
    const configured = config.sources[source];
    if (configured === undefined) {
      problems.push(`${key}[${i}]: "${grant}" names source ${source}, which is not configured`);
      return;
    }
    const granted = { ...(catalog !== undefined && { catalog }), schema, table };
    if (!overlaps(configured.tables, granted)) {
      problems.push(
        `${key}[${i}]: "${grant}" can never apply: source ${source} does not serve ${named} (its tables: ${configured.tables.join(', ')})`,
      );
    }
  });
}

/** Whether a name is defined in a section, or was there but refused by the schema. */
function defined(
  section: Readonly<Record<string, unknown>> | undefined,
  prefix: string,
  name: string,
  broken: ReadonlySet<string>,
): boolean {
  return (section !== undefined && Object.hasOwn(section, name)) || broken.has(`${prefix}.${name}`);
}

export function checkReferences(
  config: ParsedConfig,
  broken: ReadonlySet<string>,
  problems: string[],
) {
  const roles = config.roles ?? {};
  for (const [name, grants] of Object.entries(roles))
    checkGrants(`roles.${name}`, grants, config, broken, problems);
  for (const [id, principal] of Object.entries(config.principals)) {
    (principal.roles ?? []).forEach((role, i) => {
      if (!defined(roles, 'roles', role, broken))
        problems.push(`principals.${id}.roles[${i}]: role ${role} is not defined under roles`);
    });
    checkGrants(
      `principals.${id}.capabilities`,
      principal.capabilities ?? [],
      config,
      broken,
      problems,
    );
  }
  const stdio = config.transports?.stdio?.principal;
  if (stdio !== undefined && !defined(config.principals, 'principals', stdio, broken)) {
    problems.push(`transports.stdio.principal: ${stdio} is not defined under principals`);
  }
  checkHttpReferences(config, broken, problems);
  const defaultSource = config.server?.defaultSource;
  if (defaultSource !== undefined && !defined(config.sources, 'sources', defaultSource, broken)) {
    problems.push(`server.defaultSource: ${defaultSource} is not defined under sources`);
  }
  const toolNames = [
    ...BUILT_IN_TOOL_NAMES,
    ...(config.server?.toolset === 'connx' ? Object.values(CONNX_TOOLS) : []),
    ...Object.keys(config.tools ?? {}),
  ];
  for (const tool of Object.keys(config.quotas?.tools ?? {})) {
    if (!toolNames.includes(tool) && !broken.has(`tools.${tool}`)) {
      problems.push(
        `quotas.tools.${tool}: there is no tool of that name (tools: ${toolNames.join(', ')})`,
      );
    }
  }
  for (const [name, tool] of Object.entries(config.tools ?? {})) {
    if ([...BUILT_IN_TOOL_NAMES, ...Object.values(CONNX_TOOLS)].some((n) => n === name)) {
      problems.push(`tools.${name}: the name of a built-in tool; choose another`);
    }
    const source = config.sources[tool.source];
    if (source === undefined) {
      if (!broken.has(`sources.${tool.source}`))
        problems.push(`tools.${name}.source: ${tool.source} is not defined under sources`);
    } else if (tool.kind === 'write' && (source.writable ?? []).length === 0) {
      problems.push(
        `tools.${name}.kind: a write tool needs writable tables on source ${tool.source} (sources.${tool.source}.writable)`,
      );
    }
    for (const [param, spec] of Object.entries(tool.parameters ?? {})) {
      const at = `tools.${name}.parameters.${param}`;
      if (spec.type === 'string' && spec.pattern !== undefined) {
        try {
          new RegExp(spec.pattern, 'u');
        } catch {
          problems.push(`${at}.pattern: not a valid regular expression`);
        }
      }
      if (
        (spec.type === 'integer' || spec.type === 'number') &&
        spec.minimum !== undefined &&
        spec.maximum !== undefined &&
        spec.minimum > spec.maximum
      ) {
        problems.push(`${at}: minimum is above maximum`);
      }
      if (spec.default !== undefined && spec.optional === true) {
        problems.push(`${at}: give a default or optional, not both`);
      }
    }
  }
  for (const [id, source] of Object.entries(config.sources)) {
    (source.writable ?? []).forEach((pattern, i) => {
      const writable = parseTablePattern(pattern, CATALOGS);
      const served =
        writable !== undefined &&
        source.tables.some((text) => {
          const servedPattern = parseTablePattern(text, CATALOGS);
          return (
            servedPattern !== undefined &&
            tablePatternMatches(servedPattern, writable.schema, writable.table, writable.catalog)
          );
        });
      if (!served) {
        problems.push(
          `sources.${id}.writable[${i}]: ${pattern} is not among the tables the source serves (sources.${id}.tables)`,
        );
      }
    });
  }
}

/**
 * The cost gate needs an adapter that estimates (a planner's EXPLAIN): where
 * one is configured on a source whose adapter cannot, start-up says so
 * instead of letting reads through unchecked. Overrides name a defined
 * source; a tool's applies to reads only.
 */
export function checkCostGates(
  config: ParsedConfig,
  checked: ReadonlyMap<string, CheckedSource>,
  broken: ReadonlySet<string>,
  problems: string[],
) {
  const estimates = (at: string, sourceId: string) => {
    const adapter = checked.get(sourceId)?.adapter;
    if (adapter !== undefined && !adapter.estimatesCost) {
      problems.push(
        `${at}: ${adapter.kind} sources have no planner estimate to hold a read to, so a cost gate cannot apply to source ${sourceId}; remove it, and rely on limits.timeoutMs and quotas`,
      );
    }
  };
  for (const [id, source] of Object.entries(config.sources)) {
    if (source.costGate !== undefined) estimates(`sources.${id}.costGate`, id);
  }
  for (const [id, principal] of Object.entries(config.principals)) {
    for (const sourceId of Object.keys(principal.costGate ?? {})) {
      const at = `principals.${id}.costGate.${sourceId}`;
      if (!defined(config.sources, 'sources', sourceId, broken)) {
        problems.push(`${at}: ${sourceId} is not defined under sources`);
      } else estimates(at, sourceId);
    }
  }
  for (const [name, tool] of Object.entries(config.tools ?? {})) {
    if (tool.costGate === undefined) continue;
    const at = `tools.${name}.costGate`;
    if (tool.kind !== 'read') {
      problems.push(
        `${at}: only a read tool has a cost gate (a write is bounded by maxAffectedRows)`,
      );
    } else if (config.sources[tool.source] !== undefined) estimates(at, tool.source);
  }
}

/**
 * Each entity names a defined source and one table that source serves
 * (sources.<id>.tables): an entity can never point a model at a table the
 * server would refuse to read. Whether the table exists is the database's
 * to say, at call time (describe_table answers NOT_FOUND).
 */
export function checkEntities(
  config: ParsedConfig,
  broken: ReadonlySet<string>,
  problems: string[],
) {
  for (const [name, entity] of Object.entries(config.entities ?? {})) {
    const at = `entities.${name}`;
    const source = config.sources[entity.source];
    if (source === undefined) {
      if (!broken.has(`sources.${entity.source}`))
        problems.push(`${at}.source: ${entity.source} is not defined under sources`);
      continue;
    }
    const table = parseTablePattern(entity.table, { catalogs: true });
    const served =
      table !== undefined &&
      source.tables.some((text) => {
        const pattern = parseTablePattern(text, { catalogs: true });
        return (
          pattern !== undefined &&
          tablePatternMatches(pattern, table.schema, table.table, table.catalog)
        );
      });
    if (!served) {
      problems.push(
        `${at}.table: source ${entity.source} does not serve ${entity.table} (its tables: ${source.tables.join(', ')})`,
      );
    }
  }
}

/** quotas.store, checked: the Redis URL a Secret (it may hold a password). */
export interface CheckedQuotaStore {
  readonly url: Secret;
  readonly namespace: string;
  readonly failOpen: 'none' | 'reads';
  readonly ca?: string;
}

/**
 * quotas.store: a redis:// or rediss:// URL, its password only from one
 * whole `${VAR}` (the secrets rule), its host for messages.
 */
export function checkQuotaStore(
  config: ParsedConfig,
  fromEnv: ReadonlySet<string>,
  problems: string[],
): CheckedQuotaStore | undefined {
  const store = config.quotas?.store;
  if (store === undefined) return undefined;
  const spec = typeof store === 'string' ? { url: store } : store;
  const at = typeof store === 'string' ? 'quotas.store' : 'quotas.store.url';
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    problems.push(`${at}: not a URL; write redis://host:6379 or rediss://host:6380`);
    return undefined;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    problems.push(
      `${at}: the quota store is Redis: the URL starts with redis:// or rediss:// (TLS), not ${url.protocol}//`,
    );
    return undefined;
  }
  const password = urlPassword(spec.url);
  if (password !== '' && !fromEnv.has(at)) {
    problems.push(
      `${at}: holds a password; put the whole URL in an environment variable (${at.endsWith('url') ? 'url' : 'store'}: \${SQLWARDEN_REDIS_URL})`,
    );
  }
  if (password !== '') new Secret(`${at} password`, password);
  return {
    url: new Secret(at, spec.url),
    namespace: (typeof store === 'string' ? undefined : store.namespace) ?? 'default',
    failOpen: (typeof store === 'string' ? undefined : store.failOpen) ?? 'none',
    ...(typeof store !== 'string' && store.ca !== undefined && { ca: store.ca }),
  };
}

export function checkWritesSwitch(env: Environment, problems: string[]): boolean {
  const value = env.get(WRITES_SWITCH);
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  problems.push(`${WRITES_SWITCH}: must be true or false (it is "${value.slice(0, 20)}")`);
  return false;
}

export function serverLimits(config: ParsedConfig): ExecutionLimits {
  const limits = config.server?.limits ?? {};
  return {
    maxRows: limits.maxRows ?? DEFAULT_LIMITS.maxRows,
    maxBytes: limits.maxBytes ?? DEFAULT_LIMITS.maxBytes,
    timeoutMs: limits.timeoutMs ?? DEFAULT_LIMITS.timeoutMs,
    maxAffectedRows: limits.maxAffectedRows ?? DEFAULT_LIMITS.maxAffectedRows,
  };
}

export function checkLimits(config: ParsedConfig, server: ExecutionLimits, problems: string[]) {
  for (const [id, source] of Object.entries(config.sources)) {
    for (const key of LIMIT_KEYS) {
      const value = source.limits?.[key];
      if (value !== undefined && value > server[key]) {
        problems.push(
          `sources.${id}.limits.${key}: ${value} is above server.limits.${key} (${server[key]}); a source can only lower a limit`,
        );
      }
    }
  }
}

/** transports.http: the principals tokens and claims map to exist, and the roles scopes grant. */
function checkHttpReferences(
  config: ParsedConfig,
  broken: ReadonlySet<string>,
  problems: string[],
): void {
  const http = config.transports?.http;
  if (http === undefined) return;
  const at = 'transports.http.auth';
  const principal = (key: string, id: string) => {
    if (!defined(config.principals, 'principals', id, broken)) {
      problems.push(`${key}: ${id} is not defined under principals`);
    }
  };
  const seen = new Set<string>();
  for (const [i, token] of (http.auth?.tokens ?? []).entries()) {
    principal(`${at}.tokens[${i}].principal`, token.principal);
    if (seen.has(token.sha256)) {
      problems.push(`${at}.tokens[${i}].sha256: the same token is listed twice`);
    }
    seen.add(token.sha256);
  }
  const oauth = http.auth?.oauth;
  if (oauth !== undefined) {
    for (const [claim, id] of Object.entries(oauth.principals ?? {})) {
      principal(`${at}.oauth.principals.${claim}`, id);
    }
    if (oauth.defaultPrincipal !== undefined) {
      principal(`${at}.oauth.defaultPrincipal`, oauth.defaultPrincipal);
    }
    if (oauth.defaultPrincipal === undefined && Object.keys(oauth.principals ?? {}).length === 0) {
      problems.push(
        `${at}.oauth: map callers to principals: principals (claim value: principal) or defaultPrincipal`,
      );
    }
    for (const [scope, roles] of Object.entries(oauth.scopes ?? {})) {
      for (const [i, role] of roles.entries()) {
        if (!Object.hasOwn(config.roles ?? {}, role)) {
          problems.push(
            `${at}.oauth.scopes.${scope}[${i}]: role ${role} is not defined under roles`,
          );
        }
      }
    }
    // The keys and the issuer's metadata decide who is trusted: never over plain HTTP off this machine.
    for (const [key, url] of [
      ['issuer', oauth.issuer],
      ['jwksUri', oauth.jwksUri],
    ] as const) {
      if (url?.startsWith('http:') && !isLoopbackUrl(url)) {
        problems.push(`${at}.oauth.${key}: must be https (http only on 127.0.0.1 or localhost)`);
      }
    }
  }
}

function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/** governance, checked: the column policies as the runtime applies them, the mask key a Secret. */
export interface CheckedGovernance {
  readonly columnPolicies: readonly ColumnPolicy[];
  readonly maskKey?: Secret;
}

/**
 * governance.columns and governance.maskKey: each policy names a defined
 * source and one table it serves (no wildcard: a policy protects named
 * columns of a named table), `mask` and `keep` only where they mean
 * something (`mask` with action mask, `keep` with mask partial), roles and
 * principals that are defined; the mask key only from one whole ${VAR}, and
 * long enough to be a key. Whether the table and its columns exist is the
 * catalog's to say, at start-up (runtime.ts).
 */
export function checkGovernance(
  config: ParsedConfig,
  fromEnv: ReadonlySet<string>,
  broken: ReadonlySet<string>,
  problems: string[],
): CheckedGovernance {
  const columnPolicies: ColumnPolicy[] = [];
  const roles = config.roles ?? {};
  (config.governance?.columns ?? []).forEach((policy, i) => {
    const at = `governance.columns[${i}]`;
    let ok = true;
    const fail = (problem: string) => {
      problems.push(problem);
      ok = false;
    };
    const source = config.sources[policy.source];
    if (source === undefined) {
      if (!broken.has(`sources.${policy.source}`))
        problems.push(`${at}.source: ${policy.source} is not defined under sources`);
      return;
    }
    const catalogs = sourceNamesCatalogs(source);
    const table = parseTablePattern(policy.table, CATALOGS);
    if (table === undefined || table.table === '*') {
      fail(
        `${at}.table: ${policy.table} must name one table, ${catalogs ? 'catalog.schema.table' : 'schema.table'} (no wildcard: a policy protects the columns of one table)`,
      );
    } else if (catalogs && table.catalog === undefined) {
      fail(
        `${at}.table: source ${policy.source} names tables catalog.schema.table; write catalog.${policy.table}`,
      );
    } else if (
      !source.tables.some((text) => {
        const pattern = parseTablePattern(text, CATALOGS);
        return (
          pattern !== undefined &&
          tablePatternMatches(pattern, table.schema, table.table, table.catalog)
        );
      })
    ) {
      fail(
        `${at}.table: source ${policy.source} does not serve ${policy.table} (its tables: ${source.tables.join(', ')}); a policy on a table nobody can read protects nothing`,
      );
    }
    if (policy.action === 'deny' && policy.mask !== undefined) {
      fail(`${at}.mask: only a policy with action: mask masks; a denied column is never shown`);
    }
    if (policy.action === 'deny' && policy.keep !== undefined) {
      fail(`${at}.keep: only a partial mask keeps characters; a denied column is never shown`);
    } else if (policy.keep !== undefined && policy.mask !== 'partial') {
      fail(`${at}.keep: only mask: partial keeps characters; remove keep or set mask: partial`);
    }
    const role = (key: string, name: string) => {
      if (!defined(roles, 'roles', name, broken))
        fail(`${key}: role ${name} is not defined under roles`);
    };
    const principal = (key: string, id: string) => {
      if (!defined(config.principals, 'principals', id, broken))
        fail(`${key}: ${id} is not defined under principals`);
    };
    for (const [j, name] of (policy.roles ?? []).entries()) role(`${at}.roles[${j}]`, name);
    for (const [j, id] of (policy.principals ?? []).entries())
      principal(`${at}.principals[${j}]`, id);
    for (const [j, name] of (policy.except?.roles ?? []).entries())
      role(`${at}.except.roles[${j}]`, name);
    for (const [j, id] of (policy.except?.principals ?? []).entries())
      principal(`${at}.except.principals[${j}]`, id);
    if (!ok || table === undefined) return;
    columnPolicies.push({
      source: policy.source,
      table: {
        ...(table.catalog !== undefined && { catalog: table.catalog }),
        schema: table.schema,
        name: table.table,
      },
      columns: [...policy.columns],
      action: policy.action,
      ...(policy.mask !== undefined && { mask: policy.mask }),
      ...(policy.keep !== undefined && { keep: policy.keep }),
      ...(policy.roles !== undefined && { roles: [...policy.roles] }),
      ...(policy.principals !== undefined && { principals: [...policy.principals] }),
      ...(policy.except !== undefined && {
        except: {
          ...(policy.except.roles !== undefined && { roles: [...policy.except.roles] }),
          ...(policy.except.principals !== undefined && {
            principals: [...policy.except.principals],
          }),
        },
      }),
    });
  });
  const key = config.governance?.maskKey;
  if (key === undefined) return { columnPolicies };
  const at = 'governance.maskKey';
  if (!fromEnv.has(at)) {
    problems.push(
      `${at}: write it as one whole \${VARIABLE} and set the variable (at least ${MIN_MASK_KEY_LENGTH} random characters); keys never go in the file`,
    );
    return { columnPolicies };
  }
  if (key.length < MIN_MASK_KEY_LENGTH) {
    // The length only, never the value.
    problems.push(
      `${at}: the key has ${key.length} characters; use at least ${MIN_MASK_KEY_LENGTH} random ones (e.g. openssl rand -hex 32)`,
    );
    return { columnPolicies };
  }
  return { columnPolicies, maskKey: new Secret(at, key) };
}
