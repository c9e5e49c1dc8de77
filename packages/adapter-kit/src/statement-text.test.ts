import { describe, expect, it } from 'vitest';
import { StatementText, type StatementToken } from './statement-text.js';

/**
 * A toy lexer for these tests only (the adapters have the real ones, with
 * their dialect's rules): words, "quoted" names, 'literals', numbers, $n,
 * and single-character symbols.
 */
function text(sql: string): StatementText {
  const tokens: StatementToken[] = [];
  const pattern =
    /(\s+)|([A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)|"((?:[^"]|"")*)("?)|'(?:[^']|'')*('?)|(\d[\w.]*)|(\$\d+)|(.)/gsu;
  for (const m of sql.matchAll(pattern)) {
    const start = m.index;
    const end = start + m[0].length;
    if (m[1] !== undefined) continue;
    if (m[2] !== undefined) tokens.push({ kind: 'word', start, end, name: m[2] });
    else if (m[3] !== undefined)
      tokens.push({
        kind: 'quoted',
        start,
        end,
        name: m[3].replaceAll('""', '"'),
        unterminated: m[4] === '',
      });
    else if (m[0].startsWith("'"))
      tokens.push({ kind: 'literal', start, end, name: '', unterminated: m[5] === '' });
    else if (m[6] !== undefined) tokens.push({ kind: 'literal', start, end, name: '' });
    else if (m[7] !== undefined) tokens.push({ kind: 'param', start, end, name: '' });
    else tokens.push({ kind: 'symbol', start, end, name: m[0] });
  }
  return new StatementText(sql, tokens);
}

describe('StatementText.name: the rule for names in messages from database errors', () => {
  it('shows a name the statement holds as an identifier, as the statement spells it', () => {
    const statement = text('SELECT Totl FROM orders o');
    expect(statement.name('totl')).toBe('Totl');
    expect(statement.name('orders')).toBe('orders');
    expect(statement.name('TOTL')).toBe('Totl');
  });

  it('prefers the spelling of the same case when the statement holds both', () => {
    const statement = text('SELECT "Id", id FROM t');
    expect(statement.name('Id')).toBe('"Id"');
    expect(statement.name('id')).toBe('id');
  });

  it('never shows a parameter value: a name the statement does not hold is left out', () => {
    const statement = text('SELECT $1::regclass');
    expect(statement.name('paramcanary_regclass')).toBeUndefined();
  });

  it('never shows a string literal of the statement, even one shaped like a name', () => {
    const statement = text("SELECT 'LITCANARY'::regclass WHERE name = 'CANARY two'");
    expect(statement.name('litcanary')).toBeUndefined();
    expect(statement.name('LITCANARY')).toBeUndefined();
    expect(statement.name('CANARY')).toBeUndefined();
    expect(statement.name('two')).toBeUndefined();
  });

  it('never shows a number or a placeholder as a name', () => {
    const statement = text('SELECT id FROM t ORDER BY 5 LIMIT $1');
    expect(statement.name('5')).toBeUndefined();
    expect(statement.name('$1')).toBeUndefined();
    expect(statement.name('1')).toBeUndefined();
  });

  it('keeps the longest tail of a dotted name whose parts the statement holds', () => {
    const statement = text('SELECT o.status, count(*) FROM orders o GROUP BY o.id');
    expect(statement.name('shop.o.status')).toBe('o.status');
    expect(statement.name('o.status')).toBe('o.status');
    expect(statement.name('shop.orders')).toBe('orders');
    expect(statement.name('shop.nope')).toBeUndefined();
  });

  it('matches a quoted identifier holding a dot as one name', () => {
    expect(text('SELECT * FROM "we.ird"').name('we.ird')).toBe('"we.ird"');
  });

  it('does not show an identifier holding a line break, nor an unterminated one', () => {
    expect(text('SELECT "a\nb" FROM t').name('a\nb')).toBeUndefined();
    expect(text('SELECT "abc').name('abc')).toBeUndefined();
  });

  it('names nothing without a statement', () => {
    expect(StatementText.EMPTY.name('orders')).toBeUndefined();
    expect(StatementText.EMPTY.qualifiers()).toEqual([]);
  });
});

