/**
 * PostgreSQL errors to sqlwarden codes and messages. A driver error carries
 * the server's message, which can quote parameter values, string literals,
 * stored values, file paths and parts of the statement; none of it crosses
 * to the client. The message is chosen by SQLSTATE (and, where one SQLSTATE
 * covers several mistakes, by the shape of the server's message), and
 * written by @sqlwarden/adapter-kit's `statementFailure`, the same words for every
 * adapter. What it names goes through the rule of `StatementText` (the kit):
 * a name the server quoted is shown only when the statement's own text
 * holds it as an identifier, spelled as the statement spells it; a type
 * name only when it is a built-in type or the statement names it; a place
 * as line and character, and the word there only when it is a bare word of
 * the statement (never a literal). The driver error is kept as `cause` for
 * the operator log, which serialises it without its message.
 */
import {
  type ClauseWord,
  type CombinationWord,
  type ConditionWord,
  databaseUnavailable,
  type ErrorContext,
  type ErrorMapper,
  errorText,
  isNetworkError,
  type ObjectKind,
  queryTimeout,
  type StatementLocation,
  type StatementName,
  StatementText,
  statementFailure,
  type WriteCommand,
} from '@sqlwarden/adapter-kit';
import { SqlwardenError } from '@sqlwarden/core';
import { IdentityRefused, quoteIdent } from './session.js';
import { postgresStatementText } from './statement-text.js';

/**
 * node-postgres's words for a connection that is gone: its message is all
 * it gives (no code) when the socket ended under a query or a query came
 * after the client failed.
 */
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  'Client was closed',
];

/** PostgreSQL's built-in type names as its messages print them (format_type), lower case. */
const BUILTIN_TYPES: ReadonlySet<string> = new Set([
  'smallint',
  'integer',
  'bigint',
  'numeric',
  'real',
  'double precision',
  'boolean',
  'text',
  'character varying',
  'character',
  '"char"',
  'name',
  'bytea',
  'date',
  'time without time zone',
  'time with time zone',
  'timestamp without time zone',
  'timestamp with time zone',
  'timestamp',
  'time',
  'interval',
  'json',
  'jsonb',
  'jsonpath',
  'uuid',
  'xml',
  'inet',
  'cidr',
  'macaddr',
  'macaddr8',
  'money',
  'bit',
  'bit varying',
  'oid',
  'regclass',
  'regproc',
  'regprocedure',
  'regtype',
  'regoper',
  'regnamespace',
  'regrole',
  'unknown',
  'record',
  'void',
  'tsvector',
  'tsquery',
  'point',
  'line',
  'lseg',
  'box',
  'path',
  'polygon',
  'circle',
  'int4range',
  'int8range',
  'numrange',
  'tsrange',
  'tstzrange',
  'daterange',
  'anyelement',
  'anyarray',
  'pg_lsn',
]);

const CLAUSES: Readonly<Record<string, ClauseWord>> = {
  WHERE: 'WHERE',
  'JOIN conditions': 'JOIN conditions',
  'GROUP BY': 'GROUP BY',
  HAVING: 'HAVING',
  VALUES: 'VALUES',
};
const CONDITIONS: Readonly<Record<string, ConditionWord>> = {
  WHERE: 'WHERE',
  HAVING: 'HAVING',
  'JOIN/ON': 'JOIN/ON',
  'CASE/WHEN': 'CASE/WHEN',
};
const COMBINATIONS: Readonly<Record<string, CombinationWord>> = {
  CASE: 'CASE',
  UNION: 'UNION',
  INTERSECT: 'INTERSECT',
  EXCEPT: 'EXCEPT',
  COALESCE: 'COALESCE',
  VALUES: 'VALUES',
  ARRAY: 'ARRAY',
  GREATEST: 'GREATEST',
  LEAST: 'LEAST',
};
const OBJECT_KINDS: Readonly<Record<string, ObjectKind>> = {
  table: 'table',
  relation: 'table',
  view: 'view',
  'materialized view': 'view',
  schema: 'schema',
  sequence: 'sequence',
  function: 'function',
  procedure: 'procedure',
  column: 'column',
  database: 'database',
};
const WRITE_COMMANDS: Readonly<Record<string, WriteCommand>> = {
  INSERT: 'INSERT',
  UPDATE: 'UPDATE',
  DELETE: 'DELETE',
  MERGE: 'MERGE',
  CREATE: 'CREATE',
  DROP: 'DROP',
  ALTER: 'ALTER',
};

