/**
 * Three-part names on ODBC sources (CONNX: catalog.schema.table): every
 * table resolves to a full (catalog, schema, table) from the defaults, or is
 * refused as AMBIGUOUS_TABLE; never guessed. PostgreSQL and MySQL keep
 * their two-part names.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from './cache.js';
import { analyze, checkRead, checkWrite, loadSqlGuard } from './guard.js';
import { tableAllowed } from './tables.js';
import type { GuardOptions, GuardResult } from './types.js';

beforeAll(() => loadSqlGuard());

const CONNX: GuardOptions = {
  dialect: 'odbc',
  defaultCatalog: 'daea_mainframe_vsam',
  defaultSchema: 'dbo',
  allowedTables: ['daea_mainframe_vsam.dbo.*', 'sales.dbo.orders'],
};

const resolved = (result: GuardResult) =>
  result.ok
    ? result.analysis.resolvedTables.map((t) => `${t.catalog}.${t.schema}.${t.name}`)
    : `${result.reason}: ${result.message}`;

describe('odbc: three-part names', () => {
  it.each([
    [
      'SELECT * FROM daea_Mainframe_VSAM.dbo.CUSTOMERS_VSAM',
      'daea_mainframe_vsam.dbo.customers_vsam',
    ],
    ['SELECT * FROM dbo.customers_vsam', 'daea_mainframe_vsam.dbo.customers_vsam'],
    ['SELECT * FROM customers_vsam', 'daea_mainframe_vsam.dbo.customers_vsam'],
    ['SELECT * FROM daea_mainframe_vsam..customers_vsam', 'daea_mainframe_vsam.dbo.customers_vsam'],
    [
      'SELECT * FROM "daea_mainframe_vsam"."dbo"."customers_vsam"',
      'daea_mainframe_vsam.dbo.customers_vsam',
    ],
    [
      'SELECT * FROM "daea_mainframe_vsam".."customers_vsam"',
      'daea_mainframe_vsam.dbo.customers_vsam',
    ],
    ['SELECT o.id FROM sales.dbo.orders o WHERE o.id = ?', 'sales.dbo.orders'],
  ])('resolves %j to %s', (sql, table) => {
    expect(resolved(checkRead(sql, CONNX))).toEqual([table]);
  });

  it('reports the written catalog in the analysis', () => {
    const result = analyze('SELECT * FROM sales..orders JOIN a.b.c ON 1 = 1', { dialect: 'odbc' });
    expect(result.ok && result.analysis.tables).toEqual([
      { catalog: 'sales', schema: null, name: 'orders', access: 'read' },
      { catalog: 'a', schema: 'b', name: 'c', access: 'read' },
    ]);
  });

  it.each([
    // Another catalog, reached by writing it, by case or by a quoted spelling.
    ['SELECT * FROM other.dbo.customers_vsam', 'TABLE_NOT_ALLOWED'],
    ['SELECT * FROM sales.dbo.customers', 'TABLE_NOT_ALLOWED'],
    ['SELECT * FROM sales..customers', 'TABLE_NOT_ALLOWED'],
    ['SELECT * FROM "DAEA_MAINFRAME_VSAM".dbo.customers_vsam', 'TABLE_NOT_ALLOWED'],
    ['SELECT * FROM daea_mainframe_vsam."DBO".customers_vsam', 'TABLE_NOT_ALLOWED'],
    ['SELECT * FROM daea_mainframe_vsam.connxdb.customers_vsam', 'TABLE_NOT_ALLOWED'],
    // The schema default does not stretch to another schema, nor the catalog default to a schema.
    ['SELECT * FROM connxdb.customers_vsam', 'TABLE_NOT_ALLOWED'],
    ['SELECT * FROM sales.orders', 'TABLE_NOT_ALLOWED'],
    // Four parts, stray dots, a leading dot: not names.
    ['SELECT * FROM x.daea_mainframe_vsam.dbo.customers_vsam', 'PARSE_ERROR'],
    ['SELECT * FROM daea_mainframe_vsam...customers_vsam', 'PARSE_ERROR'],
    ['SELECT * FROM daea_mainframe_vsam..dbo..customers_vsam', 'PARSE_ERROR'],
    ['SELECT * FROM daea_mainframe_vsam.dbo..customers_vsam', 'PARSE_ERROR'],
    ['SELECT * FROM .dbo.customers_vsam', 'PARSE_ERROR'],
    // The placeholder of `..` cannot be written.
    [
      'SELECT * FROM daea_mainframe_vsam."sqlwarden:skipped-schema".customers_vsam',
      'UNSUPPORTED_SYNTAX',
    ],
    // System catalogs stay refused in any catalog.
    ['SELECT * FROM daea_mainframe_vsam.information_schema.tables', 'CATALOG_QUERY'],
    ['SELECT * FROM daea_mainframe_vsam.sys.tables', 'CATALOG_QUERY'],
  ])('refuses %j with %s', (sql, reason) => {
    const result = checkRead(sql, CONNX);
    expect(result.ok ? 'accepted' : result.reason).toBe(reason);
  });

  it('names the three-part table in the refusal', () => {
    const result = checkRead('SELECT * FROM other.dbo.customers_vsam', CONNX);
    expect(!result.ok && result.message).toContain('other.dbo.customers_vsam is not allowed');
  });
});

describe('odbc: a default that is needed and not configured makes the name ambiguous', () => {
  const noCatalog: GuardOptions = {
    dialect: 'odbc',
    defaultSchema: 'dbo',
    allowedTables: ['daea.dbo.*'],
  };
  const noSchema: GuardOptions = {
    dialect: 'odbc',
    defaultCatalog: 'daea',
    allowedTables: ['daea.dbo.*'],
  };

  it.each([
    [noCatalog, 'SELECT * FROM dbo.customers', 'dbo.customers names no catalog', 'defaultCatalog'],
    [noCatalog, 'SELECT * FROM customers', 'customers names no catalog', 'defaultCatalog'],
    [noSchema, 'SELECT * FROM customers', 'customers names no schema', 'defaultSchema'],
    [noSchema, 'SELECT * FROM daea..customers', 'daea..customers names no schema', 'defaultSchema'],
  ])('%#: %s', (options, sql, what, setting) => {
    const result = checkRead(sql, options);
    expect(result).toMatchObject({ ok: false, reason: 'AMBIGUOUS_TABLE' });
    expect(!result.ok && result.message).toContain(what);
    expect(!result.ok && result.message).toContain(`configure ${setting}`);
  });

  it('accepts what needs no default', () => {
    expect(resolved(checkRead('SELECT * FROM daea.dbo.customers', noCatalog))).toEqual([
      'daea.dbo.customers',
    ]);
    expect(resolved(checkRead('SELECT * FROM daea.dbo.customers', noSchema))).toEqual([
      'daea.dbo.customers',
    ]);
    expect(resolved(checkRead('SELECT * FROM dbo.customers', noSchema))).toEqual([
      'daea.dbo.customers',
    ]);
  });

  it('refuses a statement that names a catalog and leaves it out elsewhere, even without an allow list', () => {
    const open: GuardOptions = { dialect: 'odbc' };
    expect(checkRead('SELECT * FROM daea.dbo.a JOIN dbo.b ON 1 = 1', open)).toMatchObject({
      ok: false,
      reason: 'AMBIGUOUS_TABLE',
    });
    expect(checkRead('SELECT * FROM daea..a', open)).toMatchObject({
      ok: false,
      reason: 'AMBIGUOUS_TABLE',
    });
    expect(resolved(checkRead('SELECT * FROM daea.dbo.a', open))).toEqual(['daea.dbo.a']);
  });

  it('keeps two-part ODBC sources (no catalog anywhere) as they were', () => {
    const twoPart: GuardOptions = {
      dialect: 'odbc',
      defaultSchema: 'public',
      allowedTables: ['public.*'],
    };
    const result = checkRead('SELECT * FROM orders JOIN public.items ON 1 = 1', twoPart);
    expect(result.ok && result.analysis.resolvedTables).toEqual([
      { schema: 'public', name: 'orders', access: 'read' },
      { schema: 'public', name: 'items', access: 'read' },
    ]);
    // A two-part pattern never matches a table of a catalog.
    expect(checkRead('SELECT * FROM db.public.orders', twoPart)).toMatchObject({
      ok: false,
      reason: 'TABLE_NOT_ALLOWED',
    });
  });
});

describe('odbc: writes with three-part names', () => {
  const options = {
    ...CONNX,
    writableTables: ['daea_mainframe_vsam.dbo.orders'],
    allowedTables: ['daea_mainframe_vsam.dbo.*'],
  };

  it('resolves the target and what the write reads', () => {
    const result = checkWrite(
      'UPDATE daea_mainframe_vsam..orders SET note = ? WHERE id IN (SELECT id FROM dbo.items)',
      options,
    );
    expect(result.ok && result.analysis.resolvedTables).toEqual([
      { catalog: 'daea_mainframe_vsam', schema: 'dbo', name: 'orders', access: 'write' },
      { catalog: 'daea_mainframe_vsam', schema: 'dbo', name: 'items', access: 'read' },
    ]);
  });

  it('refuses a target of another catalog', () => {
    expect(checkWrite('DELETE FROM other.dbo.orders WHERE id = 1', options)).toMatchObject({
      ok: false,
      reason: 'TABLE_NOT_ALLOWED',
    });
  });
});

describe('postgres and mysql keep two-part names', () => {
  it('postgres refuses a catalog, and `..`', () => {
    const options: GuardOptions = {
      dialect: 'postgres',
      defaultSchema: 'public',
      allowedTables: ['public.*'],
      defaultCatalog: 'test',
    };
    expect(checkRead('SELECT * FROM test.public.orders', options)).toMatchObject({
      ok: false,
      reason: 'UNSUPPORTED_SYNTAX',
    });
    expect(checkRead('SELECT * FROM test..orders', options).ok).toBe(false);
    expect(resolved(checkRead('SELECT * FROM orders', options))).toEqual([
      'undefined.public.orders',
    ]);
    // A quoted name that looks like the ODBC placeholder is an ordinary name here.
    expect(
      checkRead('SELECT * FROM "sqlwarden:skipped-schema".orders', {
        ...options,
        allowedTables: ['sqlwarden:skipped-schema.orders'],
      }).ok,
    ).toBe(true);
  });

  it('refuses a three-part allow-list pattern on postgres and mysql (a configuration error)', () => {
    for (const dialect of ['postgres', 'mysql'] as const) {
      expect(() =>
        checkRead('SELECT * FROM public.orders', {
          dialect,
          defaultSchema: 'public',
          allowedTables: ['db.public.*'],
        }),
      ).toThrow(TypeError);
    }
  });
});

describe('tableAllowed with catalogs', () => {
  it('matches a three-part pattern only in its catalog', () => {
    const patterns = ['daea.dbo.*', 'public.orders'];
    expect(tableAllowed(patterns, 'dbo', 'customers', 'daea')).toBe(true);
    expect(tableAllowed(patterns, 'dbo', 'customers', 'other')).toBe(false);
    expect(tableAllowed(patterns, 'dbo', 'customers')).toBe(false);
    expect(tableAllowed(patterns, 'public', 'orders')).toBe(true);
    expect(tableAllowed(patterns, 'public', 'orders', 'daea')).toBe(false);
  });
});

describe('the verdict cache with three-part names', () => {
  it('never lets one resolution answer for another', () => {
    const guard = createGuard(CONNX);
    const accepted = 'SELECT * FROM daea_mainframe_vsam..customers_vsam WHERE id = 1';
    expect(guard.checkRead(accepted).ok).toBe(true);
    for (const sql of [
      'SELECT * FROM other..customers_vsam WHERE id = 1',
      'SELECT * FROM daea_mainframe_vsam.sys.customers_vsam WHERE id = 1',
      'SELECT * FROM x.daea_mainframe_vsam..customers_vsam WHERE id = 1',
      'SELECT * FROM daea_mainframe_vsam...customers_vsam WHERE id = 1',
      'SELECT * FROM "Daea_mainframe_vsam"..customers_vsam WHERE id = 1',
    ]) {
      expect({ sql, ok: guard.checkRead(sql).ok }).toEqual({ sql, ok: false });
    }
    expect(guard.stats().hits).toBe(0);
    expect(guard.checkRead(accepted.replace('1', '2')).ok).toBe(true);
    expect(guard.stats().hits).toBe(1);
  });
});
