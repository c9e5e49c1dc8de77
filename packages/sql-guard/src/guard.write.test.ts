import { beforeAll, describe, expect, it } from 'vitest';
import { checkWrite, loadSqlGuard } from './guard.js';
import type { Dialect, WriteGuardOptions } from './types.js';

beforeAll(() => loadSqlGuard());

const OPTIONS = {
  postgres: {
    dialect: 'postgres',
    defaultSchema: 'public',
    allowedTables: ['public.*', 'ref.countries'],
    writableTables: ['public.orders', 'public.order_items'],
  },
  mysql: {
    dialect: 'mysql',
    defaultSchema: 'app',
    allowedTables: ['app.*', 'ref.countries'],
    writableTables: ['app.orders', 'app.order_items'],
  },
  odbc: {
    dialect: 'odbc',
    defaultSchema: 'public',
    allowedTables: ['public.*', 'ref.countries'],
    writableTables: ['public.orders', 'public.order_items'],
  },
} as const satisfies Record<Dialect, WriteGuardOptions>;

function reasonOf(dialect: Dialect, sql: string, options: Partial<WriteGuardOptions> = {}) {
  const result = checkWrite(sql, { ...OPTIONS[dialect], ...options });
  return result.ok ? 'accepted' : result.reason;
}

const ALL: readonly Dialect[] = ['postgres', 'mysql', 'odbc'];

