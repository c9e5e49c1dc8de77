/**
 * Loading the configuration: parse (YAML), interpolate ${VAR} from the
 * environment (interpolate.ts), validate (the strict schema, schema.ts),
 * cross-check (checks.ts), normalize. Every problem is collected and
 * reported at once, each naming its key, so an operator fixes a file in one
 * pass: when the schema refuses a part, the cross-checks still run on the
 * parts it accepted (salvage below). Secrets come only from the
 * environment: a password written in the file is an error.
 */
import { readFile } from 'node:fs/promises';
import {
  type AdapterPlugin,
  ConfigError,
  type CostCeiling,
  type ExecutionLimits,
  parseTablePattern,
  type SqlDialect,
  type TablePattern,
} from '@sqlwarden/core';
import type { ColumnPolicy, Environment, QuotaPolicy, Secret } from '@sqlwarden/security';
import type { EntityDefinition } from '@sqlwarden/tools';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type AdapterLoadFailure, adapterCatalog, type ImportPackage } from '../adapters.js';
import { checkConfirmKey } from '../confirm.js';
import {
  checkTelemetryConfig,
  type NormalizedTelemetry,
  normalizeTelemetry,
} from '../telemetry.js';
import {
  type CheckedQuotaStore,
  type CheckedSource,
  checkCostGates,
  checkEntities,
  checkGovernance,
  checkLimits,
  checkQuotaStore,
  checkReferences,
  checkSources,
  checkWritesSwitch,
  type LoadedAdapters,
  type SourceConnection,
  serverLimits,
} from './checks.js';
import {
  checkDatabaseIdentities,
  type NormalizedDatabaseIdentity,
  normalizeDatabaseIdentities,
} from './identity.js';
import { type Interpolated, interpolate, keyOf } from './interpolate.js';
import {
  ConfigSchema,
  type DeclaredToolConfig,
  type HttpTransportConfig,
  type ParsedConfig,
} from './schema.js';

export { WRITES_SWITCH } from './checks.js';

export interface NormalizedSource {
  readonly id: string;
  /** The `kind` the configuration names; `adapter` serves it. */
  readonly kind: string;
  /** The dialect its statements are checked in (the adapter's). */
  readonly dialect: SqlDialect;
  /** The adapter plugin of its kind, imported for this configuration. */
  readonly adapter: AdapterPlugin;
  /**
   * The connection; the password (or a URL holding one) is a Secret until the
   * pool opens. The URL carries no query string: its TLS parameters are in `ssl`.
   */
  readonly connection: SourceConnection;
  readonly defaultSchema: string;
  /** ODBC sources that name tables `catalog.schema.table` (CONNX) only: their default catalog. */
  readonly defaultCatalog?: string;
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
  /** The cost gate of the source's reads, unless a principal's or a tool's replaces it. */
  readonly costGate?: CostCeiling;
  /** Every write on this source needs a human to confirm it (docs/governance.md). */
  readonly confirmWrites: boolean;
}

export interface NormalizedPrincipal {
  readonly id: string;
  readonly roles: readonly string[];
  readonly capabilities: readonly string[];
  readonly readOnly: boolean;
  /** Per source id: the cost gate of this principal's reads, instead of the source's. */
  readonly costGate: Readonly<Record<string, CostCeiling>>;
  /** Per source id: who this principal is to its database (identity.ts); empty: the source's own user. */
  readonly database: Readonly<Record<string, NormalizedDatabaseIdentity>>;
}

export interface NormalizedConfig {
  readonly server: {
    readonly name: string;
    readonly readOnly: boolean;
    readonly limits: ExecutionLimits;
    readonly defaultSource?: string;
    /** Which tools run statements: the built-in ones, or the CONNX reference server's names. */
    readonly toolset: 'default' | 'connx';
  };
  readonly sources: readonly NormalizedSource[];
  readonly roles: Readonly<Record<string, readonly string[]>>;
  readonly principals: Readonly<Record<string, NormalizedPrincipal>>;
  readonly stdioPrincipal?: string;
  /** transports.http as written (sqlwarden-http applies its defaults, docs/http.md). */
  readonly http?: HttpTransportConfig;
  readonly quotas: QuotaPolicy;
  /** quotas.store: absent, the memory store of this process. */
  readonly quotaStore?: CheckedQuotaStore;
  /** Tools declared in the configuration, in file order. */
  readonly tools: readonly NormalizedTool[];
  /** The entities (business names of served tables), in file order; empty when none. */
  readonly entities: readonly EntityDefinition[];
  /** SQLWARDEN_ALLOW_WRITES=true in the environment. */
  readonly writesEnabled: boolean;
  /**
   * SQLWARDEN_CONFIRM_KEY: the key confirmations of writes are signed with,
   * shared by replicas; absent, a random key of the process (confirm.ts).
   */
  readonly confirmKey?: Secret;
  /** governance.columns: the column policies, checked (their tables served, their keys sound); absent: none. */
  readonly columnPolicies?: readonly ColumnPolicy[];
  /** governance.maskKey: the key of hash masks; absent, a random key of the process. */
  readonly maskKey?: Secret;
  /** governance.untrustedData: text from the databases framed as data (default), or off. */
  readonly untrustedData: 'framed' | 'off';
  readonly audit: { readonly destination: 'stderr' | { readonly file: string } };
  readonly logging: { readonly level: string };
  /** The telemetry key (its headers' values as Secrets); the OTEL_* variables are read at start (telemetry.ts). */
  readonly telemetry?: NormalizedTelemetry;
}

