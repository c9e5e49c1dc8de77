/**
 * Loading the configuration: parse (YAML), interpolate ${VAR} from the
 * environment, validate (strict schema), cross-check, normalize. Every
 * problem is collected and reported at once, each naming its key, so an
 * operator fixes a file in one pass. Secrets come only from the
 * environment: a password written in the file is an error.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, DEFAULT_LIMITS, type ExecutionLimits } from '@sqlwarden/core';
import { type Environment, parseCapability, type QuotaPolicy, Secret } from '@sqlwarden/security';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, type ParsedConfig, type PostgresSourceConfig } from './schema.js';

/** The tools a configuration may name in quotas (the runtime registers these). */
export const KNOWN_TOOLS = ['list_tables', 'describe_table', 'query_read'] as const;

export interface NormalizedSource {
  readonly id: string;
  readonly kind: 'postgres';
  /** The connection; the password (or a URL holding one) is a Secret until the pool opens. */
  readonly connection: {
    readonly url?: Secret;
    readonly host?: string;
    readonly port?: number;
    readonly database?: string;
    readonly user?: string;
    readonly password?: Secret;
    readonly ssl?: PostgresSourceConfig['ssl'];
  };
  readonly defaultSchema: string;
  readonly tables: readonly string[];
  readonly limits: Partial<ExecutionLimits>;
  readonly pool: {
    readonly max?: number;
    readonly idleTimeoutMs?: number;
    readonly connectionTimeoutMs?: number;
  };
  readonly allowFunctions: readonly string[];
}

export interface NormalizedPrincipal {
  readonly id: string;
  readonly roles: readonly string[];
  readonly capabilities: readonly string[];
  readonly readOnly: boolean;
}

export interface NormalizedConfig {
  readonly server: {
    readonly name: string;
    readonly readOnly: boolean;
    readonly limits: ExecutionLimits;
    readonly defaultSource?: string;
  };
  readonly sources: readonly NormalizedSource[];
  readonly roles: Readonly<Record<string, readonly string[]>>;
  readonly principals: Readonly<Record<string, NormalizedPrincipal>>;
  readonly stdioPrincipal?: string;
  readonly quotas: QuotaPolicy;
  readonly audit: { readonly destination: 'stderr' | { readonly file: string } };
  readonly logging: { readonly level: string };
}

export type ConfigResult =
  | { readonly ok: true; readonly config: NormalizedConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function keyOf(path: ReadonlyArray<string | number>): string {
  return (
    path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') ||
    '(root)'
  );
}

/**
 * Replaces ${VAR} (and ${VAR:-default}, the default when VAR is unset or
 * empty) in every string of the tree.
 * Records which keys were written entirely as one ${VAR}, for the secrets rule.
 */
function interpolate(
  value: unknown,
  env: Environment,
  path: Array<string | number>,
  problems: string[],
  fromEnv: Set<string>,
): unknown {
  if (typeof value === 'string') {
    if (/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value)) fromEnv.add(keyOf(path));
    return value.replace(VAR, (_match, name: string, fallback: string | undefined) => {
      const resolved = env.get(name);
      // As in a shell, ${VAR:-default} takes the default when VAR is unset or empty.
      if (resolved !== undefined && (fallback === undefined || resolved !== '')) return resolved;
      if (fallback !== undefined) return fallback;
      problems.push(`${keyOf(path)}: \${${name}} is not set in the environment`);
      return '';
    });
  }
  if (Array.isArray(value))
    return value.map((item, i) => interpolate(item, env, [...path, i], problems, fromEnv));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value))
      out[key] = interpolate(inner, env, [...path, key], problems, fromEnv);
    return out;
  }
  return value;
}

function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

