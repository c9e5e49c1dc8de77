import { describe, expect, it } from 'vitest';
import { lex } from './lexer.js';

function kinds(text: string, dialect: 'mysql' | 'odbc' = 'mysql') {
  const result = lex(text, dialect);
  if (!result.ok) return result.reason;
  return result.tokens.map((t) => `${t.kind}:${text.slice(t.start, t.end)}`);
}

describe('the MySQL lexer', () => {
  it('reads "--" as a comment only before whitespace, a control character or the end', () => {
    expect(kinds('SELECT 1 -- x')).toEqual(['word:SELECT', 'word:1']);
    expect(kinds('SELECT 1 --\tx')).toEqual(['word:SELECT', 'word:1']);
    expect(kinds('SELECT 1 --')).toEqual(['word:SELECT', 'word:1']);
    expect(kinds('SELECT 1--1')).toBe('AMBIGUOUS_COMMENT');
  });

  it('reads # to the end of the line as a comment', () => {
    expect(kinds("SELECT 1 # ' ; DROP\n, 2")).toEqual([
      'word:SELECT',
      'word:1',
      'punct:,',
      'word:2',
    ]);
  });

  it('refuses executable comments and optimizer hints', () => {
    for (const text of [
      '/*! DROP */',
      'SELECT /*!50000 1 */',
      'SELECT /*M!100000 1 */',
      'SELECT /*+ BKA(t) */ 1',
    ]) {
      expect(kinds(text)).toBe('EXECUTABLE_COMMENT');
    }
    expect(kinds('SELECT /* ! not executable */ 1')).toEqual(['word:SELECT', 'word:1']);
  });

  it('refuses a line break other than \\n inside a line comment, where servers disagree on its end', () => {
    for (const dialect of ['mysql', 'odbc'] as const) {
      expect(kinds('SELECT 1 -- x\r; DROP TABLE t', dialect)).toBe('UNSUPPORTED_SYNTAX');
      expect(kinds('SELECT 1 -- x\u2028, 2', dialect)).toBe('UNSUPPORTED_SYNTAX');
      expect(kinds('SELECT 1 -- x\r\n, 2', dialect)).toEqual([
        'word:SELECT',
        'word:1',
        'punct:,',
        'word:2',
      ]);
    }
    expect(kinds('SELECT 1 # x\r; DROP TABLE t')).toBe('UNSUPPORTED_SYNTAX');
  });

  it('refuses a comment inside a comment, which readers that nest would end elsewhere', () => {
    expect(kinds('SELECT /* a /* b */ 1')).toBe('UNSUPPORTED_SYNTAX');
    expect(kinds("SELECT 'a' /* /* */ ' */ , SLEEP(1) -- '")).toBe('UNSUPPORTED_SYNTAX');
    expect(kinds('SELECT /* a */ 1 /* b */')).toEqual(['word:SELECT', 'word:1']);
  });

  it('honours backslash escapes and doubled quotes in strings', () => {
    expect(kinds("SELECT 'a\\'; DROP TABLE x; --'")).toEqual([
      'word:SELECT',
      "string:'a\\'; DROP TABLE x; --'",
    ]);
    expect(kinds("SELECT 'a''b', \"c\\\"d\"")).toEqual([
      'word:SELECT',
      "string:'a''b'",
      'punct:,',
      'string:"c\\"d"',
    ]);
    expect(kinds("SELECT 'x\\\\'; DROP")).toEqual([
      'word:SELECT',
      "string:'x\\\\'",
      'punct:;',
      'word:DROP',
    ]);
  });

  it('keeps prefixed literals and ODBC literal escapes whole', () => {
    expect(kinds("SELECT N'a', X'41', _utf8mb4'b', {d '2024-01-01'}")).toEqual([
      'word:SELECT',
      "string:N'a'",
      'punct:,',
      "string:X'41'",
      'punct:,',
      "string:_utf8mb4'b'",
      'punct:,',
      "string:{d '2024-01-01'}",
    ]);
    expect(kinds('{call sp()}')).toBe('UNSUPPORTED_SYNTAX');
  });

  it('reads backtick identifiers with doubled backticks and no backslash escape', () => {
    expect(kinds('SELECT `a``b`, `c\\`')).toEqual([
      'word:SELECT',
      'quoted:`a``b`',
      'punct:,',
      'quoted:`c\\`',
    ]);
  });

  it('fails on anything unterminated', () => {
    expect(kinds("SELECT 'x")).toBe('PARSE_ERROR');
    expect(kinds('SELECT `x')).toBe('PARSE_ERROR');
    expect(kinds('SELECT /* x')).toBe('PARSE_ERROR');
  });

  it('measures parenthesis depth', () => {
    const result = lex(`SELECT ${'('.repeat(50)}1${')'.repeat(50)}`, 'mysql');
    expect(result.ok && result.maxDepth).toBe(50);
  });
});

describe('the ODBC (ANSI) lexer', () => {
  it('reads "-- " as a comment, and strings without escapes', () => {
    expect(kinds("SELECT 1-- x\n, 'a''b'", 'odbc')).toEqual([
      'word:SELECT',
      'word:1',
      'punct:,',
      "string:'a''b'",
    ]);
  });

  it('refuses "--" without a space, which a MySQL back end reads as two minus signs', () => {
    expect(kinds('SELECT 1--1', 'odbc')).toBe('AMBIGUOUS_COMMENT');
  });

  it('refuses # (a MySQL comment, a PostgreSQL operator) and backslashes in quoted identifiers', () => {
    expect(kinds('SELECT 1 # x', 'odbc')).toBe('UNSUPPORTED_SYNTAX');
    expect(kinds('SELECT "a\\b"', 'odbc')).toBe('UNSUPPORTED_SYNTAX');
  });

  it('reads "..." as an identifier', () => {
    expect(kinds('SELECT "a""b"', 'odbc')).toEqual(['word:SELECT', 'quoted:"a""b"']);
  });

  it('refuses what back ends would read differently', () => {
    for (const text of [
      "SELECT 'a\\b'",
      "SELECT E'x'",
      "SELECT U&'x'",
      'SELECT U&"x"',
      'SELECT $$x$$',
      'SELECT $1',
      'SELECT [x]',
      'SELECT /* a /* b */ */ 1',
    ]) {
      expect(kinds(text, 'odbc')).toBe('UNSUPPORTED_SYNTAX');
    }
  });
});
