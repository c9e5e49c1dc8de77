/**
 * What a conformance target says about its database (docs/conformance.md):
 * only what differs per database. Everything the suite asserts is the same
 * for every target.
 */
import type { DatabaseAdapter, SqlDialect } from '@sqlwarden/core';
import type { FaultHooks } from './faults.js';

/** An isolated namespace of the target: a schema (PostgreSQL), a database (MySQL). */
export interface ConformanceNamespace {
  /** Its name, as the adapter's `defaultSchema` and as `TableRef.schema` (letters, digits, `_`). */
  readonly name: string;
  /**
   * Runs admin SQL in the namespace over the target's own admin connection
   * (never through the adapter under test): unqualified names resolve to the
   * namespace. `params` bind to the dialect's placeholders. Returns the rows
   * as arrays of the driver's values (the suite only reads counts and ids
   * from them, through `Number()`).
   */
  exec(sql: string, params?: readonly unknown[]): Promise<unknown[][]>;
  /** Drops the namespace with everything in it and closes the admin connection. */
  drop(): Promise<void>;
}

/** What the suite asks of the target's adapter factory. */
export interface ConformanceAdapterOptions {
  /** The namespace unqualified names resolve to (the adapter's `defaultSchema`). */
  readonly namespace: string;
  /** The source's statement timeout: the ceiling no call may raise. */
  readonly statementTimeoutMs: number;
  /** Connections at most. */
  readonly poolSize: number;
  /** How long a call waits for a free connection (or a new one to open), in ms. */
  readonly acquireTimeoutMs: number;
  /** Whether `write()` may write (false: every write is `READ_ONLY`). */
  readonly allowWrites: boolean;
}

/**
 * The columns of `cf_types`, in this order. Each target creates the table
 * with its own types (see `ConformanceFixture.statements` for the rows).
 */
export const TYPE_COLUMNS = [
  'id',
  'n_int',
  'n_big',
  'n_dec',
  'n_float',
  'd_date',
  'd_ts',
  'd_tstz',
  'd_time',
  'b_bin',
  'j_doc',
  's_text',
  'b_flag',
] as const;
export type TypeColumn = (typeof TYPE_COLUMNS)[number];

/**
 * The text stored in `cf_types.s_text` of row 1: a quote, double quotes,
 * backslashes, a newline, a tab, non-ASCII letters and a character outside
 * the BMP (4 bytes in UTF-8). Written as the SQL literal
 * `E'it\'s "q" \\ C:\\path\n2nd line\tü 😀'` in PostgreSQL, and the same
 * text without the `E` in MySQL (whose strings take backslash escapes).
 */
export const CONFORMANCE_TEXT = 'it\'s "q" \\ C:\\path\n2nd line\tü 😀';

/**
 * The JSON document of `cf_types.j_doc` row 1, as text. Compared parsed:
 * databases differ in whitespace and key order (jsonb), not in content.
 */
export const CONFORMANCE_JSON = '{"a": [1, 2.5, "x"], "b": {"c": null}, "s": "é \\"q\\""}';

