/**
 * The configuration file, as written (after ${VAR} interpolation). Every
 * object is strict: an unknown key is an error naming it. This schema is
 * also published as JSON Schema (sqlwarden.schema.json) for editors.
 */
import { parseTablePattern, TABLE_PATTERN_PROBLEM } from '@sqlwarden/core';
import { z } from 'zod';

/**
 * What an editor accepts where the file may hold ${VAR} (interpolated before
 * validation, so the server itself only ever sees the value).
 */
const EDITOR_INT_TEXT = '^(\\d+|\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-\\d*)?\\})$';

/**
 * A whole number, also accepted as text (the value of an environment
 * variable). The meta only shapes the published JSON Schema: the range for
 * editors (JSON Schema's minimum and maximum apply to numbers only), and
 * ${VAR} as text.
 */
const int = (min: number, max: number) =>
  z
    .union([
      z.number().int(),
      z
        .string()
        .regex(/^\d+$/, 'must be a whole number')
        .meta({ pattern: EDITOR_INT_TEXT })
        .transform(Number),
    ])
    .pipe(z.number().int().min(min).max(max))
    .meta({ minimum: min, maximum: max });

const id = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_-]{0,63}$/,
    'must start with a letter and hold only letters, digits, _ and -',
  );

const LimitsSchema = z.strictObject({
  maxRows: int(1, 1_000_000).optional().describe('Rows a read returns at most.'),
  maxBytes: int(1024, 1_073_741_824)
    .optional()
    .describe('Serialized bytes a read returns at most.'),
  timeoutMs: int(100, 3_600_000).optional().describe('Milliseconds a statement may run.'),
  maxAffectedRows: int(1, 1_000_000)
    .optional()
    .describe('Rows one write may change; over it the write is rolled back.'),
});

/** A positive number, also as text (from ${VAR}). */
const positive = (max: number) =>
  z
    .union([
      z.number(),
      z
        .string()
        .regex(/^\d+(\.\d+)?$/, 'must be a number')
        .transform(Number),
    ])
    .pipe(z.number().positive().max(max))
    .meta({ exclusiveMinimum: 0, maximum: max });

const CostGateSchema = z
  .strictObject({
    maxCost: positive(1e15)
      .optional()
      .describe(
        "Ceiling on the planner's cost estimate (PostgreSQL: the plan's total cost; MySQL: query_cost; MariaDB: Last_query_cost).",
      ),
    maxRows: int(1, 1e15)
      .optional()
      .describe(
        "Ceiling on the planner's row estimate (PostgreSQL: rows the plan returns; MySQL/MariaDB: rows examined).",
      ),
  })
  .refine((gate) => gate.maxCost !== undefined || gate.maxRows !== undefined, {
    message: 'give maxCost, maxRows or both',
  })
  .describe(
    'The cost gate: a read whose planner estimate (EXPLAIN, never run) exceeds a ceiling is refused (COST_LIMIT_EXCEEDED) before it runs. Off unless given.',
  );

// Checked by core's parser; the regular expression only tells editors (JSON Schema).
// Three-part patterns (catalog.schema.table) pass here; the checks accept them
// only on ODBC sources (checks.ts), where the dialect is known.
const TablePattern = z
  .string()
  .refine(
    (text) => parseTablePattern(text, { catalogs: true }) !== undefined,
    `${TABLE_PATTERN_PROBLEM}; ODBC sources also take catalog.schema.table and catalog.schema.*`,
  )
  .meta({ pattern: '^[^.*\\s]+\\.([^.*\\s]+\\.)?(\\*|[^.*\\s]+)$' });

