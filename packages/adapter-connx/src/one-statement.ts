/**
 * Defence in depth against stacked statements (`SELECT 1; DROP TABLE t`)
 * that reach the adapter without the guard: ODBC drivers run batches
 * (psqlODBC and MariaDB ODBC both run every statement of a text given to
 * SQLExecDirect/SQLPrepare), and an ODBC source has no option of
 * sqlwarden's that makes them refuse one. The guard's `odbc` dialect
 * already refuses any `;`; this is the second layer, in the adapter, before
 * the text reaches the driver: a `;` outside string literals, comments and
 * quoted identifiers refuses the statement (QUERY_FAILED, as PostgreSQL
 * and MySQL answer a stacked statement), and nothing is sent.
 *
 * Which quotes and comments there are depends on the database behind the
 * driver, which the adapter cannot know for sure (CONNX fronts many). So
 * the text is read under each lexical rule set it may be under: ANSI SQL,
 * PostgreSQL's (dollar quotes, E'..' escapes, nested comments) and
 * MySQL's (backslash escapes, backtick names, `#` comments), and it is
 * refused when ANY of them sees a `;` outside a literal, a comment or a
 * quoted name, or one inside a literal or comment that never closes. A
 * `;` is only let through when every reading agrees it is inside quotes or
 * a comment: an attacker who hides a `;` from one reading (`'\'' ; DROP`,
 * `$a$ ' $a$; DROP`) is caught by another. Failure mode: a statement with
 * a `;` that some other dialect would read as quoted is refused (fail
 * closed; send the value as a parameter instead).
 */
import {
  type DialectText,
  dialectText,
  isDigit,
  isLetter,
  mysqlText,
  postgresText,
} from '@sqlwarden/adapter-kit';
import { SqlwardenError } from '@sqlwarden/core';

const QUOTE = 39; // '
const DQUOTE = 34; // "
const DOLLAR = 36; // $
const SEMICOLON = ';';

/** ANSI SQL: '..' with '' inside, ".." names, -- and (not nested) block comments. */
const ANSI = dialectText({
  isWordStart: isLetter,
  isWordPart: (c) => isLetter(c) || isDigit(c) || c === DOLLAR,
  token(scanner, at) {
    const c = scanner.code(at);
    const next = scanner.code(at + 1);
    if (c === 45 && next === 45) return scanner.lineComment(at);
    if (c === 47 && next === 42) return scanner.blockComment(at, false);
    if (c === QUOTE) return scanner.literal(at, at, false);
    if (c === DQUOTE) return scanner.quotedName(at);
    return undefined;
  },
});

/** ANSI's, PostgreSQL's and MySQL's readings (the kit owns the last two). */
const READINGS: readonly DialectText[] = [ANSI, postgresText, mysqlText];

/**
 * Where a reading of `sql` finds a `;` that may end a statement: outside
 * literals, comments and quoted names, or inside one that never closes.
 * Undefined when no reading finds one. Line comments are not tokens: a
 * `;` in one is never seen, as the comment hides it in that reading.
 */
export function stackedSemicolonAt(sql: string): number | undefined {
  if (!sql.includes(SEMICOLON)) return undefined;
  let first: number | undefined;
  for (const reading of READINGS) {
    for (const token of reading.tokens(sql)) {
      const at =
        token.kind === 'symbol' && token.name === SEMICOLON
          ? token.start
          : token.unterminated === true
            ? sql.indexOf(SEMICOLON, token.start)
            : -1;
      if (at >= 0 && at < token.end && (first === undefined || at < first)) first = at;
    }
  }
  return first;
}

/**
 * Refuses a text that may hold more than one statement (see the header),
 * before anything is sent to the driver: QUERY_FAILED, as a stacked
 * statement is on PostgreSQL and MySQL.
 */
export function assertOneStatement(sql: string): void {
  const at = stackedSemicolonAt(sql);
  if (at === undefined) return;
  throw new SqlwardenError(
    'QUERY_FAILED',
    `The statement holds a ; outside quotes and comments (character ${at + 1}): send exactly one statement, without a ; (pass values as parameters).`,
  );
}

/**
 * How many `?` placeholders `sql` holds outside literals, comments and
 * quoted names, when every reading agrees (undefined when they do not):
 * for the message of a parameter count that does not match.
 */
export function placeholderCount(sql: string): number | undefined {
  const counts = new Set(
    READINGS.map(
      (reading) =>
        reading
          .tokens(sql)
          .filter(
            (token) =>
              (token.kind === 'symbol' && token.name === '?') ||
              (token.kind === 'param' && sql[token.start] === '?'),
          ).length,
    ),
  );
  return counts.size === 1 ? [...counts][0] : undefined;
}