function checkSecrets(raw: ParsedConfig, fromEnv: ReadonlySet<string>, problems: string[]) {
  for (const [id, source] of Object.entries(raw.sources)) {
    if (source.password !== undefined && !fromEnv.has(`sources.${id}.password`)) {
      problems.push(
        `sources.${id}.password: write it as \${VARIABLE} and set the variable; passwords never go in the file`,
      );
    }
    if (source.url !== undefined && hasPassword(source.url) && !fromEnv.has(`sources.${id}.url`)) {
      problems.push(
        `sources.${id}.url: holds a password; put the whole URL in an environment variable (url: \${DATABASE_URL})`,
      );
    }
    if (source.url === undefined && source.host === undefined) {
      problems.push(`sources.${id}: give url, or host (with port, database, user as needed)`);
    }
    if (
      source.url !== undefined &&
      (source.host !== undefined || source.port !== undefined || source.database !== undefined)
    ) {
      problems.push(`sources.${id}: give either url or host/port/database, not both`);
    }
  }
}

/** Whether a grant's schema.table part can ever match a table the source serves. */
function overlaps(patterns: readonly string[], schema: string, table: string): boolean {
  return patterns.some((pattern) => {
    const dot = pattern.indexOf('.');
    const pSchema = pattern.slice(0, dot);
    const pTable = pattern.slice(dot + 1);
    const schemaOk = schema === '*' || pSchema === schema;
    const tableOk = table === '*' || pTable === '*' || pTable === table;
    return schemaOk && tableOk;
  });
}

function checkGrants(
  key: string,
  grants: readonly string[],
  config: ParsedConfig,
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
    const [source = '*', schema = '*', table = '*'] = segments;
    if (source === '*') return;
    const configured = config.sources[source];
    if (configured === undefined) {
      problems.push(`${key}[${i}]: "${grant}" names source ${source}, which is not configured`);
      return;
    }
    if (!overlaps(configured.tables, schema, table)) {
      problems.push(
        `${key}[${i}]: "${grant}" can never apply: source ${source} does not serve ${schema}.${table} (its tables: ${configured.tables.join(', ')})`,
      );
    }
  });
}

function checkReferences(config: ParsedConfig, problems: string[]) {
  const roles = config.roles ?? {};
  for (const [name, grants] of Object.entries(roles))
    checkGrants(`roles.${name}`, grants, config, problems);
  for (const [id, principal] of Object.entries(config.principals)) {
    (principal.roles ?? []).forEach((role, i) => {
      if (!Object.hasOwn(roles, role))
        problems.push(`principals.${id}.roles[${i}]: role ${role} is not defined under roles`);
    });
    checkGrants(`principals.${id}.capabilities`, principal.capabilities ?? [], config, problems);
  }
  const stdio = config.transports?.stdio?.principal;
  if (stdio !== undefined && !Object.hasOwn(config.principals, stdio)) {
    problems.push(`transports.stdio.principal: ${stdio} is not defined under principals`);
  }
  const defaultSource = config.server?.defaultSource;
  if (defaultSource !== undefined && !Object.hasOwn(config.sources, defaultSource)) {
    problems.push(`server.defaultSource: ${defaultSource} is not defined under sources`);
  }
  for (const tool of Object.keys(config.quotas?.tools ?? {})) {
    if (!(KNOWN_TOOLS as readonly string[]).includes(tool)) {
      problems.push(
        `quotas.tools.${tool}: there is no tool of that name (tools: ${KNOWN_TOOLS.join(', ')})`,
      );
    }
  }
}

function serverLimits(config: ParsedConfig): ExecutionLimits {
  const limits = config.server?.limits ?? {};
  return {
    maxRows: limits.maxRows ?? DEFAULT_LIMITS.maxRows,
    maxBytes: limits.maxBytes ?? DEFAULT_LIMITS.maxBytes,
    timeoutMs: limits.timeoutMs ?? DEFAULT_LIMITS.timeoutMs,
    maxAffectedRows: DEFAULT_LIMITS.maxAffectedRows,
  };
}

