/**
 * The adapter conformance suite: one body of tests, parameterized over
 * adapters, that every `DatabaseAdapter` must pass against its real
 * database (docs/conformance.md). A target says only what differs per
 * database: how to make an isolated namespace and run admin SQL in it, the
 * fixture DDL in its dialect, the type names it reports, how to build the
 * adapter, a heavy query, and how to see and kill our running statements.
 * Everything the suite asserts is the same for every target: the value
 * contract of `ReadResultSchema` (@sqlwarden/core, result.ts), limits and
 * truncation, timeouts, cancellation, connection loss, injection and
 * introspection.
 *
 * Outcomes only: no assertion about how fast anything was. The only waits
 * are bounded polls of the running-statements hook (a cancelled statement
 * takes a moment to leave the server's process list).
 */
import {
  type DatabaseAdapter,
  type ReadLimits,
  type ReadResult,
  ReadResultSchema,
  rowBytes,
  type SqlDialect,
  SqlwardenError,
  type TableDescription,
  type WriteRequest,
} from '@sqlwarden/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeAdapterFaults, type FaultHooks } from './faults.js';

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

const POOL_SIZE = 3;
const STATEMENT_TIMEOUT_MS = 10_000;
const LIMITS: ReadLimits = { maxRows: 1000, maxBytes: 1_048_576, timeoutMs: 5000 };
/** How long a cancelled statement may take to leave the process list. */
const SETTLE_MS = 5000;
/** How long a heavy statement may take to show up in the process list. */
const START_MS = 10_000;

const FIXTURE_TABLES = [
  'cf_types',
  'cf_wide',
  'cf_many',
  'cf_parent',
  'cf_child',
  'cf_parent_view',
  'cf_victim',
  'cf_writes',
];
const APOSTROPHE_TABLE = "it's";
const SPACE_TABLE = 'with space';

/** Values a careless adapter would splice into SQL text; bound, each is just text. */
const ATTACKS = [
  "'; DROP TABLE cf_victim; --",
  "\\'; DROP TABLE cf_victim; --",
  "' OR '1'='1",
  '" OR ""="',
] as const;

type Expected = unknown | { readonly json: unknown };

const json = (text: string) => ({ json: JSON.parse(text) as unknown });
const isJsonExpectation = (value: unknown): value is { json: unknown } =>
  typeof value === 'object' && value !== null && 'json' in value;

/** The rows of `cf_types` under the value contract (result.ts), by target capabilities. */
function expectedTypeRows(fixture: ConformanceFixture): Expected[][] {
  const yes = fixture.nativeBoolean ? true : 1;
  const no = fixture.nativeBoolean ? false : 0;
  const nulls = (id: number, float: unknown = null): Expected[] => [
    id,
    null,
    null,
    null,
    float,
    ...Array.from({ length: TYPE_COLUMNS.length - 5 }, () => null),
  ];
  const rows: Expected[][] = [
    [
      1,
      2147483647,
      '9007199254740993',
      '12345678901234567890.123456789',
      1.5,
      '2024-02-29',
      '2024-02-29 13:45:06.123456',
      '2024-02-29 11:45:06.123456+00',
      '23:59:58.123456',
      '\\x00ff10',
      json(CONFORMANCE_JSON),
      CONFORMANCE_TEXT,
      yes,
    ],
    [
      2,
      -2147483648,
      '-9223372036854775808',
      '-0.000000001',
      -2.25,
      '1970-01-01',
      '1969-12-31 23:59:59.999999',
      '2001-09-09 01:46:40.654321+00',
      '00:00:00.000001',
      '\\x',
      json('[]'),
      '',
      no,
    ],
    [
      3,
      0,
      '1',
      '0.000000000',
      0.1,
      '9999-12-31',
      '9999-12-31 23:59:59.999999',
      '1999-12-31 22:00:00.000001+00',
      '12:30:00.100001',
      '\\x00',
      json('null'),
      'plain',
      yes,
    ],
    nulls(4),
  ];
  if (fixture.floatSpecials)
    rows.push(nulls(5, 'NaN'), nulls(6, 'Infinity'), nulls(7, '-Infinity'));
  return rows;
}

/** The code a call ended with: `ok`, a SqlwardenError's code, or a description of anything else. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return SqlwardenError.is(error) ? error.code : `not a SqlwardenError: ${String(error)}`;
  }
}

/** How a call ended: `ok`, or a SqlwardenError's code and message (anything else fails the test). */
async function outcomeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
    return { code: 'ok', message: '' };
  } catch (error) {
    if (!SqlwardenError.is(error)) throw error;
    return { code: error.code, message: error.message };
  }
}

/** Values that must never come back in a message: a parameter's, and a string literal's. */
const PARAM_CANARY = 'PARAMCANARY_Q7';
const LITERAL_CANARY = 'LITCANARY_Q7';

/** Polls `check` until it holds or `ms` pass; answers whether it held. */
async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** Every successful read holds to the result schema and its own invariants. */
function checkShape(result: ReadResult): ReadResult {
  ReadResultSchema.parse(result);
  expect(result.rowCount, 'rowCount is the number of rows').toBe(result.rows.length);
  for (const row of result.rows) {
    expect(row, 'every row has one value per column').toHaveLength(result.columns.length);
  }
  if (result.truncated) expect(result.truncatedReason).toBeDefined();
  else expect(result.truncatedReason, 'no reason when not truncated').toBeUndefined();
  return result;
}

