/**
 * The canonical form of a MySQL or ODBC statement, from the guard's own
 * lexer (lexer.ts): the statement every rule is judged on, and the key the
 * verdict cache files it under (cache.ts).
 *
 * The canonical text is the token list, each token written canonically,
 * joined by one space where the original had whitespace or a comment
 * between two tokens and by nothing where they touched:
 *   - every string literal becomes 's' (what the parsers were always given:
 *     MySQL backslash escapes and ODBC back ends' quoting never reach them);
 *   - every integer literal whose value decides nothing but a value becomes
 *     1 (a run of digits with no `.` on either side, or both sides of a
 *     decimal `1.5` written without spaces);
 *   - every other token is kept as written.
 * The analysis (parsers, walkers, token-level checks, fingerprint) reads
 * only the canonical text, so two statements with the same canonical form
 * get the same verdict and the same fingerprint by construction.
 *
 * The key is finer than the canonical text: it abstracts only plain string
 * literals ('...', and "..." in MySQL) and those integers. A string with a
 * prefix (N'', X'', B'', _charset''), one after a charset introducer or a
 * COLLATE / CHARACTER SET (where a string names a charset or collation),
 * and an ODBC {d '...'} escape are kept as written in the key, though the
 * analysis never reads their contents either: nothing is abstracted whose
 * value names something.
 */
import type { LexResult, Token } from './lexer.js';

export interface Canonical {
  /** The canonical text (see the header). */
  readonly text: string;
  /** The tokens of the canonical text, positioned in it (no comments). */
  readonly lexed: LexResult;
  /** The cache key: the token list with plain literals abstracted, and where whitespace was. */
  readonly key: string;
}

const isDigits = (text: string, token: Token | undefined) => {
  if (token?.kind !== 'word') return false;
  for (let i = token.start; i < token.end; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
};

const isDot = (text: string, token: Token | undefined) =>
  token?.kind === 'punct' && text[token.start] === '.';

const touches = (left: Token | undefined, right: Token | undefined) =>
  left !== undefined && right !== undefined && left.end === right.start;

/**
 * Whether the digit word at `i` is a number whose value decides nothing but
 * a value: no `.` on either side (`t.1` is a name in MySQL, `1.e5` is
 * something else), unless it is one side of a decimal written without
 * spaces (`1.5`) that has no further `.` around it.
 */
function isPlainNumber(text: string, tokens: readonly Token[], i: number): boolean {
  const token = tokens[i];
  if (!isDigits(text, token)) return false;
  const before = tokens[i - 1];
  const after = tokens[i + 1];
  if (!isDot(text, before) && !isDot(text, after)) return true;
  // The integer part of `1.5`.
  if (isDot(text, after) && !isDot(text, before)) {
    const fraction = tokens[i + 2];
    return (
      touches(token, after) &&
      touches(after, fraction) &&
      isDigits(text, fraction) &&
      !isDot(text, tokens[i + 3])
    );
  }
  // The fractional part of `1.5`.
  if (isDot(text, before) && !isDot(text, after)) {
    const whole = tokens[i - 2];
    return (
      touches(before, token) &&
      touches(whole, before) &&
      isDigits(text, whole) &&
      !isDot(text, tokens[i - 3])
    );
  }
  return false;
}

/** Words after which a string names something (a charset or a collation), not a value. */
const NAMING_WORDS = new Set(['collate', 'charset', 'set', 'character']);

/** Whether a string token is a plain literal whose contents are only a value. */
function isPlainString(
  text: string,
  tokens: readonly Token[],
  i: number,
  dialect: 'mysql' | 'odbc',
): boolean {
  const token = tokens[i] as Token;
  const first = text[token.start];
  if (first !== "'" && !(dialect === 'mysql' && first === '"')) return false; // a prefix, or {d '...'}
  const before = tokens[i - 1];
  if (before?.kind === 'word') {
    const word = text.slice(before.start, before.end).toLowerCase();
    // A charset introducer written apart (`_binary 'x'`) or a naming position.
    if (word.startsWith('_') || NAMING_WORDS.has(word)) return false;
  }
  return true;
}

const KIND_CODE: Record<Token['kind'], string> = {
  word: 'w',
  quoted: 'q',
  string: 's',
  param: 'p',
  variable: 'v',
  punct: 'c',
};

/** The canonical form of lexed MySQL or ODBC text (see the header). */
export function canonicalize(text: string, lexed: LexResult, dialect: 'mysql' | 'odbc'): Canonical {
  const { tokens } = lexed;
  const out: Token[] = [];
  const keyParts: string[] = [dialect];
  let canonical = '';
  tokens.forEach((token, i) => {
    const gap = i > 0 && (tokens[i - 1] as Token).end < token.start;
    if (gap) canonical += ' ';
    const raw = text.slice(token.start, token.end);
    let written = raw;
    let keyed = raw;
    if (token.kind === 'string') {
      written = "'s'";
      if (isPlainString(text, tokens, i, dialect)) keyed = '?';
    } else if (isPlainNumber(text, tokens, i)) {
      written = '1';
      keyed = '#';
    }
    out.push({ kind: token.kind, start: canonical.length, end: canonical.length + written.length });
    canonical += written;
    keyParts.push(`${gap ? ' ' : ''}${KIND_CODE[token.kind]}${keyed.length}:${keyed}`);
  });
  return {
    text: canonical,
    lexed: { ok: true, tokens: out, comments: [], maxDepth: lexed.maxDepth },
    key: keyParts.join(''),
  };
}
