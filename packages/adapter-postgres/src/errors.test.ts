import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import { type ErrorContext, mapDriverError } from '@sqlwarden/adapter-kit';
import type { SqlwardenError } from '@sqlwarden/core';
import { createTestSchema, postgresTestUrl, type TestSchema } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresErrors } from './errors.js';

/** A driver error as the client sees it: the kit's order, this engine's words. */
const mapPostgresError = (error: unknown, context: ErrorContext) =>
  mapDriverError(postgresErrors, error, context);

import { createPostgresAdapter } from './index.js';

const pgError = (code: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { code, severity: 'ERROR', ...extra });
const context = { timeoutMs: 1000 };

describe('mapPostgresError', () => {
  it.each([
    ['57014', 'QUERY_TIMEOUT'],
    ['25006', 'READ_ONLY'],
    ['42501', 'FORBIDDEN'],
    ['42P01', 'NOT_FOUND'],
    ['3F000', 'NOT_FOUND'],
    ['42703', 'QUERY_FAILED'],
    ['42702', 'QUERY_FAILED'],
    ['42803', 'QUERY_FAILED'],
    ['42601', 'QUERY_FAILED'],
    ['22P02', 'QUERY_FAILED'],
    ['22012', 'QUERY_FAILED'],
    ['23505', 'QUERY_FAILED'],
    ['57P01', 'DB_UNAVAILABLE'],
    ['08006', 'DB_UNAVAILABLE'],
    // Class 08, but a wrong parameter count in Bind, not a lost connection.
    ['08P01', 'QUERY_FAILED'],
    ['53300', 'DB_UNAVAILABLE'],
    ['28P01', 'DB_UNAVAILABLE'],
    ['XX000', 'QUERY_FAILED'],
  ])('maps SQLSTATE %s to %s', (code, expected) => {
    expect(mapPostgresError(pgError(code, 'x'), context).code).toBe(expected);
  });

  it('maps a FATAL 08P01 (PgBouncer lost the server, or its wait timed out) to DB_UNAVAILABLE, an ERROR 08P01 not', () => {
    for (const message of ['server conn crashed?', 'query_wait_timeout']) {
      expect(mapPostgresError(pgError('08P01', message, { severity: 'FATAL' }), context).code).toBe(
        'DB_UNAVAILABLE',
      );
    }
    expect(
      mapPostgresError(
        pgError(
          '08P01',
          'bind message supplies 1 parameters, but prepared statement "" requires 0',
          {
            severity: 'ERROR',
          },
        ),
        context,
      ).code,
    ).toBe('QUERY_FAILED');
  });

  it('maps network failures to DB_UNAVAILABLE', () => {
    for (const error of [
      Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
    ]) {
      expect(mapPostgresError(error, context).code).toBe('DB_UNAVAILABLE');
    }
  });

  it('says QUERY_CANCELLED or QUERY_TIMEOUT when the adapter stopped the statement itself', () => {
    expect(mapPostgresError(pgError('57014', 'x'), { ...context, stopped: 'abort' }).code).toBe(
      'QUERY_CANCELLED',
    );
    expect(mapPostgresError(new Error('anything'), { ...context, stopped: 'timeout' }).code).toBe(
      'QUERY_TIMEOUT',
    );
  });

  it('never passes on the values or file paths a server message quotes', () => {
    const secret = 'card 4111-1111-1111-1111';
    const errors = [
      pgError('22P02', `invalid input syntax for type integer: "${secret}"`),
      pgError('23505', `duplicate key value violates unique constraint "u"`, {
        detail: `Key (card)=(${secret}) already exists.`,
      }),
      pgError('58P01', `could not open file "/etc/${secret}"`),
    ];
    for (const error of errors) {
      expect(
        mapPostgresError(error, { ...context, sql: 'SELECT card FROM t' }).message,
      ).not.toContain('4111');
    }
  });

  it('names nothing from the server without the statement (the adapter’s own catalog queries)', () => {
    expect(
      mapPostgresError(pgError('42P01', 'relation "ordres" does not exist'), context).message,
    ).toBe('A table the statement names does not exist: check the tables with list_tables.');
  });

  it('names the server hint’s column only when the statement holds it', () => {
    const error = pgError('42703', 'column "totl" does not exist', {
      hint: 'Perhaps you meant to reference the column "o.total".',
    });
    expect(mapPostgresError(error, { ...context, sql: 'SELECT totl FROM orders o' }).message).toBe(
      'Column totl does not exist: check the columns with describe_table.',
    );
    expect(
      mapPostgresError(error, { ...context, sql: 'SELECT totl, o.total FROM orders o' }).message,
    ).toBe(
      'Column totl does not exist (did you mean o.total?): check the columns with describe_table.',
    );
  });

  it('keeps the driver error as cause for the operator log', () => {
    const error = pgError('42601', 'syntax error');
    expect(mapPostgresError(error, context).cause).toBe(error);
  });
});