const SourceSchema = z.strictObject({
  kind: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be the name of a kind of source, such as postgres')
    // The kinds are the adapters' (their packages are imported for the kinds configured);
    // the built-in ones are listed for editors.
    .meta({ examples: ['postgres', 'mysql', 'odbc'] })
    .describe(
      'The kind of database: postgres (PostgreSQL, @sqlwarden/adapter-postgres), mysql (MySQL and MariaDB, @sqlwarden/adapter-mysql) or odbc (CONNX and other ODBC drivers, @sqlwarden/adapter-connx).',
    ),
  url: z
    .string()
    .min(1)
    .optional()
    .describe(
      'postgres://user@host:port/database or mysql://user@host:port/database; put it in an environment variable: ${DATABASE_URL}.',
    ),
  host: z.string().min(1).optional(),
  port: int(1, 65_535).optional(),
  database: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  password: z.string().optional().describe('Only as ${VAR}: secrets come from the environment.'),
  ssl: z
    .union([
      z.boolean(),
      z.strictObject({
        mode: z
          .enum(['require', 'verify-ca', 'verify-full'])
          .optional()
          .describe(
            'What TLS verifies: require (encryption only), verify-ca (the certificate chain), verify-full (chain and host name; the default).',
          ),
        ca: z.string().optional().describe('The CA certificate as PEM text, e.g. ${PG_CA_PEM}.'),
        cert: z.string().optional().describe('A client certificate as PEM text.'),
        key: z.string().optional().describe("The client certificate's key as PEM text: ${VAR}."),
      }),
    ])
    .optional()
    .describe(
      'TLS to the database: true (verify-full), false (off), or an object. A URL may carry sslmode instead.',
    ),
  pooling: z
    .enum(['session', 'transaction', 'statement'])
    .optional()
    .describe(
      'postgres sources only: what stands between sqlwarden and the server. session (default): a direct connection or a pooler in session mode; transaction: PgBouncer pool_mode=transaction, every read and write then sets up its own transaction (read-only, time limit, search_path); statement: refused (use pool_mode=transaction).',
    ),
  odbc: z
    .strictObject({
      connectionString: z
        .string()
        .min(1)
        .describe(
          'The ODBC connection string (DSN=...;UID=...;PWD=... or DRIVER={...};SERVER=...). One holding PWD= must be one whole ${VAR}.',
        ),
      profile: z
        .enum(['connx', 'postgres', 'mariadb', 'generic'])
        .optional()
        .describe(
          'The driver the string names: the options and read-only session set-up sqlwarden adds (default generic).',
        ),
      fetchSize: int(1, 10_000)
        .optional()
        .describe('Rows per ODBC fetch (not for mariadb, which fetches row by row).'),
      trimChar: z
        .boolean()
        .optional()
        .describe(
          'Right-trim the spaces of fixed-width CHAR values (what RTRIM around every column does; default false: values as the database returns them).',
        ),
      workerMemoryMb: int(64, 65_536)
        .optional()
        .describe(
          "The ODBC worker process's memory limit in MB (default 512): past it the worker is stopped and the statements in flight fail. For drivers that read whole results into memory.",
        ),
    })
    .optional()
    .describe(
      'The connection of a kind: odbc source (@sqlwarden/adapter-connx), instead of url or host.',
    ),
  defaultSchema: z
    .string()
    .min(1)
    .max(63)
    .optional()
    .describe('Where unqualified table names resolve (default public).'),
  defaultCatalog: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe(
      'ODBC sources that name tables catalog.schema.table (CONNX) only: the catalog schema.table and unqualified names resolve to. Without it such a name is refused as ambiguous.',
    ),
  tables: z
    .array(TablePattern)
    .min(1)
    .describe(
      'The tables this source serves: schema.table or schema.* patterns (catalog.schema.table or catalog.schema.* on ODBC sources that name catalogs).',
    ),
  writable: z
    .array(TablePattern)
    .optional()
    .describe(
      'The served tables write tools may change (default none: a read-only source). Writes also need server.readOnly: false, SQLWARDEN_ALLOW_WRITES=true and write: grants.',
    ),
  limits: LimitsSchema.optional().describe(
    'Limits of this source; they can only lower the server limits.',
  ),
  costGate: CostGateSchema.optional(),
  confirmWrites: z
    .boolean()
    .optional()
    .describe(
      'Every write on this source needs a human to confirm it (MCP 2026-07-28 input requests): the server shows the table, the operation and the rows a dry run would change, and runs the write only on an explicit accept. Clients that cannot ask are refused with CONFIRMATION_REQUIRED (docs/governance.md).',
    ),
  pool: z
    .strictObject({
      max: int(1, 100).optional(),
      idleTimeoutMs: int(1000, 3_600_000).optional(),
      connectionTimeoutMs: int(100, 120_000).optional(),
    })
    .optional(),
  functions: z
    .strictObject({
      allow: z
        .array(z.string().min(1))
        .optional()
        .describe(
          'Functions statements may call although the guard refuses them by default: system functions that read server state (current_setting, pg_stat_get_activity...), user-defined and volatile functions, and MySQL system variables as @@name. Never the built-in deny list (pg_sleep, load_file...).',
        ),
    })
    .optional(),
});

