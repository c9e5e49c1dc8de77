/**
 * Attempts to read a denied or masked column's value by other means, per
 * dialect, for the column-policy tests (columns.test.ts) and for end-to-end
 * tests against real databases. Every statement is refused by
 * checkColumns under `COLUMN_ATTACK_RULES`; the allowed statements are
 * accepted (those with `outputs` mask the named positions).
 *
 * The schema they assume (default schema `hr`; ODBC: catalog `main`):
 *   hr.people(id, name, dept, ssn, salary)   ssn denied, salary masked
 *   hr.payroll(id, person_id, amount)        amount masked
 *   hr.orders(id, person_id, amount, ref)    no policy
 *   hr.contractors(id, name, ssn)            no policy (a same-named column)
 *   hr.staff_directory                       opaque (a view over hr.people)
 */

export interface ColumnAttack {
  readonly sql: string;
  /** `write`: checked with mode write (the statement is an INSERT, UPDATE or DELETE). */
  readonly mode?: 'read' | 'write';
}

/** The columns of the schema above, as the catalog lists them. */
export const COLUMN_ATTACK_TABLES: Readonly<Record<string, readonly string[]>> = {
  people: ['id', 'name', 'dept', 'ssn', 'salary'],
  payroll: ['id', 'person_id', 'amount'],
  orders: ['id', 'person_id', 'amount', 'ref'],
  contractors: ['id', 'name', 'ssn'],
};

const read = (sql: string): ColumnAttack => ({ sql });
const write = (sql: string): ColumnAttack => ({ sql, mode: 'write' });

