/**
 * Assembly: from a normalized configuration to everything a transport
 * needs. Adapters per source, the capability policy, the quota gate, the
 * audit sink, the tools and the boundary's dependencies, plus session
 * contexts per principal. Start-up also reads each source's function
 * catalog (for the guard) and logs the least-privilege report.
 *
 * A source whose database is down at start-up does not stop the server:
 * its catalog is retried in the background, and its reads are refused
 * (DB_UNAVAILABLE) until the catalog is known, never checked without it.
 * Column policies (governance.columns) are checked against each catalog
 * read at start-up: one naming a table or column that does not exist
 * stops start-up (column-policies.ts).
 */
import { randomUUID } from 'node:crypto';
import {
  type AdapterSource,
  type AnyTool,
  type BoundaryDeps,
  ConfigError,
  createToolRegistry,
  type DatabaseAdapter,
  type FunctionCatalog,
  type SessionContext,
  type ToolRegistry,
  type Transport,
} from '@sqlwarden/core';
import {
  CapabilityPolicy,
  createAuditSink,
  createLogger,
  type LogDestination,
  MIN_SCRUBBABLE_LENGTH,
  type PinoAuditSink,
  serializeError,
} from '@sqlwarden/security';
import {
  createGuard,
  DEFAULT_MAX_LENGTH,
  type FunctionPolicy,
  loadSqlGuard,
  tableAllowed,
} from '@sqlwarden/sql-guard';
import {
  BUILT_IN_TOOLS,
  type ColumnGovernance,
  connxTools,
  createReadTools,
  createSourceDirectory,
  type DeclaredToolSpec,
  declareTool,
  describeEntitiesTool,
  executeWriteTool,
  type GuardState,
  type SourceBinding,
  type SourceDirectory,
} from '@sqlwarden/tools';
import type { Logger } from 'pino';
import type { ToolCallTelemetry } from './call-telemetry.js';
import {
  assertColumnPolicies,
  columnGovernanceOf,
  columnPolicyProblems,
  maskerOf,
} from './column-policies.js';
import { MIN_STRONG_PASSWORD_LENGTH } from './config/checks.js';
import type { NormalizedConfig, NormalizedSource } from './config/load.js';
import { isLoopbackHost } from './config/url.js';
import { type ConfirmationCodec, confirmationCodecOf } from './confirm.js';
import { databaseIdentities } from './identities.js';
import { createQuotas } from './quotas.js';
import { startTelemetry, type TelemetryEnvironment } from './telemetry.js';

/** What a verified credential adds to its principal's session. */
export interface SessionGrants {
  /** Roles granted by the credential's scopes (added to the principal's own). */
  readonly roles?: readonly string[];
  /** Epoch ms after which the session is refused (the token's expiry). */
  readonly expiresAt?: number;
  /** The verified person behind the principal (OAuth: the principalClaim's value), for `sqlwarden.subject`. */
  readonly subject?: string;
}

export interface RuntimeOptions {
  readonly config: NormalizedConfig;
  /** The operator logger (default: pino on stderr at the configured level). */
  readonly logger?: Logger;
  /** Overrides the configured audit destination (tests). */
  readonly auditDestination?: LogDestination;
  /** How long start-up waits for each source's catalog before going on without it (default 5 s). */
  readonly catalogTimeoutMs?: number;
  /** How often a missing catalog is retried (default 5 s). */
  readonly catalogRetryMs?: number;
  /** Where the OTEL_* variables are read (default `process.env`, as every OpenTelemetry SDK reads them). */
  readonly env?: TelemetryEnvironment;
  /** Confirmed writes: how long a person has to answer (default five minutes), the clock (tests). */
  readonly confirmations?: { readonly ttlMs?: number; readonly now?: () => number };
}

export interface Runtime {
  readonly config: NormalizedConfig;
  readonly registry: ToolRegistry;
  readonly deps: BoundaryDeps;
  readonly logger: Logger;
  readonly audit: PinoAuditSink;
  readonly sources: readonly SourceBinding[];
  /** Tool calls' spans and metrics, when telemetry is on (docs/observability.md); undefined when off. */
  readonly telemetry?: ToolCallTelemetry;
  /**
   * Signs and checks the confirmations of writes a human confirms
   * (confirm.ts). Absent: such writes are refused (CONFIRMATION_REQUIRED).
   */
  readonly confirmations?: ConfirmationCodec;
  /**
   * A fresh session context for a principal on a transport; `grants` adds
   * what a verified credential carries (roles from its scopes, its expiry).
   */
  session(transport: Transport, principalId: string, grants?: SessionGrants): SessionContext;
  close(): Promise<void>;
}

