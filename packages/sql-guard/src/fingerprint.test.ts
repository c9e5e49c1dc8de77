import { beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, loadSqlGuard } from './guard.js';
import type { Dialect } from './types.js';

beforeAll(() => loadSqlGuard());

const DIALECTS: readonly Dialect[] = ['postgres', 'mysql', 'odbc'];

describe.each(DIALECTS)('fingerprint (%s)', (dialect) => {
  const fp = (sql: string) => fingerprint(sql, { dialect });

  it('is 12 lowercase hex characters', () => {
    expect(fp('SELECT 1')).toMatch(/^[0-9a-f]{12}$/);
  });

  it('is equal for statements that differ only in literal values', () => {
    expect(fp("SELECT * FROM orders WHERE id = 5 AND note = 'x'")).toBe(
      fp("SELECT * FROM orders WHERE id = 912 AND note = 'other'"),
    );
    expect(fp('SELECT * FROM orders WHERE id IN (1, 2, 3)')).toBe(
      fp('SELECT * FROM orders WHERE id IN (7)'),
    );
  });

  it('ignores whitespace, comments and keyword case', () => {
    expect(fp('SELECT id FROM orders')).toBe(fp('select  id\n  from orders -- comment'));
  });

  it('differs for different shapes', () => {
    const shapes = [
      'SELECT id FROM orders',
      'SELECT name FROM orders',
      'SELECT id FROM customers',
      'SELECT id FROM orders WHERE id = 1',
      'SELECT id FROM orders ORDER BY id',
      'DELETE FROM orders WHERE id = 1',
    ];
    expect(new Set(shapes.map(fp)).size).toBe(shapes.length);
  });

  it('never throws, whatever the input', () => {
    for (const input of [
      '',
      ';',
      "SELECT 'unterminated",
      '\u0000',
      '/*!',
      'SELECT \uD800',
      42 as unknown as string,
    ]) {
      expect(fp(input)).toMatch(/^[0-9a-f]{12}$/);
    }
  });
});

it('PostgreSQL: does not move with the length of literals before an ARRAY[...] list', () => {
  // libpg-query gives ARRAY[...] list_start/list_end positions; they are positions, not shape.
  const fp = (sql: string) => fingerprint(sql, { dialect: 'postgres' });
  expect(fp("SELECT 1 WHERE s = 'paid' AND c = ANY (ARRAY[1, 2])")).toBe(
    fp("SELECT 1 WHERE s = '' AND c = ANY (ARRAY[0, 0])"),
  );
});
