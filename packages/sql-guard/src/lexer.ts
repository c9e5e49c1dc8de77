/**
 * Dialect-correct lexers for MySQL/MariaDB and for ODBC (strict ANSI).
 *
 * Why the guard lexes by itself before any parser sees the text: parsers
 * for these dialects get exactly the lexical rules wrong that attacks use.
 * node-sql-parser reads `SELECT 1--1;DROP TABLE victim` as one SELECT (in
 * MySQL `--` starts a comment only when followed by whitespace, so the
 * server runs two statements) and drops `/*!50000 DELETE ... *\/` as a
 * comment (MySQL runs it). This lexer follows the server's rules, finds
 * every statement separator, comment, string and identifier boundary, and
 * refuses what it cannot be sure about. The parser is then given a text in
 * which comments are blanked and string contents replaced by a neutral
 * literal, so it cannot disagree with the server about where they end.
 *
 * Assumptions (enforced per connection by the adapters): MySQL `sql_mode`
 * without ANSI_QUOTES ("..." is a string) and without NO_BACKSLASH_ESCAPES
 * (a backslash escapes the next character inside strings).
 *
 * Failure mode: any doubt is a rejection with a reason, never a guess.
 */
import type { RejectionReason } from './reasons.js';

export type TokenKind =
  /** A bare word: keyword, identifier or number (`SELECT`, `orders`, `1e5`). */
  | 'word'
  /** A quoted identifier: `name` (MySQL) or "name" (ANSI). */
  | 'quoted'
  /** A string literal, with its prefix (N'..', X'..', _utf8'..') or an ODBC literal escape {d '..'}. */
  | 'string'
  /** A positional parameter `?`. */
  | 'param'
  /** A user or system variable (MySQL `@x`, `@@x`). */
  | 'variable'
  /** Any other single character: ( ) , . ; operators. */
  | 'punct';

export interface Token {
  readonly kind: TokenKind;
  readonly start: number;
  readonly end: number;
}

export interface LexResult {
  readonly ok: true;
  readonly tokens: readonly Token[];
  /** Spans of comments, for blanking them out before parsing. */
  readonly comments: ReadonlyArray<readonly [number, number]>;
  /** Deepest parenthesis nesting. */
  readonly maxDepth: number;
}

export interface LexError {
  readonly ok: false;
  readonly reason: RejectionReason;
  readonly detail: string;
}

export type LexDialect = 'mysql' | 'odbc';

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
// MySQL identifier characters: ASCII letters, digits, $ and _, and U+0080 onwards
// (also what PostgreSQL continues an identifier with).
export const isWordChar = (c: number) =>
  (c >= 48 && c <= 57) ||
  (c >= 65 && c <= 90) ||
  (c >= 97 && c <= 122) ||
  c === 95 ||
  c === 36 ||
  c >= 128;
const isOdbcWordChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;

const Q = 39; // '
const DQ = 34; // "
const BT = 96; // `
const BS = 92; // \

function fail(reason: RejectionReason, detail: string): LexError {
  return { ok: false, reason, detail };
}

/**
 * The end of a quoted run that starts at `start` (on the opening quote):
 * the index after the closing quote, or -1 when unterminated. A doubled
 * quote is an escaped quote; with `backslash`, a backslash escapes the next
 * character (MySQL strings), otherwise it is literal.
 */
function quotedEnd(text: string, start: number, quote: number, backslash: boolean): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (backslash && c === BS) {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (text.charCodeAt(i + 1) === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return -1;
}

/**
 * The end of a line comment starting at `start`: the next \n (or the end of
 * the text), or -1 when a line break that some servers honour and others do
 * not (a lone \r, \v, \f, U+0085, U+2028, U+2029) comes first.
 */
function lineCommentEnd(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 10) return i;
    if (c === 13 && text.charCodeAt(i + 1) !== 10) return -1;
    if (c === 11 || c === 12 || c === 0x85 || c === 0x2028 || c === 0x2029) return -1;
    i += 1;
  }
  return text.length;
}