/** Valid in PostgreSQL, MySQL/MariaDB and (ANSI) ODBC alike. */
const COMMON: readonly ColumnAttack[] = [
  read('SELECT ssn FROM people'),
  read("SELECT id FROM people WHERE ssn LIKE '1%'"),
  read('SELECT id FROM people ORDER BY ssn'),
  read('SELECT count(*) FROM people GROUP BY ssn'),
  read("SELECT dept FROM people GROUP BY dept HAVING max(ssn) > '5'"),
  read("SELECT CASE WHEN ssn LIKE '1%' THEN 1 ELSE 0 END FROM people"),
  read('SELECT length(ssn) FROM people'),
  read('SELECT substr(ssn, 1, 1) FROM people'),
  read("SELECT coalesce(ssn, 'x') FROM people"),
  read('SELECT CAST(ssn AS CHAR(20)) FROM people'),
  read('SELECT upper(ssn) FROM people'),
  read('SELECT * FROM people'),
  read('SELECT p.* FROM people p'),
  read('SELECT * FROM (SELECT * FROM people) s'),
  read('WITH c AS (SELECT * FROM people) SELECT * FROM c'),
  read('WITH c AS (SELECT ssn FROM people) SELECT * FROM c'),
  read('SELECT x FROM (SELECT ssn AS x FROM people) s'),
  read('SELECT o.id FROM orders o JOIN people p USING (id) WHERE p.ssn IS NULL'),
  read(
    "SELECT o.id FROM orders o WHERE EXISTS (SELECT 1 FROM people p WHERE p.ssn = '123' AND p.id = o.person_id)",
  ),
  read("SELECT id FROM orders WHERE person_id IN (SELECT id FROM people WHERE ssn = '1')"),
  read('SELECT name FROM contractors WHERE ssn IN (SELECT ssn FROM people)'),
  read('SELECT name FROM people UNION SELECT ssn FROM people'),
  read('SELECT lag(ssn) OVER (ORDER BY id) FROM people'),
  read('SELECT row_number() OVER (ORDER BY ssn) FROM people'),
  read('SELECT DISTINCT ssn FROM people'),
  read('SELECT count(DISTINCT ssn) FROM people'),
  read('SELECT min(ssn) FROM people'),
  read('SELECT max(ssn) FROM people'),
  read("SELECT id FROM people p WHERE p.ssn = '1'"),
  read("SELECT id FROM hr.people WHERE hr.people.ssn = '1'"),
  read("SELECT id FROM hr.people WHERE SSN = '1'"),
  read("SELECT id FROM people WHERE SsN = '1'"),
  read("SELECT id FROM people /* c */ WHERE /* c */ ssn /* c */ = '1'"),
  read('SELECT o.id FROM orders o JOIN people p ON p.ssn = o.ref'),
  read("SELECT id FROM people WHERE ssn BETWEEN '1' AND '2'"),
  read('SELECT id FROM people WHERE ssn IS NULL'),
  read("SELECT sum(CASE WHEN ssn > '5' THEN 1 ELSE 0 END) FROM people"),
  read("SELECT id FROM people ORDER BY CASE WHEN ssn < '5' THEN 0 ELSE 1 END"),
  read("SELECT id FROM people WHERE id = (SELECT id FROM people WHERE ssn = '1')"),
  read('SELECT (SELECT max(ssn) FROM people)'),
  read('SELECT id, (SELECT max(ssn) FROM people p2 WHERE p2.id = p.id) FROM people p'),
  read(
    'SELECT o.id FROM orders o WHERE o.person_id = (SELECT max(p.id) FROM people p WHERE p.ssn > o.ref)',
  ),
  read("SELECT id FROM people WHERE ssn IN ('1', '2')"),
  read('SELECT p.id FROM people p, orders o WHERE o.ref = p.ssn'),
  read('SELECT * FROM people p JOIN orders o ON o.person_id = p.id'),
  read('SELECT o.*, p.* FROM orders o JOIN people p ON p.id = o.person_id'),
  read('SELECT id FROM staff_directory'),
  read('SELECT s.name FROM orders o JOIN staff_directory s ON s.id = o.person_id'),
  // Masked: anything but a plain output of the outermost select list.
  read('SELECT id FROM people WHERE salary > 1000'),
  read('SELECT id FROM people ORDER BY salary'),
  read('SELECT id, salary FROM people ORDER BY 2'),
  read('SELECT salary AS s FROM people ORDER BY s'),
  read('SELECT dept, salary FROM people GROUP BY dept, salary'),
  read('SELECT salary, count(*) FROM people GROUP BY 1'),
  read('SELECT DISTINCT salary FROM people'),
  read('SELECT DISTINCT dept, salary FROM people'),
  read('SELECT avg(salary) FROM people'),
  read('SELECT count(DISTINCT salary) FROM people'),
  read('SELECT salary + 0 FROM people'),
  read('SELECT salary FROM people UNION ALL SELECT 1'),
  read('SELECT * FROM (SELECT salary FROM people) s'),
  read('WITH c AS (SELECT salary FROM people) SELECT salary FROM c'),
  read(
    'SELECT id FROM people p WHERE EXISTS (SELECT 1 FROM people q WHERE q.salary > 100 AND q.id = p.id)',
  ),
  read('SELECT salary FROM people WHERE salary > 5'),
  read('SELECT max(salary) OVER () FROM people'),
  read("SELECT CASE WHEN salary > 5 THEN 'a' END FROM people"),
  read('SELECT salary FROM people ORDER BY salary DESC'),
  read('SELECT p.id FROM people p JOIN payroll y ON y.amount = p.salary'),
  read('SELECT * FROM (SELECT * FROM payroll) s'),
  read('SELECT amount FROM payroll WHERE amount > 10'),
  // Writes: every protected column is denied.
  write('UPDATE people SET name = ssn WHERE id = 1'),
  write("DELETE FROM people WHERE ssn = '1'"),
  write('INSERT INTO orders (id, ref) SELECT id, ssn FROM people'),
  write("INSERT INTO people (id, ssn) VALUES (1, '1')"),
  write("INSERT INTO people VALUES (1, 'a', 'd', '1', 5)"),
  write("UPDATE people SET ssn = '1' WHERE id = 1"),
  write('UPDATE people SET salary = 1 WHERE id = 1'),
  write('DELETE FROM people WHERE salary > 100'),
  write('INSERT INTO orders (id, amount) SELECT id, salary FROM people'),
  write('UPDATE orders SET ref = (SELECT max(ssn) FROM people) WHERE id = 1'),
  write('INSERT INTO people SELECT * FROM people'),
  write("UPDATE people SET name = 'x' WHERE salary > 1000"),
  write('INSERT INTO payroll (id, amount) VALUES (1, 2)'),
];