/** A source as its kind's plugin sees it; secrets stay in their Secrets until a connection opens. */
function adapterSource(source: NormalizedSource, config: NormalizedConfig): AdapterSource {
  const c = source.connection;
  const { url, password } = c;
  return {
    id: source.id,
    defaultSchema: source.defaultSchema,
    statementTimeoutMs: Math.min(
      source.limits.timeoutMs ?? config.server.limits.timeoutMs,
      config.server.limits.timeoutMs,
    ),
    allowWrites: writesPossible(source, config),
    pool: source.pool,
    connection: {
      ...(url !== undefined && { url: () => url.reveal() }),
      ...(c.host !== undefined && { host: c.host }),
      ...(c.port !== undefined && { port: c.port }),
      ...(c.database !== undefined && { database: c.database }),
      ...(c.user !== undefined && { user: c.user }),
      ...(password !== undefined && { password: () => password.reveal() }),
      ...(c.ssl !== undefined && { ssl: c.ssl }),
      ...(c.pooling !== undefined && { pooling: c.pooling }),
      ...(c.odbc !== undefined && {
        odbc: {
          connectionString: () => (c.odbc as NonNullable<typeof c.odbc>).connectionString.reveal(),
          ...(c.odbc.profile !== undefined && { profile: c.odbc.profile }),
          ...(c.odbc.fetchSize !== undefined && { fetchSize: c.odbc.fetchSize }),
          ...(c.odbc.trimChar !== undefined && { trimChar: c.odbc.trimChar }),
          ...(c.odbc.workerMemoryMb !== undefined && { workerMemoryMb: c.odbc.workerMemoryMb }),
        },
      }),
    },
  };
}

/**
 * Whether a source's adapter may write at all: writable tables, a server that
 * is not read-only, and the deployment switch. The adapter refuses otherwise,
 * beneath the boundary's gate and the tools' checks (defence in depth).
 */
