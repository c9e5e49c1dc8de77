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
 * Written here rather than imported: the guard's lexer lives in
 * @sqlwarden/sql-guard, which adapters do not depend on, and this one only
 * has to find boundaries; it never refuses a text. A string, name or
 * comment that is not closed runs to the end and is marked `unterminated`.
 */
import { StatementText, type StatementToken } from '@sqlwarden/adapter-kit';

const QUOTE = 39; // '
const DQUOTE = 34; // "
const BACKTICK = 96;
const BACKSLASH = 92;

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isWordPart = (c: number) =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isDigit(c) || c === 95 || c === 36 || c >= 128;

/** One past the closing quote of a string opening at `open`, or -1 when it never closes. */
function stringEnd(sql: string, open: number): number {
  const quote = sql.charCodeAt(open);
  let i = open + 1;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (c === BACKSLASH) {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return -1;
}

export function mysqlTokens(sql: string): StatementToken[] {
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
  const literal = (start: number, open: number): number => {
    const end = stringEnd(sql, open);
    if (end < 0) {
      push('literal', start, n, '', true);
      return n;
    }
    push('literal', start, end);
    return end;
  };
  const lineComment = (from: number): number => {
    const end = sql.indexOf('\n', from);
    return end < 0 ? n : end + 1;
  };
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = sql.charCodeAt(i + 1);
    if (isSpace(c)) {
      i++;
    } else if (c === 35) {
      i = lineComment(i);
    } else if (c === 45 && next === 45 && (i + 2 >= n || sql.charCodeAt(i + 2) <= 32)) {
      i = lineComment(i);
    } else if (c === 47 && next === 42) {
      const close = sql.indexOf('*/', i + 2);
      const end = close < 0 ? n : close + 2;
      push('comment', i, end, '', close < 0);
      i = end;
    } else if (c === QUOTE || c === DQUOTE) {
      i = literal(i, i);
    } else if (c === BACKTICK) {
      let j = i + 1;
      let name = '';
      let closed = false;
      while (j < n) {
        if (sql.charCodeAt(j) === BACKTICK) {
          if (sql.charCodeAt(j + 1) === BACKTICK) {
            name += '`';
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
    } else if (c === 63) {
      push('param', i, i + 1);
      i++;
    } else if (c === 64) {
      // @x, @@x, @@session.x, @'x', @"x", @`x`
      let j = i + 1;
      if (sql.charCodeAt(j) === 64) j++;
      const open = sql.charCodeAt(j);
      if (open === QUOTE || open === DQUOTE || open === BACKTICK) {
        const end = stringEnd(sql, j);
        j = end < 0 ? n : end;
      } else {
        while (j < n && (isWordPart(sql.charCodeAt(j)) || sql.charCodeAt(j) === 46)) j++;
      }
      push('variable', i, j);
      i = j;
    } else if (isDigit(c) || (c === 46 && isDigit(next))) {
      // a number, with what sticks to it (1e-5, 0x1F, 1abc): a literal
      let j = i + 1;
      while (j < n) {
        const d = sql.charCodeAt(j);
        const prev = sql.charCodeAt(j - 1);
        if (
          isWordPart(d) ||
          d === 46 ||
          ((d === 43 || d === 45) && (prev === 101 || prev === 69))
        ) {
          j++;
        } else break;
      }
      push('literal', i, j);
      i = j;
    } else if (isWordPart(c)) {
      let j = i + 1;
      while (j < n && isWordPart(sql.charCodeAt(j))) j++;
      const word = sql.slice(i, j);
      const prefix = word.toLowerCase();
      const after = sql.charCodeAt(j);
      if (
        (after === QUOTE || (after === DQUOTE && prefix.startsWith('_'))) &&
        (prefix === 'x' || prefix === 'b' || prefix === 'n' || prefix.startsWith('_'))
      ) {
        i = literal(i, j);
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
export function mysqlStatementText(sql: string): StatementText {
  return new StatementText(sql, mysqlTokens(sql));
}