export const POSTGRES_COLUMN_ATTACKS: readonly ColumnAttack[] = [
  ...COMMON,
  read("SELECT ssn || '' FROM people"),
  read('SELECT p FROM people p'),
  read('SELECT people FROM people'),
  read('SELECT row_to_json(p) FROM people p'),
  read('SELECT to_jsonb(p) FROM people p'),
  read('SELECT (p).ssn FROM people p'),
  read('SELECT p::text FROM people p'),
  read('SELECT ROW(p.*) FROM people p'),
  read('SELECT hstore(p) FROM people p'),
  read("SELECT json_build_object('r', p.*) FROM people p"),
  read('TABLE people'),
  read('TABLE hr.people'),
  read('SELECT p.row_to_json FROM people p'),
  read('SELECT p.concat FROM people p'),
  read('SELECT count(p.*) FROM people p'),
  read('SELECT json_agg(p) FROM people p'),
  read('SELECT to_json(p.*) FROM people p'),
  read('SELECT jsonb_populate_record(NULL::people, to_jsonb(p)) FROM people p'),
  read('SELECT e FROM people AS p(a, b, c, d, e)'),
  read('SELECT a FROM people AS p(a)'),
  read('WITH c(a, b, c2, d, e) AS (SELECT * FROM people) SELECT d FROM c'),
  read('WITH c(x) AS (SELECT ssn FROM people) SELECT x FROM c'),
  read('SELECT x.v FROM people p CROSS JOIN LATERAL (SELECT p.ssn AS v) x'),
  read('SELECT x.* FROM people p, LATERAL (SELECT p.*) x'),
  read("SELECT p.id FROM (VALUES ('1')) v(s) JOIN people p ON p.ssn = v.s"),
  read("SELECT string_agg(ssn, ',') FROM people"),
  read('SELECT array_agg(ssn) FROM people'),
  read("SELECT id FROM people WHERE ssn ~ '^1'"),
  read("SELECT id FROM people WHERE ssn SIMILAR TO '1%'"),
  read('SELECT "ssn" FROM people'),
  read('SELECT "SSN" FROM people'),
  read('SELECT id FROM "hr"."people" WHERE "ssn" = \'1\''),
  read("SELECT id FROM HR.PEOPLE WHERE SSN = '1'"),
  read("SELECT ssn FROM people INTERSECT SELECT '1'"),
  read("SELECT id FROM people EXCEPT SELECT id FROM people WHERE ssn = '1'"),
  read('SELECT DISTINCT ON (salary) id, salary FROM people'),
  read('SELECT DISTINCT ON (2) id, salary FROM people ORDER BY 2'),
  read('SELECT id, salary FROM people ORDER BY salary NULLS FIRST'),
  read('SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY salary) FROM people'),
  read('SELECT id FROM people WINDOW w AS (ORDER BY ssn)'),
  read('SELECT id FROM people ORDER BY ssn FETCH FIRST 1 ROWS WITH TIES'),
  read("EXPLAIN SELECT id FROM people WHERE ssn = '1'"),
  read('EXPLAIN SELECT salary FROM people'),
  read('SELECT id FROM people WHERE ssn::int > 5'),
  read('SELECT count(*) FROM people GROUP BY ROLLUP (ssn)'),
  read("SELECT format('%s', ssn) FROM people"),
  read("SELECT id FROM people WHERE ssn = ANY (ARRAY['1'])"),
  read("SELECT id FROM ONLY people WHERE ssn = '1'"),
  read("SELECT id FROM people TABLESAMPLE SYSTEM (50) WHERE ssn = '1'"),
  read('SELECT * FROM people TABLESAMPLE SYSTEM (50)'),
  read('SELECT * FROM people NATURAL JOIN orders'),
  read('SELECT id FROM people NATURAL JOIN contractors'),
  read('SELECT j.ssn FROM (people p JOIN orders o ON o.person_id = p.id) AS j'),
  read('SELECT ssn FROM people p JOIN orders o USING (id) AS j'),
  read("SELECT id FROM people p WHERE (p.ssn, 1) = ('1', 1)"),
  read('SELECT salary FROM people p ORDER BY p.salary'),
  read('SELECT x FROM (SELECT salary AS x FROM people) s WHERE x > 5'),
  read('SELECT (SELECT salary FROM people LIMIT 1)'),
  read('SELECT p.salary::text FROM people p'),
  write("UPDATE people SET name = 'x' WHERE id = 1 RETURNING ssn"),
  write('DELETE FROM people WHERE id = 1 RETURNING *'),
  write('DELETE FROM people p WHERE id = 1 RETURNING p'),
  write('INSERT INTO orders (id) VALUES (1) RETURNING (SELECT max(ssn) FROM people)'),
  write("INSERT INTO people (id, name) VALUES (1, 'x') ON CONFLICT (ssn) DO NOTHING"),
  write(
    "INSERT INTO people (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = people.ssn",
  ),
  write('UPDATE orders o SET ref = p.ssn FROM people p WHERE p.id = o.person_id'),
  write('DELETE FROM orders o USING people p WHERE p.id = o.person_id AND p.ssn = o.ref'),
  write('UPDATE people SET (name, dept) = (SELECT ssn, ssn FROM people WHERE id = 2) WHERE id = 1'),
];

