import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import { type ErrorContext, mapDriverError } from '@sqlwarden/adapter-kit';
import type { SqlwardenError } from '@sqlwarden/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlErrors } from './errors.js';

/** A driver error as the client sees it: the kit's order, this engine's words. */
const mapMysqlError = (error: unknown, context: ErrorContext) =>
  mapDriverError(mysqlErrors, error, context);

import { createTestDatabase, LIMITS, signal, type TestDatabase } from './test-support.js';

const serverError = (errno: number, sqlState: string, sqlMessage: string) =>
  Object.assign(new Error(sqlMessage), {
    errno,
    sqlState,
    sqlMessage,
    code: 'ER_X',
    sql: 'SELECT secret',
  });
const context = { timeoutMs: 1000 };

describe('mapMysqlError', () => {
  it.each([
    [1064, '42000', 'QUERY_FAILED'],
    [1146, '42S02', 'NOT_FOUND'],
    [1054, '42S22', 'QUERY_FAILED'],
    [1052, '23000', 'QUERY_FAILED'],
    [1792, '25006', 'READ_ONLY'],
    [1142, '42000', 'FORBIDDEN'],
    [1143, '42000', 'FORBIDDEN'],
    [1044, '42000', 'FORBIDDEN'],
    [1045, '28000', 'DB_UNAVAILABLE'],
    [1049, '42000', 'DB_UNAVAILABLE'],
    [2006, 'HY000', 'DB_UNAVAILABLE'],
    [2013, 'HY000', 'DB_UNAVAILABLE'],
    [1040, '08004', 'DB_UNAVAILABLE'],
    [1969, '70100', 'QUERY_TIMEOUT'],
    [3024, 'HY000', 'QUERY_TIMEOUT'],
    [1317, '70100', 'QUERY_CANCELLED'],
    [1062, '23000', 'QUERY_FAILED'],
    [1451, '23000', 'QUERY_FAILED'],
    [1452, '23000', 'QUERY_FAILED'],
    [1205, 'HY000', 'QUERY_FAILED'],
    [1213, '40001', 'QUERY_FAILED'],
    [1366, '22007', 'QUERY_FAILED'],
    [1105, 'HY000', 'QUERY_FAILED'],
  ])('maps errno %i (SQLSTATE %s) to %s', (errno, sqlState, expected) => {
    expect(mapMysqlError(serverError(errno, sqlState, 'x'), context).code).toBe(expected);
  });

  it('maps lost and refused connections to DB_UNAVAILABLE', () => {
    for (const error of [
      Object.assign(new Error('connect'), { code: 'ECONNREFUSED', errno: -111, fatal: true }),
      Object.assign(new Error('Connection lost'), {
        code: 'PROTOCOL_CONNECTION_LOST',
        fatal: true,
      }),
      Object.assign(new Error('connect'), { code: 'ETIMEDOUT' }),
    ]) {
      expect(mapMysqlError(error, context).code).toBe('DB_UNAVAILABLE');
    }
  });

  it('says QUERY_TIMEOUT or QUERY_CANCELLED when the adapter stopped the statement itself', () => {
    const interrupted = serverError(1317, '70100', 'Query execution was interrupted');
    expect(mapMysqlError(interrupted, { ...context, stopped: 'abort' }).code).toBe(
      'QUERY_CANCELLED',
    );
    expect(mapMysqlError(interrupted, { ...context, stopped: 'timeout' }).code).toBe(
      'QUERY_TIMEOUT',
    );
    expect(
      mapMysqlError(new Error('anything'), { ...context, stopped: 'timeout' }).message,
    ).toMatch(/time limit of 1000 ms/);
  });

  it('says to try again after a lock wait or a deadlock', () => {
    expect(mapMysqlError(serverError(1205, 'HY000', 'x'), context).message).toMatch(/try again/);
    expect(mapMysqlError(serverError(1213, '40001', 'x'), context).message).toMatch(/try again/);
  });

  it('maps an ambiguous column (SQLSTATE 23000) by its errno, not as a constraint', () => {
    const error = serverError(1052, '23000', "Column 'id' in SELECT is ambiguous");
    expect(
      mapMysqlError(error, {
        ...context,
        sql: 'SELECT id FROM orders o JOIN customers c ON c.id = o.customer_id',
      }).message,
    ).toBe('Column id is ambiguous: qualify it with its table or alias (o.id or c.id).');
  });

  it('falls back by what the SQLSTATE class means, and by errno where MySQL gives HY000', () => {
    expect(mapMysqlError(serverError(1999, '23000', 'x'), context).message).toMatch(
      /^The statement breaks an integrity constraint \(errno 1999, SQLSTATE 23000\)/,
    );
    expect(mapMysqlError(serverError(3819, 'HY000', 'x'), context).message).toMatch(
      /^A value breaks the check constraint:/,
    );
    expect(mapMysqlError(serverError(1998, '42000', 'x'), context).message).toMatch(
      /^The database refused the statement as invalid or not allowed \(errno 1998, SQLSTATE 42000\)/,
    );
    expect(mapMysqlError(serverError(1997, 'HY000', 'x'), context).message).toBe(
      'The database refused the statement (errno 1997, SQLSTATE HY000).',
    );
  });

  it('never passes on the values, file paths, account or SQL a server message quotes', () => {
    const secret = '4111-1111-1111-1111';
    const errors = [
      serverError(1062, '23000', `Duplicate entry '${secret}' for key 'card'`),
      serverError(1366, '22007', `Incorrect integer value: '${secret}' for column 'n' at row 1`),
      serverError(1292, '22007', `Truncated incorrect DOUBLE value: '${secret}'`),
      serverError(1690, '22003', `BIGINT value is out of range in '${secret} * 2'`),
      serverError(29, 'HY000', `File '/etc/${secret}' not found (Errcode: 2)`),
      serverError(1064, '42000', `You have an error in your SQL syntax near '${secret}' at line 1`),
      serverError(
        1142,
        '42000',
        `SELECT command denied to user '${secret}'@'h' for table \`db\`.\`t\``,
      ),
    ];
    for (const error of errors) {
      const mapped = mapMysqlError(error, { ...context, sql: 'SELECT n, card FROM t' });
      expect(mapped.message).not.toContain('4111');
      expect(mapped.message).not.toContain('SELECT secret');
    }
  });

  it('names the key, the column and the table only as the statement spells them', () => {
    const sql = 'INSERT INTO items (customer_id, email) VALUES (?, ?)';
    expect(
      mapMysqlError(serverError(1062, '23000', "Duplicate entry 'x' for key 'items.email'"), {
        ...context,
        sql,
      }).message,
    ).toBe(
      'The statement would duplicate a unique key (items.email): a row with that value exists already.',
    );
    expect(
      mapMysqlError(
        serverError(
          1452,
          '23000',
          'Cannot add or update a child row: a foreign key constraint fails (`db`.`items`, CONSTRAINT `items_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`))',
        ),
        { ...context, sql },
      ).message,
    ).toBe(
      'Column customer_id must refer to an existing row of the referenced table (a foreign key): use a key that exists there.',
    );
  });

  it('keeps the driver error as cause for the operator log, and a SqlwardenError as it is', () => {
    const error = serverError(1064, '42000', 'syntax');
    const mapped = mapMysqlError(error, context);
    expect(mapped.cause).toBe(error);
    expect(mapMysqlError(mapped, { ...context, stopped: 'timeout' })).toBe(mapped);
  });

  it('is INTERNAL for anything that is not a database error', () => {
    expect(mapMysqlError(new TypeError('boom'), context).code).toBe('INTERNAL');
  });
});

