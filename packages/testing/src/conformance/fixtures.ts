/**
 * The conformance fixture of each engine: the tables every target of that
 * engine creates in its namespace, whatever client reaches it (the
 * PostgreSQL adapter and the ODBC adapter over psqlODBC share PostgreSQL's;
 * the MySQL adapter and the ODBC adapter over MariaDB ODBC share MariaDB's),
 * and the heavy query each engine's targets run. One owner: a change to
 * a fixture reaches every target of its engine.
 */
import type { ConformanceFixture } from './target.js';

export const POSTGRES_FIXTURE: ConformanceFixture = {
  quoteTable: 'we"ird',
  floatSpecials: true,
  nativeBoolean: true,
  statements: [
    `CREATE TABLE cf_types (
      id int PRIMARY KEY, n_int int4, n_big int8, n_dec numeric(38, 9), n_float float8,
      d_date date, d_ts timestamp(6), d_tstz timestamptz(6), d_time time(6),
      b_bin bytea, j_doc jsonb, s_text text, b_flag boolean)`,
    `INSERT INTO cf_types VALUES
      (1, 2147483647, 9007199254740993, 12345678901234567890.123456789, 1.5,
       '2024-02-29', '2024-02-29 13:45:06.123456', '2024-02-29 13:45:06.123456+02', '23:59:58.123456',
       '\\x00ff10', '{"a": [1, 2.5, "x"], "b": {"c": null}, "s": "é \\"q\\""}',
       E'it\\'s "q" \\\\ C:\\\\path\\n2nd line\\tü 😀', true),
      (2, -2147483648, -9223372036854775808, -0.000000001, -2.25,
       '1970-01-01', '1969-12-31 23:59:59.999999', '2001-09-09 01:46:40.654321+00', '00:00:00.000001',
       '\\x', '[]', '', false),
      (3, 0, 1, 0, 0.1,
       '9999-12-31', '9999-12-31 23:59:59.999999', '2000-01-01 00:00:00.000001+02', '12:30:00.100001',
       '\\x00', 'null', 'plain', true),
      (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (5, NULL, NULL, NULL, 'NaN', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (6, NULL, NULL, NULL, 'Infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (7, NULL, NULL, NULL, '-Infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
    'CREATE TABLE cf_wide (id int PRIMARY KEY, payload text NOT NULL)',
    `INSERT INTO cf_wide
       SELECT g, CASE WHEN g % 2 = 0 THEN repeat('é', 500) ELSE repeat('x', 1000) END
         FROM generate_series(1, 200) AS g`,
    'CREATE TABLE cf_many (id int PRIMARY KEY, label text NOT NULL)',
    "INSERT INTO cf_many SELECT g, 'row ' || g FROM generate_series(1, 3000) AS g",
    `CREATE TABLE cf_parent (
      id int PRIMARY KEY, code varchar(20) NOT NULL, name varchar(100) DEFAULT 'unnamed',
      CONSTRAINT cf_parent_code_key UNIQUE (code))`,
    "COMMENT ON TABLE cf_parent IS 'Parent rows'",
    "COMMENT ON COLUMN cf_parent.name IS 'Display name'",
    `CREATE TABLE cf_child (
      id int PRIMARY KEY, parent_id int NOT NULL, note varchar(100),
      CONSTRAINT cf_child_parent_fk FOREIGN KEY (parent_id) REFERENCES cf_parent (id))`,
    'CREATE INDEX cf_child_parent_idx ON cf_child (parent_id)',
    'CREATE INDEX cf_child_note_parent_idx ON cf_child (note, parent_id)',
    "COMMENT ON COLUMN cf_child.note IS 'Free text'",
    'CREATE VIEW cf_parent_view AS SELECT id, code FROM cf_parent',
    "INSERT INTO cf_parent VALUES (1, 'alpha', 'Alpha'), (2, 'o''brien', DEFAULT)",
    "INSERT INTO cf_child VALUES (1, 1, 'first'), (2, 2, NULL)",
    'ANALYZE cf_many',
  ],
};

export const MARIADB_FIXTURE: ConformanceFixture = {
  quoteTable: 'we`ird',
  floatSpecials: false,
  nativeBoolean: false,
  statements: [
    `CREATE TABLE cf_types (
      id int PRIMARY KEY, n_int int, n_big bigint, n_dec decimal(38, 9), n_float double,
      d_date date, d_ts datetime(6), d_tstz timestamp(6) NULL, d_time time(6),
      b_bin varbinary(16), j_doc json, s_text text, b_flag boolean)`,
    `INSERT INTO cf_types VALUES
      (1, 2147483647, 9007199254740993, 12345678901234567890.123456789, 1.5,
       '2024-02-29', '2024-02-29 13:45:06.123456', '2024-02-29 11:45:06.123456', '23:59:58.123456',
       x'00ff10', '{"a": [1, 2.5, "x"], "b": {"c": null}, "s": "é \\\\"q\\\\""}',
       'it\\'s "q" \\\\ C:\\\\path\\n2nd line\\tü 😀', true),
      (2, -2147483648, -9223372036854775808, -0.000000001, -2.25,
       '1970-01-01', '1969-12-31 23:59:59.999999', '2001-09-09 01:46:40.654321', '00:00:00.000001',
       x'', '[]', '', false),
      (3, 0, 1, 0, 0.1,
       '9999-12-31', '9999-12-31 23:59:59.999999', '1999-12-31 22:00:00.000001', '12:30:00.100001',
       x'00', 'null', 'plain', true),
      (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
    'CREATE TABLE cf_wide (id int PRIMARY KEY, payload text NOT NULL)',
    `INSERT INTO cf_wide
       SELECT seq, CASE WHEN seq % 2 = 0 THEN REPEAT('é', 500) ELSE REPEAT('x', 1000) END
         FROM seq_1_to_200`,
    'CREATE TABLE cf_many (id int PRIMARY KEY, label text NOT NULL)',
    "INSERT INTO cf_many SELECT seq, CONCAT('row ', seq) FROM seq_1_to_3000",
    `CREATE TABLE cf_parent (
      id int PRIMARY KEY, code varchar(20) NOT NULL,
      name varchar(100) DEFAULT 'unnamed' COMMENT 'Display name',
      CONSTRAINT cf_parent_code_key UNIQUE (code)) COMMENT 'Parent rows'`,
    // The index on parent_id is declared with the key, so InnoDB does not add one of its own.
    `CREATE TABLE cf_child (
      id int PRIMARY KEY, parent_id int NOT NULL, note varchar(100) COMMENT 'Free text',
      KEY cf_child_parent_idx (parent_id), KEY cf_child_note_parent_idx (note, parent_id),
      CONSTRAINT cf_child_parent_fk FOREIGN KEY (parent_id) REFERENCES cf_parent (id))`,
    'CREATE VIEW cf_parent_view AS SELECT id, code FROM cf_parent',
    "INSERT INTO cf_parent VALUES (1, 'alpha', 'Alpha'), (2, 'o''brien', DEFAULT)",
    "INSERT INTO cf_child VALUES (1, 1, 'first'), (2, 2, NULL)",
    'ANALYZE TABLE cf_many',
  ],
};

/** A count over a cross join of generated rows: runs for many seconds, no sleep function (PostgreSQL). */
export const postgresHeavyQuery = (marker: string): string =>
  `SELECT count(*) AS ${marker} FROM generate_series(1, 100000) AS a, generate_series(1, 100000) AS b`;

/** The same on MariaDB (its sequence engine). */
export const mariadbHeavyQuery = (marker: string): string =>
  `SELECT COUNT(*) AS ${marker} FROM seq_1_to_100000 a, seq_1_to_100000 b WHERE a.seq <> b.seq`;
