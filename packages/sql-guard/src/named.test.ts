import { beforeAll, describe, expect, it } from 'vitest';
import { loadSqlGuard } from './guard.js';
import { bindNamedParameters } from './named.js';
import type { Dialect } from './types.js';

beforeAll(async () => {
  await loadSqlGuard();
});

const bind = (sql: string, dialect: Dialect) => {
  const result = bindNamedParameters(sql, dialect);
  if (!result.ok) throw new Error(result.message);
  return result.value;
};

describe('bindNamedParameters', () => {
  it('numbers names in PostgreSQL, reusing the number of a repeated name', () => {
    expect(
      bind(
        'SELECT * FROM c WHERE state = :state AND (CAST(:city AS text) IS NULL OR city = :city) LIMIT :max_rows',
        'postgres',
      ),
    ).toEqual({
      sql: 'SELECT * FROM c WHERE state = $1 AND (CAST($2 AS text) IS NULL OR city = $2) LIMIT $3',
      order: ['state', 'city', 'max_rows'],
      names: ['state', 'city', 'max_rows'],
    });
  });

  it('binds a repeated name twice with ? in MySQL and ODBC', () => {
    for (const dialect of ['mysql', 'odbc'] as const) {
      expect(bind('SELECT * FROM c WHERE a = :x OR b = :y OR c = :x', dialect)).toEqual({
        sql: 'SELECT * FROM c WHERE a = ? OR b = ? OR c = ?',
        order: ['x', 'y', 'x'],
        names: ['x', 'y'],
      });
    }
  });

  it('leaves casts, strings, quoted names and comments alone', () => {
    expect(
      bind(
        `SELECT :a::text, 'not :b', "col :c", x::int FROM t -- :d\nWHERE y = :e /* :f */`,
        'postgres',
      ).sql,
    ).toBe(`SELECT $1::text, 'not :b', "col :c", x::int FROM t -- :d\nWHERE y = $2 /* :f */`);
    expect(bind("SELECT 'not :b', `col :c` FROM t WHERE y = :e # :d", 'mysql').sql).toBe(
      "SELECT 'not :b', `col :c` FROM t WHERE y = ? # :d",
    );
  });

  it('keeps positions right after multi-byte characters', () => {
    expect(bind("SELECT 'ä€😀' AS x, :name AS y", 'postgres').sql).toBe(
      "SELECT 'ä€😀' AS x, $1 AS y",
    );
  });

  it('needs the colon right against the name', () => {
    expect(bind('SELECT a FROM t WHERE b = : c', 'postgres').order).toEqual([]);
  });

  it('refuses native placeholders mixed in', () => {
    expect(bindNamedParameters('SELECT * FROM t WHERE a = $1 AND b = :b', 'postgres').ok).toBe(
      false,
    );
    expect(bindNamedParameters('SELECT * FROM t WHERE a = ? AND b = :b', 'mysql').ok).toBe(false);
  });

  it('refuses text it cannot read', () => {
    expect(bindNamedParameters("SELECT 'open", 'postgres').ok).toBe(false);
    expect(bindNamedParameters("SELECT 'open", 'mysql').ok).toBe(false);
  });
});
