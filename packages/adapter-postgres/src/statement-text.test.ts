import { describe, expect, it } from 'vitest';
import { postgresStatementText, postgresTokens } from './statement-text.js';

const kinds = (sql: string) => postgresTokens(sql).map((t) => [t.kind, sql.slice(t.start, t.end)]);

describe('postgresTokens', () => {
  it('reads words, quoted names, literals, placeholders and symbols', () => {
    expect(kinds(`SELECT "We""ird", x FROM t WHERE a = 'it''s' AND b = $1::int`)).toEqual([
      ['word', 'SELECT'],
      ['quoted', '"We""ird"'],
      ['symbol', ','],
      ['word', 'x'],
      ['word', 'FROM'],
      ['word', 't'],
      ['word', 'WHERE'],
      ['word', 'a'],
      ['symbol', '='],
      ['literal', "'it''s'"],
      ['word', 'AND'],
      ['word', 'b'],
      ['symbol', '='],
      ['param', '$1'],
      ['symbol', ':'],
      ['symbol', ':'],
      ['word', 'int'],
    ]);
    expect(postgresTokens('SELECT "We""ird"')[1]?.name).toBe('We"ird');
  });

  it('reads a backslash as a plain character in a standard string, and as an escape in E strings', () => {
    // standard_conforming_strings = on: 'a\' ends at the second quote.
    expect(kinds("SELECT 'a\\' AS b")).toEqual([
      ['word', 'SELECT'],
      ['literal', "'a\\'"],
      ['word', 'AS'],
      ['word', 'b'],
    ]);
    expect(kinds("SELECT E'a\\' CANARY' AS b").map(([kind]) => kind)).toEqual([
      'word',
      'literal',
      'word',
      'word',
    ]);
  });

  it('reads dollar quotes, prefixed strings and numbers as literals', () => {
    for (const literal of [
      '$$CANARY$$',
      '$tag$ CANARY $$ $tag$',
      "B'0101'",
      "X'CANARY'",
      "N'CANARY'",
      "U&'CANARY'",
      '1e-5',
      '0x1F',
      '.5',
      '1abc',
    ]) {
      expect(kinds(`SELECT ${literal}`), literal).toEqual([
        ['word', 'SELECT'],
        ['literal', literal],
      ]);
    }
  });

  it('skips line and nested block comments', () => {
    expect(kinds('SELECT /* a /* CANARY */ b */ x -- CANARY\n, y')).toEqual([
      ['word', 'SELECT'],
      ['comment', '/* a /* CANARY */ b */'],
      ['word', 'x'],
      ['symbol', ','],
      ['word', 'y'],
    ]);
  });

  it('runs an unclosed string, name, dollar quote or comment to the end, marked unterminated', () => {
    for (const sql of [
      "SELECT 'CANARY x",
      'SELECT "CANARY x',
      'SELECT $q$ CANARY x',
      'SELECT /* CANARY x',
    ]) {
      const tokens = postgresTokens(sql);
      expect(tokens.at(-1)?.unterminated, sql).toBe(true);
      expect(postgresStatementText(sql).name('CANARY'), sql).toBeUndefined();
      expect(postgresStatementText(sql).name('x'), sql).toBeUndefined();
    }
  });

  it('lets the rule name identifiers only, never what a literal or comment holds', () => {
    const statement = postgresStatementText(
      "SELECT orders.id FROM orders WHERE note = 'CANARY' AND x = E'\\'CANARY' -- CANARY\n",
    );
    expect(statement.name('orders')).toBe('orders');
    expect(statement.name('canary')).toBeUndefined();
  });
});
