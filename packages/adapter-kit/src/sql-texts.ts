/**
 * The lexical rules of the SQL dialects the adapters speak, for the kit's
 * lexer (lexer.ts): PostgreSQL's and MySQL's. Error messages read the
 * statement with them (StatementText: which names a message may show), and
 * the ODBC adapter reads a text under each before it reaches a driver (a
 * `;` outside quotes under any reading refuses it). One owner each: the
 * adapters import them from here.
 */
import { type DialectText, dialectText, isDigit, isLetter, type TokenScanner } from './lexer.js';

const QUOTE = 39; // '
const DQUOTE = 34; // "
const DOLLAR = 36; // $
const AMPERSAND = 38; // &
const BACKTICK = 96;

const isIdentPart = (c: number) => isLetter(c) || isDigit(c) || c === DOLLAR;

/** `$1` (a placeholder), `$tag$ ... $tag$` (the tag may be empty: a string), or a lone `$`. */
function dollar(scanner: TokenScanner, at: number): number {
  const next = scanner.code(at + 1);
  let j = at + 1;
  if (isDigit(next)) {
    while (j < scanner.length && isDigit(scanner.code(j))) j++;
    return scanner.push('param', at, j);
  }
  if (isLetter(next)) {
    j++;
    while (j < scanner.length && isIdentPart(scanner.code(j)) && scanner.code(j) !== DOLLAR) j++;
  }
  if (scanner.code(j) !== DOLLAR) return scanner.push('symbol', at, at + 1, '$');
  const tag = scanner.sql.slice(at, j + 1);
  const close = scanner.sql.indexOf(tag, j + 1);
  return close < 0
    ? scanner.push('literal', at, scanner.length, '', true)
    : scanner.push('literal', at, close + tag.length);
}

/**
 * PostgreSQL's lexical rules
 * (https://www.postgresql.org/docs/15/sql-syntax-lexical.html): which
 * words and quoted names a statement holds, where its literals,
 * placeholders and comments are:
 *
 *  - '...' strings with '' inside; backslash is a plain character, as the
 *    session sets standard_conforming_strings = on (adapter-postgres's session.ts);
 *  - E'...' escape strings (backslash escapes), B'..', X'..', N'..', U&'..';
 *  - $$...$$ and $tag$...$tag$ dollar-quoted strings; $1 placeholders;
 *  - "..." identifiers with "" inside, U&"..." (kept raw: its escapes are
 *    not decoded, so it matches no server name: fewer names, never more);
 *  - -- line comments and nested block comments.
 *
 */
export const postgresText: DialectText = dialectText({
  isWordStart: isLetter,
  isWordPart: isIdentPart,
  token(scanner, at) {
    const c = scanner.code(at);
    const next = scanner.code(at + 1);
    if (c === 45 && next === 45) return scanner.lineComment(at);
    if (c === 47 && next === 42) return scanner.blockComment(at, true);
    // standard_conforming_strings = on: a backslash is a plain character.
    if (c === QUOTE) return scanner.literal(at, at, false);
    if (c === DQUOTE) return scanner.quotedName(at);
    if (c === DOLLAR) return dollar(scanner, at);
    return undefined;
  },
  prefixed(scanner, word, start, end) {
    const after = scanner.code(end);
    const prefix = word.toLowerCase();
    if (after === QUOTE && (prefix === 'e' || prefix === 'b' || prefix === 'x' || prefix === 'n')) {
      return scanner.literal(start, end, prefix === 'e');
    }
    if (prefix === 'u' && after === AMPERSAND && scanner.code(end + 1) === QUOTE) {
      return scanner.literal(start, end + 1, false);
    }
    if (prefix === 'u' && after === AMPERSAND && scanner.code(end + 1) === DQUOTE) {
      // U&"..." : an identifier written with escapes; kept as a symbol so the
      // quoted part that follows is read (raw) as a quoted identifier.
      return scanner.push('symbol', start, end + 1, 'U&');
    }
    return undefined;
  },
});

const isMysqlWordPart = (c: number) => isLetter(c) || isDigit(c) || c === 36;

/** `@x`, `@@x`, `@@session.x`, `@'x'`, `@"x"`, `` @`x` ``: neither a name nor a value. */
function variable(scanner: TokenScanner, at: number): number {
  let j = at + 1;
  if (scanner.code(j) === 64) j++;
  const open = scanner.code(j);
  if (open === QUOTE || open === DQUOTE || open === BACKTICK) {
    const end = scanner.quoteEnd(j, true);
    j = end < 0 ? scanner.length : end;
  } else {
    while (j < scanner.length && (isMysqlWordPart(scanner.code(j)) || scanner.code(j) === 46)) j++;
  }
  return scanner.push('variable', at, j);
}

/**
 * MySQL's and MariaDB's lexical rules
 * (https://dev.mysql.com/doc/refman/8.0/en/language-structure.html) under
 * adapter-mysql's session sql_mode (its session.ts: no ANSI_QUOTES, no
 * NO_BACKSLASH_ESCAPES):
 *
 *  - '...' and "..." are strings, with backslash escapes and doubled quotes;
 *    X'..', B'..', N'..' and _charset'..' are strings too;
 *  - `...` is a quoted identifier, with doubled backticks;
 *  - ? is a placeholder; @x, @@x and @'x' are variables (neither names nor values);
 *  - # and "-- " (dashes then a space or control character) start line
 *    comments; /* *\/ comments do not nest. An executable comment (/*! *\/,
 *    /*M! *\/) is read as a comment: names inside it are not counted (the
 *    guard refuses them anyway), so a message names less, never more;
 *  - a token starting with a digit is a number (MySQL allows names such as
 *    `1st` unquoted; they are not counted either).
 */
export const mysqlText: DialectText = dialectText({
  isWordStart: isMysqlWordPart,
  isWordPart: isMysqlWordPart,
  token(scanner, at) {
    const c = scanner.code(at);
    const next = scanner.code(at + 1);
    if (c === 35) return scanner.lineComment(at);
    if (c === 45 && next === 45 && (at + 2 >= scanner.length || scanner.code(at + 2) <= 32)) {
      return scanner.lineComment(at);
    }
    if (c === 47 && next === 42) return scanner.blockComment(at, false);
    if (c === QUOTE || c === DQUOTE) return scanner.literal(at, at, true);
    if (c === BACKTICK) return scanner.quotedName(at);
    if (c === 63) return scanner.push('param', at, at + 1);
    if (c === 64) return variable(scanner, at);
    return undefined;
  },
  prefixed(scanner, word, start, end) {
    const after = scanner.code(end);
    const prefix = word.toLowerCase();
    if (
      (after === QUOTE || (after === DQUOTE && prefix.startsWith('_'))) &&
      (prefix === 'x' || prefix === 'b' || prefix === 'n' || prefix.startsWith('_'))
    ) {
      return scanner.literal(start, end, true);
    }
    return undefined;
  },
});