describe('checkWrite', () => {
  it.each(ALL)('%s: accepts one INSERT, UPDATE or DELETE on a writable table', (dialect) => {
    expect(reasonOf(dialect, "INSERT INTO orders (id, status) VALUES (1, 'new')")).toBe('accepted');
    expect(reasonOf(dialect, "UPDATE orders SET status = 'shipped' WHERE id = 1")).toBe('accepted');
    expect(reasonOf(dialect, 'DELETE FROM order_items WHERE order_id = 1')).toBe('accepted');
    expect(
      reasonOf(
        dialect,
        'UPDATE orders SET status = ? WHERE id = ?'.replaceAll(
          '?',
          dialect === 'postgres' ? '$1' : '?',
        ),
      ),
    ).toBe('accepted');
  });

  it.each(ALL)(
    '%s: refuses reads and everything that is not one INSERT, UPDATE or DELETE',
    (dialect) => {
      expect(reasonOf(dialect, 'SELECT * FROM orders')).toBe('NOT_A_WRITE');
      expect(reasonOf(dialect, 'DROP TABLE orders')).toBe('NOT_A_WRITE');
      expect(reasonOf(dialect, 'TRUNCATE orders')).toBe('NOT_A_WRITE');
      expect(reasonOf(dialect, 'COMMIT')).toBe('TRANSACTION_CONTROL');
      expect(
        reasonOf(dialect, "UPDATE orders SET status = 'x' WHERE id = 1; DROP TABLE orders"),
      ).toBe('MULTI_STATEMENT');
      expect(reasonOf(dialect, "UPDATE orders SET status = 'x' WHERE id = 1;;")).toBe('SEMICOLON');
      // One trailing semicolon is fine, except on ODBC sources.
      expect(reasonOf(dialect, "UPDATE orders SET status = 'x' WHERE id = 1;")).toBe(
        dialect === 'odbc' ? 'SEMICOLON' : 'accepted',
      );
    },
  );

  it('refuses REPLACE and MERGE, which delete as they write', () => {
    expect(reasonOf('mysql', "REPLACE INTO orders (id, status) VALUES (1, 'x')")).toBe(
      'NOT_A_WRITE',
    );
    expect(
      reasonOf(
        'postgres',
        'MERGE INTO orders t USING ref.countries s ON t.id = s.id WHEN MATCHED THEN DELETE',
      ),
    ).toBe('NOT_A_WRITE');
  });

  it.each(ALL)(
    '%s: refuses a target outside the writable tables, even when readable',
    (dialect) => {
      expect(reasonOf(dialect, "UPDATE customers SET name = 'x' WHERE id = 1")).toBe(
        'TABLE_NOT_ALLOWED',
      );
      expect(reasonOf(dialect, 'DELETE FROM secret.keys WHERE id = 1')).toBe('TABLE_NOT_ALLOWED');
      const result = checkWrite("UPDATE customers SET name = 'x' WHERE id = 1", OPTIONS[dialect]);
      expect(!result.ok && result.message).toMatch(/customers is not allowed for writing/);
    },
  );

  it.each(ALL)(
    '%s: refuses reading a table outside the read allow list while writing',
    (dialect) => {
      expect(reasonOf(dialect, 'INSERT INTO orders (id) SELECT id FROM secret.keys')).toBe(
        'TABLE_NOT_ALLOWED',
      );
      expect(
        reasonOf(
          dialect,
          'UPDATE orders SET status = (SELECT k FROM secret.keys LIMIT 1) WHERE id = 1',
        ),
      ).toBe('TABLE_NOT_ALLOWED');
      expect(reasonOf(dialect, 'DELETE FROM orders WHERE id IN (SELECT id FROM secret.keys)')).toBe(
        'TABLE_NOT_ALLOWED',
      );
      expect(reasonOf(dialect, 'INSERT INTO orders (id) SELECT id FROM ref.countries')).toBe(
        'accepted',
      );
    },
  );

  it('refuses UPDATE ... FROM and DELETE ... USING from tables that may not be read', () => {
    expect(
      reasonOf(
        'postgres',
        'UPDATE orders SET status = k.v FROM secret.keys k WHERE k.id = orders.id',
      ),
    ).toBe('TABLE_NOT_ALLOWED');
    expect(
      reasonOf('postgres', 'DELETE FROM orders USING secret.keys k WHERE k.id = orders.id'),
    ).toBe('TABLE_NOT_ALLOWED');
    expect(
      reasonOf(
        'postgres',
        'UPDATE orders SET status = c.code FROM ref.countries c WHERE c.id = orders.country_id',
      ),
    ).toBe('accepted');
  });

  it('treats every table of a MySQL multi-table UPDATE as written (fail closed)', () => {
    expect(
      reasonOf(
        'mysql',
        'UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.status = c.tier WHERE o.id = 1',
      ),
    ).toBe('TABLE_NOT_ALLOWED');
    expect(
      reasonOf(
        'mysql',
        'UPDATE orders o JOIN order_items i ON i.order_id = o.id SET o.status = i.status WHERE o.id = 1',
      ),
    ).toBe('accepted');
  });

  it.each(ALL)(
    '%s: refuses UPDATE and DELETE without a WHERE that refers to a column',
    (dialect) => {
      expect(reasonOf(dialect, "UPDATE orders SET status = 'x'")).toBe('WRITE_WITHOUT_WHERE');
      expect(reasonOf(dialect, 'DELETE FROM orders')).toBe('WRITE_WITHOUT_WHERE');
      expect(reasonOf(dialect, 'DELETE FROM orders WHERE 1 = 1')).toBe('WRITE_WITHOUT_WHERE');
      expect(reasonOf(dialect, 'DELETE FROM orders', { allowWriteWithoutWhere: true })).toBe(
        'accepted',
      );
      expect(reasonOf(dialect, 'INSERT INTO orders (id) VALUES (1)')).toBe('accepted');
    },
  );

  it('refuses a WITH clause that writes, and accepts one that reads', () => {
    expect(
      reasonOf(
        'postgres',
        'WITH d AS (DELETE FROM order_items WHERE id = 1 RETURNING order_id) UPDATE orders SET status = 1 WHERE id IN (SELECT order_id FROM d)',
      ),
    ).toBe('DATA_MODIFYING_CTE');
    expect(
      reasonOf(
        'postgres',
        "WITH c AS (SELECT id FROM customers WHERE tier = 'gold') UPDATE orders SET status = 'vip' WHERE customer_id IN (SELECT id FROM c)",
      ),
    ).toBe('accepted');
  });

  it('refuses RETURNING when the caller reports affected rows only', () => {
    const sql = "UPDATE orders SET status = 'x' WHERE id = 1 RETURNING id";
    expect(reasonOf('postgres', sql)).toBe('accepted');
    expect(reasonOf('postgres', sql, { allowReturning: false })).toBe('RETURNING_NOT_ALLOWED');
    expect(
      reasonOf('postgres', "UPDATE orders SET status = 'x' WHERE id = 1", {
        allowReturning: false,
      }),
    ).toBe('accepted');
  });

  it('allows RETURNING only of targets that may be read', () => {
    expect(reasonOf('postgres', "UPDATE orders SET status = 'x' WHERE id = 1 RETURNING *")).toBe(
      'accepted',
    );
    expect(
      reasonOf('postgres', "UPDATE orders SET status = 'x' WHERE id = 1 RETURNING *", {
        allowedTables: ['ref.countries'],
      }),
    ).toBe('RETURNING_NOT_ALLOWED');
  });

  it.each(ALL)('%s: applies the function rules of reads', (dialect) => {
    const sleep = dialect === 'mysql' ? 'SLEEP(10)' : 'pg_sleep(10)';
    expect(reasonOf(dialect, `DELETE FROM orders WHERE id = 1 OR ${sleep} IS NOT NULL`)).toBe(
      'FORBIDDEN_FUNCTION',
    );
    const file = dialect === 'mysql' ? "LOAD_FILE('/etc/passwd')" : "pg_read_file('/etc/passwd')";
    expect(reasonOf(dialect, `INSERT INTO orders (note) VALUES (${file})`)).toBe(
      'FORBIDDEN_FUNCTION',
    );
  });

  it('resolves targets and reads for capability checks', () => {
    const result = checkWrite(
      'INSERT INTO orders (id) SELECT id FROM ref.countries',
      OPTIONS.postgres,
    );
    expect(result.ok && result.analysis.resolvedTables).toEqual([
      { schema: 'public', name: 'orders', access: 'write' },
      { schema: 'ref', name: 'countries', access: 'read' },
    ]);
  });

  it('uses the read allow list for writes when no writable list is given', () => {
    expect(
      checkWrite("UPDATE customers SET name = 'x' WHERE id = 1", {
        dialect: 'postgres',
        defaultSchema: 'public',
        allowedTables: ['public.*'],
      }).ok,
    ).toBe(true);
  });
});