export interface NormalizedTool extends DeclaredToolConfig {
  readonly name: string;
  readonly parameters: NonNullable<DeclaredToolConfig['parameters']>;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: NormalizedConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

/** The limits of quotas (its store is set up apart). */
function quotaPolicy(quotas: ParsedConfig['quotas']): QuotaPolicy {
  const { store: _store, ...policy } = quotas ?? {};
  return policy;
}

function normalize(
  config: ParsedConfig,
  checked: ReadonlyMap<string, CheckedSource>,
  writesEnabled: boolean,
  quotaStore: CheckedQuotaStore | undefined,
): NormalizedConfig {
  const server = serverLimits(config);
  const principals: Record<string, NormalizedPrincipal> = {};
  for (const [id, p] of Object.entries(config.principals)) {
    principals[id] = {
      id,
      roles: p.roles ?? [],
      capabilities: p.capabilities ?? [],
      readOnly: p.readOnly ?? false,
      costGate: { ...p.costGate },
      database: normalizeDatabaseIdentities(id, p.database),
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
      toolset: config.server?.toolset ?? 'default',
      ...(config.server?.defaultSource !== undefined && {
        defaultSource: config.server.defaultSource,
      }),
    },
    sources: Object.entries(config.sources).map(([id, s]) => {
      // normalize() runs only without problems: every source has its adapter.
      const source = checked.get(id) as CheckedSource & { adapter: AdapterPlugin };
      return {
        id,
        kind: s.kind,
        dialect: source.adapter.dialect,
        adapter: source.adapter,
        connection: source.connection,
        defaultSchema: source.defaultSchema,
        ...(source.defaultCatalog !== undefined && { defaultCatalog: source.defaultCatalog }),
        tables: s.tables,
        writable: s.writable ?? [],
        limits: { ...s.limits },
        pool: { ...s.pool },
        allowFunctions: s.functions?.allow ?? [],
        ...(s.costGate !== undefined && { costGate: s.costGate }),
        confirmWrites: s.confirmWrites ?? false,
      };
    }),
    roles: config.roles ?? {},
    principals,
    ...(stdioPrincipal !== undefined && { stdioPrincipal }),
    ...(config.transports?.http !== undefined && { http: config.transports.http }),
    quotas: quotaPolicy(config.quotas),
    ...(quotaStore !== undefined && { quotaStore }),
    tools: Object.entries(config.tools ?? {}).map(([name, tool]) => ({
      ...tool,
      name,
      parameters: tool.parameters ?? {},
    })),
    entities: Object.entries(config.entities ?? {}).map(([name, entity]) => {
      // Checked: [catalog.]schema.table, no wildcard.
      const table = parseTablePattern(entity.table, { catalogs: true }) as TablePattern;
      return {
        name,
        source: entity.source,
        ...(table.catalog !== undefined && { catalog: table.catalog }),
        schema: table.schema,
        table: table.table,
        aliases: entity.aliases ?? [],
        description: entity.description,
        columns: { ...entity.columns },
      };
    }),
    writesEnabled,
    untrustedData: config.governance?.untrustedData ?? 'framed',
    audit: { destination: config.audit?.destination ?? 'stderr' },
    logging: { level: config.logging?.level ?? 'info' },
    ...(config.telemetry !== undefined && { telemetry: normalizeTelemetry(config.telemetry) }),
  };
}

/**
 * The parts of a configuration the schema accepts, when it refuses the
 * whole: each section parsed on its own, and each entry of a map (a source,
 * a role, a principal, a tool) on its own. What is refused is left out and
 * its key recorded in `broken`, so the cross-checks can run on the rest
 * without reporting a reference to it as missing.
 */
function salvage(value: unknown, broken: Set<string>): ParsedConfig {
  const input = (value ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(ConfigSchema.shape)) {
    const section = input[key];
    if (section === undefined) continue;
    const inner = schema instanceof z.ZodOptional ? schema.unwrap() : schema;
    if (inner instanceof z.ZodRecord && section !== null && typeof section === 'object') {
      const entries: Record<string, unknown> = {};
      for (const [name, entry] of Object.entries(section)) {
        const parsed = (inner.valueType as z.ZodType).safeParse(entry);
        if (parsed.success && (inner.keyType as z.ZodType).safeParse(name).success)
          entries[name] = parsed.data;
        else broken.add(`${key}.${name}`);
      }
      out[key] = entries;
    } else {
      const parsed = schema.safeParse(section);
      if (parsed.success) out[key] = parsed.data;
      else broken.add(key);
    }
  }
  out.sources ??= {};
  out.principals ??= {};
  return out as ParsedConfig;
}

/** Options of loading a configuration: adapters of the embedder's own, how packages are imported. */
export interface LoadOptions {
  /** Adapter plugins to use for their kinds, beside (or instead of) the built-in packages. */
  readonly adapters?: readonly AdapterPlugin[];
  /** How an adapter package is imported (tests: to play one that is not installed). */
  readonly importPackage?: ImportPackage;
}

/** The kinds a configuration names, read before validation (to import their adapters). */
function kindsOf(value: unknown): string[] {
  const sources = (value as { sources?: unknown } | null)?.sources;
  if (sources === null || typeof sources !== 'object') return [];
  return [
    ...new Set(
      Object.values(sources)
        .map((source) => (source as { kind?: unknown } | null)?.kind)
        .filter((kind): kind is string => typeof kind === 'string'),
    ),
  ];
}

/**
 * Imports the adapters of the kinds a configuration names (only those: a
 * PostgreSQL configuration never loads mysql2).
 */
export async function loadAdapters(
  kinds: Iterable<string>,
  options: LoadOptions = {},
): Promise<LoadedAdapters> {
  const catalog = adapterCatalog({
    ...(options.adapters !== undefined && { plugins: options.adapters }),
    ...(options.importPackage !== undefined && { importPackage: options.importPackage }),
  });
  const plugins = new Map<string, AdapterPlugin | AdapterLoadFailure>();
  for (const kind of kinds) {
    if (catalog.kinds.includes(kind)) plugins.set(kind, await catalog.load(kind));
  }
  return { catalog, plugins };
}

/**
 * Validates a configuration object as parsed from YAML (before
 * interpolation), after importing the adapters of the kinds it names.
 */
export async function loadConfig(
  raw: unknown,
  env: Environment,
  options: LoadOptions = {},
): Promise<ConfigResult> {
  const problems: string[] = [];
  const interpolated = interpolate(raw, env, problems);
  const adapters = await loadAdapters(kindsOf(interpolated.value), options);
  return validateInterpolated(interpolated, env, adapters, problems);
}

/**
 * A union's own issue ("Invalid input") replaced by the issues of its one
 * branch of the value's type: `store: { url, namespace: "a b" }` is told
 * what is wrong with its namespace, not that it is neither a string nor a
 * valid object.
 */
function branchIssues(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
    const ofType = issue.errors.filter(
      (branch) => !branch.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0),
    );
    if (ofType.length !== 1) return [issue];
    return branchIssues(
      (ofType[0] as z.core.$ZodIssue[]).map((inner) => ({
        ...inner,
        path: [...issue.path, ...inner.path],
      })),
    );
  });
}

