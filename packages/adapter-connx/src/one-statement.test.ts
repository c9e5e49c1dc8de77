import { describe, expect, it } from 'vitest';
import { assertOneStatement, placeholderCount, stackedSemicolonAt } from './one-statement.js';

const refused = (sql: string) => {
  try {
    assertOneStatement(sql);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe('one statement per call (defence in depth against batches)', () => {
  it('refuses a ; between statements, at the end, and after a comment', () => {
    for (const sql of [
      'SELECT 1 AS a; SELECT 2 AS b',
      'SELECT 1; DROP TABLE t',
      'SELECT 1;',
      'SELECT 1 /* c */; DELETE FROM t',
      "SELECT 'a'; DELETE FROM t",
    ]) {
      expect(refused(sql), sql).toBe('QUERY_FAILED');
    }
    expect(stackedSemicolonAt('SELECT 1; SELECT 2')).toBe(8);
  });

  it('lets a ; inside a string, a quoted name or a comment through, in every reading', () => {
    for (const sql of [
      "SELECT id FROM t WHERE note = 'a;b'",
      "SELECT id FROM t WHERE note = 'it''s; fine'",
      'SELECT "a;b" FROM t',
      'SELECT 1 /* ; */ FROM t',
      'SELECT 1 FROM t -- ;',
      'SELECT id FROM t WHERE id = ?',
    ]) {
      expect(refused(sql), sql).toBe('ok');
    }
  });

  it('refuses a ; that one reading of the quotes hides and another does not', () => {
    for (const sql of [
      // MySQL: '\'' is a quote, so the ; is outside; ANSI reads one long string.
      "SELECT '\\'' ; DROP TABLE t; -- '",
      // PostgreSQL: a dollar-quoted string ends before the ;; ANSI reads a string from the '.
      "SELECT $a$ ' $a$; DROP TABLE t; --'",
      // MySQL: # starts a comment, elsewhere it does not.
      'SELECT 1 # ; \n',
      // PostgreSQL nests block comments; MySQL ends this one at the first */.
      'SELECT 1 /* /* */ ; DROP TABLE t */',
      // A backtick name is a name in MySQL only.
      'SELECT `a;b` FROM t',
    ]) {
      expect(refused(sql), sql).toBe('QUERY_FAILED');
    }
  });

  it('refuses a ; inside a string or comment that never closes', () => {
    expect(refused("SELECT 'a; DROP TABLE t")).toBe('QUERY_FAILED');
    expect(refused('SELECT 1 /* ; DROP TABLE t')).toBe('QUERY_FAILED');
  });

  it('counts the placeholders outside literals, comments and quoted names', () => {
    expect(placeholderCount('SELECT ? AS a, ? AS b')).toBe(2);
    expect(placeholderCount("SELECT '?' AS a, ? AS b /* ? */")).toBe(1);
    expect(placeholderCount('SELECT 1')).toBe(0);
  });
});