function writesPossible(source: NormalizedSource, config: NormalizedConfig): boolean {
  return source.writable.length > 0 && !config.server.readOnly && config.writesEnabled;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A source binding whose function policy is loaded at start-up and retried while missing. */
class Source {
  state: GuardState = { ready: false };
  #retry: NodeJS.Timeout | undefined;
  readonly binding: SourceBinding;
  /** The principals' database identities on this source (identities.ts); undefined: none. */
  databaseAccess: SourceBinding['databaseAccess'];

  constructor(
    readonly config: NormalizedSource,
    readonly adapter: DatabaseAdapter,
    readonly logger: Logger,
    principals: NormalizedConfig['principals'],
    qualifiedNamesOnly: boolean,
    untrustedData: NormalizedConfig['untrustedData'],
    /** The column policies naming this source (column-policies.ts), if any. */
    readonly columnPolicies?: ColumnGovernance,
  ) {
    const id = config.id;
    this.binding = {
      id: config.id,
      adapter,
      dialect: config.dialect,
      defaultSchema: config.defaultSchema,
      ...(config.defaultCatalog !== undefined && { defaultCatalog: config.defaultCatalog }),
      readable: config.tables,
      writable: config.writable,
      // The postgres and mariadb ODBC profiles pin the session's schema (and
      // the database is the catalog); CONNX and unknown drivers resolve
      // shorter names themselves: there, only catalog.schema.table is sent.
      // The kind's plugin says whether its driver resolves shorter names
      // itself (CONNX, across catalogs): then only catalog.schema.table is sent.
      ...(qualifiedNamesOnly && { qualifiedNamesOnly: true }),
      limits: config.limits,
      // A principal's own ceiling for this source replaces the source's (not merged).
      costCeiling: (principalId) =>
        (Object.hasOwn(principals, principalId)
          ? principals[principalId]?.costGate[id]
          : undefined) ?? config.costGate,
      functionPolicy: this.staticFunctionPolicy(),
      // A human confirms every write on this source (docs/governance.md).
      ...(config.confirmWrites && { confirmWrites: true }),
      // How the tools give this source's text to a model (governance.untrustedData).
      untrustedData,
      ...(columnPolicies !== undefined && { columnPolicies }),
      // Who each principal is to this database (identities.ts), set after construction.
      databaseAccess: (principalId) => this.databaseAccess?.(principalId),
      guard: () => this.state,
    };
  }

  /** The function policy known without the catalog: the operator's allow list, and where it is. */
  staticFunctionPolicy(): FunctionPolicy {
    return {
      allow: this.config.allowFunctions,
      allowedBy: `sources.${this.config.id}.functions.allow`,
    };
  }

  async load(timeoutMs: number): Promise<boolean> {
    if (this.adapter.functionCatalog === undefined) {
      this.state = this.#guard(undefined);
      return true;
    }
    try {
      const catalog = await withTimeout(this.adapter.functionCatalog(), timeoutMs);
      this.state = this.#guard(catalog);
      return true;
    } catch (error) {
      this.logger.warn(
        { source: this.config.id, err: serializeError(error) },
        'cannot read the function catalog of this source; its reads are refused until it can',
      );
      return false;
    }
  }

  /** The source's guard: its dialect, schema, tables and function policy, with a verdict cache. */
  #guard(catalog: FunctionCatalog | undefined): GuardState {
    // The guard's own rules apply whatever the policy: the built-in deny list of
    // functions with side effects, and default deny for every function that is
    // not known to compute only on its arguments (system functions included).
    // The operator's allow list lifts the second; the catalog adds its own refusals.
    const functionPolicy: FunctionPolicy = {
      ...this.staticFunctionPolicy(),
      volatile: catalog?.volatile ?? [],
      deny: catalog?.userDefined ?? [],
      // Default deny for functions created after the catalog was read.
      ...(catalog?.system !== undefined && { known: catalog.system }),
    };
    const guard = createGuard({
      dialect: this.config.dialect,
      defaultSchema: this.config.defaultSchema,
      ...(this.config.defaultCatalog !== undefined && {
        defaultCatalog: this.config.defaultCatalog,
      }),
      allowedTables: this.config.tables,
      writableTables: this.config.writable,
      // Write tools report affected rows only: a write must not become a read.
      allowReturning: false,
      maxLength: DEFAULT_MAX_LENGTH,
      functionPolicy,
    });
    return { ready: true, guard };
  }

  retryUntilLoaded(intervalMs: number, timeoutMs: number) {
    if (this.state.ready || this.#retry !== undefined) return;
    this.#retry = setInterval(async () => {
      if (await this.load(timeoutMs)) {
        clearInterval(this.#retry);
        this.#retry = undefined;
        this.logger.info({ source: this.config.id }, 'function catalog loaded; reads are served');
        // Too late to refuse start-up: a policy that does not hold is logged, and its calls refused.
        const problems = await columnPolicyProblems(
          this.config.id,
          this.columnPolicies,
          this.logger,
        );
        for (const problem of problems) this.logger.error({ source: this.config.id }, problem);
      }
    }, intervalMs);
    this.#retry.unref();
  }

  stop() {
    clearInterval(this.#retry);
    this.#retry = undefined;
  }
}

export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logging.level });
  const catalogTimeoutMs = options.catalogTimeoutMs ?? 5000;
  await loadSqlGuard();
  // Before the adapters: their spans and pool metrics find the providers registered.
  const telemetry = await startTelemetry(config.telemetry, {
    env: options.env ?? process.env,
    logger,
  });

  const masker = maskerOf(config, logger);
  const identities = databaseIdentities(config, logger);
  const sources = config.sources.map((s) => {
    const plugged = adapterSource(s, config);
    const adapter = s.adapter.create(plugged, { logger });
    const source = new Source(
      s,
      adapter,
      logger,
      config.principals,
      s.adapter.qualifiedNamesOnly?.(plugged) === true,
      config.untrustedData,
      columnGovernanceOf(s, adapter, config, masker, logger),
    );
    source.databaseAccess = identities.accessOf(s, plugged, adapter);
    return source;
  });
  const policyProblems: string[] = [];
  await Promise.all(
    sources.map(async (source) => {
      const loaded = await source.load(catalogTimeoutMs);
      if (!loaded) {
        source.retryUntilLoaded(options.catalogRetryMs ?? 5000, catalogTimeoutMs);
        return;
      }
      await reportPrivileges(source, logger, catalogTimeoutMs);
      policyProblems.push(
        ...(await columnPolicyProblems(source.config.id, source.columnPolicies, logger)),
      );
    }),
  );
  if (policyProblems.length > 0) {
    await Promise.allSettled([...sources.map((s) => s.adapter.close()), identities.close()]);
    assertColumnPolicies(policyProblems);
  }

  warnAboutPlainText(config, logger);
  warnAboutWeakPasswords(config, logger);
  const directory = createSourceDirectory(
    sources.map((s) => s.binding),
    config.server.defaultSource,
  );
  const registry = createToolRegistry(toolsOf(config, directory));
  warnAboutWrites(config, logger);
  const confirmations = confirmationCodecOf(config.confirmKey, options.confirmations);
  tellAboutConfirmations(config, logger);
  const audit = createAuditSink({
    destination: options.auditDestination ?? config.audit.destination,
    tools: registry.list().map((tool) => tool.name),
  });
  const quotas = await createQuotas(config, logger);
  const deps: BoundaryDeps = {
    registry,
    authorizer: new CapabilityPolicy({ roles: config.roles }),
    quota: quotas.gate,
    audit,
    limits: config.server.limits,
    readOnly: config.server.readOnly,
    writesEnabled: config.writesEnabled,
    onInternalError: (error, where) => logger.error({ err: error, ...where }, 'internal failure'),
  };

  let closing: Promise<void> | undefined;
  return {
    config,
    registry,
    deps,
    logger,
    audit,
    sources: sources.map((s) => s.binding),
    ...(telemetry !== undefined && { telemetry: telemetry.calls }),
    confirmations,
    session(transport, principalId, grants) {
      const principal = config.principals[principalId];
      if (principal === undefined) throw new Error(`Unknown principal ${principalId}`);
      const roles = new Set([...principal.roles, ...(grants?.roles ?? [])]);
      // Deeply frozen: nothing can widen it, and the boundary validates it once.
      return Object.freeze({
        sessionId: randomUUID(),
        principalId: principal.id,
        capabilities: Object.freeze([...principal.capabilities]),
        roles: Object.freeze([...roles]),
        transport,
        readOnly: config.server.readOnly || principal.readOnly,
        ...(grants?.expiresAt !== undefined && { expiresAt: grants.expiresAt }),
        ...(grants?.subject !== undefined && { subject: grants.subject }),
      });
    },
    close() {
      closing ??= (async () => {
        for (const source of sources) source.stop();
        await Promise.allSettled([
          ...sources.map((s) => s.adapter.close()),
          // The principals' own pools (MySQL identities).
          identities.close(),
          quotas.close(),
        ]);
        await audit.flush();
        // The last calls' spans and metrics, sent within a bounded time.
        await telemetry?.shutdown();
      })();
      return closing;
    },
  };
}

