import { rowBytes } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import { RowBudget } from './budget.js';

describe('RowBudget', () => {
  it('keeps rows until maxRows, and says maxRows at the row after', () => {
    const budget = new RowBudget({ maxRows: 2, maxBytes: 1000 });
    expect(budget.take([1])).toBe(true);
    expect(budget.take([2])).toBe(true);
    expect(budget.full).toBe(true);
    expect(budget.take([3])).toBe(false);
    expect(budget.result([{ name: 'n', type: 'int' }])).toEqual({
      columns: [{ name: 'n', type: 'int' }],
      rows: [[1], [2]],
      rowCount: 2,
      truncated: true,
      truncatedReason: 'maxRows',
    });
  });

  it('keeps rows that fill maxBytes exactly, and refuses the one that passes it', () => {
    const row = ['x'.repeat(8)];
    const size = rowBytes(row);
    const budget = new RowBudget({ maxRows: 10, maxBytes: size * 2 });
    expect(budget.take([...row])).toBe(true);
    expect(budget.admits(size)).toBe(true);
    expect(budget.admits(size + 1)).toBe(false);
    expect(budget.take([...row])).toBe(true);
    expect(budget.take([...row])).toBe(false);
    expect(budget.reason).toBe('maxBytes');
    expect(budget.admits(0)).toBe(false);
    expect(budget.rows).toHaveLength(2);
  });

  it('is not truncated when nothing was cut, and says why when a read is cut short', () => {
    const untouched = new RowBudget({ maxRows: 5, maxBytes: 100 });
    untouched.take([1]);
    expect(untouched.result([]).truncated).toBe(false);
    expect(untouched.result([]).truncatedReason).toBeUndefined();
    const cut = new RowBudget({ maxRows: 5, maxBytes: 100 });
    cut.cut();
    expect(cut.reason).toBe('maxBytes');
    const full = new RowBudget({ maxRows: 1, maxBytes: 100 });
    full.take([1]);
    full.cut();
    expect(full.reason).toBe('maxRows');
    const known = new RowBudget({ maxRows: 5, maxBytes: 100 });
    known.cut('maxRows');
    known.cut('maxBytes');
    expect(known.reason).toBe('maxRows');
  });
});