export const MYSQL_COLUMN_ATTACKS: readonly ColumnAttack[] = [
  ...COMMON,
  read('SELECT `ssn` FROM `people`'),
  read('SELECT `hr`.`people`.`ssn` FROM `hr`.`people`'),
  read('SELECT `SSN` FROM `HR`.`PEOPLE`'),
  read("SELECT JSON_OBJECT('s', ssn) FROM people"),
  read('SELECT GROUP_CONCAT(ssn) FROM people'),
  read("SELECT GROUP_CONCAT(name ORDER BY ssn SEPARATOR ',') FROM people"),
  read('SELECT p.id FROM people p STRAIGHT_JOIN orders o ON o.ref = p.ssn'),
  read('SELECT STRAIGHT_JOIN p.id FROM people p JOIN orders o ON o.ref = p.ssn'),
  read("SELECT id FROM people WHERE DATE_ADD('2020-01-01', INTERVAL ssn DAY) > '2020-02-01'"),
  read("SELECT id FROM people WHERE ssn REGEXP '^1'"),
  read("SELECT id FROM people WHERE ssn RLIKE '^1'"),
  read("SELECT IF(ssn > '5', 1, 0) FROM people"),
  read('SELECT ELT(1, ssn) FROM people'),
  read('SELECT JSON_ARRAYAGG(ssn) FROM people'),
  read("SELECT id FROM people ORDER BY FIELD(ssn, '1', '2')"),
  read('SELECT HEX(ssn) FROM people'),
  read("SELECT id FROM people WHERE BINARY ssn = '1'"),
  read("SELECT CONCAT_WS(',', id, ssn) FROM people"),
  read("SELECT id FROM people WHERE ssn <=> '1'"),
  read("SELECT id FROM people USE INDEX (PRIMARY) WHERE ssn = '1'"),
  read("SELECT SQL_CALC_FOUND_ROWS id FROM people WHERE ssn = '1'"),
  read('SELECT p.id FROM people AS p NATURAL JOIN orders'),
  read('SELECT * FROM people NATURAL JOIN orders'),
  read("SELECT id FROM people WHERE MATCH (ssn) AGAINST ('1')"),
  read("SELECT id FROM people WHERE INSTR(ssn, '1') = 1"),
  read("SELECT id FROM people WHERE LEFT(ssn, 1) = '1'"),
  read("SELECT id FROM people HAVING ssn = '1'"),
  read('SELECT id, salary FROM people ORDER BY 2 DESC'),
  read('SELECT salary AS s FROM people HAVING s > 5'),
  read('SELECT salary FROM people GROUP BY salary WITH ROLLUP'),
  read("SELECT JSON_OBJECT('p', salary) FROM people"),
  read('SELECT `salary` + 0 FROM `hr`.`people`'),
  read('SELECT id FROM people ORDER BY `SALARY`'),
  read('(SELECT ssn FROM people)'),
  read('SELECT id FROM people WHERE ssn = ANY (SELECT ref FROM orders)'),
  write("INSERT INTO people SET ssn = '1'"),
  write("INSERT INTO people (id) VALUES (1) ON DUPLICATE KEY UPDATE ssn = '1'"),
  write('INSERT INTO people (id) VALUES (1) ON DUPLICATE KEY UPDATE name = ssn'),
  write('UPDATE people p JOIN orders o ON o.person_id = p.id SET o.ref = p.ssn WHERE p.id = 1'),
  write("DELETE p FROM people p WHERE p.ssn = '1'"),
  write('UPDATE people SET name = `ssn` WHERE id = 1'),
];

