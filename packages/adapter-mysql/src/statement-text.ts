/**
 * The tokens of a MySQL / MariaDB statement, for error messages only: which
 * words and quoted names the statement holds, where its literals,
 * placeholders and comments are. The rule of what a message may show lives
 * in @sqlwarden/adapter-kit (`StatementText`); this file only knows MySQL's
 * lexical rules (https://dev.mysql.com/doc/refman/8.0/en/language-structure.html)
 * under the session's sql_mode (session.ts: no ANSI_QUOTES, no
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
 *
 * What every dialect shares (white space, numbers, words, the shapes of
 * strings, quoted names and comments, and a lexer that never fails) is the
 * kit's lexer; these are only MySQL's rules.
 */
import { dialectText, isDigit, isLetter, type TokenScanner } from '@sqlwarden/adapter-kit';

const QUOTE = 39; // '
const DQUOTE = 34; // "
const BACKTICK = 96;

const isWordPart = (c: number) => isLetter(c) || isDigit(c) || c === 36;

/** `@x`, `@@x`, `@@session.x`, `@'x'`, `@"x"`, `` @`x` ``: neither a name nor a value. */
function variable(scanner: TokenScanner, at: number): number {
  let j = at + 1;
  if (scanner.code(j) === 64) j++;
  const open = scanner.code(j);
  if (open === QUOTE || open === DQUOTE || open === BACKTICK) {
    const end = scanner.quoteEnd(j, true);
    j = end < 0 ? scanner.length : end;
  } else {
    while (j < scanner.length && (isWordPart(scanner.code(j)) || scanner.code(j) === 46)) j++;
  }
  return scanner.push('variable', at, j);
}

/** MySQL's lexical rules under the session's sql_mode, for the kit's lexer. */
const MYSQL = dialectText({
  isWordStart: isWordPart,
  isWordPart,
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

export const mysqlTokens = MYSQL.tokens;

/** The statement as error messages may quote it. */
export const mysqlStatementText = MYSQL.text;
