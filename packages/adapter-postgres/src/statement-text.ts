/**
 * The tokens of a PostgreSQL statement, for error messages only: which
 * words and quoted names the statement holds, where its literals,
 * placeholders and comments are. The rule of what a message may show lives
 * in @sqlwarden/adapter-kit (`StatementText`); this file only knows PostgreSQL's
 * lexical rules (https://www.postgresql.org/docs/15/sql-syntax-lexical.html):
 *
 *  - '...' strings with '' inside; backslash is a plain character, as the
 *    session sets standard_conforming_strings = on (session.ts);
 *  - E'...' escape strings (backslash escapes), B'..', X'..', N'..', U&'..';
 *  - $$...$$ and $tag$...$tag$ dollar-quoted strings; $1 placeholders;
 *  - "..." identifiers with "" inside, U&"..." (kept raw: its escapes are
 *    not decoded, so it matches no server name: fewer names, never more);
 *  - -- line comments and nested block comments.
 *
 * What every dialect shares (white space, numbers, words, the shapes of
 * strings, quoted names and comments, and a lexer that never fails) is the
 * kit's lexer; these are only PostgreSQL's rules.
 */
import { dialectText, isDigit, isLetter, type TokenScanner } from '@sqlwarden/adapter-kit';

const QUOTE = 39; // '
const DQUOTE = 34; // "
const DOLLAR = 36; // $
const AMPERSAND = 38; // &

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

/** PostgreSQL's lexical rules, for the kit's lexer. */
const POSTGRES = dialectText({
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

export const postgresTokens = POSTGRES.tokens;

/** The statement as error messages may quote it. */
export const postgresStatementText = POSTGRES.text;
