/**
 * What a message built from a database error may say about the statement.
 *
 * A server's error message quotes whatever it was looking at: a name the
 * agent wrote, but just as well a parameter value (`SELECT $1::regclass`
 * with `'PARAMCANARY'` answers `relation "paramcanary" does not exist`), a
 * string literal of the statement, or a value stored in a row (MySQL's
 * `Truncated incorrect DOUBLE value: 'new'`). The rule (docs/security-model.md,
 * "Messages from database errors"): a name taken from a server message is
 * shown only when the statement's own text holds it as an identifier token
 * (a bare word or a quoted identifier; never a string literal, a number, a
 * comment or a parameter). Comparison is case-insensitive (PostgreSQL
 * folds unquoted names to lower case, MySQL compares column names without
 * case), and what is shown is the statement's own spelling, so a message
 * only ever repeats text of the statement.
 *
 * Enforced in one place by the type system: the message builders
 * (`statement-failures.ts`) take names only as `StatementName`, and only
 * `StatementText` makes those. Each adapter supplies the tokens of its
 * dialect (its own small lexer); the rule does not depend on the dialect.
 *
 * Failure mode: a lexer that is unsure (an unterminated string, an
 * executable comment) produces fewer identifier tokens, so a message names
 * less; it never names more.
 */

/** What a lexer found at a place of the statement. */
export type StatementTokenKind =
  /** A bare word: a keyword or an unquoted identifier (never starts with a digit). */
  | 'word'
  /** A quoted identifier ("name" in PostgreSQL, `name` in MySQL). */
  | 'quoted'
  /** A string, number, bit, hex or dollar-quoted literal: its content is never kept. */
  | 'literal'
  /** A placeholder: `$1`, `?`. */
  | 'param'
  /** A session or user variable (MySQL `@x`, `@@x`): neither a name nor a value to show. */
  | 'variable'
  /** A comment; kept only to say where one is not closed. */
  | 'comment'
  /** Any other single character: `(`, `)`, `,`, `.`, operators. */
  | 'symbol';

export interface StatementToken {
  readonly kind: StatementTokenKind;
  /** Offset of the first UTF-16 unit in the statement text, and one past the last. */
  readonly start: number;
  readonly end: number;
  /**
   * word: the word as written; quoted: the identifier between its quotes,
   * unescaped; symbol: the character; anything else: empty (a literal's
   * content is never copied out of the text).
   */
  readonly name: string;
  /** A string, quoted identifier or comment whose closing quote or `*\/` never came. */
  readonly unterminated?: boolean;
}

declare const shown: unique symbol;
/**
 * What a message may show: text of the statement that the rule let through,
 * a built-in type name, or an operator (only `StatementText` makes these).
 */
export type StatementName = string & { readonly [shown]: true };

/** Where a place of the statement is, as a person counts: lines and characters from 1. */
export interface StatementLocation {
  readonly line: number;
  readonly character: number;
  /** Whether the statement has more than one line (then the line is worth saying). */
  readonly multiline: boolean;
}

/** The longest name a message shows (PostgreSQL truncates at 63 bytes, MySQL at 64 characters). */
const MAX_NAME = 128;
/** At most this many tables or aliases are offered to qualify an ambiguous column. */
const MAX_QUALIFIERS = 4;
/** A type name as servers print them: letters and spaces, then an optional (n) or (p,s) and [] suffixes. */
const TYPE_SHAPE = /^([A-Za-z][A-Za-z0-9_ ]{0,40}?)(\(\d{1,5}(?:, ?\d{1,5})?\))?((?:\[\])*)$/;
/** Words after which FROM and JOIN items end, and that are never an alias. */
const NOT_AN_ALIAS = new Set([
  'where',
  'join',
  'inner',
  'left',
  'right',
  'full',
  'cross',
  'natural',
  'outer',
  'on',
  'using',
  'group',
  'order',
  'limit',
  'having',
  'union',
  'except',
  'intersect',
  'window',
  'offset',
  'fetch',
  'for',
  'lateral',
  'straight_join',
  'returning',
  'set',
  'values',
  'tablesample',
  'partition',
  'use',
  'force',
  'ignore',
  'into',
  'select',
  'from',
  'as',
  'with',
  'lock',
  'only',
]);
/** Words that open a query at a parenthesis level: a FROM after one of them lists tables. */
const QUERY_WORDS = new Set(['select', 'delete', 'update']);

const fold = (name: string) => name.toLowerCase();
const showable = (text: string) =>
  text.length > 0 && text.length <= MAX_NAME && !/[\p{Cc}\p{Zl}\p{Zp}]/u.test(text);

/**
 * The tokens of one statement and the rule that decides what of it a
 * message may show. Built by an adapter's lexer (or `StatementText.EMPTY`
 * when there is no statement: a catalog query of the adapter's own).
 */
export class StatementText {
  /** No statement: nothing may be named. */
  static readonly EMPTY = new StatementText('', []);