function validateInterpolated(
  interpolated: Interpolated,
  env: Environment,
  adapters: LoadedAdapters,
  problems: string[],
): ConfigResult {
  const { value, fromEnv, unresolved } = interpolated;
  const parsed = ConfigSchema.safeParse(value);
  const broken = new Set<string>();
  let config: ParsedConfig;
  if (parsed.success) {
    config = parsed.data;
  } else {
    for (const issue of branchIssues(parsed.error.issues)) {
      const key = keyOf(issue.path as Array<string | number>);
      // A key whose variable is missing was already reported; its empty value's issues would only repeat it.
      if (!unresolved.has(key)) problems.push(`${key}: ${issue.message}`);
    }
    config = salvage(value, broken);
  }
  const checked = checkSources(config, fromEnv, adapters, problems);
  checkReferences(config, broken, problems);
  checkCostGates(config, checked, broken, problems);
  checkEntities(config, broken, problems);
  checkDatabaseIdentities(config, fromEnv, broken, problems);
  checkLimits(config, serverLimits(config), problems);
  checkTelemetryConfig(config, fromEnv, problems);
  const quotaStore = checkQuotaStore(config, fromEnv, problems);
  const writesEnabled = checkWritesSwitch(env, problems);
  const confirmKey = checkConfirmKey(env, problems);
  const governance = checkGovernance(config, fromEnv, broken, problems);
  if (problems.length > 0) return { ok: false, problems };
  const normalized = {
    ...normalize(config, checked, writesEnabled, quotaStore),
    columnPolicies: governance.columnPolicies,
    ...(governance.maskKey !== undefined && { maskKey: governance.maskKey }),
  };
  return {
    ok: true,
    config: confirmKey === undefined ? normalized : { ...normalized, confirmKey },
  };
}

/** Parses YAML text and validates it. */
export async function parseConfig(
  text: string,
  env: Environment,
  options: LoadOptions = {},
): Promise<ConfigResult> {
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
  return loadConfig(raw, env, options);
}

export async function loadConfigFile(
  path: string,
  env: Environment,
  options: LoadOptions = {},
): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { ok: false, problems: [`(file): cannot read ${path}`] };
  }
  return parseConfig(text, env, options);
}

/** Throws the problems as one ConfigError (for callers that prefer exceptions). */
export function assertConfig(result: ConfigResult): NormalizedConfig {
  if (!result.ok) throw new ConfigError('Invalid sqlwarden configuration', result.problems);
  return result.config;
}
