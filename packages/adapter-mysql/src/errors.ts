/**
 * MySQL and MariaDB errors to sqlwarden codes and messages. A server
 * message can quote parameter values, string literals and stored values
 * ("Duplicate entry '4111-1111-...' for key ...", "Truncated incorrect
 * DOUBLE value: 'new'"), the account and host, file paths and parts of the
 * statement, and mysql2 hangs the statement text on the error (`sql`);
 * none of it crosses to the client. The message is chosen by errno (never
 * by SQLSTATE first: MySQL answers an ambiguous column, errno 1052, with
 * SQLSTATE 23000, the class of constraint violations) and written by
 * @sqlwarden/adapter-kit's `statementFailure`, the same words for every adapter.
 * What it names goes through the rule of `StatementText` (the kit): a name the
 * server quoted is shown only when the statement's own text holds it as an
 * identifier, spelled as the statement spells it; a place as line and
 * character, and the word there only when it is a bare word of the
 * statement. The driver error is kept as `cause` for the operator log,
 * whose serializer keeps its code, errno and SQLSTATE only.
 */
import {
  type ErrorContext,
  type ErrorMapper,
  errorText,
  isNetworkError,
  type ObjectKind,
  queryTimeout,
  type StatementName,
  StatementText,
  statementFailure,
  type WriteCommand,
} from '@sqlwarden/adapter-kit';
import { SqlwardenError } from '@sqlwarden/core';
import { mysqlStatementText } from './statement-text.js';

/** mysql2's own codes for a connection that is gone or never came (Node's are the kit's). */
const PROTOCOL_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_PACKETS_OUT_OF_ORDER',
  'HANDSHAKE_SSL_ERROR',
]);

/** Server errnos that mean the source cannot be used now: it is down, full, or refuses the account. */
const UNAVAILABLE_ERRNOS = new Set([
  1040, // too many connections
  1045, // access denied for user (wrong password, no such account)
  1049, // unknown database
  1053, // server shutdown in progress
  1129, // host blocked after connection errors
  1130, // host not allowed to connect
  1203, // the account's max_user_connections
  1226, // the account's resource limits (max_questions...)
  1251, // client does not support the authentication protocol
  1461, // max_prepared_stmt_count reached (shared by every client)
  1698, // access denied (MariaDB, unix_socket and friends)
  1927, // MariaDB: connection was killed
  2002, // (libmysql) cannot connect
  2003, // (libmysql) cannot connect
  2006, // server has gone away
  2013, // lost connection during query
  4031, // MySQL: disconnected by the server for inactivity
]);

/** Data errors whose SQLSTATE is not class 22 (HY000 and friends): the class-22 fallback. */
const DATA_ERRNOS = new Set([1265, 1292, 1366, 1367, 1406, 1264, 1365, 1690, 3140, 4038]);
/** Constraint errors whose SQLSTATE is not class 23 (3819 is HY000): the class-23 fallback. */
const CONSTRAINT_ERRNOS = new Set([
  1022, 1048, 1062, 1216, 1217, 1364, 1451, 1452, 1557, 1586, 3819, 4025,
]);
/** Access denied to an object: table, column, database, a privilege, a routine. */
const FORBIDDEN_ERRNOS = new Set([1044, 1142, 1143, 1227, 1370]);
/** MySQL 8's ICU regular expression errors (ER_REGEXP_*), and MariaDB's 1139. */
const REGEX_ERRNOS = new Set([
  1139, 3685, 3688, 3689, 3690, 3691, 3692, 3693, 3694, 3695, 3696, 3697,
]);

const WRITE_COMMANDS: Readonly<Record<string, WriteCommand>> = {
  INSERT: 'INSERT',
  REPLACE: 'INSERT',
  UPDATE: 'UPDATE',
  DELETE: 'DELETE',
  CREATE: 'CREATE',
  DROP: 'DROP',
  ALTER: 'ALTER',
};

function field(error: unknown, name: string): unknown {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as Record<string, unknown>)[name];
}

/** The server's errno (positive); Node's socket errors carry a negative errno and are not it. */
function errnoOf(error: unknown): number | undefined {
  const value = field(error, 'errno');
  return typeof value === 'number' && value > 0 ? value : undefined;
}

/** `db`.`t`.`c`, 'db.t.c' or 'c' as a dotted name ("db.t.c"), for the rule to keep what the statement holds. */
function dotted(quoted: string | undefined): string | undefined {
  if (quoted === undefined) return undefined;
  if (quoted.startsWith('`')) {
    const parts = [...quoted.matchAll(/`((?:[^`]|``)*)`/g)].map((p) =>
      (p[1] ?? '').replaceAll('``', '`'),
    );
    return parts.length === 0 ? undefined : parts.join('.');
  }
  return quoted.replace(/^'(.*)'$/s, '$1');
}