/**
 * The fixture every target creates in its namespace, in its dialect, with
 * exactly this content (the suite holds the adapter to the values below):
 *
 * `cf_types` (columns TYPE_COLUMNS; integers 32-bit, 64-bit; an exact
 * decimal with 38 digits, 9 after the point; a double; date; timestamp
 * without zone and with zone, both with microseconds; time with
 * microseconds; binary; JSON; text; boolean), rows by `id`:
 *
 * | id | n_int       | n_big                | n_dec                          | n_float | d_date     | d_ts                       | d_tstz (as inserted)              | d_time          | b_bin    | j_doc             | s_text          | b_flag |
 * |----|-------------|----------------------|--------------------------------|---------|------------|----------------------------|-----------------------------------|-----------------|----------|-------------------|-----------------|--------|
 * | 1  | 2147483647  | 9007199254740993     | 12345678901234567890.123456789 | 1.5     | 2024-02-29 | 2024-02-29 13:45:06.123456 | 2024-02-29 13:45:06.123456 +02:00 | 23:59:58.123456 | 00 ff 10 | CONFORMANCE_JSON  | CONFORMANCE_TEXT| true   |
 * | 2  | -2147483648 | -9223372036854775808 | -0.000000001                   | -2.25   | 1970-01-01 | 1969-12-31 23:59:59.999999 | 2001-09-09 01:46:40.654321 +00:00 | 00:00:00.000001 | (empty)  | `[]`              | (empty string)  | false  |
 * | 3  | 0           | 1                    | 0                              | 0.1     | 9999-12-31 | 9999-12-31 23:59:59.999999 | 2000-01-01 00:00:00.000001 +02:00 | 12:30:00.100001 | 00       | `null` (JSON)     | `plain`         | true   |
 * | 4  | NULL        | NULL                 | NULL                           | NULL    | NULL       | NULL                       | NULL                              | NULL            | NULL     | NULL              | NULL            | NULL   |
 *
 * and, when `floatSpecials` is true, rows 5, 6, 7 with only `n_float` set,
 * to NaN, +Infinity and -Infinity.
 *
 * `cf_wide (id int primary key, payload text not null)`: ids 1..200; odd
 * ids hold `'x'` repeated 1000 times, even ids `'é'` repeated 500 times
 * (1000 bytes, 500 characters: bytes are counted, not characters).
 *
 * `cf_many (id int primary key, label <text> not null)`: ids 1..3000,
 * label `'row <id>'`.
 *
 * `cf_parent (id int primary key, code varchar(20) not null, name
 * varchar(100) default 'unnamed')` with a unique index (or constraint)
 * named `cf_parent_code_key` on `code`, the table comment `'Parent rows'`
 * and the column comment `'Display name'` on `name`; rows (1, 'alpha',
 * 'Alpha') and (2, 'o''brien', default).
 *
 * `cf_child (id int primary key, parent_id int not null, note
 * varchar(100))` with the foreign key `cf_child_parent_fk (parent_id)
 * references cf_parent (id)`, the index `cf_child_parent_idx (parent_id)`,
 * the index `cf_child_note_parent_idx (note, parent_id)`, no table comment,
 * the column comment `'Free text'` on `note`; rows (1, 1, 'first') and
 * (2, 2, NULL).
 *
 * `cf_parent_view`: a view `SELECT id, code FROM cf_parent`.
 *
 * The suite itself creates, with portable DDL: `cf_victim`, `cf_writes`,
 * the tables named `quoteTable`, `it's` and `with space`, and `cf_other` in
 * a second namespace.
 */
export interface ConformanceFixture {
  /** Run in order in the namespace through `ConformanceNamespace.exec`, without parameters. */
  readonly statements: readonly string[];
  /** A table name holding the dialect's identifier quote: `we"ird` (PostgreSQL), ``we`ird`` (MySQL). */
  readonly quoteTable: string;
  /** Whether the database has NaN and infinities for floats (rows 5 to 7 of `cf_types`). */
  readonly floatSpecials: boolean;
  /**
   * Whether the database has a boolean type. Without one (MySQL: BOOLEAN is
   * TINYINT(1)) `b_flag` is the conventional small integer and the contract
   * makes its values the numbers 1 and 0.
   */
  readonly nativeBoolean: boolean;
}

/** What the target's adapter reports that is the database's own vocabulary. */
export interface ConformanceExpectations {
  /** The result column `type` of each column of `cf_types`, as `read()` reports it. */
  readonly resultTypes: Readonly<Record<TypeColumn, string>>;
  /** The `type` of each column as `describeTable()` reports it. */
  readonly columnTypes: {
    readonly cf_parent: { readonly id: string; readonly code: string; readonly name: string };
    readonly cf_child: { readonly id: string; readonly parent_id: string; readonly note: string };
  };
  /** The `default` of `cf_parent.name` as `describeTable()` reports it (the literal `'unnamed'` as the database writes it). */
  readonly nameDefault: string;
}

/**
 * What a target's adapter cannot do, each for a reason the target's file
 * and docs/conformance.md ("Capabilities") state. Every flag defaults to
 * true: PostgreSQL and MySQL set none, and every check holds them to the
 * full contract. A check never skips for a missing capability: it asserts
 * the weaker contract written beside the flag, which still fails when the
 * adapter misbehaves. Security checks (injection, read-only, stacked
 * statements, limits) have no flag.
 */
