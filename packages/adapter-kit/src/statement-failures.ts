/**
 * The messages of statements the database refused, written once for every
 * adapter: the same mistake reads the same on PostgreSQL, MySQL/MariaDB and
 * ODBC (the conformance suite holds the adapters to it). Each message is one
 * sentence of what is wrong, naming what the statement holds, then what to
 * do (docs/error-codes.md has the table).
 *
 * Names reach a message only as `StatementName` (statement-text.ts: text of
 * the statement that the rule let through); clauses, operators, commands
 * and object kinds only as words of the closed unions below. So no server
 * message text, parameter value or string literal can be passed in by
 * mistake: the compiler refuses a plain string.
 *
 * The driver's error is kept as `cause` for the operator log (which
 * serializes it without its message); it never reaches the client.
 */
import { SqlwardenError } from '@sqlwarden/core';
import type { StatementLocation, StatementName } from './statement-text.js';

type Name = StatementName | undefined;

/** Where an aggregate or window function may not be. */
export type ClauseWord = 'WHERE' | 'JOIN conditions' | 'GROUP BY' | 'HAVING' | 'VALUES';
/** What must be a condition. */
export type ConditionWord = 'WHERE' | 'HAVING' | 'JOIN/ON' | 'CASE/WHEN';
/** What combines values that must have one type. */
export type CombinationWord =
  | 'CASE'
  | 'UNION'
  | 'INTERSECT'
  | 'EXCEPT'
  | 'COALESCE'
  | 'VALUES'
  | 'ARRAY'
  | 'GREATEST'
  | 'LEAST';
/** Database objects a privilege is about. */
export type ObjectKind =
  | 'table'
  | 'view'
  | 'schema'
  | 'sequence'
  | 'function'
  | 'procedure'
  | 'column'
  | 'database';
/** The statement kinds a read-only transaction refuses. */
export type WriteCommand = 'INSERT' | 'UPDATE' | 'DELETE' | 'MERGE' | 'CREATE' | 'DROP' | 'ALTER';

const failed = (cause: unknown, message: string) =>
  new SqlwardenError('QUERY_FAILED', message, { cause });

/** "character 10" or "line 2, character 5". */
function place(at: StatementLocation): string {
  return at.multiline ? `line ${at.line}, character ${at.character}` : `character ${at.character}`;
}

/** " (character 10)", or nothing without a place. */
function where(at: StatementLocation | undefined): string {
  return at === undefined ? '' : ` (${place(at)})`;
}