function isConnectionError(error: unknown): boolean {
  if (isNetworkError(error)) return true;
  const code = errorText(error, 'code');
  if (code !== undefined && PROTOCOL_CODES.has(code)) return true;
  const errno = errnoOf(error);
  if (errno !== undefined && UNAVAILABLE_ERRNOS.has(errno)) return true;
  // mysql2 marks an error fatal when the connection cannot be used any more
  // (socket errors, protocol errors, "Can't add new command when connection is in closed state").
  return field(error, 'fatal') === true;
}

/** A server's refusal of a statement (the kit has ruled out its own stops and lost connections). */
function mapServerError(error: unknown, context: ErrorContext): SqlwardenError {
  const errno = errnoOf(error);
  if (errno === 1969 || errno === 3024) return queryTimeout(context.timeoutMs, error);
  if (errno === undefined) {
    return new SqlwardenError('INTERNAL', 'The database adapter failed unexpectedly.', {
      cause: error,
    });
  }
  const statement =
    context.sql === undefined ? StatementText.EMPTY : mysqlStatementText(context.sql);
  const sqlState = errorText(error, 'sqlState');
  const state = sqlState !== undefined && /^[0-9A-Z]{5}$/.test(sqlState) ? sqlState : undefined;
  const described = describeServerError(error, errno, statement, context);
  if (described !== undefined) return described;
  if (FORBIDDEN_ERRNOS.has(errno)) return statementFailure.forbidden(error);
  const reference = `errno ${errno}${state === undefined ? '' : `, SQLSTATE ${state}`}`;
  const klass = DATA_ERRNOS.has(errno) ? '22' : CONSTRAINT_ERRNOS.has(errno) ? '23' : state;
  return statementFailure.bySqlState(error, klass, reference);
}

/** MySQL's and MariaDB's errors for the kit (dialect.ts: ErrorMapper). */
export const mysqlErrors: ErrorMapper = { isConnectionError, map: mapServerError };

/**
 * The message for a server error, or undefined for the fallback. Each
 * regular expression reads the server's message only to find which name it
 * is about; only what `statement` lets through is used.
 */
