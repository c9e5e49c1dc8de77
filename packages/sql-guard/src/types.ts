/**
 * Public types of the guard. A check returns a value, never throws: either
 * `{ ok: true, analysis }` or `{ ok: false, code: 'QUERY_REJECTED', reason,
 * message }`, where `reason` comes from the closed table in reasons.ts.
 */
import type { RejectionReason } from './reasons.js';

export const DIALECTS = ['postgres', 'mysql', 'odbc'] as const;
export type Dialect = (typeof DIALECTS)[number];

/**
 * Extra rules for functions, on top of the built-in per-dialect rules: the
 * deny list of functions with side effects (which nothing here can lift)
 * and the list of functions that compute only on their arguments (every
 * other function is refused unless allowed here). Names match
 * case-insensitively, as bare names (`f`, matching `f` in any schema) or
 * qualified ones (`s.f`).
 */
export interface FunctionPolicy {
  /** More functions to refuse, e.g. every user-defined function of the source. */
  readonly deny?: Iterable<string>;
  /**
   * Functions to accept anyway: exceptions to `deny`, `volatile`, `known`
   * and to the default deny of functions that are not known to compute
   * only on their arguments (never to the built-in deny list). MySQL system
   * variables are allowed here by name too: `@@time_zone`.
   */
  readonly allow?: Iterable<string>;
  /**
   * Where an operator allows a function by name, for refusal messages
   * (e.g. `sources.main.functions.allow`; default "the source's function
   * allow list").
   */
  readonly allowedBy?: string;
  /**
   * PostgreSQL: names of volatile functions, as the adapter reads them from
   * the catalog (`pg_proc.provolatile = 'v'`). They are refused unless in
   * `allow` or in `allowVolatile`.
   */
  readonly volatile?: Iterable<string>;
  /** Volatile functions that are still fine to call (default `DEFAULT_ALLOWED_VOLATILE`). */
  readonly allowVolatile?: Iterable<string>;
  /**
   * The functions known to be harmless to look up, when the policy comes from
   * a catalog read at some moment: PostgreSQL's system functions, as bare
   * names and as `schema.name`. When given, a called function that is not in
   * it (nor in `allow`) is refused: it was created after the catalog was
   * read, so nothing is known about it. Default deny. A bare name matches a
   * bare entry, a qualified name only a qualified entry.
   */
  readonly known?: Iterable<string>;
}

export interface GuardOptions {
  readonly dialect: Dialect;
  /**
   * The schema unqualified table names resolve to: the first schema of the
   * search path (PostgreSQL) or the current database (MySQL). Without it,
   * an unqualified table is refused when `allowedTables` is given.
   */
  readonly defaultSchema?: string;
  /**
   * ODBC only: the catalog `schema.table` and unqualified names resolve to,
   * on a source that names tables `catalog.schema.table` (CONNX: the CDD's
   * logical database). With it, or with three-part patterns, or when the
   * statement names a catalog, every table resolves to a full
   * (catalog, schema, table), and a table that needs a default that is not
   * configured is refused as AMBIGUOUS_TABLE. Ignored by the other dialects.
   */
  readonly defaultCatalog?: string;
  /**
   * `schema.table` patterns a statement may read, `*` standing for a whole
   * name: `['public.*', 'sales.orders']`. Absent: every table may be read.
   * ODBC sources also take `catalog.schema.table` and `catalog.schema.*`.
   */
  readonly allowedTables?: readonly string[];
  readonly functionPolicy?: FunctionPolicy;
  /** Longest statement accepted, in characters (default 100,000). */
  readonly maxLength?: number;
}

export interface WriteGuardOptions extends GuardOptions {
  /** `schema.table` patterns a statement may write. Absent: the same as `allowedTables`. */
  readonly writableTables?: readonly string[];
  /** Accept UPDATE and DELETE without a WHERE clause (default false). */
  readonly allowWriteWithoutWhere?: boolean;
  /**
   * Accept RETURNING (default true, of readable targets only). A caller that
   * reports affected rows only (a write tool) passes false, so a write cannot
   * turn into an unbounded read.
   */
  readonly allowReturning?: boolean;
}

export const STATEMENT_KINDS = [
  'select',
  'insert',
  'update',
  'delete',
  'merge',
  'explain',
  'transaction',
  'session',
  'ddl',
  'call',
  'copy',
  'other',
] as const;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

export interface TableReference {
  /**
   * ODBC only, as written: the catalog of `catalog.schema.table` or
   * `catalog..table`; absent when the name has none.
   */
  readonly catalog?: string;
  /** As written; null when unqualified (or `catalog..table`). Identifiers are case-folded as the dialect does. */
  readonly schema: string | null;
  readonly name: string;
  /** Whether the statement writes this table (the target of INSERT, UPDATE or DELETE). */
  readonly access: 'read' | 'write';
}

export interface FunctionReference {
  readonly schema: string | null;
  readonly name: string;
}

export interface Analysis {
  readonly dialect: Dialect;
  readonly statementCount: number;
  /** The kind of each statement, in order. */
  readonly kinds: readonly StatementKind[];
  /** The kind of the first statement. */
  readonly kind: StatementKind;
  /** Every table referenced (CTE names excluded), without duplicates. */
  readonly tables: readonly TableReference[];
  /** Every function called, without duplicates. */
  readonly functions: readonly FunctionReference[];
  /** A FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE clause anywhere. */
  readonly locking: boolean;
  /** A SELECT ... INTO (table, variable or file) anywhere. */
  readonly into: boolean;
  /** An INSERT, UPDATE, DELETE or MERGE inside a WITH clause. */
  readonly dataModifyingCte: boolean;
  /** Positional parameters ($1 or ?) the statement expects. */
  readonly parameterCount: number;
  /** 12 hex characters, equal for statements that differ only in literal values. */
  readonly fingerprint: string;
}

/** A checked table: where it resolved, for building capabilities. */
export interface ResolvedTable {
  /**
   * ODBC only: the catalog the table resolved to (written, or the default
   * catalog), present whenever the statement is judged with catalogs (see
   * `GuardOptions.defaultCatalog`); absent otherwise.
   */
  readonly catalog?: string;
  /** Null only for an unqualified table checked without a default schema and without an allow list. */
  readonly schema: string | null;
  readonly name: string;
  readonly access: 'read' | 'write';
}

export interface CheckedAnalysis extends Analysis {
  /** Every table with its schema resolved (default schema applied). */
  readonly resolvedTables: readonly ResolvedTable[];
}

export interface GuardRejection {
  readonly ok: false;
  readonly code: 'QUERY_REJECTED';
  readonly reason: RejectionReason;
  /** A sentence that helps correct the statement; never echoes its literals. */
  readonly message: string;
  /** Set when the statement got far enough to be fingerprinted. */
  readonly fingerprint?: string;
}

export type GuardResult =
  | { readonly ok: true; readonly analysis: CheckedAnalysis }
  | GuardRejection;

export type AnalyzeResult = { readonly ok: true; readonly analysis: Analysis } | GuardRejection;