function checkLimits(config: ParsedConfig, server: ExecutionLimits, problems: string[]) {
  for (const [id, source] of Object.entries(config.sources)) {
    for (const key of ['maxRows', 'maxBytes', 'timeoutMs'] as const) {
      const value = source.limits?.[key];
      if (value !== undefined && value > server[key]) {
        problems.push(
          `sources.${id}.limits.${key}: ${value} is above server.limits.${key} (${server[key]}); a source can only lower a limit`,
        );
      }
    }
  }
}

function normalize(config: ParsedConfig): NormalizedConfig {
  const server = serverLimits(config);
  const principals: Record<string, NormalizedPrincipal> = {};
  for (const [id, p] of Object.entries(config.principals)) {
    principals[id] = {
      id,
      roles: p.roles ?? [],
      capabilities: p.capabilities ?? [],
      readOnly: p.readOnly ?? false,
    };
  }
  const ids = Object.keys(config.principals);
  const stdioPrincipal =
    config.transports?.stdio?.principal ?? (ids.length === 1 ? ids[0] : undefined);
  return {
    server: {
      name: config.server?.name ?? 'sqlwarden',
      readOnly: config.server?.readOnly ?? true,
      limits: server,
      ...(config.server?.defaultSource !== undefined && {
        defaultSource: config.server.defaultSource,
      }),
    },
    sources: Object.entries(config.sources).map(([id, s]) => ({
      id,
      kind: s.kind,
      connection: {
        ...(s.url !== undefined && { url: new Secret(`sources.${id}.url`, s.url) }),
        ...(s.host !== undefined && { host: s.host }),
        ...(s.port !== undefined && { port: s.port }),
        ...(s.database !== undefined && { database: s.database }),
        ...(s.user !== undefined && { user: s.user }),
        ...(s.password !== undefined && {
          password: new Secret(`sources.${id}.password`, s.password),
        }),
        ...(s.ssl !== undefined && { ssl: s.ssl }),
      },
      defaultSchema: s.defaultSchema ?? 'public',
      tables: s.tables,
      limits: { ...s.limits },
      pool: { ...s.pool },
      allowFunctions: s.functions?.allow ?? [],
    })),
    roles: config.roles ?? {},
    principals,
    ...(stdioPrincipal !== undefined && { stdioPrincipal }),
    quotas: config.quotas ?? {},
    audit: { destination: config.audit?.destination ?? 'stderr' },
    logging: { level: config.logging?.level ?? 'info' },
  };
}

/** Validates a configuration object (as parsed from YAML, before interpolation). */
export function validateConfig(raw: unknown, env: Environment): ConfigResult {
  const problems: string[] = [];
  const fromEnv = new Set<string>();
  const interpolated = interpolate(raw, env, [], problems, fromEnv);
  const parsed = ConfigSchema.safeParse(interpolated);
  if (!parsed.success) {
    // A key whose variable is missing was already reported; its empty value's issues would only repeat it.
    const unresolved = new Set(problems.map((p) => p.slice(0, p.indexOf(': '))));
    for (const issue of parsed.error.issues) {
      const key = keyOf(issue.path as Array<string | number>);
      if (!unresolved.has(key)) problems.push(`${key}: ${issue.message}`);
    }
    return { ok: false, problems };
  }
  checkSecrets(parsed.data, fromEnv, problems);
  checkReferences(parsed.data, problems);
  checkLimits(parsed.data, serverLimits(parsed.data), problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: normalize(parsed.data) };
}

/** Parses YAML text and validates it. */
export function parseConfig(text: string, env: Environment): ConfigResult {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : 'not valid YAML';
    return { ok: false, problems: [`(file): ${message}`] };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, problems: ['(file): the configuration must be a YAML mapping'] };
  }
  return validateConfig(raw, env);
}

export async function loadConfigFile(path: string, env: Environment): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { ok: false, problems: [`(file): cannot read ${path}`] };
  }
  return parseConfig(text, env);
}

/** Throws the problems as one ConfigError (for callers that prefer exceptions). */
export function assertConfig(result: ConfigResult): NormalizedConfig {
  if (!result.ok) throw new ConfigError('Invalid sqlwarden configuration', result.problems);
  return result.config;
}