describe('StatementText.typeName', () => {
  const builtins = new Set(['integer', 'character varying', 'numeric', 'timestamp with time zone']);

  it('shows built-in types with their modifiers and array marks', () => {
    const statement = text('SELECT 1');
    expect(statement.typeName('integer', builtins)).toBe('integer');
    expect(statement.typeName('character varying(10)', builtins)).toBe('character varying(10)');
    expect(statement.typeName('numeric(5,2)', builtins)).toBe('numeric(5,2)');
    expect(statement.typeName('integer[]', builtins)).toBe('integer[]');
    expect(statement.typeName('timestamp with time zone', builtins)).toBe(
      'timestamp with time zone',
    );
  });

  it('shows any other type only when the statement names it', () => {
    expect(text("SELECT 'x'::mood").typeName('mood', builtins)).toBe('mood');
    expect(text('SELECT $1::regtype').typeName('paramcanary', builtins)).toBeUndefined();
    expect(text('SELECT 1').typeName('integer); DROP', builtins)).toBeUndefined();
  });
});

describe('StatementText.qualifiers', () => {
  it('lists the aliases (or table names) of FROM and JOIN items in order', () => {
    expect(
      text('SELECT id FROM orders o JOIN customers AS c ON c.id = o.customer_id').qualifiers(),
    ).toEqual(['o', 'c']);
    expect(text('SELECT id FROM shop.orders, customers WHERE x = 1').qualifiers()).toEqual([
      'orders',
      'customers',
    ]);
  });

  it('takes the alias of a subquery or function, and skips one without', () => {
    expect(
      text(
        'SELECT id FROM (SELECT 1 AS id) s JOIN generate_series(1, 2) g(id) ON true',
      ).qualifiers(),
    ).toEqual(['s', 'g']);
    expect(text('SELECT id FROM (SELECT 1 AS id) JOIN t ON true').qualifiers()).toEqual(['t']);
  });

  it('ignores a FROM inside a function call and keeps those of subqueries', () => {
    expect(
      text(
        'SELECT EXTRACT(YEAR FROM created) FROM orders o WHERE id IN (SELECT id FROM c2)',
      ).qualifiers(),
    ).toEqual(['o', 'c2']);
  });

  it('does not take clause words for aliases', () => {
    expect(text('SELECT id FROM a LEFT JOIN b USING (x) WHERE y').qualifiers()).toEqual(['a', 'b']);
  });
});

describe('StatementText places', () => {
  it('maps a 1-based character position counted in code points to an offset', () => {
    const statement = text("SELECT '😀' FORM t");
    expect(statement.offsetOfCharacter(1)).toBe(0);
    // The emoji (character 9) is one character but two UTF-16 units (offsets 8 and 9).
    expect(statement.offsetOfCharacter(12)).toBe(12);
    expect(statement.wordAt(12)).toBe('FORM');
    expect(statement.offsetOfCharacter(11)).toBe(11);
    expect(statement.offsetOfCharacter(10)).toBe(10);
    expect(statement.offsetOfCharacter(9)).toBe(8);
    expect(statement.offsetOfCharacter(0)).toBeUndefined();
    expect(statement.offsetOfCharacter(99)).toBeUndefined();
  });

  it('says line and character, and whether the statement has lines', () => {
    const statement = text('SELECT *\n  FORM t');
    expect(statement.locate(11)).toEqual({ line: 2, character: 3, multiline: true });
    expect(text('SELECT 1').locate(7)).toEqual({ line: 1, character: 8, multiline: false });
  });

  it('finds only bare words at a place, never a literal', () => {
    const statement = text("SELECT 'CANARY' x");
    expect(statement.wordAt(7)).toBeUndefined();
    expect(statement.wordAt(16)).toBe('x');
    expect(statement.atEnd(17)).toBe(true);
    expect(statement.atEnd(16)).toBe(false);
  });

  it('counts placeholders and vets operators', () => {
    expect(text('SELECT $1, $2').placeholders()).toBe(2);
    expect(text('').operator('=')).toBe('=');
    expect(text('').operator('~~')).toBe('~~');
    expect(text('').operator('= x')).toBeUndefined();
  });
});