const RateSchema = z.strictObject({
  burst: int(1, 1_000_000),
  perSecond: z
    .union([z.number(), z.string().transform(Number)])
    .pipe(z.number().positive().max(1_000_000)),
});

const QuotaStoreObjectSchema = z.strictObject({
  url: z
    .string()
    .min(1)
    .describe(
      'redis://host:port or rediss://host:port (TLS); a password in it only as one whole ${VAR}: ${SQLWARDEN_REDIS_URL}.',
    ),
  namespace: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" and "-", at most 64')
    .optional()
    .describe(
      'Prefix of every key (default "default"): deployments sharing one Redis count apart.',
    ),
  failOpen: z
    .enum(['none', 'reads'])
    .optional()
    .describe(
      'When Redis cannot answer: none (default) refuses every call with QUOTA_UNAVAILABLE; reads lets read tools run unmetered, never writes.',
    ),
  ca: z
    .string()
    .optional()
    .describe('The CA certificate of a rediss:// server as PEM text, e.g. ${REDIS_CA_PEM}.'),
});

const QuotaStoreSchema = z.union([z.string().min(1), QuotaStoreObjectSchema]);

const QuotaLimitsSchema = z.strictObject({
  rate: RateSchema.optional(),
  concurrency: int(1, 10_000).optional(),
});

const ParameterName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a parameter name: letters, digits and _');

const ParameterSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('string'),
    description: z.string().max(500).optional(),
    optional: z.boolean().optional().describe('May be left out (bound as NULL).'),
    default: z.string().optional(),
    minLength: int(0, 65_536).optional(),
    maxLength: int(1, 65_536).optional().describe('Default 4096.'),
    pattern: z.string().optional().describe('A regular expression the whole value must match.'),
    enum: z.array(z.string()).min(1).optional().describe('The only values allowed.'),
  }),
  z.strictObject({
    type: z.literal('integer'),
    description: z.string().max(500).optional(),
    optional: z.boolean().optional(),
    default: z.number().int().optional(),
    minimum: z.number().int().optional(),
    maximum: z.number().int().optional(),
  }),
  z.strictObject({
    type: z.literal('number'),
    description: z.string().max(500).optional(),
    optional: z.boolean().optional(),
    default: z.number().optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
  }),
  z.strictObject({
    type: z.literal('boolean'),
    description: z.string().max(500).optional(),
    optional: z.boolean().optional(),
    default: z.boolean().optional(),
  }),
]);

const DeclaredToolSchema = z.strictObject({
  title: z.string().min(1).max(100).optional(),
  description: z
    .string()
    .min(1)
    .max(2000)
    .describe('What the tool does, for the model that chooses it.'),
  source: id.describe('The source the statement runs on.'),
  kind: z.enum(['read', 'write']),
  sql: z
    .string()
    .min(1)
    .describe('One statement with :name placeholders, one per declared parameter.'),
  parameters: z.record(ParameterName, ParameterSchema).optional(),
  costGate: CostGateSchema.optional().describe(
    "Read tools: the cost gate of this tool's calls, instead of the source's and the principal's.",
  ),
  confirm: z
    .boolean()
    .optional()
    .describe(
      "Write tools: a human confirms each call before it runs (as the source's confirmWrites; docs/governance.md).",
    ),
});

// One served table, never a wildcard: an entity names exactly one table.
const EntityTable = z
  .string()
  .refine((text) => {
    const pattern = parseTablePattern(text, { catalogs: true });
    return pattern !== undefined && pattern.table !== '*';
  }, 'must be schema.table (catalog.schema.table on an ODBC source with catalogs), one table the source serves (no wildcard)')
  .meta({ pattern: '^[^.*\\s]+\\.([^.*\\s]+\\.)?[^.*\\s]+$' });

