import type { OperatorLogger } from './log.js';
import type { ReadResult } from './result.js';

/** The SQL dialect a source speaks: which guard rules and which lexer apply. */
export type SqlDialect = 'postgres' | 'mysql' | 'odbc';

export interface TableRef {
  /**
   * The catalog, on sources that name tables `catalog.schema.table` (ODBC
   * sources such as CONNX); absent everywhere else.
   */
  readonly catalog?: string;
  readonly schema: string;
  readonly name: string;
}

export const TABLE_KINDS = [
  'table',
  'view',
  'materialized_view',
  'foreign_table',
  'other',
] as const;
export type TableKind = (typeof TABLE_KINDS)[number];

export interface TableSummary extends TableRef {
  readonly kind: TableKind;
  /** The planner's estimate, or null when the database has none. */
  readonly estimatedRows: number | null;
  readonly comment: string | null;
}

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
  readonly default: string | null;
  readonly comment: string | null;
}

export interface ForeignKeyInfo {
  readonly name: string;
  readonly columns: readonly string[];
  readonly references: TableRef & { readonly columns: readonly string[] };
}

export interface IndexInfo {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
  readonly primary: boolean;
}

export interface TableDescription extends TableSummary {
  readonly columns: readonly ColumnInfo[];
  readonly primaryKey: readonly string[];
  readonly foreignKeys: readonly ForeignKeyInfo[];
  readonly indexes: readonly IndexInfo[];
}

export interface ReadLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

/**
 * Ceilings on the planner's estimate of a read (the cost gate): a read
 * whose estimate exceeds one is refused (`COST_LIMIT_EXCEEDED`) before it
 * runs. At least one is set.
 */
export interface CostCeiling {
  /** The planner's cost, in its own units (PostgreSQL's total cost; MySQL's query cost). */
  readonly maxCost?: number;
  /** The planner's row estimate (PostgreSQL: rows the plan returns; MySQL/MariaDB: rows examined). */
  readonly maxRows?: number;
}

/** The planner's estimate of one statement with its values, made without running it. */
export interface CostEstimate {
  /** Null when the planner gives none for this statement (MariaDB: UNION and subqueries). */
  readonly cost: number | null;
  readonly rows: number;
}

export interface ReadRequest {
  /**
   * One statement, already accepted by the guard. Sent so that the server runs
   * one statement only (a prepared statement; never a text protocol that runs batches).
   */
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly limits: ReadLimits;
  readonly signal: AbortSignal;
  /**
   * The cost gate: the statement is estimated (EXPLAIN, never run) with the
   * same values, in the same session and time limit, before it runs; over
   * a ceiling it is refused. An adapter that cannot estimate refuses the
   * read (it never runs unchecked).
   */
  readonly costCeiling?: CostCeiling;
  /** Who the call runs as on the database; absent: the source's own connection user. */
  readonly identity?: DatabaseIdentity;
}

/**
 * Who one call runs as on the database (docs/governance.md, "Identity in
 * the database"), resolved by the runtime from `principals.<id>.database`
 * for the session's principal and the call's source, never from the call's
 * input. An adapter that cannot apply it refuses the call: it never runs
 * under the source's own role instead.
 *
 * PostgreSQL applies it inside the call's own transaction, in the same
 * round trip as the statement: `role` as `SET LOCAL ROLE` (so row-level
 * security and grants are the role's, even when the source connects as a
 * superuser), `subject` as the transaction-local setting
 * `sqlwarden.subject`, which policies read with
 * `current_setting('sqlwarden.subject', true)`. Both end with the
 * transaction. (MySQL/MariaDB identities are users with pools of their
 * own: the runtime picks the adapter, and no identity is passed.)
 */
export interface DatabaseIdentity {
  /** The database role of the call (PostgreSQL: the source's user must be a member of it). */
  readonly role?: string;
  /** The verified subject: the session's principal id. */
  readonly subject: string;
}

/** A read's result, with the estimate the cost gate made (for the audit; not shown to the agent). */
export type ReadAnswer = ReadResult & { readonly estimate?: CostEstimate };

export interface WriteRequest {
  /** One INSERT, UPDATE or DELETE, already accepted by the guard. */
  readonly sql: string;
  readonly params: readonly unknown[];
  /** Over this many affected rows the transaction is rolled back (`WRITE_LIMIT_EXCEEDED`). */
  readonly maxAffectedRows: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Run, count, roll back. */
  readonly dryRun: boolean;
  /** Who the call runs as on the database (`DatabaseIdentity`); absent: the source's own connection user. */
  readonly identity?: DatabaseIdentity;
}

