import { describe, expect, it } from 'vitest';
import {
  CATALOG_TABLE_PATTERN_PROBLEM,
  parseTablePattern,
  TABLE_PATTERN_PROBLEM,
  tablePatternMatches,
  tablePatternsOverlap,
} from './table-pattern.js';

describe('two-part patterns (every source)', () => {
  it('reads schema.table and schema.*', () => {
    expect(parseTablePattern('sales.orders')).toEqual({ schema: 'sales', table: 'orders' });
    expect(parseTablePattern('sales.*')).toEqual({ schema: 'sales', table: '*' });
  });

  it.each([
    '',
    'orders',
    '.orders',
    'sales.',
    '*.orders',
    'sales.ord*',
    'sa*.orders',
    'sales orders.x',
    'sales. orders',
    'cat.sales.orders',
    'cat..orders',
  ])('refuses %j', (text) => {
    expect(parseTablePattern(text)).toBeUndefined();
  });

  it('matches exactly, and never a table that has a catalog', () => {
    const pattern = parseTablePattern('sales.*');
    if (pattern === undefined) throw new Error('unparsed');
    expect(tablePatternMatches(pattern, 'sales', 'orders')).toBe(true);
    expect(tablePatternMatches(pattern, 'Sales', 'orders')).toBe(false);
    expect(tablePatternMatches(pattern, 'sales', 'orders', 'sales')).toBe(false);
  });
});

describe('three-part patterns ({ catalogs: true })', () => {
  const options = { catalogs: true } as const;

  it('reads catalog.schema.table and catalog.schema.*, and still two-part ones', () => {
    expect(parseTablePattern('daea.dbo.customers', options)).toEqual({
      catalog: 'daea',
      schema: 'dbo',
      table: 'customers',
    });
    expect(parseTablePattern('daea.dbo.*', options)).toEqual({
      catalog: 'daea',
      schema: 'dbo',
      table: '*',
    });
    expect(parseTablePattern('dbo.customers', options)).toEqual({
      schema: 'dbo',
      table: 'customers',
    });
  });

  it.each([
    'daea..customers',
    '.dbo.customers',
    'daea.dbo.',
    'daea.*.*',
    '*.dbo.customers',
    'daea.*.customers',
    'daea.dbo.cust*',
    'a.daea.dbo.customers',
    'daea.dbo.customers.',
    'daea.dbo. customers',
  ])('refuses %j', (text) => {
    expect(parseTablePattern(text, options)).toBeUndefined();
  });

  it('matches only tables of its catalog', () => {
    const pattern = parseTablePattern('daea.dbo.*', options);
    if (pattern === undefined) throw new Error('unparsed');
    expect(tablePatternMatches(pattern, 'dbo', 'customers', 'daea')).toBe(true);
    expect(tablePatternMatches(pattern, 'dbo', 'customers', 'other')).toBe(false);
    expect(tablePatternMatches(pattern, 'dbo', 'customers', 'DAEA')).toBe(false);
    expect(tablePatternMatches(pattern, 'dbo', 'customers')).toBe(false);
    expect(tablePatternMatches(pattern, 'connxdb', 'customers', 'daea')).toBe(false);
  });

  it('overlaps a pattern only within the same catalog', () => {
    const three = { catalog: 'daea', schema: 'dbo', table: '*' };
    expect(tablePatternsOverlap(three, { catalog: 'daea', schema: 'dbo', table: 'x' })).toBe(true);
    expect(tablePatternsOverlap(three, { catalog: 'vsam', schema: 'dbo', table: 'x' })).toBe(false);
    expect(tablePatternsOverlap(three, { schema: 'dbo', table: 'x' })).toBe(false);
    expect(tablePatternsOverlap(three, { catalog: 'daea', schema: '*', table: '*' })).toBe(true);
  });

  it('says what a pattern must look like', () => {
    expect(TABLE_PATTERN_PROBLEM).toContain('schema.table');
    expect(CATALOG_TABLE_PATTERN_PROBLEM).toContain('catalog.schema.table');
  });
});