const EntitySchema = z.strictObject({
  source: id.describe('The source that serves the table.'),
  table: EntityTable.describe(
    'The table, as schema.table (catalog.schema.table on an ODBC source with catalogs); the source must serve it.',
  ),
  aliases: z
    .array(z.string().min(1).max(100))
    .max(50)
    .optional()
    .describe('Other names a user may call it by (clients, account holders...).'),
  description: z
    .string()
    .min(1)
    .max(2000)
    .describe('What the table holds, in the words of the business.'),
  columns: z
    .record(z.string().min(1).max(128), z.string().min(1).max(500))
    .optional()
    .describe('Per column name: a note on what it means.'),
});

const scopeName = z
  .string()
  .regex(
    /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/,
    'a scope: printable ASCII without spaces, quotes or backslashes',
  );

/** sqlwarden-http (apps/http-server, docs/http.md): where it listens and who may call it. */
const HttpTransportSchema = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .optional()
      .describe('The address to listen on (default 127.0.0.1). Any other needs auth.'),
    port: z.number().int().min(0).max(65535).optional().describe('Default 8080; 0 picks one.'),
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9._~/-]{0,200}$/, 'a path such as /mcp')
      .optional()
      .describe('The MCP endpoint (default /mcp).'),
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        "The endpoint's canonical URL as clients reach it (behind a proxy): the resource tokens must name (aud) and the Protected Resource Metadata's resource. Default: http(s)://host:port/path.",
      ),
    allowedOrigins: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Origins (scheme://host[:port]) a browser may call from; default: loopback origins only. A request with another Origin is 403.',
      ),
    allowedHosts: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Host header values accepted (DNS rebinding); default: loopback names when bound to loopback, else the publicUrl host.',
      ),
    bodyLimitBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .optional()
      .describe('The largest request body (default 1 MiB); a larger one is 413.'),
    headersTimeoutMs: z.number().int().min(100).max(120_000).optional(),
    requestTimeoutMs: z.number().int().min(1000).max(3_600_000).optional(),
    shutdownGraceMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .optional()
      .describe('How long a shutdown waits for calls in flight (default 10000).'),
    tls: z
      .strictObject({ keyFile: z.string().min(1), certFile: z.string().min(1) })
      .optional()
      .describe('Serve HTTPS with this key and certificate (PEM files).'),
    auth: z
      .strictObject({
        tokens: z
          .array(
            z.strictObject({
              principal: id,
              sha256: z
                .string()
                .regex(/^[0-9a-f]{64}$/, 'the SHA-256 of the token: 64 lower-case hex digits'),
              scopes: z.array(scopeName).optional(),
            }),
          )
          .optional()
          .describe(
            'Static bearer tokens, each stored as its SHA-256 (`sqlwarden-http --hash-token` prints it) and mapped to a principal.',
          ),
        oauth: z
          .strictObject({
            issuer: z.url(),
            jwksUri: z.url().optional(),
            audience: z
              .string()
              .min(1)
              .optional()
              .describe('The aud tokens must carry; default publicUrl (RFC 8707).'),
            algorithms: z
              .array(
                z.enum([
                  'RS256',
                  'RS384',
                  'RS512',
                  'PS256',
                  'PS384',
                  'PS512',
                  'ES256',
                  'ES384',
                  'ES512',
                  'EdDSA',
                ]),
              )
              .min(1)
              .optional(),
            clockToleranceSec: z.number().int().min(0).max(300).optional(),
            principalClaim: z.string().min(1).max(64).optional(),
            principals: z.record(z.string().min(1), id).optional(),
            defaultPrincipal: id.optional(),
            scopes: z.record(scopeName, z.array(z.string())).optional(),
            requiredScopes: z.array(scopeName).optional(),
          })
          .optional()
          .describe(
            'An OAuth 2.1 authorization server whose JWT access tokens this server accepts.',
          ),
      })
      .optional(),
  })
  .describe('sqlwarden-http: the Streamable HTTP transport.');