const marker = (purpose: string) =>
  `cf_${purpose}_${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
const signal = () => new AbortController().signal;

/**
 * Registers the conformance suite for one target (call it at the top of a
 * test file). Creates two namespaces, loads the fixture, runs every check,
 * and drops the namespaces and closes every adapter afterwards. The fault
 * suite (faults.ts) runs with it, on a server of its own.
 */
export function describeAdapterConformance(target: ConformanceTarget): void {
  const q = (name: string) => target.quoteIdent(name);
  const p = (index: number) => target.placeholder(index);
  const supportsWrites = target.supportsWrites ?? true;

  describe(`adapter conformance: ${target.name}`, () => {
    let ns: ConformanceNamespace;
    let other: ConformanceNamespace;
    let adapter: DatabaseAdapter;
    const extra: DatabaseAdapter[] = [];

    const makeAdapter = async (options: Partial<ConformanceAdapterOptions> = {}) => {
      const made = await target.createAdapter({
        namespace: ns.name,
        statementTimeoutMs: STATEMENT_TIMEOUT_MS,
        poolSize: POOL_SIZE,
        acquireTimeoutMs: 5000,
        allowWrites: false,
        ...options,
      });
      extra.push(made);
      return made;
    };

    const read = async (
      sql: string,
      params: readonly unknown[] = [],
      limits: Partial<ReadLimits> = {},
      on: DatabaseAdapter = adapter,
    ) =>
      checkShape(
        await on.read({ sql, params, limits: { ...LIMITS, ...limits }, signal: signal() }),
      );
    const attempt = (
      sql: string,
      params: readonly unknown[] = [],
      limits: Partial<ReadLimits> = {},
      options: { on?: DatabaseAdapter; signal?: AbortSignal } = {},
    ) =>
      codeOf(
        (options.on ?? adapter).read({
          sql,
          params,
          limits: { ...LIMITS, ...limits },
          signal: options.signal ?? signal(),
        }),
      );
    const adminCount = async (table: string) =>
      Number((await ns.exec(`SELECT COUNT(*) FROM ${q(table)}`))[0]?.[0]);
    const running = (mark: string) => target.runningStatements(ns, mark);
    const settled = (mark: string) =>
      eventually(async () => (await running(mark)) === 0, SETTLE_MS);
    const started = (mark: string) => eventually(async () => (await running(mark)) >= 1, START_MS);

    beforeAll(async () => {
      ns = await target.createNamespace('cf');
      other = await target.createNamespace('cf_other');
      for (const statement of target.fixture.statements) await ns.exec(statement);
      await ns.exec('CREATE TABLE cf_victim (id int PRIMARY KEY, label varchar(100) NOT NULL)');
      await ns.exec("INSERT INTO cf_victim (id, label) VALUES (1, 'keep')");
      await ns.exec(
        'CREATE TABLE cf_writes (id int PRIMARY KEY, v int NOT NULL, note varchar(200))',
      );
      for (const name of [target.fixture.quoteTable, APOSTROPHE_TABLE, SPACE_TABLE]) {
        await ns.exec(`CREATE TABLE ${q(name)} (id int PRIMARY KEY, label varchar(20) NOT NULL)`);
        await ns.exec(`INSERT INTO ${q(name)} (id, label) VALUES (1, 'odd')`);
      }
      await other.exec('CREATE TABLE cf_other (id int PRIMARY KEY)');
      adapter = await target.createAdapter({
        namespace: ns.name,
        statementTimeoutMs: STATEMENT_TIMEOUT_MS,
        poolSize: POOL_SIZE,
        acquireTimeoutMs: 5000,
        allowWrites: false,
      });
    });

    afterAll(async () => {
      for (const made of [adapter, ...extra]) await made?.close();
      await ns?.drop();
      await other?.drop();
    });

    it('is an adapter of the target dialect', () => {
      expect(adapter.dialect).toBe(target.dialect);
      expect(typeof adapter.source).toBe('string');
    });

    describe('introspection', () => {
      const oddTables = () => [target.fixture.quoteTable, APOSTROPHE_TABLE, SPACE_TABLE];

      it('lists exactly the tables and views of the requested schema, with kinds, estimates and comments', async () => {
        const tables = await adapter.listTables({ schemas: [ns.name], signal: signal() });
        expect(tables.map((t) => t.name).sort()).toEqual(
          [...FIXTURE_TABLES, ...oddTables()].sort(),
        );
        for (const table of tables) {
          expect(table.schema).toBe(ns.name);
          expect(table.kind).toBe(table.name === 'cf_parent_view' ? 'view' : 'table');
          if (table.estimatedRows !== null) {
            expect(Number.isInteger(table.estimatedRows)).toBe(true);
            expect(table.estimatedRows).toBeGreaterThanOrEqual(0);
          }
        }
        const byName = new Map(tables.map((t) => [t.name, t]));
        expect(byName.get('cf_parent')?.comment).toBe('Parent rows');
        expect(byName.get('cf_child')?.comment, 'no comment is null, not empty').toBeNull();
        expect(byName.get('cf_parent_view')?.comment, 'a view without comment').toBeNull();
      });

      it('lists only the schemas it is asked for, each of them', async () => {
        const otherOnly = await adapter.listTables({ schemas: [other.name], signal: signal() });
        expect(otherOnly.map((t) => [t.schema, t.name])).toEqual([[other.name, 'cf_other']]);
        const both = await adapter.listTables({ schemas: [ns.name, other.name], signal: signal() });
        expect(new Set(both.map((t) => t.schema))).toEqual(new Set([ns.name, other.name]));
        expect(both).toHaveLength(FIXTURE_TABLES.length + oddTables().length + 1);
      });

      it('lists every user schema when none is requested', async () => {
        const all = await adapter.listTables({ signal: signal() });
        const names = new Set(all.map((t) => `${t.schema}.${t.name}`));
        expect(names.has(`${ns.name}.cf_parent`)).toBe(true);
        expect(names.has(`${other.name}.cf_other`)).toBe(true);
      });

      it('binds schema names: a schema name that is an injection lists nothing', async () => {
        for (const attack of [...ATTACKS, `${ns.name}' OR '1'='1`]) {
          expect(await adapter.listTables({ schemas: [attack], signal: signal() })).toEqual([]);
        }
        expect(await adminCount('cf_victim')).toBe(1);
      });

      it('describes a table: columns with type, nullability, default and comment, primary key, unique index', async () => {
        const table = await adapter.describeTable({
          table: { schema: ns.name, name: 'cf_parent' },
          signal: signal(),
        });
        const types = target.expected.columnTypes.cf_parent;
        expect(table).toMatchObject({
          schema: ns.name,
          name: 'cf_parent',
          kind: 'table',
          comment: 'Parent rows',
          primaryKey: ['id'],
          foreignKeys: [],
        });
        expect(table?.columns).toEqual([
          { name: 'id', type: types.id, nullable: false, default: null, comment: null },
          { name: 'code', type: types.code, nullable: false, default: null, comment: null },
          {
            name: 'name',
            type: types.name,
            nullable: true,
            default: target.expected.nameDefault,
            comment: 'Display name',
          },
        ]);
        const indexes = table?.indexes ?? [];
        expect(indexes).toHaveLength(2);
        expect(indexes.find((i) => i.primary)).toMatchObject({
          columns: ['id'],
          unique: true,
          primary: true,
        });
        expect(indexes.find((i) => !i.primary)).toEqual({
          name: 'cf_parent_code_key',
          columns: ['code'],
          unique: true,
          primary: false,
        });
      });

      it('describes foreign keys with the referenced table and columns, and multi-column indexes in order', async () => {
        const table = await adapter.describeTable({
          table: { schema: ns.name, name: 'cf_child' },
          signal: signal(),
        });
        const types = target.expected.columnTypes.cf_child;
        expect(table).toMatchObject({
          schema: ns.name,
          name: 'cf_child',
          kind: 'table',
          comment: null,
          primaryKey: ['id'],
        });
        expect(table?.columns).toEqual([
          { name: 'id', type: types.id, nullable: false, default: null, comment: null },
          {
            name: 'parent_id',
            type: types.parent_id,
            nullable: false,
            default: null,
            comment: null,
          },
          { name: 'note', type: types.note, nullable: true, default: null, comment: 'Free text' },
        ]);
        expect(table?.foreignKeys).toEqual([
          {
            name: 'cf_child_parent_fk',
            columns: ['parent_id'],
            references: { schema: ns.name, name: 'cf_parent', columns: ['id'] },
          },
        ]);
        const secondary = (table?.indexes ?? [])
          .filter((i) => !i.primary)
          .sort((a, b) => a.name.localeCompare(b.name));
        expect(secondary).toEqual([
          {
            name: 'cf_child_note_parent_idx',
            columns: ['note', 'parent_id'],
            unique: false,
            primary: false,
          },
          { name: 'cf_child_parent_idx', columns: ['parent_id'], unique: false, primary: false },
        ]);
        expect((table?.indexes ?? []).filter((i) => i.primary)).toHaveLength(1);
      });

      it('describes a view: its columns, no keys', async () => {
        const view = await adapter.describeTable({
          table: { schema: ns.name, name: 'cf_parent_view' },
          signal: signal(),
        });
        expect(view).toMatchObject({
          name: 'cf_parent_view',
          kind: 'view',
          primaryKey: [],
          foreignKeys: [],
          indexes: [],
        });
        expect(view?.columns.map((c) => [c.name, c.type])).toEqual([
          ['id', target.expected.columnTypes.cf_parent.id],
          ['code', target.expected.columnTypes.cf_parent.code],
        ]);
      });

      it('returns null for a table that does not exist, in this or a missing schema', async () => {
        const missing = async (schema: string, name: string) =>
          adapter.describeTable({ table: { schema, name }, signal: signal() });
        expect(await missing(ns.name, 'cf_nope')).toBeNull();
        expect(await missing(`${ns.name}_nope`, 'cf_parent')).toBeNull();
        expect(await missing(other.name, 'cf_parent'), 'a table of another schema').toBeNull();
      });

      it('binds names: tables named with a quote, an apostrophe and a space are described', async () => {
        for (const name of oddTables()) {
          const table = await adapter.describeTable({
            table: { schema: ns.name, name },
            signal: signal(),
          });
          expect(table, name).not.toBeNull();
          const described = table as TableDescription;
          expect([described.schema, described.name, described.kind]).toEqual([
            ns.name,
            name,
            'table',
          ]);
          expect(described.columns.map((c) => c.name)).toEqual(['id', 'label']);
          expect(described.primaryKey).toEqual(['id']);
        }
      });

      it('binds names: a table name that is an injection is not found and changes nothing', async () => {
        for (const attack of [...ATTACKS, "cf_parent' OR '1'='1", 'cf_parent" OR "1"="1']) {
          expect(
            await adapter.describeTable({
              table: { schema: ns.name, name: attack },
              signal: signal(),
            }),
            attack,
          ).toBeNull();
          expect(
            await adapter.describeTable({
              table: { schema: attack, name: 'cf_parent' },
              signal: signal(),
            }),
            attack,
          ).toBeNull();
        }
        expect(await adminCount('cf_victim')).toBe(1);
      });
    });

    describe('the value contract', () => {
      const sql = `SELECT ${TYPE_COLUMNS.join(', ')} FROM cf_types ORDER BY id`;

      it("reports each column's type as the target names it", async () => {
        const result = await read(sql);
        expect(result.columns).toEqual(
          TYPE_COLUMNS.map((name) => ({ name, type: target.expected.resultTypes[name] })),
        );
      });

      it('maps every value as the contract says: exact text for 64-bit integers, decimals, dates, times, binary and JSON', async () => {
        const result = await read(sql);
        const expected = expectedTypeRows(target.fixture);
        expect(result.rows.map((row) => row[0])).toEqual(expected.map((row) => row[0]));
        expected.forEach((row, r) => {
          row.forEach((want, c) => {
            const label = `row ${String(row[0])}, ${TYPE_COLUMNS[c]}`;
            const got = result.rows[r]?.[c];
            if (isJsonExpectation(want)) {
              expect.soft(typeof got, `${label}: JSON comes as text`).toBe('string');
              if (typeof got === 'string') expect.soft(JSON.parse(got), label).toEqual(want.json);
            } else {
              expect.soft(got, label).toStrictEqual(want);
            }
          });
        });
      });

      it("a column's JSON type never depends on the row: 64-bit integers and decimals are always strings", async () => {
        const result = await read(
          'SELECT n_big, n_dec FROM cf_types WHERE n_big IS NOT NULL ORDER BY id',
        );
        for (const row of result.rows) {
          expect(row.map((v) => typeof v)).toEqual(['string', 'string']);
        }
      });

      it('returns the columns of an empty result, and no rows', async () => {
        const result = await read('SELECT id, s_text FROM cf_types WHERE id < 0');
        expect(result).toEqual({
          columns: [
            { name: 'id', type: target.expected.resultTypes.id },
            { name: 's_text', type: target.expected.resultTypes.s_text },
          ],
          rows: [],
          rowCount: 0,
          truncated: false,
        });
      });
    });

    describe('limits and truncation', () => {
      it('stops at maxRows: exactly maxRows rows, truncated for maxRows', async () => {
        const result = await read('SELECT id FROM cf_many ORDER BY id', [], { maxRows: 100 });
        expect(result.rows).toEqual(Array.from({ length: 100 }, (_, i) => [i + 1]));
        expect(result).toMatchObject({
          rowCount: 100,
          truncated: true,
          truncatedReason: 'maxRows',
        });
      });

      it('is not truncated when the result has exactly maxRows rows', async () => {
        const result = await read(`SELECT id FROM cf_many WHERE id <= ${p(1)} ORDER BY id`, [100], {
          maxRows: 100,
        });
        expect(result).toMatchObject({ rowCount: 100, truncated: false });
      });

      it('answers an unbounded SELECT * with maxRows rows', async () => {
        const result = await read('SELECT * FROM cf_many', [], { maxRows: 1000 });
        expect(result).toMatchObject({
          rowCount: 1000,
          truncated: true,
          truncatedReason: 'maxRows',
        });
      });

      it('stops at maxBytes: the longest prefix whose rowBytes sum stays within maxBytes (bytes, not characters)', async () => {
        const all = await read('SELECT id, payload FROM cf_wide ORDER BY id');
        expect(all).toMatchObject({ rowCount: 200, truncated: false });
        for (const maxBytes of [10_500, 25_000, 100_001]) {
          let used = 0;
          let fits = 0;
          while (fits < all.rows.length) {
            const size = rowBytes(all.rows[fits] as unknown[]);
            if (used + size > maxBytes) break;
            used += size;
            fits += 1;
          }
          const result = await read('SELECT id, payload FROM cf_wide ORDER BY id', [], {
            maxBytes,
          });
          expect(result.rows, `maxBytes ${maxBytes}`).toEqual(all.rows.slice(0, fits));
          expect(result).toMatchObject({ truncated: true, truncatedReason: 'maxBytes' });
          const total = result.rows.reduce((sum: number, row) => sum + rowBytes(row), 0);
          expect(total).toBeLessThanOrEqual(maxBytes);
        }
      });

      it('keeps rows that fill maxBytes exactly, and truncates only when one more does not fit', async () => {
        const first = await read(
          `SELECT id, payload FROM cf_wide WHERE id <= ${p(1)} ORDER BY id`,
          [10],
        );
        const exact = first.rows.reduce((sum: number, row) => sum + rowBytes(row), 0);
        const fitting = await read(
          `SELECT id, payload FROM cf_wide WHERE id <= ${p(1)} ORDER BY id`,
          [10],
          { maxBytes: exact },
        );
        expect(fitting).toMatchObject({ rowCount: 10, truncated: false });
        const cut = await read('SELECT id, payload FROM cf_wide ORDER BY id', [], {
          maxBytes: exact,
        });
        expect(cut).toMatchObject({ rowCount: 10, truncated: true, truncatedReason: 'maxBytes' });
      });

      it('answers the rows that fit when later rows pass maxBytes (100 kB rows, 1 MiB)', async () => {
        const result = await read(
          `SELECT id, ${target.wideText(100_000)} AS v FROM cf_many WHERE id <= 200 ORDER BY id`,
        );
        expect(result.rows.map((row) => row[0])).toEqual(
          Array.from({ length: 10 }, (_, i) => i + 1),
        );
        expect(result).toMatchObject({ truncated: true, truncatedReason: 'maxBytes' });
        expect((await read('SELECT id FROM cf_many WHERE id = 1')).rows).toEqual([[1]]);
      });

      it('never reads a value wider than the call may receive (one 10 MB value), and goes on', async () => {
        const result = await read(
          `SELECT id, ${target.wideText(10_000_000)} AS v FROM cf_many WHERE id <= 3 ORDER BY id`,
          [],
          { timeoutMs: 30_000 },
        );
        expect(result).toMatchObject({
          rows: [],
          truncated: true,
          truncatedReason: 'maxBytes',
        });
        expect((await read('SELECT id FROM cf_many WHERE id = 2')).rows).toEqual([[2]]);
      }, 60_000);

      it('returns no rows, truncated, when the first row alone is over maxBytes', async () => {
        const result = await read('SELECT id, payload FROM cf_wide ORDER BY id', [], {
          maxBytes: 100,
        });
        expect(result).toMatchObject({
          rows: [],
          rowCount: 0,
          truncated: true,
          truncatedReason: 'maxBytes',
        });
      });
    });

    describe('injection', () => {
      it('binds a parameter holding a quote: it matches the row with that value', async () => {
        const result = await read(`SELECT id FROM cf_parent WHERE code = ${p(1)}`, ["o'brien"]);
        expect(result.rows).toEqual([[2]]);
      });

      it("binds a parameter that is an injection ('; DROP TABLE ...): no rows, and the table keeps its rows", async () => {
        for (const attack of ATTACKS) {
          const result = await read(`SELECT id FROM cf_victim WHERE label = ${p(1)}`, [attack]);
          expect(result.rows, attack).toEqual([]);
        }
        expect(await adminCount('cf_victim')).toBe(1);
        expect((await read('SELECT id, label FROM cf_victim')).rows).toEqual([[1, 'keep']]);
      });

      it('reads tables whose names hold a quote, an apostrophe or a space through quoted identifiers', async () => {
        for (const name of [target.fixture.quoteTable, APOSTROPHE_TABLE, SPACE_TABLE]) {
          const result = await read(`SELECT id, label FROM ${q(ns.name)}.${q(name)}`);
          expect(result.rows, name).toEqual([[1, 'odd']]);
        }
      });

      it('refuses stacked statements sent straight to read() (bypassing the guard) and runs none of them', async () => {
        const stacked: Array<[string, unknown[]]> = [
          ['SELECT 1 AS a; DROP TABLE cf_victim', []],
          [`SELECT id FROM cf_victim WHERE id = ${p(1)}; DROP TABLE cf_victim`, [1]],
          ["SELECT 1 AS a; INSERT INTO cf_victim (id, label) VALUES (2, 'stacked')", []],
          ['SELECT 1 AS a; SELECT 2 AS b', []],
        ];
        for (const [sql, params] of stacked) {
          const code = await attempt(sql, params);
          expect(code, sql).not.toBe('ok');
          expect(code, sql).not.toMatch(/^not a SqlwardenError/);
        }
        expect(await adminCount('cf_victim')).toBe(1);
      });

      it('refuses a write sent to read() with READ_ONLY, and nothing changes', async () => {
        expect(await attempt("INSERT INTO cf_victim (id, label) VALUES (2, 'written')")).toBe(
          'READ_ONLY',
        );
        expect(await attempt("UPDATE cf_victim SET label = 'changed'")).toBe('READ_ONLY');
        expect(await attempt('DELETE FROM cf_victim')).toBe('READ_ONLY');
        expect((await read('SELECT id, label FROM cf_victim')).rows).toEqual([[1, 'keep']]);
      });
    });

    // The same mistake reads the same on every database (statementFailure in
    // @sqlwarden/core), naming only what the statement's text holds as an
    // identifier: never a parameter value, never a string literal.
    describe('errors from the database', () => {
      const placeholderWord = p(1) === '?' ? '?' : '$n';
      const readOutcome = (sql: string, params: readonly unknown[] = []) =>
        outcomeOf(adapter.read({ sql, params, limits: LIMITS, signal: signal() }));

      it('names the ambiguous column and offers the aliases of the statement', async () => {
        expect(
          await readOutcome(
            `SELECT id FROM cf_parent p JOIN cf_child c ON c.parent_id = p.id WHERE p.code <> '${LITERAL_CANARY}' OR p.code = ${p(1)}`,
            [PARAM_CANARY],
          ),
        ).toEqual({
          code: 'QUERY_FAILED',
          message: 'Column id is ambiguous: qualify it with its table or alias (p.id or c.id).',
        });
      });

      it('names the unknown column and the unknown table as the statement spells them', async () => {
        expect(
          await readOutcome(
            `SELECT p.nope_col FROM cf_parent p WHERE p.code = '${LITERAL_CANARY}' OR p.code = ${p(1)}`,
            [PARAM_CANARY],
          ),
        ).toEqual({
          code: 'QUERY_FAILED',
          message: 'Column p.nope_col does not exist: check the columns with describe_table.',
        });
        expect(
          await readOutcome(
            `SELECT * FROM cf_nope WHERE code = '${LITERAL_CANARY}' OR code = ${p(1)}`,
            [PARAM_CANARY],
          ),
        ).toEqual({
          code: 'NOT_FOUND',
          message: 'Table cf_nope does not exist: check the tables with list_tables.',
        });
      });

      it('says a selected column must be grouped or aggregated', async () => {
        expect(
          await readOutcome(`SELECT p.code, count(*) FROM cf_parent p GROUP BY p.name`),
        ).toEqual({
          code: 'QUERY_FAILED',
          message:
            'Column p.code must appear in GROUP BY or be used in an aggregate function (such as max or count).',
        });
      });

      it('says where a syntax error is, naming a word of the statement but never a literal', async () => {
        expect(
          await readOutcome(`SELECT * FORM cf_parent WHERE code = '${LITERAL_CANARY}'`),
        ).toEqual({
          code: 'QUERY_FAILED',
          message: 'Syntax error near the word FORM (character 10): fix the statement there.',
        });
        expect(
          await readOutcome(`SELECT * FROM cf_parent WHERE code = '${LITERAL_CANARY}`),
        ).toEqual({
          code: 'QUERY_FAILED',
          message: 'A quoted string or name is not closed (character 38): close it.',
        });
      });

      it('says how many parameters the statement takes and how many came', async () => {
        expect(await readOutcome(`SELECT ${p(1)} AS a, ${p(2)} AS b`, [PARAM_CANARY])).toEqual({
          code: 'QUERY_FAILED',
          message: `The statement takes 2 parameters but 1 value was given: give one value for each ${placeholderWord}.`,
        });
      });

      it('never echoes a parameter value or a string literal the server quoted', async () => {
        const cases: Array<[string, unknown[]]> = [
          [`SELECT * FROM cf_parent WHERE id = ${p(1)} AND nope_col = 1`, [PARAM_CANARY]],
          [`SELECT * FROM cf_parent WHERE code = '${LITERAL_CANARY}' ORDER BY 9`, []],
          [`SELECT (SELECT code FROM cf_parent WHERE code <> '${LITERAL_CANARY}')`, []],
        ];
        for (const [sql, params] of cases) {
          const outcome = await readOutcome(sql, params);
          expect(outcome.code, sql).toMatch(/^(QUERY_FAILED|NOT_FOUND)$/);
          expect(outcome.message.toLowerCase(), sql).not.toContain('canary');
        }
      });
    });

    describe('time limits, cancellation, connection loss', () => {
      it('ends a statement past its time limit with QUERY_TIMEOUT and leaves nothing running', async () => {
        const mark = marker('timeout');
        expect(await attempt(target.heavyQuery(mark), [], { timeoutMs: 1000 })).toBe(
          'QUERY_TIMEOUT',
        );
        expect(await settled(mark), 'the statement left the server').toBe(true);
        expect((await read('SELECT id FROM cf_parent ORDER BY id')).rows).toEqual([[1], [2]]);
      });

      it("never lets a call raise the source's statement timeout", async () => {
        const strict = await makeAdapter({ statementTimeoutMs: 1000 });
        const mark = marker('ceiling');
        expect(
          await attempt(target.heavyQuery(mark), [], { timeoutMs: 60_000 }, { on: strict }),
        ).toBe('QUERY_TIMEOUT');
        expect(await settled(mark), 'the statement left the server').toBe(true);
      });

      it('ends a call whose signal is aborted mid-query with QUERY_CANCELLED and leaves nothing running', async () => {
        const mark = marker('abort');
        const controller = new AbortController();
        const pending = attempt(target.heavyQuery(mark), [], {}, { signal: controller.signal });
        expect(await started(mark), 'the statement reached the server').toBe(true);
        controller.abort();
        expect(await pending).toBe('QUERY_CANCELLED');
        expect(await settled(mark), 'the statement left the server').toBe(true);
        expect((await read('SELECT id FROM cf_parent ORDER BY id')).rows).toEqual([[1], [2]]);
      });

      it('answers SOURCE_BUSY with retryAfterMs when every connection stays busy, and no outage', async () => {
        const small = await makeAdapter({ poolSize: 1, acquireTimeoutMs: 300 });
        const mark = marker('busy');
        const controller = new AbortController();
        const holding = attempt(
          target.heavyQuery(mark),
          [],
          {},
          { signal: controller.signal, on: small },
        );
        expect(await started(mark), 'the statement reached the server').toBe(true);
        const error = await small
          .read({
            sql: 'SELECT id FROM cf_parent',
            params: [],
            limits: LIMITS,
            signal: new AbortController().signal,
          })
          .then(
            () => undefined,
            (caught: unknown) => caught as { code?: string; retryAfterMs?: number },
          );
        expect(error?.code).toBe('SOURCE_BUSY');
        expect(error?.retryAfterMs).toBeGreaterThan(0);
        controller.abort();
        expect(await holding).toBe('QUERY_CANCELLED');
        expect(await attempt('SELECT id FROM cf_parent', [], {}, { on: small })).toBe('ok');
      });

      it('does not run a read whose signal is already aborted', async () => {
        const controller = new AbortController();
        controller.abort();
        const mark = marker('preabort');
        expect(await attempt(target.heavyQuery(mark), [], {}, { signal: controller.signal })).toBe(
          'QUERY_CANCELLED',
        );
        expect(await running(mark)).toBe(0);
      });

      it('reports DB_UNAVAILABLE when the session of a running read is killed, and the next read succeeds', async () => {
        const mark = marker('kill');
        const pending = attempt(target.heavyQuery(mark));
        expect(await started(mark), 'the statement reached the server').toBe(true);
        expect(await target.killSession(ns, mark)).toBeGreaterThanOrEqual(1);
        expect(await pending).toBe('DB_UNAVAILABLE');
        expect(await settled(mark)).toBe(true);
        expect((await read('SELECT id FROM cf_parent ORDER BY id')).rows).toEqual([[1], [2]]);
      });

      it('still answers afterwards: health is ok and parallel reads past the pool size all succeed', async () => {
        expect(await adapter.health()).toMatchObject({ ok: true });
        const results = await Promise.all(
          Array.from({ length: POOL_SIZE * 3 }, (_, i) =>
            read(`SELECT id FROM cf_many WHERE id = ${p(1)}`, [i + 1]),
          ),
        );
        expect(results.map((r) => r.rows)).toEqual(
          Array.from({ length: POOL_SIZE * 3 }, (_, i) => [[i + 1]]),
        );
        const tables = await adapter.listTables({ schemas: [ns.name], signal: signal() });
        expect(tables.length).toBe(FIXTURE_TABLES.length + 3);
      });
    });

    describe('closing', () => {
      it('is idempotent, and a closed adapter answers DB_UNAVAILABLE', async () => {
        const closing = await makeAdapter();
        expect((await read('SELECT id FROM cf_victim', [], {}, closing)).rows).toEqual([[1]]);
        await closing.close();
        await closing.close();
        expect(await attempt('SELECT id FROM cf_victim', [], {}, { on: closing })).toBe(
          'DB_UNAVAILABLE',
        );
        expect(await codeOf(closing.listTables({ schemas: [ns.name], signal: signal() }))).toBe(
          'DB_UNAVAILABLE',
        );
        expect(
          await codeOf(
            closing.describeTable({
              table: { schema: ns.name, name: 'cf_parent' },
              signal: signal(),
            }),
          ),
        ).toBe('DB_UNAVAILABLE');
        expect(await closing.health()).toMatchObject({ ok: false });
      });
    });

    describe('writes', () => {
      const write = (on: DatabaseAdapter, request: Partial<WriteRequest> & { sql: string }) =>
        on.write({
          params: [],
          maxAffectedRows: 100,
          timeoutMs: LIMITS.timeoutMs,
          signal: signal(),
          dryRun: false,
          ...request,
        });
      const values = async () =>
        (await ns.exec('SELECT id, v FROM cf_writes ORDER BY id')).map((row) => row.map(Number));
      const initial = [
        [1, 0],
        [2, 0],
        [3, 0],
        [4, 0],
        [5, 0],
      ];

      beforeEach(async () => {
        await ns.exec('DELETE FROM cf_writes');
        await ns.exec(
          'INSERT INTO cf_writes (id, v) VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0)',
        );
      });

      // Holds for every adapter, write() implemented or not.
      it('refuses every write with READ_ONLY when the source does not allow writes, and nothing changes', async () => {
        expect(await codeOf(write(adapter, { sql: 'UPDATE cf_writes SET v = 1' }))).toBe(
          'READ_ONLY',
        );
        expect(
          await codeOf(write(adapter, { sql: 'UPDATE cf_writes SET v = 1', dryRun: true })),
        ).toBe('READ_ONLY');
        expect(await values()).toEqual(initial);
      });

      describe.skipIf(!supportsWrites)('with writes allowed', () => {
        let writer: DatabaseAdapter;
        beforeAll(async () => {
          writer = await makeAdapter({ allowWrites: true });
        });

        it('commits a write and reports the affected rows', async () => {
          const result = await write(writer, {
            sql: `UPDATE cf_writes SET v = v + 1 WHERE id <= ${p(1)}`,
            params: [2],
          });
          expect(result).toEqual({ affectedRows: 2, committed: true });
          expect(await values()).toEqual([
            [1, 1],
            [2, 1],
            [3, 0],
            [4, 0],
            [5, 0],
          ]);
        });

        it('counts and rolls back a dry run', async () => {
          const result = await write(writer, {
            sql: 'DELETE FROM cf_writes WHERE id >= 4',
            dryRun: true,
          });
          expect(result).toEqual({ affectedRows: 2, committed: false });
          expect(await values()).toEqual(initial);
        });

        it('allows exactly maxAffectedRows rows', async () => {
          const result = await write(writer, {
            sql: 'UPDATE cf_writes SET v = 7',
            maxAffectedRows: 5,
          });
          expect(result).toEqual({ affectedRows: 5, committed: true });
        });

        it('rolls back a write over maxAffectedRows with WRITE_LIMIT_EXCEEDED, and nothing changes', async () => {
          expect(
            await codeOf(write(writer, { sql: 'UPDATE cf_writes SET v = 9', maxAffectedRows: 3 })),
          ).toBe('WRITE_LIMIT_EXCEEDED');
          expect(
            await codeOf(write(writer, { sql: 'DELETE FROM cf_writes', maxAffectedRows: 4 })),
          ).toBe('WRITE_LIMIT_EXCEEDED');
          expect(await values()).toEqual(initial);
        });

        it('leaves nothing half-applied when a write fails part-way', async () => {
          const code = await codeOf(
            write(writer, { sql: 'INSERT INTO cf_writes (id, v) VALUES (10, 0), (1, 0)' }),
          );
          expect(code).toBe('QUERY_FAILED');
          expect(await values()).toEqual(initial);
        });

        it('binds write parameters: an injection is stored as text', async () => {
          const attack = ATTACKS[0];
          const result = await write(writer, {
            sql: `INSERT INTO cf_writes (id, v, note) VALUES (${p(1)}, ${p(2)}, ${p(3)})`,
            params: [6, 0, attack],
          });
          expect(result).toEqual({ affectedRows: 1, committed: true });
          expect(await ns.exec(`SELECT note FROM cf_writes WHERE id = ${p(1)}`, [6])).toEqual([
            [attack],
          ]);
          expect(await adminCount('cf_victim')).toBe(1);
        });

        it('refuses stacked statements sent straight to write() and runs none of them', async () => {
          const code = await codeOf(
            write(writer, { sql: 'UPDATE cf_writes SET v = 1; DROP TABLE cf_victim' }),
          );
          expect(code).not.toBe('ok');
          expect(code).not.toMatch(/^not a SqlwardenError/);
          expect(await values()).toEqual(initial);
          expect(await adminCount('cf_victim')).toBe(1);
        });

        it('says a write divides by zero, and nothing changes', async () => {
          expect(
            await outcomeOf(
              write(writer, { sql: 'INSERT INTO cf_writes (id, v) VALUES (50, 1/0)' }),
            ),
          ).toEqual({
            code: 'QUERY_FAILED',
            message:
              'The statement divides by zero: guard the divisor, for example with NULLIF(x, 0).',
          });
          expect(await values()).toEqual(initial);
        });

        it('never echoes the value of a parameter or a literal that the column refused', async () => {
          const cases: Array<[string, unknown[]]> = [
            [`INSERT INTO cf_writes (id, v) VALUES (${p(1)}, ${p(2)})`, [51, PARAM_CANARY]],
            [`INSERT INTO cf_writes (id, v) VALUES (52, '${LITERAL_CANARY}')`, []],
            [`UPDATE cf_writes SET v = ${p(1)} WHERE id = 1`, [PARAM_CANARY]],
            [`INSERT INTO cf_writes (id, v, note) VALUES (1, 0, ${p(1)})`, [PARAM_CANARY]],
          ];
          for (const [sql, params] of cases) {
            const outcome = await outcomeOf(write(writer, { sql, params }));
            expect(outcome.code, sql).toBe('QUERY_FAILED');
            expect(outcome.message.toLowerCase(), sql).not.toContain('canary');
          }
          expect(await values()).toEqual(initial);
        });

        it('still reads in read-only sessions on a write-enabled source', async () => {
          await write(writer, { sql: 'UPDATE cf_writes SET v = 2 WHERE id = 1' });
          expect(
            await attempt(
              "INSERT INTO cf_victim (id, label) VALUES (3, 'leak')",
              [],
              {},
              {
                on: writer,
              },
            ),
          ).toBe('READ_ONLY');
          expect(await adminCount('cf_victim')).toBe(1);
        });
      });
    });
  });

  // The same adapter, with calls in flight, against a server that restarts,
  // crashes, loses sessions, its database, its network (faults.ts).
  describeAdapterFaults(target);
}