  readonly #sql: string;
  readonly #tokens: readonly StatementToken[];
  #byName: Map<string, StatementToken[]> | undefined;
  /** Offsets where lines start (computed once: locating every token stays linear). */
  #lineStarts: number[] | undefined;

  constructor(sql: string, tokens: readonly StatementToken[]) {
    this.#sql = sql;
    this.#tokens = tokens;
  }

  /** The statement's own spelling of a token, if it may be shown. */
  #spelling(token: StatementToken): StatementName | undefined {
    const text = this.#sql.slice(token.start, token.end);
    return showable(text) ? (text as StatementName) : undefined;
  }

  #identifiers(): Map<string, StatementToken[]> {
    if (this.#byName === undefined) {
      this.#byName = new Map();
      for (const token of this.#tokens) {
        if (token.kind !== 'word' && token.kind !== 'quoted') continue;
        if (token.unterminated === true || token.name === '') continue;
        const key = fold(token.name);
        const list = this.#byName.get(key);
        if (list === undefined) this.#byName.set(key, [token]);
        else list.push(token);
      }
    }
    return this.#byName;
  }

  /** One part of a name: the statement's identifier with that name (same case first). */
  #part(part: string): StatementName | undefined {
    const tokens = this.#identifiers().get(fold(part));
    if (tokens === undefined) return undefined;
    const token = tokens.find((t) => t.name === part) ?? tokens[0];
    return token === undefined ? undefined : this.#spelling(token);
  }

  /**
   * THE RULE: `candidate` (a name a server message quoted) as the statement
   * spells it, or undefined when the statement's text does not hold it as
   * identifiers. A dotted name (`db.o.status`) keeps its longest tail whose
   * parts all occur (`o.status`): a server adds qualifiers the agent never
   * wrote (the database, the table), and those are left out.
   */
  name(candidate: string | undefined): StatementName | undefined {
    if (candidate === undefined || candidate.length === 0 || candidate.length > 4 * MAX_NAME) {
      return undefined;
    }
    const whole = this.#part(candidate);
    if (whole !== undefined) return whole;
    const parts = candidate.split('.');
    for (let from = 0; from < parts.length; from++) {
      const shownParts = parts.slice(from).map((part) => this.#part(part));
      if (shownParts.every((part) => part !== undefined)) {
        return shownParts.join('.') as StatementName;
      }
    }
    return undefined;
  }

  /**
   * A type name from a server message: one of the dialect's built-in types
   * (`builtins`, lower case, e.g. `integer`, `character varying`; with an
   * optional `(n)`/`(p,s)` and `[]` as servers print them), or else a name
   * the statement holds (a user-defined type). A built-in type name is the
   * engine's own vocabulary, like the words of the message: it cannot carry
   * a value.
   */
  typeName(
    candidate: string | undefined,
    builtins: ReadonlySet<string>,
  ): StatementName | undefined {
    if (candidate === undefined) return undefined;
    const match = TYPE_SHAPE.exec(candidate.trim());
    if (match !== null && builtins.has(fold(match[1] ?? ''))) {
      return candidate.trim() as StatementName;
    }
    return this.name(candidate);
  }

  /**
   * The tables of the statement's FROM and JOIN items, by the name to
   * qualify their columns with (the alias, else the table's own name), as
   * written, in order, without repeats; at most four. For "qualify it with
   * its table or alias (o.id or c.id)". A FROM inside a function call
   * (`EXTRACT(YEAR FROM d)`) is not a FROM clause: only a FROM at the
   * parenthesis level of a SELECT, DELETE or UPDATE counts.
   */
  qualifiers(): StatementName[] {
    const tokens = this.#tokens.filter((t) => t.kind !== 'comment');
    const found: StatementName[] = [];
    const seen = new Set<string>();
    const add = (token: StatementToken | undefined) => {
      if (token === undefined || found.length >= MAX_QUALIFIERS) return;
      const spelled = this.#spelling(token);
      if (spelled === undefined || seen.has(fold(token.name))) return;
      seen.add(fold(token.name));
      found.push(spelled);
    };
    const isName = (token: StatementToken | undefined) =>
      token !== undefined &&
      token.unterminated !== true &&
      (token.kind === 'quoted' || (token.kind === 'word' && !NOT_AN_ALIAS.has(fold(token.name))));
    const isSymbol = (token: StatementToken | undefined, symbol: string) =>
      token?.kind === 'symbol' && token.name === symbol;
    const isWord = (token: StatementToken | undefined, word: string) =>
      token?.kind === 'word' && fold(token.name) === word;
    /** The index after the parenthesis that closes the one at `open`. */
    const skipParens = (open: number): number => {
      let depth = 0;
      for (let i = open; i < tokens.length; i++) {
        if (isSymbol(tokens[i], '(')) depth++;
        else if (isSymbol(tokens[i], ')') && --depth === 0) return i + 1;
      }
      return tokens.length;
    };
    /** One FROM or JOIN item from `i`: its qualifier; returns the index after it. */
    const item = (start: number): number => {
      let i = start;
      while (isWord(tokens[i], 'lateral') || isWord(tokens[i], 'only')) i++;
      let table: StatementToken | undefined;
      if (isSymbol(tokens[i], '(')) {
        i = skipParens(i);
      } else if (isName(tokens[i])) {
        table = tokens[i];
        i++;
        while (isSymbol(tokens[i], '.') && isName(tokens[i + 1])) {
          table = tokens[i + 1];
          i += 2;
        }
        // A function in FROM (generate_series(...)): its name is no qualifier without an alias.
        if (isSymbol(tokens[i], '(')) {
          table = undefined;
          i = skipParens(i);
        }
      } else {
        return i;
      }
      if (isWord(tokens[i], 'as')) i++;
      if (isName(tokens[i])) {
        add(tokens[i]);
        i++;
        if (isSymbol(tokens[i], '(')) i = skipParens(i);
      } else {
        add(table);
      }
      return i;
    };
    const levels: boolean[] = [false];
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i];
      if (isSymbol(token, '(')) levels.push(false);
      else if (isSymbol(token, ')')) {
        if (levels.length > 1) levels.pop();
      } else if (token?.kind === 'word') {
        const word = fold(token.name);
        if (QUERY_WORDS.has(word)) levels[levels.length - 1] = true;
        else if ((word === 'from' || word === 'join') && levels[levels.length - 1] === true) {
          let next = item(i + 1);
          while (word === 'from' && isSymbol(tokens[next], ',')) next = item(next + 1);
          i = next - 1;
        }
      }
    }
    return found;
  }

  /**
   * An operator from a server message (`=`, `~~`, `||`): operator characters
   * only, which cannot spell a value or a name.
   */
  operator(candidate: string | undefined): StatementName | undefined {
    return candidate !== undefined && /^[+\-*/<>=~!@#%^&|`?]{1,4}$/.test(candidate)
      ? (candidate as StatementName)
      : undefined;
  }

  /** The token that starts at, or contains, this offset. */
  tokenAt(offset: number): StatementToken | undefined {
    return this.#tokens.find((t) => t.start <= offset && offset < t.end);
  }

  /** A bare word of the statement at this offset (a keyword or an identifier), as written. */
  wordAt(offset: number): StatementName | undefined {
    const token = this.tokenAt(offset);
    return token?.kind === 'word' && token.start === offset ? this.#spelling(token) : undefined;
  }

  /** Whether the offset is past the last token: the statement ended where the server stopped. */
  atEnd(offset: number): boolean {
    return !this.#tokens.some((t) => t.kind !== 'comment' && t.end > offset);
  }

  /** The line (from 1) of an offset. */
  lineOf(offset: number): number {
    if (this.#lineStarts === undefined) {
      this.#lineStarts = [0];
      for (let i = this.#sql.indexOf('\n'); i >= 0; i = this.#sql.indexOf('\n', i + 1)) {
        this.#lineStarts.push(i + 1);
      }
    }
    const starts = this.#lineStarts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }

  /** Line and character (code points, from 1) of an offset. */
  locate(offset: number): StatementLocation {
    const at = Math.max(0, Math.min(offset, this.#sql.length));
    const line = this.lineOf(at);
    const lineStart = this.#lineStarts?.[line - 1] ?? 0;
    return {
      line,
      character: [...this.#sql.slice(lineStart, at)].length + 1,
      multiline: (this.#lineStarts?.length ?? 1) > 1,
    };
  }

  /**
   * The offset of a 1-based character position counted in code points (as
   * PostgreSQL counts its `position`), or undefined when it is out of range.
   */
  offsetOfCharacter(position: number): number | undefined {
    if (this.#sql === '' || !Number.isSafeInteger(position) || position < 1) return undefined;
    let offset = 0;
    let character = 1;
    for (const point of this.#sql) {
      if (character === position) return offset;
      offset += point.length;
      character++;
    }
    return character === position ? offset : undefined;
  }

  /**
   * How the statement's text from `offset` compares with an excerpt a server
   * quoted from it (compared, never shown): `rest` when the excerpt is all
   * of the text from there, `prefix` when the text goes on, else false.
   */
  excerptAt(offset: number, excerpt: string): 'rest' | 'prefix' | false {
    if (!this.#sql.startsWith(excerpt, offset)) return false;
    return offset + excerpt.length === this.#sql.length ? 'rest' : 'prefix';
  }

  /** How many placeholders the statement has. */
  placeholders(): number {
    return this.#tokens.filter((t) => t.kind === 'param').length;
  }

  /** The tokens (for an adapter that looks for the place a server message points at by its text). */
  tokens(): readonly StatementToken[] {
    return this.#tokens;
  }
}
