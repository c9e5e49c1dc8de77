/**
 * The lexer every dialect's statement text is read with, for error
 * messages only (statement-text.ts: what a message may show). What is the
 * same in every SQL dialect lives here once (white space, numbers, words,
 * symbols, and the shapes of quoted strings, quoted names and comments);
 * an adapter gives only its dialect's rules (a `Lexicon`: which characters
 * open a comment, a string, a quoted name, a placeholder or a variable,
 * and which words prefix a string), in its own statement-text.ts.
 *
 * Written here rather than taken from a library: the parsers the guard
 * uses (libpg-query, the MySQL lexer) live in @sqlwarden/sql-guard, which
 * adapters do not depend on, and a full parse of a statement the server
 * just refused would often fail anyway. A lexer never fails: a string,
 * name or comment that is not closed runs to the end of the text and is
 * marked `unterminated`, so nothing after it counts as a name. In doubt it
 * yields fewer names, never more.
 */
import { StatementText, type StatementToken } from './statement-text.js';

const BACKSLASH = 92;

export const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
export const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** ASCII letters, `_`, and anything past ASCII: where a word may start in every dialect. */
export const isLetter = (c: number): boolean =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;

/** The tokens read so far, and the shapes every dialect shares. */
export class TokenScanner {
  readonly sql: string;
  readonly tokens: StatementToken[] = [];

  constructor(sql: string) {
    this.sql = sql;
  }

  get length(): number {
    return this.sql.length;
  }

  code(at: number): number {
    return this.sql.charCodeAt(at);
  }

  push(
    kind: StatementToken['kind'],
    start: number,
    end: number,
    name = '',
    unterminated = false,
  ): number {
    this.tokens.push(
      unterminated ? { kind, start, end, name, unterminated } : { kind, start, end, name },
    );
    return end;
  }

  /**
   * One past the closing quote of a string whose quote (the character at
   * `open`) opens there: a doubled quote is one quote of the content, and,
   * with `backslashEscapes`, a backslash escapes the next character. -1
   * when it never closes.
   */
  quoteEnd(open: number, backslashEscapes: boolean): number {
    const quote = this.code(open);
    let i = open + 1;
    while (i < this.length) {
      const c = this.code(i);
      if (backslashEscapes && c === BACKSLASH) {
        i += 2;
        continue;
      }
      if (c === quote) {
        if (this.code(i + 1) === quote) {
          i += 2;
          continue;
        }
        return i + 1;
      }
      i++;
    }
    return -1;
  }

  /** A string literal from `start` (a prefix included) whose quote opens at `open`; its content is never kept. */
  literal(start: number, open: number, backslashEscapes: boolean): number {
    const end = this.quoteEnd(open, backslashEscapes);
    return end < 0
      ? this.push('literal', start, this.length, '', true)
      : this.push('literal', start, end);
  }

  /** A quoted name (the quote is the character at `open`, doubled inside); not closed, it is a literal. */
  quotedName(open: number): number {
    const end = this.quoteEnd(open, false);
    if (end < 0) return this.push('literal', open, this.length, '', true);
    const quote = this.sql[open] as string;
    const name = this.sql.slice(open + 1, end - 1).replaceAll(quote + quote, quote);
    return this.push('quoted', open, end, name);
  }

  /** A number, with what sticks to it (1e-5, 0x1F, 1_000, 1abc): a literal. */
  number(start: number, isWordPart: (c: number) => boolean): number {
    let j = start + 1;
    while (j < this.length) {
      const d = this.code(j);
      const prev = this.code(j - 1);
      if (isWordPart(d) || d === 46 || ((d === 43 || d === 45) && (prev === 101 || prev === 69))) {
        j++;
      } else break;
    }
    return this.push('literal', start, j);
  }

  /** A comment to the end of the line (not a token). */
  lineComment(from: number): number {
    const end = this.sql.indexOf('\n', from);
    return end < 0 ? this.length : end + 1;
  }

  /** A `/* *\/` comment from `start`, nested or not as the dialect says. */
  blockComment(start: number, nested: boolean): number {
    if (!nested) {
      const close = this.sql.indexOf('*/', start + 2);
      const end = close < 0 ? this.length : close + 2;
      return this.push('comment', start, end, '', close < 0);
    }
    let depth = 1;
    let j = start + 2;
    while (j < this.length && depth > 0) {
      if (this.code(j) === 47 && this.code(j + 1) === 42) {
        depth++;
        j += 2;
      } else if (this.code(j) === 42 && this.code(j + 1) === 47) {
        depth--;
        j += 2;
      } else j++;
    }
    return this.push('comment', start, j, '', depth > 0);
  }

  /** Any other character (a whole code point): `(`, `,`, `.`, an operator. */
  symbol(start: number): number {
    const point = this.sql.codePointAt(start) ?? this.code(start);
    const width = point > 0xffff ? 2 : 1;
    return this.push('symbol', start, start + width, this.sql.slice(start, start + width));
  }
}

/** One dialect's lexical rules. */
export interface Lexicon {
  /** Where a bare word may start (after digits, which start numbers, were ruled out). */
  isWordStart(c: number): boolean;
  isWordPart(c: number): boolean;
  /**
   * The dialect's own token at `at` (a comment, a string, a quoted name, a
   * placeholder, a variable...): reads it into `scanner` and returns the
   * index after it, or undefined when none starts there.
   */
  token(scanner: TokenScanner, at: number): number | undefined;
  /**
   * A word from `start` to `end` that prefixes a string (`E'..'`,
   * `X'..'`, `_utf8mb4'..'`): reads the literal and returns the index after
   * it, or undefined when the word is a word.
   */
  prefixed?(scanner: TokenScanner, word: string, start: number, end: number): number | undefined;
}

/** The tokens of `sql` under the dialect's rules. */
export function tokenize(sql: string, lexicon: Lexicon): StatementToken[] {
  const scanner = new TokenScanner(sql);
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const own = lexicon.token(scanner, i);
    if (own !== undefined) {
      i = own;
    } else if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      i = scanner.number(i, lexicon.isWordPart);
    } else if (lexicon.isWordStart(c)) {
      let j = i + 1;
      while (j < n && lexicon.isWordPart(sql.charCodeAt(j))) j++;
      const word = sql.slice(i, j);
      i = lexicon.prefixed?.(scanner, word, i, j) ?? scanner.push('word', i, j, word);
    } else {
      i = scanner.symbol(i);
    }
  }
  return scanner.tokens;
}

/** A dialect's lexer: the tokens of a statement, and the statement as error messages may quote it. */
export interface DialectText {
  tokens(sql: string): StatementToken[];
  text(sql: string): StatementText;
}

export function dialectText(lexicon: Lexicon): DialectText {
  return {
    tokens: (sql) => tokenize(sql, lexicon),
    text: (sql) => new StatementText(sql, tokenize(sql, lexicon)),
  };
}
