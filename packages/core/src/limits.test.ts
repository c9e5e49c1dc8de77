import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, resolveLimits } from './limits.js';

describe('resolveLimits', () => {
  it('takes the smallest value of each limit', () => {
    expect(resolveLimits(DEFAULT_LIMITS, { maxRows: 10 }, { timeoutMs: 50, maxRows: 20 })).toEqual({
      ...DEFAULT_LIMITS,
      maxRows: 10,
      timeoutMs: 50,
    });
  });

  it('never raises a limit above the base', () => {
    expect(resolveLimits(DEFAULT_LIMITS, { maxRows: 1_000_000, timeoutMs: 3_600_000 })).toEqual(
      DEFAULT_LIMITS,
    );
  });

  it('ignores overrides that are not positive integers instead of letting them lift the cap', () => {
    const bogus = { maxRows: 0, maxBytes: -1, timeoutMs: Number.NaN, maxAffectedRows: 1.5 };
    expect(resolveLimits(DEFAULT_LIMITS, bogus)).toEqual(DEFAULT_LIMITS);
  });

  it('refuses an invalid base, including zero', () => {
    expect(() => resolveLimits({ ...DEFAULT_LIMITS, maxRows: 0 })).toThrow(/maxRows/);
    expect(() => resolveLimits({ ...DEFAULT_LIMITS, timeoutMs: Number.POSITIVE_INFINITY })).toThrow(
      /timeoutMs/,
    );
  });
});
