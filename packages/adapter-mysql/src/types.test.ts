import { RowBudget } from '@sqlwarden/adapter-kit';
import { describe, expect, it } from 'vitest';
import type { MysqlField } from './config.js';
import { BoundedRead } from './read.js';
import { float32, toBindValue, typeName } from './types.js';

const field = (columnType: number, extra: Partial<MysqlField> = {}): MysqlField => ({
  name: 'c',
  columnType,
  characterSet: 45,
  columnLength: 10,
  flags: 0,
  decimals: 0,
  ...extra,
});

describe('type names', () => {
  it('names result columns as information_schema.COLUMNS.DATA_TYPE does', () => {
    expect(typeName(field(0xfd))).toBe('varchar');
    expect(typeName(field(0xfd, { characterSet: 63 }))).toBe('varbinary');
    expect(typeName(field(0xfe, { flags: 256 }))).toBe('enum');
    expect(typeName(field(0xfe, { flags: 2048 }))).toBe('set');
    expect(typeName(field(0xfe, { characterSet: 63 }))).toBe('binary');
    expect(typeName(field(0xfc, { characterSet: 63, columnLength: 65_535 }))).toBe('blob');
    expect(typeName(field(0xfc, { characterSet: 63, columnLength: 4_294_967_295 }))).toBe(
      'longblob',
    );
    expect(typeName(field(0xfc, { columnLength: 1020 }))).toBe('tinytext');
    expect(typeName(field(0xfc, { columnLength: 262_140 }))).toBe('text');
    expect(typeName(field(0xfc, { columnLength: 67_108_860 }))).toBe('mediumtext');
    expect(typeName(field(0xfc, { columnLength: 4_294_967_295, extendedFormat: 'json' }))).toBe(
      'json',
    );
    expect(typeName(field(0xf5))).toBe('json');
    expect(typeName(field(0xfe, { extendedTypeName: 'uuid' }))).toBe('uuid');
    expect(typeName(field(0x08))).toBe('bigint');
    expect(typeName(field(0xf6))).toBe('decimal');
    expect(typeName(field(0x99))).toBe('unknown');
  });
});

describe('values', () => {
  it('prints FLOAT values as the shortest decimal of the same 32-bit float', () => {
    expect(float32(Math.fround(0.1))).toBe(0.1);
    expect(float32(Math.fround(1.2345678))).toBe(1.2345678);
    expect(float32(Math.fround(3e38))).toBe(3e38);
    expect(float32(0.5)).toBe(0.5);
  });

  it('maps a row in place and counts its JSON bytes against maxBytes', () => {
    const budget = new RowBudget({ maxRows: 10, maxBytes: 20 });
    const read = new BoundedRead(budget);
    read.fields([field(0x03), field(0x08), field(0x10, { characterSet: 63, columnLength: 4 })]);
    expect(read.row([1, '9007199254740993', Buffer.from([5])])).toBe(false);
    expect(budget.result(read.columns)).toEqual({
      columns: [
        { name: 'c', type: 'int' },
        { name: 'c', type: 'bigint' },
        { name: 'c', type: 'bit' },
      ],
      rows: [],
      rowCount: 0,
      truncated: true,
      truncatedReason: 'maxBytes',
    });
    const roomyBudget = new RowBudget({ maxRows: 1, maxBytes: 1000 });
    const roomy = new BoundedRead(roomyBudget);
    roomy.fields([field(0x03), field(0x10, { characterSet: 63, columnLength: 4 })]);
    expect(roomy.row([1, Buffer.from([5])])).toBe(true);
    expect(roomy.row([2, Buffer.from([6])])).toBe(false);
    expect(roomyBudget.result(roomy.columns)).toMatchObject({
      rows: [[1, '0101']],
      truncated: true,
      truncatedReason: 'maxRows',
    });
  });

  it('binds text, finite numbers, booleans and null, and refuses the rest', () => {
    expect([null, undefined, 'x', 1.5, true].map(toBindValue)).toEqual([
      null,
      null,
      'x',
      1.5,
      true,
    ]);
    expect(() => toBindValue(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => toBindValue([1])).toThrow(TypeError);
    expect(() => toBindValue({})).toThrow(TypeError);
  });
});