export const ODBC_COLUMN_ATTACKS: readonly ColumnAttack[] = [
  ...COMMON,
  read("SELECT id FROM main.hr.people WHERE ssn = '1'"),
  read('SELECT ssn FROM main..people'),
  read('SELECT * FROM main.hr.people'),
  read('SELECT "SSN" FROM "HR"."PEOPLE"'),
  read('SELECT p.ssn FROM main.hr.people p'),
  read("SELECT id FROM MAIN.HR.PEOPLE WHERE SSN = '1'"),
  read('SELECT p FROM people p'),
  read('SELECT * FROM people NATURAL JOIN orders'),
  read('SELECT * FROM people AS p (a, b, c, d, e)'),
  read("SELECT id FROM people WHERE ssn || 'x' = '1x'"),
  read('SELECT salary FROM main.hr.people ORDER BY 1'),
  read("SELECT id FROM people WHERE POSITION('1' IN ssn) = 1"),
  read('SELECT TRIM(ssn) FROM people'),
  read("SELECT id FROM people WHERE ssn <> '1'"),
  read('SELECT p.id FROM people p LEFT OUTER JOIN contractors c ON c.ssn = p.ssn'),
  read('SELECT id FROM main.hr.staff_directory'),
];

/** Statements that stay allowed; `masked` lists the output positions (0-based) that come back masked. */
export interface ColumnAllowed {
  readonly sql: string;
  readonly mode?: 'read' | 'write';
  /** Every output name, in order, when a column is masked. */
  readonly outputs?: readonly string[];
  readonly masked?: readonly number[];
}

const ALLOWED_COMMON: readonly ColumnAllowed[] = [
  { sql: 'SELECT id, name FROM people' },
  { sql: 'SELECT count(*) FROM people' },
  {
    sql: "SELECT p.name, o.amount FROM people p JOIN orders o ON o.person_id = p.id WHERE p.dept = 'x'",
  },
  { sql: 'SELECT dept, count(*) FROM people GROUP BY dept ORDER BY 2' },
  { sql: 'SELECT * FROM orders' },
  { sql: 'SELECT c.ssn FROM contractors c JOIN people p ON p.id = c.id' },
  { sql: 'SELECT * FROM (SELECT id, name FROM people) s' },
  { sql: 'SELECT id, salary FROM people', outputs: ['id', 'salary'], masked: [1] },
  { sql: 'SELECT p.salary AS pay, p.name FROM people p', outputs: ['pay', 'name'], masked: [0] },
  { sql: 'SELECT salary FROM people ORDER BY name', outputs: ['salary'], masked: [0] },
  { sql: 'SELECT * FROM payroll', outputs: ['id', 'person_id', 'amount'], masked: [2] },
  {
    sql: 'SELECT o.id, y.* FROM orders o JOIN payroll y ON y.person_id = o.person_id',
    outputs: ['id', 'id', 'person_id', 'amount'],
    masked: [3],
  },
  {
    sql: 'SELECT name, salary FROM people WHERE dept = 1 ORDER BY 1',
    outputs: ['name', 'salary'],
    masked: [1],
  },
  { sql: "UPDATE people SET name = 'x' WHERE id = 1", mode: 'write' },
  { sql: "INSERT INTO people (id, name) VALUES (1, 'x')", mode: 'write' },
  { sql: 'DELETE FROM people WHERE id = 1', mode: 'write' },
];

export const POSTGRES_COLUMN_ALLOWED: readonly ColumnAllowed[] = [
  ...ALLOWED_COMMON,
  { sql: 'SELECT p.name FROM people p WHERE p.id = 1' },
  { sql: 'SELECT SALARY FROM people', outputs: ['salary'], masked: [0] },
  { sql: 'SELECT p.salary AS "Pay" FROM people p', outputs: ['Pay'], masked: [0] },
];

export const MYSQL_COLUMN_ALLOWED: readonly ColumnAllowed[] = [
  ...ALLOWED_COMMON,
  { sql: 'SELECT `SALARY` FROM `people`', outputs: ['SALARY'], masked: [0] },
];

export const ODBC_COLUMN_ALLOWED: readonly ColumnAllowed[] = [
  ...ALLOWED_COMMON,
  { sql: 'SELECT id, salary FROM main.hr.people', outputs: ['id', 'salary'], masked: [1] },
];