/**
 * The registered tools: the read tools, describe_entities when entities are
 * configured, execute_write where a write could ever pass (a writable source
 * on a server that is not read-only), and the tools declared in the
 * configuration, each checked now: a declared read tool whose statement is
 * not a read stops start-up.
 */
function toolsOf(config: NormalizedConfig, directory: SourceDirectory): AnyTool[] {
  const connx = config.server.toolset === 'connx';
  const writes = !config.server.readOnly && config.sources.some((s) => s.writable.length > 0);
  // The CONNX toolset serves the reference server's two tools in place of query_read and execute_write.
  const tools = createReadTools(directory).filter(
    (tool) => !connx || tool.name !== BUILT_IN_TOOLS.queryRead,
  );
  if (connx) tools.push(...connxTools(directory, { writes }));
  // Without entities the tool could only ever answer nothing: not registered,
  // so a model is not offered it (docs/resources.md).
  if (config.entities.length > 0) tools.push(describeEntitiesTool(config.entities, directory));
  if (writes && !connx) tools.push(executeWriteTool(directory));
  const problems: string[] = [];
  for (const spec of config.tools) {
    const declared = declareTool(spec as DeclaredToolSpec, directory);
    if (declared.ok) tools.push(declared.tool);
    else problems.push(...declared.problems);
  }
  if (problems.length > 0) throw new ConfigError('the declared tools have problems', problems);
  return tools;
}

