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
 * Written here rather than taken from a library: the parser the guard uses
 * (libpg-query) lives in @sqlwarden/sql-guard, which adapters do not depend
 * on, and a full parse of a statement the server just refused would often
 * fail anyway. A lexer never fails: a string, name or comment that is not
 * closed runs to the end of the text and is marked `unterminated`, so
 * nothing after it counts as a name.
 */
import { StatementText, type StatementToken } from '@sqlwarden/adapter-kit';

const QUOTE = 39; // '
const DQUOTE = 34; // "
const DOLLAR = 36; // $
const BACKSLASH = 92;

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const isDigit = (c: number) => c >= 48 && c <= 57;
/** A letter that starts an identifier: ASCII letters, _, and anything past ASCII. */
const isIdentStart = (c: number) =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isIdentPart = (c: number) => isIdentStart(c) || isDigit(c) || c === DOLLAR;

/** The end of a '...' string from its opening quote at `open`: one past the closing quote, or -1. */
function stringEnd(sql: string, open: number, backslashEscapes: boolean): number {
  let i = open + 1;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (backslashEscapes && c === BACKSLASH) {
      i += 2;
      continue;
    }
    if (c === QUOTE) {
      if (sql.charCodeAt(i + 1) === QUOTE) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return -1;
}

export function postgresTokens(sql: string): StatementToken[] {
  const tokens: StatementToken[] = [];
  const n = sql.length;
  const push = (
    kind: StatementToken['kind'],
    start: number,
    end: number,
    name = '',
    unterminated = false,
  ) => {
    tokens.push(
      unterminated ? { kind, start, end, name, unterminated } : { kind, start, end, name },
    );
  };
  /** A literal from `start` whose string opens at `open`; returns where to go on. */
  const literal = (start: number, open: number, backslashEscapes: boolean): number => {
    const end = stringEnd(sql, open, backslashEscapes);
    if (end < 0) {
      push('literal', start, n, '', true);
      return n;
    }
    push('literal', start, end);
    return end;
  };
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = sql.charCodeAt(i + 1);
    if (isSpace(c)) {
      i++;
    } else if (c === 45 && next === 45) {
      // -- comment to the end of the line
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === 47 && next === 42) {
      // /* comment */, nested
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql.charCodeAt(j) === 47 && sql.charCodeAt(j + 1) === 42) {
          depth++;
          j += 2;
        } else if (sql.charCodeAt(j) === 42 && sql.charCodeAt(j + 1) === 47) {
          depth--;
          j += 2;
        } else j++;
      }
      push('comment', i, j, '', depth > 0);
      i = j;
    } else if (c === QUOTE) {
      i = literal(i, i, false);
    } else if (c === DQUOTE) {
      let j = i + 1;
      let name = '';
      let closed = false;
      while (j < n) {
        const d = sql.charCodeAt(j);
        if (d === DQUOTE) {
          if (sql.charCodeAt(j + 1) === DQUOTE) {
            name += '"';
            j += 2;
            continue;
          }
          closed = true;
          j++;
          break;
        }
        name += sql[j];
        j++;
      }
      push(closed ? 'quoted' : 'literal', i, j, closed ? name : '', !closed);
      i = j;
    } else if (c === DOLLAR && isDigit(next)) {
      let j = i + 1;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      push('param', i, j);
      i = j;
    } else if (c === DOLLAR) {
      // $tag$ ... $tag$ (the tag may be empty); otherwise a lone $
      let j = i + 1;
      if (isIdentStart(next)) {
        j++;
        while (j < n && isIdentPart(sql.charCodeAt(j)) && sql.charCodeAt(j) !== DOLLAR) j++;
      }
      if (sql.charCodeAt(j) === DOLLAR) {
        const tag = sql.slice(i, j + 1);
        const close = sql.indexOf(tag, j + 1);
        if (close < 0) {
          push('literal', i, n, '', true);
          i = n;
        } else {
          push('literal', i, close + tag.length);
          i = close + tag.length;
        }
      } else {
        push('symbol', i, i + 1, '$');
        i++;
      }
    } else if (isDigit(c) || (c === 46 && isDigit(next))) {
      // a number, with what sticks to it (1e-5, 0x1F, 1_000, 1abc): a literal
      let j = i + 1;
      while (j < n) {
        const d = sql.charCodeAt(j);
        const prev = sql.charCodeAt(j - 1);
        if (
          isIdentPart(d) ||
          d === 46 ||
          ((d === 43 || d === 45) && (prev === 101 || prev === 69))
        ) {
          j++;
        } else break;
      }
      push('literal', i, j);
      i = j;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(sql.charCodeAt(j))) j++;
      const word = sql.slice(i, j);
      const after = sql.charCodeAt(j);
      const prefix = word.toLowerCase();
      if (
        after === QUOTE &&
        (prefix === 'e' || prefix === 'b' || prefix === 'x' || prefix === 'n')
      ) {
        i = literal(i, j, prefix === 'e');
      } else if (prefix === 'u' && after === 38 && sql.charCodeAt(j + 1) === QUOTE) {
        i = literal(i, j + 1, false);
      } else if (prefix === 'u' && after === 38 && sql.charCodeAt(j + 1) === DQUOTE) {
        // U&"..." : an identifier written with escapes; kept as a symbol so the
        // quoted part that follows is read (raw) as a quoted identifier.
        push('symbol', i, j + 1, 'U&');
        i = j + 1;
      } else {
        push('word', i, j, word);
        i = j;
      }
    } else {
      const point = sql.codePointAt(i) ?? c;
      const width = point > 0xffff ? 2 : 1;
      push('symbol', i, i + width, sql.slice(i, i + width));
      i += width;
    }
  }
  return tokens;
}

/** The statement as error messages may quote it. */
export function postgresStatementText(sql: string): StatementText {
  return new StatementText(sql, postgresTokens(sql));
}