/** OpenTelemetry over OTLP/HTTP (docs/observability.md); the OTEL_* variables fill what is left out. */
const TelemetrySchema = z
  .strictObject({
    enabled: z
      .boolean()
      .optional()
      .describe('Export traces and metrics (default true when this key is present).'),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'The OTLP/HTTP collector, e.g. http://collector:4318: /v1/traces and /v1/metrics are added. Default OTEL_EXPORTER_OTLP_ENDPOINT (or its per-signal variables), else http://localhost:4318.',
      ),
    headers: z
      .record(
        z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'an HTTP header name'),
        z.string(),
      )
      .optional()
      .describe(
        'Headers sent with every export (authentication to the collector); each value only as one whole ${VAR}.',
      ),
    serviceName: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('service.name of the resource (default OTEL_SERVICE_NAME, else sqlwarden).'),
    traces: z.boolean().optional().describe('Export spans (default true).'),
    metrics: z.boolean().optional().describe('Export metrics (default true).'),
    metricsIntervalMs: int(100, 3_600_000)
      .optional()
      .describe(
        'How often metrics are exported (default OTEL_METRIC_EXPORT_INTERVAL, else 60000).',
      ),
    sampleRatio: z
      .union([
        z.number(),
        z
          .string()
          .regex(/^\d+(\.\d+)?$/, 'must be a number from 0 to 1')
          .transform(Number),
      ])
      .pipe(z.number().min(0).max(1))
      .meta({ minimum: 0, maximum: 1 })
      .optional()
      .describe(
        "The share of new traces sampled (0 to 1; default OTEL_TRACES_SAMPLER, else 1). A call that joins a caller's trace follows the caller's decision.",
      ),
  })
  .describe(
    'OpenTelemetry traces and metrics over OTLP/HTTP (docs/observability.md). Without this key, the OTEL_EXPORTER_OTLP_* variables switch it on.',
  );

const DatabaseIdentitySchema = z.strictObject({
  role: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a role name: letters, digits, _ and $')
    .optional()
    .describe(
      'PostgreSQL: the role each call of this principal runs as (SET LOCAL ROLE, inside its own transaction). The source user must be a member of it.',
    ),
  user: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe('MySQL/MariaDB: the database user of this principal (its own pool).'),
  password: z
    .string()
    .optional()
    .describe("MySQL/MariaDB: that user's password, only as one whole ${VAR}."),
});

const MaskSchema = z
  .enum(['null', 'hash', 'partial', 'redact'])
  .describe(
    'null: the value becomes null; hash: a keyed hash (HMAC-SHA-256 under governance.maskKey, stable within a deployment, so equal values still match); partial: only the last characters (keep, default 4); redact: a fixed marker.',
  );

const ColumnPolicySchema = z
  .strictObject({
    source: id.describe('The source of the table.'),
    table: z
      .string()
      .min(1)
      .describe('schema.table (catalog.schema.table on ODBC sources that name catalogs).'),
    columns: z.array(z.string().min(1).max(128)).min(1).describe('The columns this policy covers.'),
    action: z
      .enum(['deny', 'mask'])
      .describe(
        'deny: the columns may not be referenced anywhere in a statement (select list, WHERE, JOIN, ORDER BY, GROUP BY, functions, subqueries, *); mask: only as a plain output column, masked in the result.',
      ),
    mask: MaskSchema.optional().describe('How a masked value is shown (default redact).'),
    keep: int(1, 64).optional().describe('partial: how many trailing characters stay (default 4).'),
    roles: z
      .array(z.string())
      .optional()
      .describe('The roles the policy applies to. Without roles and principals: everyone.'),
    principals: z.array(id).optional().describe('The principals the policy applies to.'),
    except: z
      .strictObject({
        roles: z.array(z.string()).optional(),
        principals: z.array(id).optional(),
      })
      .optional()
      .describe('Roles and principals the policy never applies to.'),
  })
  .describe('A column policy (docs/governance.md).');