/*
 * The message table, built from what MariaDB 10.11 really answers: each
 * statement runs through the real adapter (session sql_mode included), and
 * the code and the whole message are asserted. Canaries (PARAMCANARY in
 * parameters, LITCANARY in string literals) sit on every path where the
 * server's message quotes a name or a value; none may come back.
 */
describe('errors from the real server', () => {
  let db: TestDatabase;
  let adapter: SourceAdapter;

  beforeAll(async () => {
    db = await createTestDatabase();
    for (const statement of [
      'CREATE TABLE customers (id int PRIMARY KEY, name text, email varchar(50) UNIQUE)',
      `CREATE TABLE orders (id int PRIMARY KEY, customer_id int, status varchar(20), total decimal(5,2),
        created date, note varchar(10), qty int NOT NULL,
        CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id))`,
      "INSERT INTO customers VALUES (1, 'a', 'a@example.org'), (2, 'b', 'b@example.org')",
      "INSERT INTO orders VALUES (1, 1, 'new', 1.5, '2024-01-01', 'n', 1), (2, 1, 'old', 2, '2024-01-01', 'm', 2)",
    ]) {
      await db.admin.query(statement);
    }
    adapter = db.adapter({ allowWrites: true });
  });

  afterAll(async () => {
    await db?.drop();
  });

  const failure = async (
    sql: string,
    params: unknown[] = [],
    kind: 'read' | 'write' = 'read',
  ): Promise<SqlwardenError> => {
    try {
      if (kind === 'write') {
        // A dry run: rolled back whatever happens.
        await adapter.write({
          sql,
          params,
          maxAffectedRows: 100,
          dryRun: true,
          timeoutMs: 5000,
          signal: signal(),
        });
      } else {
        await adapter.read({ sql, params, limits: LIMITS, signal: signal() });
      }
    } catch (error) {
      return error as SqlwardenError;
    }
    throw new Error(`expected ${sql} to fail`);
  };

  type Case = readonly [sql: string, params: unknown[], code: string, message: string];
  const reads: Case[] = [
    [
      "SELECT id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.note <> 'LITCANARY' OR o.note = ?",
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'Column id is ambiguous: qualify it with its table or alias (o.id or c.id).',
    ],
    [
      "SELECT o.id FROM `orders` AS o JOIN customers c ON c.id = o.customer_id WHERE `id` > 1 AND c.name <> 'LITCANARY'",
      [],
      'QUERY_FAILED',
      'Column id is ambiguous: qualify it with its table or alias (o.id or c.id).',
    ],
    [
      "SELECT o.totl FROM orders o WHERE o.status = 'LITCANARY' OR o.status = ?",
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'Column o.totl does not exist: check the columns with describe_table.',
    ],
    [
      "SELECT * FROM ordres WHERE status = 'LITCANARY' OR status = ?",
      ['PARAMCANARY'],
      'NOT_FOUND',
      'Table ordres does not exist: check the tables with list_tables.',
    ],
    [
      "SELECT o.status, count(*) FROM orders o WHERE o.note <> 'LITCANARY' OR o.note = ? GROUP BY o.customer_id",
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'Column o.status must appear in GROUP BY or be used in an aggregate function (such as max or count).',
    ],
    [
      'SELECT status, count(*) FROM orders',
      [],
      'QUERY_FAILED',
      'The statement mixes aggregate functions with plain columns but has no GROUP BY: group by the plain columns, or aggregate them too.',
    ],
    [
      'SELECT * FROM orders WHERE count(*) > 1',
      [],
      'QUERY_FAILED',
      'An aggregate function is used where it is not allowed: filter on aggregates in HAVING, not WHERE, and do not nest them.',
    ],
    [
      "SELECT foo(?, 'LITCANARY')",
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'Function foo does not exist: check its name.',
    ],
    [
      "SELECT concat_ws() FROM orders WHERE status = 'LITCANARY'",
      [],
      'QUERY_FAILED',
      'Function concat_ws is called with the wrong number of arguments: check how many it takes.',
    ],
    [
      "SELECT * FORM orders WHERE status = 'LITCANARY' OR status = ?",
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
      "SELECT * FROM orders WHERE status = 'x' 'LITCANARY' 'y' + ",
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
      'SELECT ?, ?',
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'The statement takes 2 parameters but 1 value was given: give one value for each ?.',
    ],
    [
      'SELECT (SELECT id FROM orders)',
      [],
      'QUERY_FAILED',
      'A subquery used as a single value returned more than one row: make it return one row (a WHERE, LIMIT 1 or an aggregate), or compare with IN or EXISTS.',
    ],
    [
      'SELECT * FROM orders WHERE id IN (SELECT id, status FROM orders)',
      [],
      'QUERY_FAILED',
      'A subquery or row used as a single value has more than one column: select exactly one.',
    ],
    [
      'SELECT id FROM orders UNION SELECT id, status FROM orders',
      [],
      'QUERY_FAILED',
      'The queries of a UNION, INTERSECT or EXCEPT return different numbers of columns: make them return the same number.',
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
      "SELECT * FROM orders WHERE status REGEXP '(LITCANARY'",
      [],
      'QUERY_FAILED',
      'A regular expression is not valid: fix the pattern.',
    ],
    [
      'SELECT ~0 + 1',
      [],
      'QUERY_FAILED',
      'A value is out of range for type BIGINT UNSIGNED: use smaller values, or cast to a wider type (such as bigint or numeric).',
    ],
    ['SELECT CAST(1 AS nope)', [], 'QUERY_FAILED', 'Type nope does not exist: check its name.'],
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
      'A value is too long for column note: shorten it.',
    ],
    [
      'INSERT INTO orders (id, qty) VALUES (13, ?)',
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'A value for column orders.qty is not valid input for type integer: pass a value of that type.',
    ],
    [
      "INSERT INTO orders (id, qty) VALUES (13, 'LITCANARY')",
      [],
      'QUERY_FAILED',
      'A value for column orders.qty is not valid input for type integer: pass a value of that type.',
    ],
    [
      'INSERT INTO orders (id, qty, created) VALUES (12, 1, ?)',
      ['PARAMCANARY'],
      'QUERY_FAILED',
      'A value for column orders.created is not valid input for type date: pass a value of that type.',
    ],
    [
      "UPDATE orders SET qty = 1 WHERE status = 1 AND note <> 'LITCANARY'",
      [],
      'QUERY_FAILED',
      'A value is not valid input for type DECIMAL (a parameter, a literal or a stored value being converted): pass a value of that type, or convert it explicitly.',
    ],
    [
      'INSERT INTO orders (id, qty) VALUES (14, 99999999999)',
      [],
      'QUERY_FAILED',
      'A value is out of range for column qty: store a value the column can hold.',
    ],
    [
      'INSERT INTO orders (id, qty) VALUES (15, NULL)',
      [],
      'QUERY_FAILED',
      'Column qty may not be null: give it a value.',
    ],
    [
      'INSERT INTO orders (id) VALUES (16)',
      [],
      'QUERY_FAILED',
      // The column is not in the statement: the rule leaves its name out.
      'A column has no default value: give it a value in the INSERT.',
    ],
    [
      'INSERT INTO orders (id, qty, customer_id) VALUES (17, 1, 99)',
      [],
      'QUERY_FAILED',
      'Column customer_id must refer to an existing row of the referenced table (a foreign key): use a key that exists there.',
    ],
    [
      'INSERT INTO orders (id, qty) VALUES (1, 1)',
      [],
      'QUERY_FAILED',
      'The statement would duplicate a unique key (primary key): a row with that value exists already.',
    ],
    [
      'INSERT INTO customers (id, email) VALUES (5, ?)',
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

  it('leaves out the database name the server adds to a table or column', async () => {
    const error = await failure('SELECT * FROM nope');
    expect(error.message).toBe('Table nope does not exist: check the tables with list_tables.');
    expect(error.message).not.toContain(db.name);
  });

  it('is FORBIDDEN when the account lacks a privilege, naming the table but never the account', async () => {
    const user = `${db.name}_ro`.slice(0, 80);
    await db.admin.query(`CREATE USER '${user}'@'%'`);
    await db.admin.query(`GRANT SELECT (id) ON \`${db.name}\`.orders TO '${user}'@'%'`);
    const limited = db.adapter({ connection: { uri: db.url({ user }) } });
    try {
      const outcome = async (sql: string) =>
        limited.read({ sql, params: [], limits: LIMITS, signal: signal() }).then(
          () => ({ code: 'ok', message: '' }),
          (error: SqlwardenError) => ({ code: error.code, message: error.message }),
        );
      expect(await outcome("SELECT * FROM customers WHERE name = 'LITCANARY'")).toEqual({
        code: 'FORBIDDEN',
        message:
          'The database account of this source may not use table customers: ask an operator for the grant.',
      });
      expect(await outcome('SELECT status FROM orders')).toEqual({
        code: 'FORBIDDEN',
        message:
          'The database account of this source may not use column status: ask an operator for the grant.',
      });
    } finally {
      await limited.close();
      await db.admin.query(`DROP USER '${user}'@'%'`);
    }
  });
});