/** A word of a closed table, by the server's text (own properties only). */
const lookup = <T>(table: Readonly<Record<string, T>>, key: string | undefined): T | undefined =>
  key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;

const field = errorText;

/**
 * Whether the connection is gone or never came: Node's socket and TLS
 * errors, SQLSTATE class 08 (connection exception) and 57P01-57P04 (the
 * server shutting down, a terminated backend), node-postgres's words for a
 * socket that ended. Not 08P01 (protocol violation) as an ERROR: that is
 * what the server answers a Bind with the wrong number of parameters, on a
 * connection that stays usable; as a FATAL it ends the connection, and it
 * is what PgBouncer sends when it loses the server under a client ("server
 * conn crashed?") or gives up waiting for one (query_wait_timeout).
 */
function isConnectionError(error: unknown): boolean {
  if (isNetworkError(error)) return true;
  const code = field(error, 'code');
  if (code === '08P01') return field(error, 'severity') === 'FATAL';
  if (code !== undefined && /^(08|57P0[1-4])/.test(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return CONNECTION_MESSAGES.some((m) => message.startsWith(m));
}

/** A server's refusal of a statement (the kit has ruled out its own stops and lost connections). */
function mapServerError(error: unknown, context: ErrorContext): SqlwardenError {
  if (error instanceof IdentityRefused) return identityRefusal(error);
  const code = field(error, 'code');
  if (code === '57014') return queryTimeout(context.timeoutMs, error);
  if (code === undefined || !/^[0-9A-Z]{5}$/.test(code)) {
    return new SqlwardenError('INTERNAL', 'The database adapter failed unexpectedly.', {
      cause: error,
    });
  }
  const statement =
    context.sql === undefined ? StatementText.EMPTY : postgresStatementText(context.sql);
  return (
    describeServerError(error, code, statement) ??
    statementFailure.bySqlState(error, code, `SQLSTATE ${code}`)
  );
}

/**
 * The role of the call's database identity could not be taken: nothing ran,
 * and the call never falls back to the source's own user. The role's name
 * is the operator's configuration, not a secret; naming it says what to fix.
 */
function identityRefusal(error: IdentityRefused): SqlwardenError {
  const role = quoteIdent(error.role);
  const what =
    error.reason === 'no-such-role'
      ? `the role ${role} does not exist on this database; an operator must create it (CREATE ROLE ${role} NOLOGIN) and grant it to the source's user (GRANT ${role} TO <source user>)`
      : `the source's user is not a member of the role ${role}; an operator must grant it (GRANT ${role} TO <source user>)`;
  return new SqlwardenError(
    'FORBIDDEN',
    `This call must run as its principal's database role (principals.<id>.database), and ${what}. Nothing ran.`,
    { cause: error },
  );
}

/** PostgreSQL's errors for the kit (dialect.ts: ErrorMapper). */
export const postgresErrors: ErrorMapper = { isConnectionError, map: mapServerError };

/** Where the server's `position` points, if it does. */
function placeOf(
  error: unknown,
  statement: StatementText,
): { offset: number; at: StatementLocation } | undefined {
  const position = Number(field(error, 'position'));
  const offset = statement.offsetOfCharacter(position);
  return offset === undefined ? undefined : { offset, at: statement.locate(offset) };
}

/** The place of a literal the server points at (the literal itself is never shown). */
function literalAt(error: unknown, statement: StatementText): StatementLocation | undefined {
  const place = placeOf(error, statement);
  if (place === undefined) return undefined;
  const token = statement.tokenAt(place.offset);
  return token?.kind === 'literal' && token.start === place.offset ? place.at : undefined;
}

/** "integer, unknown, timestamp with time zone": split at the commas between types. */
function typeList(list: string, statement: StatementText): Array<StatementName | undefined> {
  if (list.trim() === '') return [];
  // A type's own modifiers hold a comma (numeric(5,2)): split only outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < list.length; i++) {
    if (list[i] === '(') depth++;
    else if (list[i] === ')') depth--;
    else if (list[i] === ',' && depth === 0) {
      parts.push(list.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(list.slice(from));
  return parts.map((part) => statement.typeName(part.trim(), BUILTIN_TYPES));
}

/** The columns of a key detail, "Key (a, b)=(...) ...", when the statement holds each of them. */
function keyColumns(
  detail: string | undefined,
  statement: StatementText,
): StatementName[] | undefined {
  const match = detail === undefined ? null : /^Key \(([^()]*)\)=\(/.exec(detail);
  if (match === null) return undefined;
  const columns = (match[1] ?? '').split(', ').map((column) => statement.name(column));
  return columns.every((c) => c !== undefined) ? columns : undefined;
}

/**
 * The message for a server error, or undefined for the SQLSTATE-class
 * fallback. Each regular expression reads the server's message only to
 * find which mistake it is and which name it is about; only what
 * `statement` lets through is used.
 */
function describeServerError(
  error: unknown,
  code: string,
  statement: StatementText,
): SqlwardenError | undefined {
  const message = field(error, 'message') ?? '';
  const type = (candidate: string | undefined) => statement.typeName(candidate, BUILTIN_TYPES);
  let m: RegExpExecArray | null;
  switch (code) {
    case '42702':
      m = /^column reference "(.+)" is ambiguous$/s.exec(message);
      return statementFailure.ambiguousColumn(
        error,
        statement.name(m?.[1]),
        m === null ? [] : statement.qualifiers(),
      );
    case '42703': {
      m =
        /^column "(.+?)"(?: of relation "(.+)")? does not exist$/s.exec(message) ??
        /^column (\S+) does not exist$/s.exec(message);
      const hint = /Perhaps you meant to reference the column "([^"]+)"/.exec(
        field(error, 'hint') ?? '',
      );
      return statementFailure.unknownColumn(
        error,
        statement.name(m?.[1]),
        statement.name(hint?.[1]),
      );
    }
    case '42P01': {
      const missing = /^missing FROM-clause entry for table "(.+)"$/s.exec(message);
      if (missing !== null) return statementFailure.notInFrom(error, statement.name(missing[1]));
      const invalid = /^invalid reference to FROM-clause entry for table "(.+)"$/s.exec(message);
      if (invalid !== null) return statementFailure.notReachable(error, statement.name(invalid[1]));
      m = /^relation "(.+)" does not exist$/s.exec(message);
      return statementFailure.unknownTable(error, statement.name(m?.[1]));
    }
    case '3F000':
      m = /^schema "(.+)" does not exist$/s.exec(message);
      return statementFailure.unknownSchema(error, statement.name(m?.[1]));
    case '42704':
      m = /^type "(.+)" does not exist$/s.exec(message);
      return m === null
        ? statementFailure.unknownObject(error)
        : statementFailure.unknownType(error, statement.name(m[1]));
    case '42803': {
      const ungrouped =
        /^column "(.+)" must appear in the GROUP BY clause or be used in an aggregate function$/s.exec(
          message,
        ) ?? /^subquery uses ungrouped column "(.+)" from outer query$/s.exec(message);
      if (ungrouped !== null)
        return statementFailure.notGrouped(error, statement.name(ungrouped[1]));
      const misplaced = /^aggregate functions are not allowed in (.+)$/s.exec(message);
      if (misplaced !== null) {
        return statementFailure.aggregateNotAllowed(error, lookup(CLAUSES, misplaced[1]));
      }
      if (/^aggregate function calls cannot be nested$/.test(message)) {
        return statementFailure.nestedAggregate(error);
      }
      return undefined;
    }
    case '42P20':
      m = /^window functions are not allowed in (.+)$/s.exec(message);
      return m === null
        ? undefined
        : statementFailure.windowNotAllowed(error, lookup(CLAUSES, m[1]));
    case '42883': {
      // "integer = text", "- text" (prefix), "text pg_catalog.= integer"
      const operator =
        /^operator does not exist: (?:(.+?) )?((?:\w+\.)?[+\-*/<>=~!@#%^&|`?]+) (.+)$/s.exec(
          message,
        );
      if (operator !== null) {
        return statementFailure.noOperator(
          error,
          statement.operator(operator[2]?.replace(/^pg_catalog\./, '')),
          type(operator[1]),
          type(operator[3]),
        );
      }
      const fn = /^function (.+?)\((.*)\) does not exist$/s.exec(message);
      if (fn !== null) {
        return statementFailure.unknownFunction(
          error,
          statement.name(fn[1]),
          typeList(fn[2] ?? '', statement),
        );
      }
      // regproc input: a function by name only (a value cast to regproc).
      const byName = /^function "(.+)" does not exist$/s.exec(message);
      if (byName !== null)
        return statementFailure.unknownFunction(error, statement.name(byName[1]));
      return statementFailure.noOperator(error, undefined, undefined, undefined);
    }
    case '42725':
      m = /^function (.+?)\(.*\) is not unique$/s.exec(message);
      return statementFailure.ambiguousFunction(error, statement.name(m?.[1]));
    case '42804': {
      const assigned = /^column "(.+)" is of type (.+) but expression is of type (.+)$/s.exec(
        message,
      );
      if (assigned !== null) {
        return statementFailure.assignmentType(
          error,
          statement.name(assigned[1]),
          type(assigned[2]),
          type(assigned[3]),
        );
      }
      const condition = /^argument of (.+) must be type boolean, not type (.+)$/s.exec(message);
      if (condition !== null) {
        return statementFailure.conditionType(
          error,
          lookup(CONDITIONS, condition[1]),
          type(condition[2]),
        );
      }
      const combined = /^(\w+) types (.+) and (.+) cannot be matched$/s.exec(message);
      if (combined !== null) {
        return statementFailure.combinedTypes(
          error,
          lookup(COMBINATIONS, combined[1]),
          type(combined[2]),
          type(combined[3]),
        );
      }
      return statementFailure.wrongType(error);
    }
    case '42846':
      m = /^cannot cast type (.+) to (.+)$/s.exec(message);
      return statementFailure.cannotCast(error, type(m?.[1]), type(m?.[2]));
    case '42P18':
      m = /^could not determine data type of parameter \$(\d{1,5})$/.exec(message);
      return statementFailure.parameterType(error, m === null ? undefined : Number(m[1]));
    case '42P02':
      return statementFailure.parameterCount(error, { placeholder: '$n' });
    case '08P01':
      m =
        /^bind message supplies (\d{1,5}) parameters?, but prepared statement "" requires (\d{1,5})$/.exec(
          message,
        );
      return statementFailure.parameterCount(error, {
        ...(m !== null && { given: Number(m[1]), expected: Number(m[2]) }),
        placeholder: '$n',
      });
    case '42601':
      return syntaxError(error, message, statement);
    case '42P10': {
      const position = /^(ORDER|GROUP) BY position \d+ is not in select list$/.exec(message);
      if (position !== null) {
        return statementFailure.positionNotInSelectList(
          error,
          position[1] === 'GROUP' ? 'GROUP BY' : 'ORDER BY',
        );
      }
      if (/^for SELECT DISTINCT, ORDER BY expressions must appear in select list$/.test(message)) {
        return statementFailure.distinctOrderBy(error);
      }
      return undefined;
    }
    case '42712':
      m = /^table name "(.+)" specified more than once$/s.exec(message);
      return statementFailure.duplicateAlias(error, statement.name(m?.[1]));
    case '42701':
      m = /^column "(.+)" specified more than once$/s.exec(message);
      return statementFailure.duplicateColumn(error, statement.name(m?.[1]));
    case '42501': {
      m = /^permission denied for (materialized view|\w+) (.+)$/s.exec(message);
      const kind = lookup(OBJECT_KINDS, m?.[1]);
      const object = statement.name(m?.[2]);
      return statementFailure.forbidden(error, {
        ...(kind !== undefined && { kind }),
        ...(object !== undefined && { object }),
      });
    }
    case '25006':
      m = /^cannot execute (\w+) in a read-only transaction$/.exec(message);
      return statementFailure.readOnly(error, lookup(WRITE_COMMANDS, m?.[1]));
    case '22012':
      return statementFailure.divisionByZero(error);
    case '22003': {
      const integer = /^(smallint|integer|bigint) out of range$/.exec(message);
      if (integer !== null) return statementFailure.outOfRange(error, { type: type(integer[1]) });
      const precision = /^A field with precision (\d{1,4}), scale (-?\d{1,4}) /.exec(
        field(error, 'detail') ?? '',
      );
      if (message === 'numeric field overflow' && precision !== null) {
        return statementFailure.outOfRange(error, {
          type: type(`numeric(${precision[1]},${precision[2]})`),
        });
      }
      return statementFailure.outOfRange(error, {});
    }
    case '22P02':
    case '22007': {
      if (/^malformed array literal/.test(message)) return statementFailure.notAnArray(error);
      m =
        /^invalid input syntax for type ([a-z][a-z0-9 ]*?)(?:: "|$)/.exec(message) ??
        /^invalid input value for enum (.+?): "/s.exec(message);
      if (m === null && code === '22007') return undefined;
      return statementFailure.invalidInput(error, {
        type: m === null ? undefined : type(m[1]),
        literalAt: literalAt(error, statement),
      });
    }
    case '22008':
      if (/^date\/time field value out of range/.test(message)) {
        return statementFailure.invalidDateTime(error, literalAt(error, statement));
      }
      m = /^([a-z][a-z ]*?) out of range(?:: "|$)/.exec(message);
      return statementFailure.outOfRange(error, { type: type(m?.[1]) });
    case '22001':
      m = /^value too long for type (.+)$/s.exec(message);
      return statementFailure.tooLong(error, { type: type(m?.[1]) });
    case '2201B':
      return statementFailure.invalidRegex(error);
    case '2201W':
      return statementFailure.negativeLimit(error, 'LIMIT');
    case '2201X':
      return statementFailure.negativeLimit(error, 'OFFSET');
    case '21000':
      return /^more than one row returned by a subquery used as an expression$/.test(message)
        ? statementFailure.subqueryRows(error)
        : undefined;
    case '23502':
      return statementFailure.notNull(error, statement.name(field(error, 'column')));
    case '23505': {
      // The key's columns, or the constraint's name when the statement holds it (ON CONSTRAINT).
      const constraint = statement.name(field(error, 'constraint'));
      return statementFailure.duplicateKey(
        error,
        keyColumns(field(error, 'detail'), statement) ??
          (constraint === undefined ? undefined : [constraint]),
      );
    }
    case '23503': {
      const detail = field(error, 'detail') ?? '';
      const referencing = /is still referenced from table "(.+)"\.$/s.exec(detail);
      if (referencing !== null) {
        return statementFailure.stillReferenced(error, statement.name(referencing[1]));
      }
      if (message.startsWith('update or delete on table')) {
        return statementFailure.stillReferenced(error, undefined);
      }
      const columns = keyColumns(detail, statement);
      const referenced = /is not present in table "(.+)"\.$/s.exec(detail);
      return statementFailure.missingReference(
        error,
        columns?.length === 1 ? columns[0] : undefined,
        statement.name(referenced?.[1]),
      );
    }
    case '23514':
      return statementFailure.checkViolation(error, statement.name(field(error, 'constraint')));
    case '0A000':
      return statementFailure.notSupported(error);
    case '55P03':
      return statementFailure.lockTimeout(error);
    case '40P01':
      return statementFailure.deadlock(error);
    case '3D000':
    case '28000':
    case '28P01':
      return databaseUnavailable(error);
    default:
      // 53400: a configured limit of the role or server (temp_file_limit...)
      // that this statement passed; the database is fine.
      if (code === '53400') return statementFailure.resourceLimit(error);
      // Insufficient resources: the server cannot take the statement now.
      return code.startsWith('53') ? databaseUnavailable(error) : undefined;
  }
}

/** 42601: which syntax mistake, and where (the word there only if it is a bare word of the statement). */
function syntaxError(error: unknown, message: string, statement: StatementText): SqlwardenError {
  if (/^each (UNION|INTERSECT|EXCEPT) query must have the same number of columns$/.test(message)) {
    return statementFailure.setOperationColumns(error);
  }
  if (/^subquery in FROM must have an alias$/.test(message)) {
    return statementFailure.derivedTableAlias(error);
  }
  if (
    /^INSERT has more (target columns than expressions|expressions than target columns)$/.test(
      message,
    )
  ) {
    return statementFailure.insertColumnCount(error);
  }
  if (
    /^subquery (has too many columns|has too few columns|must return only one column)$/.test(
      message,
    )
  ) {
    return statementFailure.subqueryColumns(error);
  }
  const place = placeOf(error, statement);
  if (/^unterminated \/\* comment/.test(message)) {
    return statementFailure.syntaxError(error, {
      unclosed: 'comment',
      ...(place && { at: place.at }),
    });
  }
  if (/^unterminated (quoted string|quoted identifier|dollar-quoted string)/.test(message)) {
    return statementFailure.syntaxError(error, {
      unclosed: 'quote',
      ...(place && { at: place.at }),
    });
  }
  if (
    message === 'syntax error at end of input' ||
    (place !== undefined && statement.atEnd(place.offset))
  ) {
    return statementFailure.syntaxError(error, { atEnd: true });
  }
  if (place === undefined) return statementFailure.syntaxError(error);
  const word = statement.wordAt(place.offset);
  return statementFailure.syntaxError(error, {
    at: place.at,
    ...(word !== undefined && /^syntax error at or near/.test(message) && { word }),
  });
}