/**
 * A source on another machine without TLS: its credentials and every row
 * cross the network in clear text. Said once at start-up, naming the source
 * and its host (never the URL). node-postgres turns TLS on from PGSSLMODE
 * when the configuration says nothing; that counts as configured.
 */
function warnAboutPlainText(config: NormalizedConfig, logger: Logger) {
  for (const source of config.sources) {
    // An ODBC source's TLS is its driver's, set in the connection string (docs/connx.md).
    if (source.kind === 'odbc') continue;
    const { ssl, hostName } = source.connection;
    if (ssl !== undefined && ssl !== false) continue;
    if (isLoopbackHost(hostName)) continue;
    const pgEnv = process.env.PGSSLMODE;
    if (
      ssl === undefined &&
      source.kind === 'postgres' &&
      pgEnv !== undefined &&
      pgEnv !== 'disable'
    ) {
      continue;
    }
    logger.warn(
      { source: source.id, host: hostName },
      'TLS is off for a database on another host: its password and every row cross the network in clear text; add ?sslmode=verify-full to the URL or ssl: true (docs/configuration.md#tls)',
    );
  }
}

/**
 * Short passwords: guessable, and under 4 characters not even scrubbed from
 * the logs (replacing every occurrence of such a string would destroy them).
 * Said once at start-up, naming the key and the length, never the value.
 */
function warnAboutWeakPasswords(config: NormalizedConfig, logger: Logger) {
  for (const source of config.sources) {
    for (const [key, length] of source.connection.weakPasswords) {
      logger.warn(
        { source: source.id, key, length },
        `the password in ${key} has ${length} characters: use a long random one (${MIN_STRONG_PASSWORD_LENGTH} or more)${length < MIN_SCRUBBABLE_LENGTH ? '; one this short cannot even be scrubbed from the logs' : ''}`,
      );
    }
  }
}

/** Writes configured but held off by another layer: said once at start-up, so nobody wonders. */
function warnAboutWrites(config: NormalizedConfig, logger: Logger) {
  const writable = config.sources.filter((s) => s.writable.length > 0).map((s) => s.id);
  if (writable.length === 0) return;
  if (config.server.readOnly) {
    logger.warn(
      { sources: writable },
      'sources have writable tables but server.readOnly is true: every write is refused',
    );
  } else if (!config.writesEnabled) {
    logger.warn(
      { sources: writable },
      'sources have writable tables but SQLWARDEN_ALLOW_WRITES is not true: every write is refused (WRITES_DISABLED)',
    );
  } else {
    logger.info(
      { sources: writable },
      'writes are enabled on these sources, for principals with write: grants',
    );
  }
}

/**
 * Writes a human confirms, said once at start-up with where their key comes
 * from: a random key of this process only serves clients that come back to
 * this process (stdio, one HTTP process), not replicas behind one address.
 */
function tellAboutConfirmations(config: NormalizedConfig, logger: Logger) {
  const sources = config.sources.filter((s) => s.confirmWrites).map((s) => s.id);
  const tools = config.tools.filter((t) => t.confirm === true).map((t) => t.name);
  if (sources.length === 0 && tools.length === 0) return;
  logger.info(
    { sources, tools, sharedKey: config.confirmKey !== undefined },
    config.confirmKey !== undefined
      ? 'writes on these sources and tools need a person to confirm them; confirmations are signed with SQLWARDEN_CONFIRM_KEY'
      : 'writes on these sources and tools need a person to confirm them; confirmations are signed with a key of this process: set SQLWARDEN_CONFIRM_KEY when several replicas serve one address',
  );
}

async function reportPrivileges(source: Source, logger: Logger, timeoutMs: number) {
  if (source.adapter.privilegeReport === undefined) return;
  try {
    const report = await withTimeout(
      source.adapter.privilegeReport({
        readOnly: source.config.writable.length === 0,
        serves: (schema, table) => tableAllowed(source.config.tables, schema, table),
      }),
      timeoutMs,
    );
    for (const warning of report.warnings) logger.warn({ source: source.config.id }, warning);
  } catch (error) {
    logger.warn(
      { source: source.config.id, err: serializeError(error) },
      'could not check the privileges of this source',
    );
  }
}
