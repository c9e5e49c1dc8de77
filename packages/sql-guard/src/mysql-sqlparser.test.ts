import { beforeAll, describe, expect, it } from 'vitest';
import { analyze, checkRead, checkWrite, loadSqlGuard } from './guard.js';
import { CORPUS_OPTIONS } from './test-support.js';

beforeAll(() => loadSqlGuard());

const options = CORPUS_OPTIONS.mysql;
const verdict = (sql: string) => {
  const result = checkRead(sql, options);
  return result.ok ? 'accepted' : result.reason;
};

// Valid MariaDB 10.11 reads that node-sql-parser's MySQL grammar refuses; the
// second parser (sqlparser-rs) reads them. Each runs on the real server in
// tests/guard/analyst.test.ts.
const SECOND_PARSER_READS = [
  'SELECT DISTINCT status, PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY amount) OVER (PARTITION BY status) AS median FROM orders',
  `SELECT * FROM JSON_TABLE('[{"a":1}]', '$[*]' COLUMNS (a INT PATH '$.a')) AS jt`,
  'SELECT * FROM orders USE INDEX (idx_orders_customer) WHERE customer_id = 3',
  "SELECT * FROM orders FORCE INDEX (idx_orders_status) WHERE status = 'paid'",
  "SELECT * FROM orders IGNORE INDEX (idx_orders_status) WHERE status = 'paid'",
  'SELECT STRAIGHT_JOIN c.name, o.amount FROM customers c JOIN orders o ON o.customer_id = c.customer_id',
  'EXPLAIN FORMAT=JSON SELECT * FROM orders WHERE customer_id = 3',
  'SELECT * FROM orders NATURAL JOIN order_items',
  'SELECT * FROM (orders o JOIN order_items i ON i.order_id = o.order_id) JOIN products p ON p.product_id = i.product_id',
  'VALUES (1, 2), (3, 4)',
];

