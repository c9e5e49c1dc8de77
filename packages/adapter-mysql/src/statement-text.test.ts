import { describe, expect, it } from 'vitest';
import { mysqlStatementText, mysqlTokens } from './statement-text.js';

const kinds = (sql: string) => mysqlTokens(sql).map((t) => [t.kind, sql.slice(t.start, t.end)]);

describe('mysqlTokens', () => {
  it('reads words, quoted names, literals, placeholders, variables and symbols', () => {
    expect(kinds('SELECT `we``ird`, @v, @@session.x FROM t WHERE a = "it\\"s" AND b = ?')).toEqual([
      ['word', 'SELECT'],
      ['quoted', '`we``ird`'],
      ['symbol', ','],
      ['variable', '@v'],
      ['symbol', ','],
      ['variable', '@@session.x'],
      ['word', 'FROM'],
      ['word', 't'],
      ['word', 'WHERE'],
      ['word', 'a'],
      ['symbol', '='],
      ['literal', '"it\\"s"'],
      ['word', 'AND'],
      ['word', 'b'],
      ['symbol', '='],
      ['param', '?'],
    ]);
    expect(mysqlTokens('SELECT `we``ird`')[1]?.name).toBe('we`ird');
  });

  it('reads a backslash as an escape in both kinds of strings', () => {
    expect(kinds("SELECT 'a\\' CANARY' AS b").map(([kind]) => kind)).toEqual([
      'word',
      'literal',
      'word',
      'word',
    ]);
  });

  it('reads prefixed strings and numbers as literals', () => {
    for (const literal of [
      "X'CAFE'",
      "b'01'",
      "N'CANARY'",
      "_utf8mb4'CANARY'",
      '0xCAFE',
      '1e-5',
      '1abc',
    ]) {
      expect(kinds(`SELECT ${literal}`), literal).toEqual([
        ['word', 'SELECT'],
        ['literal', literal],
      ]);
    }
  });

  it('starts a comment at #, at -- followed by a space, and at /*, but not at --1', () => {
    expect(kinds('SELECT x # CANARY\n, y -- CANARY\n, z /*! CANARY */')).toEqual([
      ['word', 'SELECT'],
      ['word', 'x'],
      ['symbol', ','],
      ['word', 'y'],
      ['symbol', ','],
      ['word', 'z'],
      ['comment', '/*! CANARY */'],
    ]);
    expect(kinds('SELECT 1--1')).toEqual([
      ['word', 'SELECT'],
      ['literal', '1'],
      ['symbol', '-'],
      ['symbol', '-'],
      ['literal', '1'],
    ]);
  });

  it('runs an unclosed string, name or comment to the end, marked unterminated', () => {
    for (const sql of [
      "SELECT 'CANARY x",
      'SELECT "CANARY x',
      'SELECT `CANARY x',
      'SELECT /* CANARY x',
    ]) {
      expect(mysqlTokens(sql).at(-1)?.unterminated, sql).toBe(true);
      expect(mysqlStatementText(sql).name('x'), sql).toBeUndefined();
    }
  });

  it('lets the rule name identifiers only: a "double-quoted" text is a string', () => {
    const statement = mysqlStatementText(
      'SELECT `orders`.id FROM orders WHERE note = "CANARY" OR note = \'CANARY\'',
    );
    expect(statement.name('db.orders.id')).toBe('`orders`.id');
    expect(statement.name('CANARY')).toBeUndefined();
  });
});
