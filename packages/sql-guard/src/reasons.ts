/**
 * Why a statement was refused: a closed table of stable, machine-readable
 * reasons (pinned by a test; changing it is a breaking change). Each has the
 * advice an agent needs to correct its statement. Messages built from these
 * never quote the statement's literals.
 */
export const REJECTION_REASONS = {
  GUARD_NOT_READY: 'The SQL guard is not initialised yet (call loadSqlGuard() at start-up).',
  EMPTY_STATEMENT: 'The statement is empty or only a comment; send one SELECT statement.',
  TOO_LONG: 'The statement is longer than allowed; shorten it.',
  INVALID_CHARACTER: 'The statement holds a NUL character or invalid Unicode; send plain text.',
  NESTING_TOO_DEEP: 'The statement nests parentheses or subqueries too deeply; flatten it.',
  PARSE_ERROR: 'The statement could not be parsed; check its syntax.',
  UNSUPPORTED_SYNTAX: 'The statement uses syntax the guard does not accept for this source.',
  MULTI_STATEMENT: 'Only one statement is allowed per call; send each statement separately.',
  SEMICOLON:
    'A semicolon may only end the statement, once (and not at all on ODBC sources); remove the other semicolons.',
  EXECUTABLE_COMMENT:
    'MySQL executable comments (/*! ... */, /*M! ... */) and optimizer hints (/*+ ... */) are code and are not allowed; remove them.',
  AMBIGUOUS_COMMENT:
    'In MySQL (and on ODBC sources) "--" starts a comment only when followed by a space; write "- -" or "-- " explicitly.',
  NOT_A_READ: 'Only plain reads are allowed here: SELECT, VALUES, TABLE or WITH ... SELECT.',
  NOT_A_WRITE: 'Only one INSERT, UPDATE or DELETE is allowed here.',
  DATA_MODIFYING_CTE:
    'A WITH clause may not contain INSERT, UPDATE, DELETE or MERGE; use a plain SELECT.',
  SELECT_INTO:
    'SELECT ... INTO (a table, a variable or a file) is not allowed; return the rows instead.',
  LOCKING_CLAUSE:
    'Locking clauses (FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE) are not allowed; remove them.',
  TRANSACTION_CONTROL:
    'Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT...) is not allowed; the server manages transactions.',
  SESSION_STATE:
    'Session settings (SET, RESET, SHOW, DISCARD, USE) are not available here; the server sets the session up.',
  VARIABLE_ASSIGNMENT:
    'Assigning variables (:=) is not allowed; compute the value in the SELECT list instead.',
  EXPLAIN_ANALYZE: 'EXPLAIN ANALYZE runs the statement and is not allowed; use plain EXPLAIN.',
  FORBIDDEN_FUNCTION: 'The statement calls a function that is not allowed.',
  TABLE_NOT_ALLOWED: 'The statement refers to a table outside the allowed tables.',
  CATALOG_QUERY:
    "Catalog queries (SHOW, DESCRIBE, information_schema, pg_catalog) are not available here. To see tables use list_tables; to see a table's columns use describe_table.",
  UNQUALIFIED_TABLE: 'Qualify every table with its schema (schema.table).',
  AMBIGUOUS_TABLE:
    'A table name leaves out its catalog or schema and the source has no default for it; write catalog.schema.table.',
  WRITE_WITHOUT_WHERE:
    'UPDATE and DELETE need a WHERE clause that refers to a column; add one to say which rows.',
  RETURNING_NOT_ALLOWED:
    'RETURNING is not allowed here (only for tables you may read, and only where the tool returns rows); remove it.',
  COLUMN_DENIED:
    'The statement refers to a column that a column policy denies you; remove every reference to it (select list, WHERE, JOIN, ORDER BY, GROUP BY, functions, subqueries, * and whole-row references).',
  COLUMN_MASKED:
    'A masked column may only be selected as a plain column of the outermost select list (its values come back masked); remove its other uses (WHERE, JOIN, ORDER BY, GROUP BY, DISTINCT, functions, subqueries, set operations).',
  COLUMN_UNRESOLVED:
    'The statement could not be checked against the column policies; name the columns you need explicitly, qualify them with their table, and avoid * and whole-row references.',
  RELATION_GOVERNED:
    'The statement refers to a relation that exposes columns under a column policy and cannot be checked through; query the underlying tables instead.',
} as const;

export type RejectionReason = keyof typeof REJECTION_REASONS;

export const REJECTION_REASON_LIST = Object.freeze(
  Object.keys(REJECTION_REASONS) as RejectionReason[],
);