describe('the second MySQL parser (sqlparser-rs)', () => {
  it.each(SECOND_PARSER_READS)('accepts %s', (sql) => {
    expect(verdict(sql)).toBe('accepted');
  });

  it('reports the tables and functions of a statement only it reads', () => {
    const result = analyze(
      'SELECT o.order_id, upper(c.name) FROM (app.orders o JOIN customers c USING (customer_id)) NATURAL JOIN order_items',
      { dialect: 'mysql' },
    );
    expect(result.ok && result.analysis.tables.map((t) => `${t.schema}.${t.name}`)).toEqual([
      'app.orders',
      'null.customers',
      'null.order_items',
    ]);
    expect(result.ok && result.analysis.functions.map((f) => f.name)).toEqual(['upper']);
  });

  // Every rule holds on the second parser's tree: each statement below is one
  // that only the second parser reads (NATURAL JOIN, VALUES, index hints...).
  it.each([
    ['SELECT * FROM orders NATURAL JOIN mysql.user', 'CATALOG_QUERY'],
    ['SELECT * FROM (SELECT * FROM mysql.user) x NATURAL JOIN orders', 'CATALOG_QUERY'],
    ['VALUES (1, (SELECT max(host) FROM mysql.user))', 'CATALOG_QUERY'],
    [
      'SELECT * FROM orders o USE INDEX (i) WHERE EXISTS (SELECT 1 FROM other.t)',
      'TABLE_NOT_ALLOWED',
    ],
    ["SELECT * FROM JSON_TABLE(sleep(1), '$' COLUMNS (a INT PATH '$')) j", 'FORBIDDEN_FUNCTION'],
    ['SELECT sys.ps_thread_id(1) FROM orders NATURAL JOIN order_items', 'FORBIDDEN_FUNCTION'],
    ['SELECT * FROM orders NATURAL JOIN order_items WHERE benchmark(1, 1)', 'FORBIDDEN_FUNCTION'],
    ['SELECT NEXT VALUE FOR s FROM orders NATURAL JOIN order_items', 'FORBIDDEN_FUNCTION'],
    ['SELECT * FROM orders USE INDEX (i) FOR UPDATE', 'LOCKING_CLAUSE'],
    ['SELECT * FROM orders NATURAL JOIN order_items LOCK IN SHARE MODE', 'LOCKING_CLAUSE'],
    ['SELECT a INTO @x FROM orders NATURAL JOIN order_items', 'SELECT_INTO'],
    ["SELECT * FROM orders NATURAL JOIN order_items INTO OUTFILE '/tmp/x'", 'SELECT_INTO'],
    ['SELECT @a := 1 FROM orders NATURAL JOIN order_items', 'VARIABLE_ASSIGNMENT'],
    [
      'WITH x AS (DELETE FROM orders) SELECT * FROM orders NATURAL JOIN order_items',
      'DATA_MODIFYING_CTE',
    ],
    ['EXPLAIN FORMAT=JSON DELETE FROM orders', 'NOT_A_READ'],
    [
      'EXPLAIN ANALYZE FORMAT=JSON SELECT * FROM orders NATURAL JOIN order_items',
      'EXPLAIN_ANALYZE',
    ],
    ['SELECT * FROM a.b.c NATURAL JOIN orders', 'UNSUPPORTED_SYNTAX'],
    // TABLE t as a set operand or in IN (...) names a table like FROM does.
    ['SELECT * FROM orders NATURAL JOIN order_items UNION TABLE mysql.user', 'CATALOG_QUERY'],
    [
      'SELECT * FROM orders NATURAL JOIN order_items WHERE a IN (TABLE hr.salaries)',
      'TABLE_NOT_ALLOWED',
    ],
    [
      'SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY (SELECT max(x) FROM hr.salaries)) OVER () FROM orders',
      'TABLE_NOT_ALLOWED',
    ],
    ['EXPLAIN FORMAT=JSON SELECT * FROM hr.salaries', 'TABLE_NOT_ALLOWED'],
  ])('refuses %s (%s)', (sql, reason) => {
    expect(verdict(sql)).toBe(reason);
  });

  it('keeps CTE names scoped: a CTE hides a table only where it is visible', () => {
    expect(verdict('WITH c AS (SELECT 1 AS a) SELECT * FROM c NATURAL JOIN orders')).toBe(
      'accepted',
    );
    const result = analyze(
      'SELECT * FROM (WITH user AS (SELECT 1 AS a) SELECT * FROM user) x NATURAL JOIN user',
      { dialect: 'mysql' },
    );
    expect(result.ok && result.analysis.tables.map((t) => t.name)).toEqual(['user']);
  });

  it('reads FROM DUAL as the keyword, and a quoted `dual` as a table', () => {
    expect(analyze('SELECT 1 FROM dual NATURAL JOIN orders', { dialect: 'mysql' })).toMatchObject({
      ok: true,
      analysis: { tables: [{ schema: null, name: 'orders', access: 'read' }] },
    });
    const quoted = analyze('SELECT 1 FROM `dual` NATURAL JOIN orders', { dialect: 'mysql' });
    expect(quoted.ok && quoted.analysis.tables.map((t) => t.name)).toEqual(['dual', 'orders']);
  });

  it.each([
    ['TABLE orders', /TABLE statement.*SELECT \* FROM/],
    ['SELECT * FROM orders FOR SYSTEM_TIME ALL', /FOR SYSTEM_TIME/],
    ['SELECT * FROM orders LIMIT 10 ROWS EXAMINED 1000', /ROWS EXAMINED/],
    [
      'WITH RECURSIVE r AS (SELECT 1 AS a UNION SELECT a + 1 FROM r) CYCLE a RESTRICT SELECT * FROM r',
      /CYCLE/,
    ],
    ["SELECT * FROM orders WHERE note SOUNDS LIKE 'x'", /SOUNDEX/],
  ])('says what it does not support in %s, instead of "check its syntax"', (sql, advice) => {
    const result = checkRead(sql, options);
    expect(result).toMatchObject({ ok: false, reason: 'UNSUPPORTED_SYNTAX' });
    expect(!result.ok && result.message).toMatch(advice);
    expect(!result.ok && result.message).not.toMatch(/check its syntax/);
  });

  it('still says "check its syntax" for what is not SQL', () => {
    expect(checkRead('SELECT * FROM orders WHERE', options)).toMatchObject({
      reason: 'PARSE_ERROR',
    });
    expect(checkRead('SELECT * FORM orders', options)).toMatchObject({ reason: 'PARSE_ERROR' });
  });

  it('is never asked about writes: a write node-sql-parser refuses stays refused', () => {
    expect(
      checkWrite(
        'UPDATE orders NATURAL JOIN order_items SET quantity = 1 WHERE order_id = 1',
        options,
      ),
    ).toMatchObject({ ok: false });
  });
});