function describeServerError(
  error: unknown,
  errno: number,
  statement: StatementText,
  context: ErrorContext,
): SqlwardenError | undefined {
  const message = errorText(error, 'sqlMessage') ?? errorText(error, 'message') ?? '';
  const name = (candidate: string | undefined) => statement.name(dotted(candidate));
  let m: RegExpExecArray | null;
  if (REGEX_ERRNOS.has(errno)) return statementFailure.invalidRegex(error);
  switch (errno) {
    case 1317:
      // Interrupted, and not by this adapter (an operator's KILL QUERY, a server limit).
      return new SqlwardenError(
        'QUERY_CANCELLED',
        'The statement was interrupted on the server; try again.',
        { cause: error },
      );
    case 1792:
    case 1836:
      return statementFailure.readOnly(error, firstCommand(statement));
    case 1052:
      m = /^Column '(.+)' in .+ is ambiguous$/s.exec(message);
      return statementFailure.ambiguousColumn(
        error,
        name(m?.[1]),
        m === null ? [] : statement.qualifiers(),
      );
    case 1054:
      m = /^Unknown column '(.+)' in '(.+)'$/s.exec(message);
      if (m !== null && /^\d+$/.test(m[1] ?? '')) {
        const clause = m[2] === 'group statement' || m[2] === 'GROUP BY' ? 'GROUP BY' : 'ORDER BY';
        return statementFailure.positionNotInSelectList(error, clause);
      }
      return statementFailure.unknownColumn(error, name(m?.[1]));
    case 1146:
    case 1051:
    case 1109:
      m = /^(?:Table|Unknown table) '(.+?)'(?: doesn't exist| in [\w ]+)?$/s.exec(message);
      return statementFailure.unknownTable(error, name(m?.[1]));
    case 1055:
      m =
        /^'(.+)' isn't in GROUP BY$/s.exec(message) ??
        /nonaggregated column '(.+?)' which is not functionally dependent/s.exec(message);
      return statementFailure.notGrouped(error, name(m?.[1]));
    case 1140:
      m = /contains nonaggregated column '(.+?)'; this is incompatible/s.exec(message);
      return m === null
        ? statementFailure.aggregatesWithoutGroupBy(error)
        : statementFailure.notGrouped(error, name(m[1]));
    case 1111:
      return statementFailure.misusedAggregate(error);
    case 4015:
      // MariaDB: "Window function is allowed only in SELECT list and ORDER BY clause"
      return statementFailure.windowNotAllowed(error, undefined);
    case 1305:
    case 1630:
      m = /^(?:FUNCTION|PROCEDURE) (.+?) does not exist/s.exec(message);
      return statementFailure.unknownFunction(error, name(m?.[1]));
    case 1582:
      m = /function '(.+)'$/s.exec(message);
      return statementFailure.argumentCount(error, name(m?.[1]));
    case 1583:
    case 1584:
      m = /function '(.+)'$/s.exec(message);
      return statementFailure.argumentKinds(error, name(m?.[1]));
    case 4161:
      m = /^Unknown data type: '(.+)'$/s.exec(message);
      return statementFailure.unknownType(error, name(m?.[1]));
    case 1064:
      return syntaxError(error, message, statement);
    case 1149:
      return statementFailure.syntaxError(error);
    case 1210:
      return statementFailure.parameterCount(error, {
        ...(context.sql !== undefined && { expected: statement.placeholders() }),
        ...(context.paramCount !== undefined && { given: context.paramCount }),
        placeholder: '?',
      });
    case 1242:
      return statementFailure.subqueryRows(error);
    case 1241:
      return statementFailure.subqueryColumns(error);
    case 1222:
      return statementFailure.setOperationColumns(error);
    case 1136:
      return statementFailure.insertColumnCount(error);
    case 1110:
    case 1060:
      m = /^(?:Column '(.+)' specified twice|Duplicate column name '(.+)')$/s.exec(message);
      return statementFailure.duplicateColumn(error, name(m?.[1] ?? m?.[2]));
    case 1066:
      m = /^Not unique table\/alias: '(.+)'$/s.exec(message);
      return statementFailure.duplicateAlias(error, name(m?.[1]));
    case 1248:
      return statementFailure.derivedTableAlias(error);
    case 3065:
      return statementFailure.distinctOrderBy(error);
    case 1365:
      return statementFailure.divisionByZero(error);
    case 1264:
      m = /^Out of range value for column '(.+)' at row \d+$/s.exec(message);
      return statementFailure.outOfRange(error, { column: name(m?.[1]) });
    case 1690:
      m = /^([A-Z]+(?: UNSIGNED)?) value is out of range in /.exec(message);
      return statementFailure.outOfRange(error, { type: mysqlType(statement, m?.[1]) });
    case 1406:
      m = /^Data too long for column '(.+)' at row \d+$/s.exec(message);
      return statementFailure.tooLong(error, { column: name(m?.[1]) });
    case 1265:
      m = /^Data truncated for column '(.+)' at row \d+$/s.exec(message);
      return statementFailure.invalidInput(error, { column: name(m?.[1]) });
    case 1366:
    case 1292:
    case 1367: {
      // "Incorrect integer value: '...' for column `db`.`t`.`c` at row 1",
      // "Truncated incorrect DOUBLE value: '...'", "Illegal double '...' value found during parsing"
      m = /^(?:Incorrect|Truncated incorrect|Illegal) (\w+) /.exec(message);
      const column = /for column ((?:`(?:[^`]|``)*`\.?)+|'[^']*') at row \d+$/s.exec(message);
      return statementFailure.invalidInput(error, {
        type: mysqlType(statement, m?.[1]),
        column: name(column?.[1]),
      });
    }
    case 1048:
      m = /^Column '(.+)' cannot be null$/s.exec(message);
      return statementFailure.notNull(error, name(m?.[1]));
    case 1364:
      m = /^Field '(.+)' doesn't have a default value$/s.exec(message);
      return statementFailure.noDefault(error, name(m?.[1]));
    case 1062:
    case 1586: {
      // The entry (a value) comes first; the key's name is the last quoted part.
      m = /for key '([^']+)'$/.exec(message);
      const key = m?.[1];
      if (key === 'PRIMARY' || key?.endsWith('.PRIMARY')) {
        return statementFailure.duplicateKey(error, 'primary key');
      }
      const shown = name(key);
      return statementFailure.duplicateKey(error, shown === undefined ? undefined : [shown]);
    }
    case 1452:
    case 1216: {
      m = /FOREIGN KEY \(`((?:[^`]|``)+)`\) REFERENCES `((?:[^`]|``)+)`/.exec(message);
      return statementFailure.missingReference(
        error,
        name(m?.[1] === undefined ? undefined : `\`${m[1]}\``),
        name(m?.[2] === undefined ? undefined : `\`${m[2]}\``),
      );
    }
    case 1451:
    case 1217:
      m = /a foreign key constraint fails \(((?:`(?:[^`]|``)*`\.?)+), CONSTRAINT/.exec(message);
      return statementFailure.stillReferenced(error, name(m?.[1]));
    case 3819:
    case 4025:
      m =
        /^Check constraint '(.+)' is violated\.?$/s.exec(message) ??
        /^CONSTRAINT (`(?:[^`]|``)+`) failed for /s.exec(message);
      return statementFailure.checkViolation(error, name(m?.[1]));
    case 1142:
    case 1143:
    case 1370: {
      // "SELECT command denied to user 'u'@'h' for table `db`.`t`": never the account.
      const column = /for column '([^']+)' in table '[^']+'$/.exec(message);
      const table = /for table ((?:`(?:[^`]|``)*`\.?)+|'[^']+')$/.exec(message);
      const routine = /for routine ('[^']+'|(?:`(?:[^`]|``)*`\.?)+)$/.exec(message);
      const [kind, object]: [ObjectKind, StatementName | undefined] =
        column !== null
          ? ['column', name(`'${column[1]}'`)]
          : routine !== null
            ? ['function', name(routine[1])]
            : ['table', name(table?.[1])];
      return statementFailure.forbidden(error, object === undefined ? {} : { kind, object });
    }
    case 1205:
      return statementFailure.lockTimeout(error);
    case 1213:
      return statementFailure.deadlock(error);
    case 1295:
      return new SqlwardenError(
        'QUERY_FAILED',
        'This kind of statement cannot run as a prepared statement.',
        { cause: error },
      );
    case 1312:
      return new SqlwardenError(
        'QUERY_FAILED',
        'A procedure that returns rows cannot be called here.',
        { cause: error },
      );
    case 1178:
    case 1235:
      return statementFailure.notSupported(error);
    default:
      return undefined;
  }
}