export interface ConformanceCapabilities {
  /**
   * The words of database errors: the column, table or place the server
   * named. Without (ODBC: the mapper has only the SQLSTATE), each error
   * check still asserts the code, and that the message names nothing of
   * the statement (no name, no literal, no parameter value).
   */
  readonly errorWords?: boolean;
  /**
   * Table and column comments in `listTables` and `describeTable`. Without,
   * every table's and column's comment is null (never another's).
   */
  readonly comments?: boolean;
  /** Indexes in `describeTable`. Without, `indexes` is empty for every table (never a guess). */
  readonly indexes?: boolean;
  /**
   * Decimals of more than 15 significant digits, exactly. Without, such a
   * value is returned exactly or its read is refused with QUERY_FAILED,
   * never rounded; every other value of the row is checked as usual.
   */
  readonly exactDecimals?: boolean;
  /**
   * Timestamps with time zone carry their offset (`+00`). Without (ODBC
   * has one timestamp type), the value is the same instant written in UTC
   * without an offset: the contract's text less its `+00`.
   */
  readonly zonedTimestamps?: boolean;
  /**
   * The adapter watches its connections' sockets (the kit's frame gate),
   * so a call in flight when the network stalls ends DB_UNAVAILABLE.
   * Without (ODBC: the driver owns the socket), such a call may end at its
   * deadline as QUERY_TIMEOUT; every call still ends within its bound.
   */
  readonly socketWatch?: boolean;
}

export interface ConformanceTarget {
  /** Shown in the suite's title, e.g. `PostgreSQL` or `MariaDB`. */
  readonly name: string;
  /** The adapter's `dialect`. */
  readonly dialect: SqlDialect;
  /**
   * Whether the adapter implements `write()` (default true). When false the
   * write-enabled tests are skipped (reported as skipped, never passed); a
   * write to an adapter made with `allowWrites: false` must still be
   * refused with `READ_ONLY`.
   */
  readonly supportsWrites?: boolean;
  /** What the adapter cannot do (see ConformanceCapabilities; all true when absent). */
  readonly capabilities?: ConformanceCapabilities;
  /** Creates a fresh namespace whose name starts with `prefix` (unique per call). */
  createNamespace(prefix: string): Promise<ConformanceNamespace>;
  /** An adapter of this database on that namespace. */
  createAdapter(options: ConformanceAdapterOptions): DatabaseAdapter | Promise<DatabaseAdapter>;
  /** Quotes an identifier in the dialect (`"a""b"`, `` `a``b` ``). */
  quoteIdent(name: string): string;
  /** The placeholder of the n-th parameter, from 1 (`$1`, `?`). */
  placeholder(index: number): string;
  readonly fixture: ConformanceFixture;
  readonly expected: ConformanceExpectations;
  /**
   * One read statement that runs for many seconds (tens at least) without
   * sleep functions (the guard refuses those; a real heavy query is what the
   * limits are for), e.g. a count over a cross join of generated rows. It
   * must hold `marker` (a lower-case identifier) in its text, so that the
   * running-statements hook can find it, e.g. as a column alias.
   */
  heavyQuery(marker: string): string;
  /**
   * An expression of `length` characters of text computed by the server
   * (`repeat('x', n)`), for the checks that one wide value never costs the
   * process more than the call may receive.
   */
  wideText(length: number): string;
  /**
   * How many statements whose text holds `marker` are running now in the
   * adapter's sessions, seen from the admin connection (pg_stat_activity,
   * information_schema.PROCESSLIST); the admin's own session is excluded.
   */
  runningStatements(admin: ConformanceNamespace, marker: string): Promise<number>;
  /**
   * Kills the sessions (not only the statements) running a statement whose
   * text holds `marker`, as an operator or a failover would
   * (pg_terminate_backend, `KILL <id>`); returns how many were killed.
   */
  killSession(admin: ConformanceNamespace, marker: string): Promise<number>;
  /**
   * A database server of the suite's own for the fault suite (faults.ts):
   * restarted, crashed, its sessions terminated, its database dropped, its
   * connections cut and stalled by a proxy, with calls in flight.
   */
  readonly faults: FaultHooks;
}
