import { describe, expect, it } from 'vitest';
import {
  boundMessage,
  ERROR_CODE_LIST,
  ERROR_CODES,
  isErrorCode,
  normalizeError,
  SqlwardenError,
} from './errors.js';

describe('the error code table', () => {
  it('is pinned: changing a code or its retryability is a deliberate, changeset-worthy act', () => {
    const pinned = Object.fromEntries(
      Object.entries(ERROR_CODES).map(([code, entry]) => [code, entry.retryable]),
    );
    expect(pinned).toEqual({
      SESSION_INVALID: false,
      UNKNOWN_TOOL: false,
      INVALID_INPUT: false,
      READ_ONLY: false,
      WRITES_DISABLED: false,
      CONFIRMATION_REQUIRED: false,
      CONFIRMATION_DECLINED: false,
      FORBIDDEN: false,
      RATE_LIMITED: true,
      CONCURRENCY_LIMITED: true,
      QUOTA_UNAVAILABLE: true,
      QUERY_REJECTED: false,
      QUERY_TIMEOUT: false,
      QUERY_CANCELLED: true,
      QUERY_FAILED: false,
      COST_LIMIT_EXCEEDED: false,
      WRITE_LIMIT_EXCEEDED: false,
      NOT_FOUND: false,
      DB_UNAVAILABLE: true,
      SOURCE_BUSY: true,
      OUTCOME_UNKNOWN: false,
      INTERNAL: false,
    });
  });

  it('gives every code a one-sentence meaning', () => {
    for (const code of ERROR_CODE_LIST) {
      expect(ERROR_CODES[code].meaning).toMatch(/^[A-Z].{10,}\.$/);
    }
  });

  it('recognises only its own codes, not inherited object keys', () => {
    expect(isErrorCode('FORBIDDEN')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode('__proto__')).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
  });
});

describe('normalizeError', () => {
  it('keeps the code and message of a SqlwardenError', () => {
    const error = new SqlwardenError('DB_UNAVAILABLE', 'The database is down.', {
      retryAfterMs: 500,
    });
    expect(normalizeError(error)).toEqual({
      code: 'DB_UNAVAILABLE',
      message: 'The database is down.',
      retryAfterMs: 500,
    });
  });

  it('turns any other error into INTERNAL without its message, which may hold driver text', () => {
    const driverError = Object.assign(new Error('relation "secret_table" does not exist'), {
      code: '42P01',
    });
    const payload = normalizeError(driverError);
    expect(payload.code).toBe('INTERNAL');
    expect(payload.message).not.toContain('secret_table');
  });

  it('handles thrown values that are not errors at all', () => {
    for (const thrown of [undefined, null, 'boom', 42, Symbol('x'), { code: 'FORBIDDEN' }]) {
      expect(normalizeError(thrown).code).toBe('INTERNAL');
    }
  });

  it('recognises a SqlwardenError by its brand, as a second copy of the package would', () => {
    const error = new SqlwardenError('NOT_FOUND', 'No such table.');
    const lookalike = Object.assign(Object.create(null), { code: 'NOT_FOUND', message: 'x' });
    expect(SqlwardenError.is(error)).toBe(true);
    expect(SqlwardenError.is(lookalike)).toBe(false);
  });

  it('keeps the original error as cause for the server side', () => {
    const cause = new Error('driver detail');
    expect(new SqlwardenError('INTERNAL', 'x', { cause }).cause).toBe(cause);
  });
});

describe('boundMessage', () => {
  it('makes a message one line without control characters', () => {
    expect(boundMessage('a\nb\u0000c\td')).toBe('a b c d');
  });

  it('caps the length of a message', () => {
    const long = boundMessage('x'.repeat(10_000));
    expect(long.length).toBeLessThanOrEqual(500);
    expect(long.endsWith('…')).toBe(true);
  });

  it('cuts a long refusal before its rule tag, which survives', () => {
    const long = boundMessage(`${'name '.repeat(200)}[rule COLUMN_MASKED]`);
    expect(long.length).toBeLessThanOrEqual(500);
    expect(long.endsWith('… [rule COLUMN_MASKED]')).toBe(true);
    // A short one is left alone; a tag that is not at the end is text like any other.
    expect(boundMessage('short [rule X]')).toBe('short [rule X]');
    expect(boundMessage(`[rule X] ${'y'.repeat(600)}`).endsWith('y…')).toBe(true);
  });
});