const GovernanceSchema = z
  .strictObject({
    columns: z
      .array(ColumnPolicySchema)
      .optional()
      .describe(
        'Column policies: deny or mask columns per principal or role. Where several apply to one column, the strictest wins (deny, then null, redact, hash, partial).',
      ),
    maskKey: z
      .string()
      .optional()
      .describe(
        'The key of hash masks, only as one whole ${VAR} (at least 32 characters). Without it, a random key per process: hashes then match only within one run.',
      ),
    untrustedData: z
      .enum(['framed', 'off'])
      .optional()
      .describe(
        'framed (default): text a model reads that comes from the database (rows, schema text, comments, entity descriptions) is framed as data between a per-response random boundary; off: unframed.',
      ),
  })
  .describe(
    'Data governance: column policies, masking, results framed as data (docs/governance.md).',
  );

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1).optional(),
    server: z
      .strictObject({
        name: z.string().min(1).max(64).optional(),
        readOnly: z.boolean().optional().describe('Refuse every write tool (default true).'),
        limits: LimitsSchema.optional(),
        defaultSource: id.optional(),
        toolset: z
          .enum(['default', 'connx'])
          .optional()
          .describe(
            "default: query_read and execute_write. connx: the CONNX reference server's query_connx { query } and update_connx { operation, query } in their place, on the default source (the --connx profile).",
          ),
      })
      .optional(),
    sources: z
      .record(id, SourceSchema)
      .refine((s) => Object.keys(s).length > 0, 'at least one source is needed'),
    roles: z.record(id, z.array(z.string())).optional(),
    principals: z.record(
      id,
      z.strictObject({
        roles: z.array(z.string()).optional(),
        capabilities: z.array(z.string()).optional(),
        readOnly: z.boolean().optional(),
        costGate: z
          .record(id, CostGateSchema)
          .optional()
          .describe(
            "Per source id: the cost gate of this principal's reads of that source, instead of the source's.",
          ),
        database: z
          .record(id, DatabaseIdentitySchema)
          .optional()
          .describe(
            "Per source id: who this principal is to the database (docs/governance.md). PostgreSQL: role (each call runs under SET LOCAL ROLE, with the subject in the transaction-local setting sqlwarden.subject for row-level security). MySQL/MariaDB: user and password, a pool of the principal's own.",
          ),
      }),
    ),
    governance: GovernanceSchema.optional(),
    transports: z
      .strictObject({
        stdio: z
          .strictObject({ principal: id.describe('The principal a stdio session runs as.') })
          .optional(),
        http: HttpTransportSchema.optional(),
      })
      .optional(),
    tools: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a tool name: lower-case letters, digits and _'),
        DeclaredToolSchema,
      )
      .optional()
      .describe('Purpose-built tools: a parameterized statement the model fills in.'),
    entities: z
      .record(id, EntitySchema)
      .optional()
      .describe(
        'Business names of served tables, for describe_entities and the entities:// resource.',
      ),
    quotas: z
      .strictObject({
        perPrincipal: QuotaLimitsSchema.optional(),
        perTool: QuotaLimitsSchema.optional(),
        tools: z.record(z.string(), QuotaLimitsSchema).optional(),
        store: QuotaStoreSchema.optional().describe(
          'Where quota state lives: absent, this process (one server); a Redis URL, shared by every replica (docs/quotas.md).',
        ),
      })
      .optional(),
    audit: z
      .strictObject({
        destination: z
          .union([z.literal('stderr'), z.strictObject({ file: z.string().min(1) })])
          .optional(),
      })
      .optional(),
    logging: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
      })
      .optional(),
    telemetry: TelemetrySchema.optional(),
  })
  .describe('sqlwarden configuration');

export type HttpTransportConfig = z.output<typeof HttpTransportSchema>;

export type RawConfig = z.input<typeof ConfigSchema>;
export type ParsedConfig = z.output<typeof ConfigSchema>;
export type SourceConfig = z.output<typeof SourceSchema>;
export type DeclaredToolConfig = z.output<typeof DeclaredToolSchema>;
export type EntityConfig = z.output<typeof EntitySchema>;
export type TelemetryConfig = z.output<typeof TelemetrySchema>;
export type GovernanceConfig = z.output<typeof GovernanceSchema>;
export type ColumnPolicyConfig = z.output<typeof ColumnPolicySchema>;
export type DatabaseIdentityConfig = z.output<typeof DatabaseIdentitySchema>;