/** MySQL's type words in its messages (integer, DOUBLE, BIGINT UNSIGNED...), lower case. */
const BUILTIN_TYPES: ReadonlySet<string> = new Set([
  'integer',
  'int',
  'bigint',
  'bigint unsigned',
  'decimal',
  'double',
  'float',
  'date',
  'datetime',
  'time',
  'timestamp',
  'year',
  'string',
  'json',
]);

function mysqlType(statement: StatementText, candidate: string | undefined) {
  return statement.typeName(candidate, BUILTIN_TYPES);
}

/** The statement's first word, when it is a writing command (MySQL's read-only error does not say which). */
function firstCommand(statement: StatementText): WriteCommand | undefined {
  const first = statement.tokens().find((t) => t.kind === 'word');
  const word = first?.name.toUpperCase();
  return word !== undefined && Object.hasOwn(WRITE_COMMANDS, word)
    ? WRITE_COMMANDS[word]
    : undefined;
}

/**
 * 1064: "... for the right syntax to use near '<the statement from there>'
 * at line N". The text after `near` is the statement from the place the
 * server stopped (up to 80 characters): the place is the token of that
 * line from which the statement's text is that excerpt. Only that token's kind
 * matters: a bare word is named, a literal or anything else is not.
 */
function syntaxError(error: unknown, message: string, statement: StatementText): SqlwardenError {
  const m = /near '([\s\S]*)' at line (\d+)$/.exec(message);
  if (m === null || statement === StatementText.EMPTY) return statementFailure.syntaxError(error);
  const fragment = m[1] ?? '';
  if (fragment === '') return statementFailure.syntaxError(error, { atEnd: true });
  const line = Number(m[2]);
  // The excerpt is the rest of the statement, cut at 80 characters: a token
  // whose rest is exactly the excerpt wins over one that only starts like it.
  const onLine = statement.tokens().filter((t) => statement.lineOf(t.start) === line);
  const token =
    onLine.find((t) => statement.excerptAt(t.start, fragment) === 'rest') ??
    onLine.find((t) => statement.excerptAt(t.start, fragment) === 'prefix');
  if (token === undefined) return statementFailure.syntaxError(error);
  const at = statement.locate(token.start);
  if (token.unterminated === true) {
    return statementFailure.syntaxError(error, {
      unclosed: token.kind === 'comment' ? 'comment' : 'quote',
      at,
    });
  }
  const word = statement.wordAt(token.start);
  return statementFailure.syntaxError(error, { at, ...(word !== undefined && { word }) });
}