export interface WriteResult {
  readonly affectedRows: number;
  readonly committed: boolean;
}

export interface HealthStatus {
  readonly ok: boolean;
  readonly latencyMs: number;
}

/**
 * What the SQL guard's function policy is fed with, read from the source's
 * catalog. Names are lower case, bare (`f`, as an unqualified call
 * resolves) or qualified (`s.f`).
 */
export interface FunctionCatalog {
  /** Functions that may change state: refused unless allowed. */
  readonly volatile: readonly string[];
  /** Functions outside the system schemas (they can read any table): refused unless allowed. */
  readonly userDefined: readonly string[];
  /**
   * The functions of the system schemas, as bare and as `schema.name`: the
   * only ones a read may call besides those allowed. A function created
   * after the catalog was read is in no list and is refused (default deny).
   * Absent where the database cannot list its built-ins (MySQL's native
   * functions are in no table).
   */
  readonly system?: readonly string[];
}

export interface PrivilegeReportRequest {
  /** Whether the source is served read-only. */
  readonly readOnly: boolean;
  /** Whether a table is among those the source serves. */
  readonly serves: (schema: string, table: string) => boolean;
}

/** Start-up findings about the role a source connects as. */
export interface PrivilegeReport {
  /** One sentence each, saying what is wrong and how to fix it; safe to log (no secrets). */
  readonly warnings: readonly string[];
}

/**
 * The contract every database adapter implements. Adapters own everything
 * that touches a driver: the pool, the read path (extended protocol or
 * prepared statements, read-only transaction, server-side timeout, row and
 * byte caps while streaming), the write path (transaction, affected-row
 * ceiling), introspection and the mapping of driver errors to codes.
 *
 * Errors: adapters throw `SqlwardenError` with a code and a message they
 * wrote; a driver error must never be rethrown as is (it can hold SQL,
 * values, hostnames). The boundary turns anything else into `INTERNAL`.
 */
export interface DatabaseAdapter {
  readonly dialect: SqlDialect;
  /** The source id from the config; appears in capabilities (`read:<source>:...`). */
  readonly source: string;
  listTables(request: {
    readonly schemas?: readonly string[];
    /**
     * On sources that name tables `catalog.schema.table`: the catalogs of
     * the served patterns. Such an adapter reports `catalog` on every table
     * (a table without one is not listed there).
     */
    readonly catalogs?: readonly string[];
    readonly signal: AbortSignal;
  }): Promise<TableSummary[]>;
  /** The table's description, or null when it does not exist. */
  describeTable(request: {
    readonly table: TableRef;
    readonly signal: AbortSignal;
  }): Promise<TableDescription | null>;
  read(request: ReadRequest): Promise<ReadAnswer>;
  write(request: WriteRequest): Promise<WriteResult>;
  health(): Promise<HealthStatus>;
  /** Closes the pool; idempotent. */
  close(): Promise<void>;
  /** Optional: the function catalog for the guard's policy (loaded once per source). */
  functionCatalog?(): Promise<FunctionCatalog>;
  /** Optional: the least-privilege report at start-up. */
  privilegeReport?(request: PrivilegeReportRequest): Promise<PrivilegeReport>;
  /**
   * Optional: what the views of these schemas read, for column policies
   * (a view over a protected column is refused as a whole unless the
   * catalog shows it reads none). Without it, every view is opaque to a
   * principal with column rules on the source.
   */
  viewDependencies?(request: {
    readonly schemas?: readonly string[];
    readonly signal: AbortSignal;
  }): Promise<ViewDependency[]>;
}

/**
 * What one view (or materialized view) reads, as its database's catalog
 * tells it; on PostgreSQL also each partition and inheritance child, which
 * reads its parent whole (its rows are the parent's).
 */
export interface ViewDependency {
  readonly view: TableRef;
  /**
   * The relations it reads, each with the columns it references when the
   * catalog tracks them (PostgreSQL's pg_depend), or null: any column.
   * Absent when the catalog does not list them (then `definition`).
   */
  readonly reads?: ReadonlyArray<TableRef & { readonly columns: readonly string[] | null }>;
  /**
   * The view's definition text, where the catalog keeps no list of what it
   * reads (MariaDB); null when it cannot be read (the view is then opaque).
   */
  readonly definition?: string | null;
}

/**
 * The views and materialized views among `tables`, each as reading
 * everything (`definition: null`): what a catalog that cannot tell what a
 * view reads gives, so each counts as opaque under column policies.
 */