/*
 * The message table, built from what PostgreSQL 15 really answers: each
 * statement runs through the real adapter, and the code and the whole
 * message are asserted. Canaries (PARAMCANARY in parameters, LITCANARY in
 * string literals) sit on every path where the server's message quotes a
 * name or a value; none may come back.
 */
describe('errors from the real server', () => {
  let schema: TestSchema;
  let adapter: SourceAdapter;

  beforeAll(async () => {
    schema = await createTestSchema(
      'sqlwarden_pgerr',
      () => `
      CREATE TABLE customers (id int PRIMARY KEY, name text, email text UNIQUE);
      CREATE TABLE orders (
        id int PRIMARY KEY, customer_id int REFERENCES customers (id), status text,
        total numeric(5,2), created date, note varchar(10), qty int NOT NULL DEFAULT 0
      );
      INSERT INTO customers VALUES (1, 'a', 'a@example.org'), (2, 'b', 'b@example.org');
      INSERT INTO orders VALUES (1, 1, 'new', 1.5, '2024-01-01', 'n', 1), (2, 1, 'old', 2, '2024-01-01', 'm', 2);
    `,
    );
    adapter = createPostgresAdapter({
      source: 'main',
      connection: { connectionString: postgresTestUrl() },
      defaultSchema: schema.name,
      statementTimeoutMs: 5000,
      pool: { max: 2 },
      allowWrites: true,
    });
  });

  afterAll(async () => {
    await adapter?.close();
    await schema?.drop();
  });

  const failure = async (
    sql: string,
    params: unknown[] = [],
    kind: 'read' | 'write' = 'read',
  ): Promise<SqlwardenError> => {
    const signal = new AbortController().signal;
    try {
      if (kind === 'write') {
        // A dry run: rolled back whatever happens.
        await adapter.write({
          sql,
          params,
          maxAffectedRows: 100,
          dryRun: true,
          timeoutMs: 5000,
          signal,
        });
      } else {
        await adapter.read({
          sql,
          params,
          limits: { maxRows: 10, maxBytes: 100_000, timeoutMs: 5000 },
          signal,
        });
      }
    } catch (error) {
      return error as SqlwardenError;
    }
    throw new Error(`expected ${sql} to fail`);
  };

  type Case = readonly [sql: string, params: unknown[], code: string, message: string];
  const reads: Case[] = [
    [
      "SELECT id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.note <> 'LITCANARY' OR o.note = $1",
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'Column id is ambiguous: qualify it with its table or alias (o.id or c.id).',
    ],
    [
      "SELECT o.totl FROM orders o WHERE o.status = 'LITCANARY' OR o.status = $1",
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'Column o.totl does not exist: check the columns with describe_table.',
    ],
    [
      'SELECT "Totl" FROM orders',
      [],
      'QUERY_FAILED',
      'Column "Totl" does not exist: check the columns with describe_table.',
    ],
    [
      "SELECT has_column_privilege('orders', $1, 'SELECT')",
      ['PARAMCANARY_COLUMN'],
      'QUERY_FAILED',
      'A column the statement names does not exist: check the columns with describe_table.',
    ],
    [
      "SELECT * FROM ordres WHERE status = 'LITCANARY' OR status = $1",
      ['PARAMCANARY'],
      'NOT_FOUND',
      'Table ordres does not exist: check the tables with list_tables.',
    ],
    [
      'SELECT $1::regclass',
      ['PARAMCANARY_REGCLASS'],
      'NOT_FOUND',
      'A table the statement names does not exist: check the tables with list_tables.',
    ],
    [
      "SELECT 'LITCANARY_REGCLASS'::regclass",
      [],
      'NOT_FOUND',
      'A table the statement names does not exist: check the tables with list_tables.',
    ],
    [
      'SELECT $1::regclass',
      ['paramcanary_schema.x'],
      'NOT_FOUND',
      'A schema the statement names does not exist: check the schemas and tables with list_tables.',
    ],
    [
      'SELECT x.id FROM orders o',
      [],
      'QUERY_FAILED',
      'x is not a table or alias of the FROM clause: add it to FROM (or a JOIN), or use the alias it has there.',
    ],
    [
      "SELECT status, count(*) FROM orders WHERE note <> 'LITCANARY' OR note = $1 GROUP BY customer_id",
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'Column orders.status must appear in GROUP BY or be used in an aggregate function (such as max or count).',
    ],
    [
      'SELECT * FROM orders WHERE count(*) > 1',
      [],
      'QUERY_FAILED',
      'Aggregate functions are not allowed in WHERE: filter on them in HAVING instead.',
    ],
    [
      'SELECT count(count(*)) FROM orders',
      [],
      'QUERY_FAILED',
      'Aggregate functions cannot be nested: aggregate in a subquery, then aggregate its result.',
    ],
    [
      "SELECT foo(1, 'LITCANARY', $1::text)",
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'Function foo(integer, unknown, text) does not exist: check its name, or cast the arguments to the types it takes.',
    ],
    [
      'SELECT round(1.5::float8, 2)',
      [],
      'QUERY_FAILED',
      'Function round(double precision, integer) does not exist: check its name, or cast the arguments to the types it takes.',
    ],
    [
      'SELECT $1::regproc',
      ['PARAMCANARY_FUNCTION'],
      'QUERY_FAILED',
      'A function the statement calls does not exist: check its name.',
    ],
    [
      "SELECT 'LITCANARY_FUNCTION'::regproc",
      [],
      'QUERY_FAILED',
      'A function the statement calls does not exist: check its name.',
    ],
    [
      'SELECT * FROM orders WHERE status = 1',
      [],
      'QUERY_FAILED',
      'Operator = does not exist for text and integer: cast one side to the type of the other.',
    ],
    [
      'SELECT $1::regtype',
      ['PARAMCANARY_TYPE'],
      'QUERY_FAILED',
      'A type the statement names does not exist: check its name.',
    ],
    [
      'SELECT * FROM orders WHERE id = $1',
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'A value is not valid input for type integer (a parameter, a literal or a stored value being converted): pass a value of that type, or convert it explicitly.',
    ],
    [
      "SELECT * FROM orders WHERE id = 'LITCANARY'",
      [],
      'QUERY_FAILED',
      'The literal at character 33 is not valid input for type integer: write a value of that type.',
    ],
    [
      'SELECT * FROM orders WHERE id = ANY($1)',
      [5],
      'QUERY_FAILED',
      'A value is not a valid array: pass an array (for example [1, 2] as the parameter).',
    ],
    [
      'SELECT 1/0',
      [],
      'QUERY_FAILED',
      'The statement divides by zero: guard the divisor, for example with NULLIF(x, 0).',
    ],
    [
      'SELECT 2147483647::int + 1',
      [],
      'QUERY_FAILED',
      'A value is out of range for type integer: use smaller values, or cast to a wider type (such as bigint or numeric).',
    ],
    [
      'SELECT 1000::numeric(5,2)',
      [],
      'QUERY_FAILED',
      'A value is out of range for type numeric(5,2): use smaller values, or cast to a wider type (such as bigint or numeric).',
    ],
    [
      "SELECT * FORM orders WHERE status = 'LITCANARY' OR status = $1",
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'Syntax error near the word FORM (character 10): fix the statement there.',
    ],
    [
      "SELECT *\nFROM orders\nWHERE status = 'LITCANARY' ORDER status",
      [],
      'QUERY_FAILED',
      'Syntax error near the word status (line 3, character 34): fix the statement there.',
    ],
    [
      "SELECT 'LITCANARY' 'x'",
      [],
      'QUERY_FAILED',
      'Syntax error at character 20: fix the statement there.',
    ],
    [
      'SELECT * FROM orders WHERE',
      [],
      'QUERY_FAILED',
      'Syntax error at the end of the statement: it is incomplete (a clause, a value or a closing parenthesis is missing).',
    ],
    [
      "SELECT * FROM orders WHERE status = 'LITCANARY",
      [],
      'QUERY_FAILED',
      'A quoted string or name is not closed (character 37): close it.',
    ],
    [
      'SELECT $1, $2',
      [1],
      'QUERY_FAILED',
      'The statement takes 2 parameters but 1 value was given: give one value for each $n.',
    ],
    [
      'SELECT $2',
      [1, 2],
      'QUERY_FAILED',
      'The type of parameter $1 cannot be inferred: cast it (for example $1::text), and number the parameters $1, $2... without gaps.',
    ],
    [
      'SELECT (SELECT id FROM orders)',
      [],
      'QUERY_FAILED',
      'A subquery used as a single value returned more than one row: make it return one row (a WHERE, LIMIT 1 or an aggregate), or compare with IN or EXISTS.',
    ],
    [
      "SELECT '2024-02-30'::date",
      [],
      'QUERY_FAILED',
      'The date or time literal at character 8 is out of range (such as February 30 or month 13): pass a real date, written YYYY-MM-DD.',
    ],
    [
      'SELECT id FROM orders UNION SELECT id, status FROM orders',
      [],
      'QUERY_FAILED',
      'The queries of a UNION, INTERSECT or EXCEPT return different numbers of columns: make them return the same number.',
    ],
    [
      'SELECT * FROM (SELECT 1)',
      [],
      'QUERY_FAILED',
      'A subquery in FROM has no alias: add one, as in FROM (SELECT ...) AS s.',
    ],
    [
      'SELECT id FROM orders ORDER BY 5',
      [],
      'QUERY_FAILED',
      'An ORDER BY position is past the end of the select list: use the number of a selected column, or its name.',
    ],
    [
      'SELECT * FROM orders o, customers o',
      [],
      'QUERY_FAILED',
      'Table or alias o is used twice in FROM: give each table a different alias.',
    ],
    [
      'SELECT * FROM orders WHERE 1',
      [],
      'QUERY_FAILED',
      'WHERE needs a boolean condition, not integer: compare the value (for example x = 1).',
    ],
    [
      'SELECT coalesce(1, $1::text)',
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'The branches of a COALESCE have different types (integer and text): cast them to one type.',
    ],
    [
      'SELECT * FROM orders LIMIT -1',
      [],
      'QUERY_FAILED',
      'LIMIT must not be negative: use 0 or more.',
    ],
    [
      "SELECT * FROM orders WHERE status ~ '(LITCANARY'",
      [],
      'QUERY_FAILED',
      'A regular expression is not valid: fix the pattern.',
    ],
    [
      "INSERT INTO orders (id, status) VALUES (9, 'LITCANARY')",
      [],
      'READ_ONLY',
      'The statement tried to write (INSERT); reads run in read-only transactions.',
    ],
  ];

  it.each(reads)('%s', async (sql, params, code, message) => {
    const error = await failure(sql, params);
    expect({ code: error.code, message: error.message }).toEqual({ code, message });
  });

  const writes: Case[] = [
    [
      'INSERT INTO orders (id, qty) VALUES (10, 1/0)',
      [],
      'QUERY_FAILED',
      'The statement divides by zero: guard the divisor, for example with NULLIF(x, 0).',
    ],
    [
      "INSERT INTO orders (id, qty, note) VALUES (11, 1, 'LITCANARY_TOO_LONG')",
      [],
      'QUERY_FAILED',
      'A value is too long for type character varying(10): shorten it.',
    ],
    [
      'INSERT INTO orders (id, qty) VALUES (13, $1)',
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'A value is not valid input for type integer (a parameter, a literal or a stored value being converted): pass a value of that type, or convert it explicitly.',
    ],
    [
      'INSERT INTO orders (id, qty) VALUES (15, NULL)',
      [],
      'QUERY_FAILED',
      'Column qty may not be null: give it a value.',
    ],
    [
      'INSERT INTO orders (id, qty, customer_id) VALUES (17, 1, 99)',
      [],
      'QUERY_FAILED',
      'Column customer_id must refer to an existing row of the referenced table (a foreign key): use a key that exists there.',
    ],
    [
      'INSERT INTO customers (id, email) VALUES (5, $1)',
      ['a@example.org'],
      'QUERY_FAILED',
      'The statement would duplicate a unique key (email): a row with that value exists already.',
    ],
    [
      'DELETE FROM customers WHERE id = 1',
      [],
      'QUERY_FAILED',
      'Rows of another table still refer to this row (a foreign key): change or delete them first.',
    ],
    [
      'INSERT INTO orders (id, qty) VALUES (18)',
      [],
      'QUERY_FAILED',
      'The INSERT has a different number of columns and values: give one value for each column.',
    ],
    [
      'INSERT INTO orders (id, id, qty) VALUES (18, 18, 1)',
      [],
      'QUERY_FAILED',
      'Column id is listed more than once: list it once.',
    ],
    [
      "UPDATE orders SET qty = 'LITCANARY'::text",
      [],
      'QUERY_FAILED',
      'Column qty is of type integer but the value is of type text: cast the value (::integer) or pass a value of that type.',
    ],
  ];

  it.each(writes)('write: %s', async (sql, params, code, message) => {
    const error = await failure(sql, params, 'write');
    expect({ code: error.code, message: error.message }).toEqual({ code, message });
  });

  it('never echoes a canary, whichever path the error took', async () => {
    for (const [sql, params] of reads) {
      expect((await failure(sql, params)).message.toLowerCase()).not.toContain('canary');
    }
    for (const [sql, params] of writes) {
      expect((await failure(sql, params, 'write')).message.toLowerCase()).not.toContain('canary');
    }
  });

  it('names an identifier of the statement even when a literal or a parameter spells it too', async () => {
    const error = await failure("SELECT nope FROM orders WHERE status = 'nope' OR status = $1", [
      'nope',
    ]);
    expect(error.message).toBe(
      'Column nope does not exist: check the columns with describe_table.',
    );
  });

  it('is FORBIDDEN when the role lacks a privilege, naming the table the statement holds', async () => {
    const role = `${schema.name}_ro`;
    await schema.client.query(`CREATE ROLE ${role} LOGIN`);
    await schema.client.query(`GRANT USAGE ON SCHEMA ${schema.name} TO ${role}`);
    const url = new URL(postgresTestUrl());
    url.username = role;
    url.password = '';
    const limited = createPostgresAdapter({
      source: 'limited',
      connection: { connectionString: url.toString() },
      defaultSchema: schema.name,
      statementTimeoutMs: 5000,
      pool: { max: 1 },
    });
    try {
      const outcome = await limited
        .read({
          sql: "SELECT * FROM orders WHERE status = 'LITCANARY'",
          params: [],
          limits: { maxRows: 10, maxBytes: 100_000, timeoutMs: 5000 },
          signal: new AbortController().signal,
        })
        .then(
          () => ({ code: 'ok', message: '' }),
          (error: SqlwardenError) => ({ code: error.code, message: error.message }),
        );
      expect(outcome).toEqual({
        code: 'FORBIDDEN',
        message:
          'The database account of this source may not use table orders: ask an operator for the grant.',
      });
    } finally {
      await limited.close();
      await schema.client.query(`REVOKE ALL ON SCHEMA ${schema.name} FROM ${role}`);
      await schema.client.query(`DROP ROLE ${role}`);
    }
  });
});
