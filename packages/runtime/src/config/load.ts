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
import {
  ConfigSchema,
  type DeclaredToolConfig,
  type ParsedConfig,
  type SourceConfig,
} from './schema.js';

/** The built-in tools (the runtime registers them; execute_write only where writes can happen). */
export const KNOWN_TOOLS = [
  'list_tables',
  'describe_table',
  'query_read',
  'execute_write',
] as const;

/** The environment switch every write needs, on top of the configuration. */
export const WRITES_SWITCH = 'SQLWARDEN_ALLOW_WRITES';

export interface NormalizedSource {
  readonly id: string;
  readonly kind: 'postgres' | 'mysql';
  /** The connection; the password (or a URL holding one) is a Secret until the pool opens. */
  readonly connection: {
    readonly url?: Secret;
    readonly host?: string;
    readonly port?: number;
    readonly database?: string;
    readonly user?: string;
    readonly password?: Secret;
    readonly ssl?: SourceConfig['ssl'];
  };
  readonly defaultSchema: string;
  readonly tables: readonly string[];
  /** The served tables write tools may change; empty: a read-only source. */
  readonly writable: readonly string[];
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
  /** Tools declared in the configuration, in file order. */
  readonly tools: readonly NormalizedTool[];
  /** SQLWARDEN_ALLOW_WRITES=true in the environment. */
  readonly writesEnabled: boolean;
  readonly audit: { readonly destination: 'stderr' | { readonly file: string } };
  readonly logging: { readonly level: string };
}

export interface NormalizedTool extends DeclaredToolConfig {
  readonly name: string;
  readonly parameters: NonNullable<DeclaredToolConfig['parameters']>;
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
  const toolNames = [...KNOWN_TOOLS, ...Object.keys(config.tools ?? {})];
  for (const tool of Object.keys(config.quotas?.tools ?? {})) {
    if (!toolNames.includes(tool)) {
      problems.push(
        `quotas.tools.${tool}: there is no tool of that name (tools: ${toolNames.join(', ')})`,
      );
    }
  }
  for (const [name, tool] of Object.entries(config.tools ?? {})) {
    if ((KNOWN_TOOLS as readonly string[]).includes(name)) {
      problems.push(`tools.${name}: the name of a built-in tool; choose another`);
    }
    const source = config.sources[tool.source];
    if (source === undefined) {
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
      const dot = pattern.indexOf('.');
      const schema = pattern.slice(0, dot);
      const table = pattern.slice(dot + 1);
      const served = source.tables.some((t) => {
        const tDot = t.indexOf('.');
        return (
          t.slice(0, tDot) === schema && (t.slice(tDot + 1) === '*' || t.slice(tDot + 1) === table)
        );
      });
      if (!served) {
        problems.push(
          `sources.${id}.writable[${i}]: ${pattern} is not among the tables the source serves (sources.${id}.tables)`,
        );
      }
    });
    if (
      source.kind === 'mysql' &&
      source.defaultSchema === undefined &&
      mysqlDatabase(source) === undefined
    ) {
      problems.push(
        `sources.${id}: name the database (in the URL, database, or defaultSchema); MySQL resolves unqualified tables there`,
      );
    }
  }
}

/** The database a MySQL source connects to, from `database` or the URL's path. */
function mysqlDatabase(source: SourceConfig): string | undefined {
  if (source.database !== undefined) return source.database;
  if (source.url === undefined) return undefined;
  try {
    const path = decodeURIComponent(new URL(source.url).pathname.slice(1));
    return path === '' ? undefined : path;
  } catch {
    return undefined;
  }
}

function checkWritesSwitch(env: Environment, problems: string[]): boolean {
  const value = env.get(WRITES_SWITCH);
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  problems.push(`${WRITES_SWITCH}: must be true or false (it is "${value.slice(0, 20)}")`);
  return false;
}

function serverLimits(config: ParsedConfig): ExecutionLimits {
  const limits = config.server?.limits ?? {};
  return {
    maxRows: limits.maxRows ?? DEFAULT_LIMITS.maxRows,
    maxBytes: limits.maxBytes ?? DEFAULT_LIMITS.maxBytes,
    timeoutMs: limits.timeoutMs ?? DEFAULT_LIMITS.timeoutMs,
    maxAffectedRows: limits.maxAffectedRows ?? DEFAULT_LIMITS.maxAffectedRows,
  };
}

function checkLimits(config: ParsedConfig, server: ExecutionLimits, problems: string[]) {
  for (const [id, source] of Object.entries(config.sources)) {
    for (const key of ['maxRows', 'maxBytes', 'timeoutMs', 'maxAffectedRows'] as const) {
      const value = source.limits?.[key];
      if (value !== undefined && value > server[key]) {
        problems.push(
          `sources.${id}.limits.${key}: ${value} is above server.limits.${key} (${server[key]}); a source can only lower a limit`,
        );
      }
    }
  }
}

function normalize(config: ParsedConfig, writesEnabled: boolean): NormalizedConfig {
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
      defaultSchema: s.defaultSchema ?? (s.kind === 'mysql' ? (mysqlDatabase(s) ?? '') : 'public'),
      tables: s.tables,
      writable: s.writable ?? [],
      limits: { ...s.limits },
      pool: { ...s.pool },
      allowFunctions: s.functions?.allow ?? [],
    })),
    roles: config.roles ?? {},
    principals,
    ...(stdioPrincipal !== undefined && { stdioPrincipal }),
    quotas: config.quotas ?? {},
    tools: Object.entries(config.tools ?? {}).map(([name, tool]) => ({
      ...tool,
      name,
      parameters: tool.parameters ?? {},
    })),
    writesEnabled,
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
  const writesEnabled = checkWritesSwitch(env, problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: normalize(parsed.data, writesEnabled) };
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