export function unreadableViews(tables: readonly TableSummary[]): ViewDependency[] {
  return tables
    .filter((t) => t.kind === 'view' || t.kind === 'materialized_view')
    .map((t) => ({
      view: {
        ...(t.catalog !== undefined && { catalog: t.catalog }),
        schema: t.schema,
        name: t.name,
      },
      definition: null,
    }));
}

/**
 * TLS to a database, as every adapter takes it (libpq's sslmode, in parts):
 * `true` for the defaults, or these. Each adapter maps them to its driver.
 */
export interface TlsOptions {
  /** Verify the certificate chain (default true; false is `sslmode=require`: encryption only). */
  readonly rejectUnauthorized?: boolean;
  /** Verify that the certificate names the host (default true; false is `sslmode=verify-ca`). */
  readonly verifyHostname?: boolean;
  /** PEM texts: the CA, and a client certificate with its key. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/**
 * A source as the runtime hands it to an adapter plugin: checked, its
 * limits resolved, its secrets behind functions (called when a connection
 * opens, never kept in the object).
 */
export interface AdapterSource {
  /** The source id from the configuration. */
  readonly id: string;
  /** Where unqualified names resolve (the plugin's default when the configuration gives none). */
  readonly defaultSchema: string;
  /** The source's statement time limit: the ceiling no call may raise. */
  readonly statementTimeoutMs: number;
  /** Whether write() may run (every other layer allowing writes already agreed). */
  readonly allowWrites: boolean;
  readonly pool: {
    readonly max?: number;
    readonly idleTimeoutMs?: number;
    readonly connectionTimeoutMs?: number;
  };
  readonly connection: {
    /** The URL, without a query string (TLS is in `ssl`). */
    readonly url?: () => string;
    readonly host?: string;
    readonly port?: number;
    readonly database?: string;
    readonly user?: string;
    readonly password?: () => string;
    readonly ssl?: boolean | TlsOptions;
    /**
     * A PostgreSQL source behind a pooler: `session` (a direct connection
     * or session pooling, the default), `transaction` (every transaction
     * sets itself up), `statement` (refused by the adapter).
     */
    readonly pooling?: 'session' | 'transaction' | 'statement';
    /** An ODBC source's connection (kind `odbc`): its string, read when a connection opens. */
    readonly odbc?: {
      readonly connectionString: () => string;
      /** Which driver the string names: `connx`, `postgres`, `mariadb` or `generic`. */
      readonly profile?: string;
      /** Rows per fetch where the driver's block fetch is sound. */
      readonly fetchSize?: number;
      /** Right-trim fixed-width CHAR values. */
      readonly trimChar?: boolean;
      /** The worker process's memory limit in MB. */
      readonly workerMemoryMb?: number;
    };
  };
}

/**
 * An adapter package's entry for the runtime, exported as `adapterPlugin`:
 * the runtime imports a package only when a source of its kind is
 * configured, so a PostgreSQL deployment never loads (or installs) another
 * engine's driver. The plugin checks its own kind of source, so its rules
 * live with the adapter, not in the runtime.
 */
export interface AdapterPlugin {
  /** The `kind` a source names in the configuration (`postgres`). */
  readonly kind: string;
  /** The SQL dialect its statements are checked in. */
  readonly dialect: SqlDialect;
  /** The URL schemes that name this kind of source, without `://`. */
  readonly schemes: readonly string[];
  /**
   * Checks a source of this kind as written (after interpolation): its
   * problems, each naming its key under `at` (`sources.main`), and the
   * schema unqualified names resolve to when the source gives none.
   */
  check(
    source: {
      readonly url?: string;
      readonly database?: string;
      readonly defaultSchema?: string;
      readonly pooling?: string;
    },
    at: string,
  ): { readonly problems: readonly string[]; readonly defaultSchema: string };
  /** Whether its adapters honour `ReadRequest.costCeiling` (the cost gate needs a planner estimate). */
  readonly estimatesCost: boolean;
  /** The adapter of one source; throws ConfigError for what `check` could not see. */
  create(source: AdapterSource, options: { readonly logger?: OperatorLogger }): DatabaseAdapter;
  /**
   * Whether statements on this source must name every table in full
   * (`catalog.schema.table`): its driver resolves shorter names itself,
   * across catalogs (CONNX), so the guard's resolution would not be the
   * server's. Absent: false.
   */
  qualifiedNamesOnly?(source: AdapterSource): boolean;
}