/** `{d '...'}`, `{t '...'}`, `{ts '...'}`: ODBC literal escapes, which MySQL and ODBC drivers accept. */
function odbcLiteralEnd(text: string, start: number, backslash: boolean): number {
  let i = start + 1;
  while (isSpace(text.charCodeAt(i))) i += 1;
  const kind = /^(ts|d|t)\b/i.exec(text.slice(i, i + 3));
  if (kind === null) return -1;
  i += kind[1]?.length ?? 0;
  while (isSpace(text.charCodeAt(i))) i += 1;
  if (text.charCodeAt(i) !== Q) return -1;
  const end = quotedEnd(text, i, Q, backslash);
  if (end < 0) return -1;
  i = end;
  while (isSpace(text.charCodeAt(i))) i += 1;
  return text.charCodeAt(i) === 125 /* } */ ? i + 1 : -1;
}

export function lex(text: string, dialect: LexDialect): LexResult | LexError {
  const mysql = dialect === 'mysql';
  const wordChar = mysql ? isWordChar : isOdbcWordChar;
  const tokens: Token[] = [];
  const comments: Array<readonly [number, number]> = [];
  let depth = 0;
  let maxDepth = 0;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number) => {
    tokens.push({ kind, start, end });
    i = end;
  };

  while (i < text.length) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);

    if (isSpace(c)) {
      i += 1;
      continue;
    }

    // Comments. A line comment ends at \n in MySQL and MariaDB, at \r or \n in
    // PostgreSQL; a stray \r (or another line break) inside one would let two
    // readers disagree on where code resumes, so it is refused.
    if (c === 35 /* # */) {
      // "#" is a comment to MySQL and an operator to PostgreSQL: on an ODBC
      // source the back end decides, so neither reading can be trusted.
      if (!mysql) return fail('UNSUPPORTED_SYNTAX', 'a # outside a string');
      const end = lineCommentEnd(text, i);
      if (end < 0)
        return fail('UNSUPPORTED_SYNTAX', 'a line break other than \\n inside a comment');
      comments.push([i, end]);
      i = end;
      continue;
    }
    if (c === 45 /* - */ && next === 45) {
      const after = text.charCodeAt(i + 2);
      // MySQL: "--" is a comment only before whitespace, a control character or
      // the end; "--1" is two minus signs. ODBC may reach MySQL: same rule.
      if (Number.isNaN(after) || after <= 32) {
        const end = lineCommentEnd(text, i);
        if (end < 0)
          return fail('UNSUPPORTED_SYNTAX', 'a line break other than \\n inside a comment');
        comments.push([i, end]);
        i = end;
        continue;
      }
      return fail('AMBIGUOUS_COMMENT', '"--" not followed by a space');
    }
    if (c === 47 /* / */ && next === 42 /* * */) {
      const third = text.charCodeAt(i + 2);
      // /*! and /*M! run as code in MySQL and MariaDB; /*+ holds optimizer hints,
      // which can lift the server's time limit (MAX_EXECUTION_TIME).
      if (
        third === 33 /* ! */ ||
        third === 43 /* + */ ||
        (third === 77 /* M */ && text.charCodeAt(i + 3) === 33)
      ) {
        return fail('EXECUTABLE_COMMENT', 'executable comment or optimizer hint');
      }
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return fail('PARSE_ERROR', 'unterminated comment');
      // MariaDB and ANSI do not nest comments; PostgreSQL does, and MySQL versions
      // have differed. A "/*" inside a comment would let a nesting reader resume
      // code somewhere else (a quote after the first "*/" can then hide code), so
      // it is refused. (The postgres dialect uses PostgreSQL's own scanner.)
      const inner = text.indexOf('/*', i + 2);
      if (inner >= 0 && inner < end) {
        return fail('UNSUPPORTED_SYNTAX', 'a comment inside a comment');
      }
      comments.push([i, end + 2]);
      i = end + 2;
      continue;
    }

    // Strings, with their prefixes.
    if (c === Q || (mysql && c === DQ)) {
      const end = quotedEnd(text, i, c, mysql);
      if (end < 0) return fail('PARSE_ERROR', 'unterminated string');
      if (!mysql && text.slice(i, end).includes('\\')) {
        // ANSI strings have no escapes, MySQL back ends do: the same text would end in
        // different places. Parameters avoid the question.
        return fail('UNSUPPORTED_SYNTAX', 'a backslash in a string literal');
      }
      push('string', i, end);
      continue;
    }
    if (c === 123 /* { */) {
      const end = odbcLiteralEnd(text, i, mysql);
      if (end < 0) return fail('UNSUPPORTED_SYNTAX', 'an ODBC escape other than {d}, {t} or {ts}');
      push('string', i, end);
      continue;
    }

    // Quoted identifiers.
    if ((mysql && c === BT) || (!mysql && c === DQ)) {
      const end = quotedEnd(text, i, c, false);
      if (end < 0) return fail('PARSE_ERROR', 'unterminated quoted identifier');
      if (!mysql && text.slice(i, end).includes('\\')) {
        // A MySQL back end reads "..." as a string with backslash escapes.
        return fail('UNSUPPORTED_SYNTAX', 'a backslash in a quoted identifier');
      }
      push('quoted', i, end);
      continue;
    }

    // Words, including string prefixes glued to a quote: N'..', X'..', B'..', _charset'..'.
    if (wordChar(c)) {
      let end = i + 1;
      while (end < text.length && wordChar(text.charCodeAt(end))) end += 1;
      const word = text.slice(i, end);
      const quote = text.charCodeAt(end);
      if (quote === Q || (mysql && quote === DQ)) {
        const prefix = /^(n|x|b)$/i.test(word) || (mysql && word.startsWith('_'));
        if (prefix) {
          const strEnd = quotedEnd(text, end, quote, mysql && !/^(x|b)$/i.test(word));
          if (strEnd < 0) return fail('PARSE_ERROR', 'unterminated string');
          push('string', i, strEnd);
          continue;
        }
        if (!mysql && /^(e|u)$/i.test(word)) {
          return fail(
            'UNSUPPORTED_SYNTAX',
            "a PostgreSQL escape or Unicode string (E'...', U&'...')",
          );
        }
      }
      push('word', i, end);
      continue;
    }

    // Variables (MySQL): @x, @@x, @'x', @"x", @`x`.
    if (mysql && c === 64 /* @ */) {
      let j = i + 1;
      if (text.charCodeAt(j) === 64) j += 1;
      const q = text.charCodeAt(j);
      if (q === Q || q === DQ || q === BT) {
        const end = quotedEnd(text, j, q, q !== BT);
        if (end < 0) return fail('PARSE_ERROR', 'unterminated variable name');
        push('variable', i, end);
        continue;
      }
      let end = j;
      while (end < text.length && (isWordChar(text.charCodeAt(end)) || text.charCodeAt(end) === 46))
        end += 1;
      push('variable', i, end);
      continue;
    }

    if (c === 63 /* ? */) {
      push('param', i, i + 1);
      continue;
    }

    if (!mysql) {
      // PostgreSQL-only lexical forms ($1, $$..$$, U&"..") would be read by the
      // PostgreSQL parser in ways an ODBC back end does not share.
      if (c === 36 /* $ */) return fail('UNSUPPORTED_SYNTAX', 'a $ outside a string');
      if (c === 38 /* & */ && (next === DQ || next === Q))
        return fail('UNSUPPORTED_SYNTAX', 'a Unicode string or identifier (U&\'...\', U&"...")');
      if (c === 91 /* [ */ || c === 93 /* ] */)
        return fail('UNSUPPORTED_SYNTAX', 'a [bracketed] identifier');
      if (c === BS) return fail('UNSUPPORTED_SYNTAX', 'a backslash');
    }

    if (c === 40 /* ( */) {
      depth += 1;
      if (depth > maxDepth) maxDepth = depth;
    } else if (c === 41 /* ) */) {
      depth -= 1;
    }
    // A surrogate pair is one character: keep it whole.
    push('punct', i, c >= 0xd800 && c <= 0xdbff ? i + 2 : i + 1);
  }
  return { ok: true, tokens, comments, maxDepth };
}

/** Lower-cased text of a word token. */
export function wordOf(text: string, token: Token): string {
  return text.slice(token.start, token.end).toLowerCase();
}

/** The name inside a quoted identifier token, unescaped. */
export function unquote(text: string, token: Token): string {
  const raw = text.slice(token.start + 1, token.end - 1);
  const quote = text[token.start] as string;
  return raw.replaceAll(quote + quote, quote);
}
