import { describe, expect, it } from 'vitest';
import { isDigit, isLetter, type Lexicon, tokenize } from './lexer.js';

// The shared shapes, with a small dialect of its own: ' strings with
// backslash escapes, " names, nested /* */ comments, -- line comments, ? params.
const TOY: Lexicon = {
  isWordStart: isLetter,
  isWordPart: (c) => isLetter(c) || isDigit(c),
  token(scanner, at) {
    const c = scanner.code(at);
    const next = scanner.code(at + 1);
    if (c === 45 && next === 45) return scanner.lineComment(at);
    if (c === 47 && next === 42) return scanner.blockComment(at, true);
    if (c === 39) return scanner.literal(at, at, true);
    if (c === 34) return scanner.quotedName(at);
    if (c === 63) return scanner.push('param', at, at + 1);
    return undefined;
  },
  prefixed(scanner, word, start, end) {
    return word.toLowerCase() === 'x' && scanner.code(end) === 39
      ? scanner.literal(start, end, false)
      : undefined;
  },
};

const kinds = (sql: string) =>
  tokenize(sql, TOY).map((t) => [
    t.kind,
    sql.slice(t.start, t.end),
    t.name,
    t.unterminated ?? false,
  ]);

describe('tokenize', () => {
  it('reads words, quoted names (doubled quotes unescaped), literals, params, numbers and symbols', () => {
    expect(kinds(`SELECT "a""b", x'ff', 'it\\'s' FROM t WHERE n = ? + 1.5e-3`)).toEqual([
      ['word', 'SELECT', 'SELECT', false],
      ['quoted', '"a""b"', 'a"b', false],
      ['symbol', ',', ',', false],
      ['literal', "x'ff'", '', false],
      ['symbol', ',', ',', false],
      ['literal', "'it\\'s'", '', false],
      ['word', 'FROM', 'FROM', false],
      ['word', 't', 't', false],
      ['word', 'WHERE', 'WHERE', false],
      ['word', 'n', 'n', false],
      ['symbol', '=', '=', false],
      ['param', '?', '', false],
      ['symbol', '+', '+', false],
      ['literal', '1.5e-3', '', false],
    ]);
  });

  it('never fails: what is not closed runs to the end, marked unterminated, and holds no name', () => {
    expect(kinds(`SELECT 'open CANARY`)).toEqual([
      ['word', 'SELECT', 'SELECT', false],
      ['literal', `'open CANARY`, '', true],
    ]);
    expect(kinds('SELECT "open name')).toEqual([
      ['word', 'SELECT', 'SELECT', false],
      ['literal', '"open name', '', true],
    ]);
    expect(kinds('SELECT /* a /* b */ still comment')).toEqual([
      ['word', 'SELECT', 'SELECT', false],
      ['comment', '/* a /* b */ still comment', '', true],
    ]);
  });

  it('skips line comments, and reads letters past ASCII as parts of words', () => {
    expect(kinds('a -- CANARY\n(é😀b)')).toEqual([
      ['word', 'a', 'a', false],
      ['symbol', '(', '(', false],
      ['word', 'é😀b', 'é😀b', false],
      ['symbol', ')', ')', false],
    ]);
  });
});