/** "a", "a or b", "a, b or c". */
function either(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export const statementFailure = {
  ambiguousColumn(cause: unknown, column: Name, qualifiers: readonly StatementName[]) {
    if (column === undefined) {
      return failed(
        cause,
        'A column name of the statement is ambiguous: qualify it with its table or alias.',
      );
    }
    const options =
      qualifiers.length >= 2 ? ` (${either(qualifiers.map((q) => `${q}.${column}`))})` : '';
    return failed(
      cause,
      `Column ${column} is ambiguous: qualify it with its table or alias${options}.`,
    );
  },

  unknownColumn(cause: unknown, column: Name, suggestion?: Name) {
    const maybe = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
    return failed(
      cause,
      column === undefined
        ? `A column the statement names does not exist${maybe}: check the columns with describe_table.`
        : `Column ${column} does not exist${maybe}: check the columns with describe_table.`,
    );
  },

  unknownTable(cause: unknown, table: Name) {
    return new SqlwardenError(
      'NOT_FOUND',
      table === undefined
        ? 'A table the statement names does not exist: check the tables with list_tables.'
        : `Table ${table} does not exist: check the tables with list_tables.`,
      { cause },
    );
  },

  unknownSchema(cause: unknown, schema: Name) {
    return new SqlwardenError(
      'NOT_FOUND',
      schema === undefined
        ? 'A schema the statement names does not exist: check the schemas and tables with list_tables.'
        : `Schema ${schema} does not exist: check the schemas and tables with list_tables.`,
      { cause },
    );
  },

  unknownType(cause: unknown, type: Name) {
    return failed(
      cause,
      type === undefined
        ? 'A type the statement names does not exist: check its name.'
        : `Type ${type} does not exist: check its name.`,
    );
  },

  unknownObject(cause: unknown) {
    return failed(cause, 'An object the statement names does not exist: check its name.');
  },

  notInFrom(cause: unknown, name: Name) {
    return failed(
      cause,
      name === undefined
        ? 'The statement qualifies a column with a table or alias that is not in its FROM clause: add the table to FROM (or a JOIN), or use the alias it has there.'
        : `${name} is not a table or alias of the FROM clause: add it to FROM (or a JOIN), or use the alias it has there.`,
    );
  },

  notReachable(cause: unknown, name: Name) {
    return failed(
      cause,
      `${name === undefined ? 'A table or alias' : `Table or alias ${name}`} cannot be referenced from this part of the statement: join it first, or use LATERAL.`,
    );
  },

  notGrouped(cause: unknown, column: Name) {
    return failed(
      cause,
      `${column === undefined ? 'A selected column' : `Column ${column}`} must appear in GROUP BY or be used in an aggregate function (such as max or count).`,
    );
  },

  aggregatesWithoutGroupBy(cause: unknown) {
    return failed(
      cause,
      'The statement mixes aggregate functions with plain columns but has no GROUP BY: group by the plain columns, or aggregate them too.',
    );
  },

  aggregateNotAllowed(cause: unknown, clause: ClauseWord | undefined) {
    if (clause === 'WHERE') {
      return failed(
        cause,
        'Aggregate functions are not allowed in WHERE: filter on them in HAVING instead.',
      );
    }
    return failed(
      cause,
      `Aggregate functions are not allowed ${clause === undefined ? 'there' : `in ${clause}`}: compute them in a subquery first.`,
    );
  },

  nestedAggregate(cause: unknown) {
    return failed(
      cause,
      'Aggregate functions cannot be nested: aggregate in a subquery, then aggregate its result.',
    );
  },

  misusedAggregate(cause: unknown) {
    return failed(
      cause,
      'An aggregate function is used where it is not allowed: filter on aggregates in HAVING, not WHERE, and do not nest them.',
    );
  },

  windowNotAllowed(cause: unknown, clause: ClauseWord | undefined) {
    return failed(
      cause,
      `Window functions are not allowed ${clause === undefined ? 'there' : `in ${clause}`}: compute them in a subquery and filter outside it.`,
    );
  },

  /**
   * Without `argumentTypes` (MySQL) the name is unknown. With them
   * (PostgreSQL) no function has this name and these argument types; a type
   * the rule left out (undefined) drops the list, not the advice.
   */
  unknownFunction(
    cause: unknown,
    fn: Name,
    argumentTypes?: readonly (StatementName | undefined)[],
  ) {
    if (argumentTypes === undefined) {
      return failed(
        cause,
        fn === undefined
          ? 'A function the statement calls does not exist: check its name.'
          : `Function ${fn} does not exist: check its name.`,
      );
    }
    const shownTypes = argumentTypes.every((t) => t !== undefined);
    const signature =
      fn === undefined
        ? 'A function the statement calls'
        : shownTypes
          ? `Function ${fn}(${argumentTypes.join(', ')})`
          : `Function ${fn}`;
    return failed(
      cause,
      `${signature} does not exist${fn !== undefined && shownTypes ? '' : ' for the types of its arguments'}: check its name, or cast the arguments to the types it takes.`,
    );
  },

  ambiguousFunction(cause: unknown, fn: Name) {
    return failed(
      cause,
      `${fn === undefined ? 'A function call' : `The call of ${fn}`} matches more than one function: cast its arguments to pick one.`,
    );
  },

  argumentCount(cause: unknown, fn: Name) {
    return failed(
      cause,
      `${fn === undefined ? 'A function' : `Function ${fn}`} is called with the wrong number of arguments: check how many it takes.`,
    );
  },

  argumentKinds(cause: unknown, fn: Name) {
    return failed(
      cause,
      `${fn === undefined ? 'A function' : `Function ${fn}`} is called with arguments of the wrong kind: check what it takes.`,
    );
  },

  noOperator(cause: unknown, operator: Name, left: Name, right: Name) {
    if (operator !== undefined && right !== undefined) {
      const types = left === undefined ? right : `${left} and ${right}`;
      return failed(
        cause,
        `Operator ${operator} does not exist for ${types}: cast one side to the type of the other.`,
      );
    }
    return failed(
      cause,
      'An operator of the statement does not exist for the types of its operands: cast one side to the type of the other.',
    );
  },

  assignmentType(cause: unknown, column: Name, columnType: Name, valueType: Name) {
    if (column !== undefined && columnType !== undefined && valueType !== undefined) {
      return failed(
        cause,
        `Column ${column} is of type ${columnType} but the value is of type ${valueType}: cast the value (::${columnType}) or pass a value of that type.`,
      );
    }
    return failed(
      cause,
      'A value has another type than its column: cast the value or pass a value of the column type.',
    );
  },

  conditionType(cause: unknown, clause: ConditionWord | undefined, type: Name) {
    return failed(
      cause,
      `${clause ?? 'A condition'} needs a boolean condition${type === undefined ? '' : `, not ${type}`}: compare the value (for example x = 1).`,
    );
  },

  combinedTypes(cause: unknown, construct: CombinationWord | undefined, a: Name, b: Name) {
    const types = a !== undefined && b !== undefined ? ` (${a} and ${b})` : '';
    return failed(
      cause,
      `The branches of ${construct === undefined ? 'an expression' : `a ${construct}`} have different types${types}: cast them to one type.`,
    );
  },

  cannotCast(cause: unknown, from: Name, to: Name) {
    return failed(
      cause,
      from !== undefined && to !== undefined
        ? `Type ${from} cannot be cast to ${to}: convert the value another way (a function such as to_char or to_date).`
        : 'A value cannot be cast to the type asked for: convert it another way.',
    );
  },

  parameterType(cause: unknown, placeholder: number | undefined) {
    const p = placeholder === undefined ? 'a parameter' : `parameter $${placeholder}`;
    return failed(
      cause,
      `The type of ${p} cannot be inferred: cast it (for example $1::text), and number the parameters $1, $2... without gaps.`,
    );
  },

  wrongType(cause: unknown) {
    return failed(cause, 'A value or expression has the wrong type: add a cast.');
  },

  /**
   * A value that is not valid input for its type: a literal of the statement
   * (say where, never what), a value for a named column, or a parameter or
   * stored value being converted.
   */
  invalidInput(
    cause: unknown,
    details: {
      readonly type?: Name;
      readonly column?: Name;
      readonly literalAt?: StatementLocation;
    },
  ) {
    const { type, column, literalAt } = details;
    const input = type === undefined ? 'input for its type' : `input for type ${type}`;
    if (literalAt !== undefined) {
      return failed(
        cause,
        `The literal at ${place(literalAt)} is not valid ${input}: write a value of that type.`,
      );
    }
    if (column !== undefined) {
      return failed(
        cause,
        `A value for column ${column} is not valid ${input}: pass a value of that type.`,
      );
    }
    return failed(
      cause,
      `A value is not valid ${input} (a parameter, a literal or a stored value being converted): pass a value of that type, or convert it explicitly.`,
    );
  },

  notAnArray(cause: unknown) {
    return failed(
      cause,
      'A value is not a valid array: pass an array (for example [1, 2] as the parameter).',
    );
  },

  invalidDateTime(cause: unknown, literalAt?: StatementLocation) {
    return failed(
      cause,
      `${literalAt === undefined ? 'A date or time value' : `The date or time literal at ${place(literalAt)}`} is out of range (such as February 30 or month 13): pass a real date, written YYYY-MM-DD.`,
    );
  },

  divisionByZero(cause: unknown) {
    return failed(
      cause,
      'The statement divides by zero: guard the divisor, for example with NULLIF(x, 0).',
    );
  },

  outOfRange(cause: unknown, details: { readonly type?: Name; readonly column?: Name }) {
    if (details.column !== undefined) {
      return failed(
        cause,
        `A value is out of range for column ${details.column}: store a value the column can hold.`,
      );
    }
    return failed(
      cause,
      `A value is out of range for ${details.type === undefined ? 'its type' : `type ${details.type}`}: use smaller values, or cast to a wider type (such as bigint or numeric).`,
    );
  },

  tooLong(cause: unknown, details: { readonly type?: Name; readonly column?: Name }) {
    const target =
      details.column !== undefined
        ? `column ${details.column}`
        : details.type !== undefined
          ? `type ${details.type}`
          : 'its column';
    return failed(cause, `A value is too long for ${target}: shorten it.`);
  },

  invalidRegex(cause: unknown) {
    return failed(cause, 'A regular expression is not valid: fix the pattern.');
  },

  negativeLimit(cause: unknown, clause: 'LIMIT' | 'OFFSET' | undefined) {
    return failed(cause, `${clause ?? 'LIMIT or OFFSET'} must not be negative: use 0 or more.`);
  },

  subqueryRows(cause: unknown) {
    return failed(
      cause,
      'A subquery used as a single value returned more than one row: make it return one row (a WHERE, LIMIT 1 or an aggregate), or compare with IN or EXISTS.',
    );
  },

  subqueryColumns(cause: unknown) {
    return failed(
      cause,
      'A subquery or row used as a single value has more than one column: select exactly one.',
    );
  },

  setOperationColumns(cause: unknown) {
    return failed(
      cause,
      'The queries of a UNION, INTERSECT or EXCEPT return different numbers of columns: make them return the same number.',
    );
  },

  insertColumnCount(cause: unknown) {
    return failed(
      cause,
      'The INSERT has a different number of columns and values: give one value for each column.',
    );
  },

  duplicateColumn(cause: unknown, column: Name) {
    return failed(
      cause,
      `${column === undefined ? 'A column' : `Column ${column}`} is listed more than once: list it once.`,
    );
  },

  duplicateAlias(cause: unknown, alias: Name) {
    return failed(
      cause,
      `${alias === undefined ? 'A table or alias' : `Table or alias ${alias}`} is used twice in FROM: give each table a different alias.`,
    );
  },

  derivedTableAlias(cause: unknown) {
    return failed(cause, 'A subquery in FROM has no alias: add one, as in FROM (SELECT ...) AS s.');
  },

  positionNotInSelectList(cause: unknown, clause: 'ORDER BY' | 'GROUP BY' | undefined) {
    const c = clause ?? 'ORDER BY';
    return failed(
      cause,
      `${c === 'GROUP BY' ? 'A' : 'An'} ${c} position is past the end of the select list: use the number of a selected column, or its name.`,
    );
  },

  distinctOrderBy(cause: unknown) {
    return failed(
      cause,
      'With SELECT DISTINCT, every ORDER BY expression must be in the select list: add it there, or order by selected columns.',
    );
  },

  notNull(cause: unknown, column: Name) {
    return failed(
      cause,
      `${column === undefined ? 'A column' : `Column ${column}`} may not be null: give it a value.`,
    );
  },

  noDefault(cause: unknown, column: Name) {
    return failed(
      cause,
      `${column === undefined ? 'A column' : `Column ${column}`} has no default value: give it a value in the INSERT.`,
    );
  },

  /** `key`: the key's columns (or its name) as the statement holds them, or MySQL's primary key. */
  duplicateKey(cause: unknown, key: readonly StatementName[] | 'primary key' | undefined) {
    const shownKey =
      key === undefined || key.length === 0
        ? ''
        : ` (${typeof key === 'string' ? key : key.join(', ')})`;
    return failed(
      cause,
      `The statement would duplicate a unique key${shownKey}: a row with that value exists already.`,
    );
  },

  missingReference(cause: unknown, column: Name, table: Name) {
    const what = column === undefined ? 'A value' : `Column ${column}`;
    return failed(
      cause,
      `${what} must refer to an existing row of ${table === undefined ? 'the referenced table' : table} (a foreign key): use a key that exists there.`,
    );
  },

  stillReferenced(cause: unknown, table: Name) {
    return failed(
      cause,
      `Rows of ${table === undefined ? 'another table' : table} still refer to this row (a foreign key): change or delete them first.`,
    );
  },

  checkViolation(cause: unknown, constraint: Name) {
    return failed(
      cause,
      `A value breaks the check constraint${constraint === undefined ? '' : ` ${constraint}`}: pass a value the constraint allows.`,
    );
  },

  /** A syntax error, at a word of the statement, at a place, at its end, or in a quote or comment that was never closed. */
  syntaxError(
    cause: unknown,
    details: {
      readonly word?: Name;
      readonly at?: StatementLocation;
      readonly atEnd?: boolean;
      readonly unclosed?: 'quote' | 'comment';
    } = {},
  ) {
    if (details.unclosed === 'quote') {
      return failed(cause, `A quoted string or name is not closed${where(details.at)}: close it.`);
    }
    if (details.unclosed === 'comment') {
      return failed(cause, `A comment is not closed${where(details.at)}: close it with */.`);
    }
    if (details.atEnd === true) {
      return failed(
        cause,
        'Syntax error at the end of the statement: it is incomplete (a clause, a value or a closing parenthesis is missing).',
      );
    }
    if (details.word !== undefined) {
      return failed(
        cause,
        `Syntax error near the word ${details.word}${where(details.at)}: fix the statement there.`,
      );
    }
    if (details.at !== undefined) {
      return failed(cause, `Syntax error at ${place(details.at)}: fix the statement there.`);
    }
    return failed(cause, 'The database could not parse the statement: check its syntax.');
  },

  parameterCount(
    cause: unknown,
    details: {
      readonly expected?: number;
      readonly given?: number;
      readonly placeholder: '$n' | '?';
    },
  ) {
    const { expected, given, placeholder } = details;
    if (expected !== undefined && given !== undefined && expected !== given) {
      return failed(
        cause,
        `The statement takes ${count(expected, 'parameter', 'parameters')} but ${count(given, 'value was', 'values were')} given: give one value for each ${placeholder}.`,
      );
    }
    return failed(
      cause,
      `The parameters do not match the statement: give one value for each ${placeholder}.`,
    );
  },

  forbidden(cause: unknown, details: { readonly kind?: ObjectKind; readonly object?: Name } = {}) {
    const { kind, object } = details;
    const what =
      object !== undefined ? `${kind ?? 'object'} ${object}` : 'an object the statement needs';
    return new SqlwardenError(
      'FORBIDDEN',
      `The database account of this source may not use ${what}: ask an operator for the grant.`,
      { cause },
    );
  },

  readOnly(cause: unknown, command: WriteCommand | undefined) {
    return new SqlwardenError(
      'READ_ONLY',
      `The statement tried to write${command === undefined ? '' : ` (${command})`}; reads run in read-only transactions.`,
      { cause },
    );
  },

  lockTimeout(cause: unknown) {
    return failed(
      cause,
      'The statement waited too long for a lock held by another transaction; try again.',
    );
  },

  deadlock(cause: unknown) {
    return failed(
      cause,
      'The transaction was rolled back by the database to break a deadlock; try again.',
    );
  },

  notSupported(cause: unknown) {
    return failed(cause, 'The statement uses a feature this database does not support.');
  },

  /** A limit the role or server sets on one statement (PostgreSQL temp_file_limit): the database is fine. */
  resourceLimit(cause: unknown) {
    return failed(
      cause,
      'The statement needed more temporary disk or memory than this source allows; narrow it (a WHERE clause, fewer rows to sort or group).',
    );
  },

  /**
   * The fallback for an error no rule above matched, by what its SQLSTATE
   * class means in the standard (ISO/IEC 9075-2, table "SQLSTATE class and
   * subclass codes"). `reference` says which error it was ("SQLSTATE
   * 22011", "errno 1234, SQLSTATE HY000"): numbers the operator can look
   * up, never the server's words. An adapter maps its errors by their own
   * code first: MySQL reuses class 23 for an ambiguous column (1052).
   */
  bySqlState(cause: unknown, state: string | undefined, reference: string) {
    switch (state?.slice(0, 2)) {
      case '21':
        return failed(
          cause,
          `The numbers of rows or columns do not match what the statement needs (${reference}): check subqueries and column lists.`,
        );
      case '22':
        return failed(
          cause,
          `A value does not fit its type or is out of range (${reference}): check the values and casts.`,
        );
      case '23':
        return failed(
          cause,
          `The statement breaks an integrity constraint (${reference}): check the values against the table's keys and constraints with describe_table.`,
        );
      case '0A':
        return failed(
          cause,
          `The statement uses a feature this database does not support (${reference}).`,
        );
      case '40':
        return failed(
          cause,
          `The transaction was rolled back by the database (${reference}); try again.`,
        );
      case '42':
        return failed(
          cause,
          `The database refused the statement as invalid or not allowed (${reference}): check its syntax, names and types.`,
        );
      case '44':
        return failed(
          cause,
          `The row would not satisfy the view's WITH CHECK OPTION (${reference}): change the values.`,
        );
      case '54':
        return failed(cause, `The statement is too complex for the database (${reference}).`);
      default:
        return failed(cause, `The database refused the statement (${reference}).`);
    }
  },
} as const;
