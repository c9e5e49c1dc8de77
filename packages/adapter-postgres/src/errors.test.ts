import { describe, expect, it } from 'vitest';
import { mapPostgresError } from './errors.js';

const pgError = (code: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { code, severity: 'ERROR', ...extra });

describe('mapPostgresError', () => {
  it.each([
    ['57014', 'QUERY_TIMEOUT'],
    ['25006', 'READ_ONLY'],
    ['42501', 'FORBIDDEN'],
    ['42P01', 'NOT_FOUND'],
    ['42703', 'QUERY_FAILED'],
    ['42601', 'QUERY_FAILED'],
    ['22P02', 'QUERY_FAILED'],
    ['23505', 'QUERY_FAILED'],
    ['57P01', 'DB_UNAVAILABLE'],
    ['08006', 'DB_UNAVAILABLE'],
    // Class 08, but a wrong parameter count in Bind, not a lost connection.
    ['08P01', 'QUERY_FAILED'],
    ['53300', 'DB_UNAVAILABLE'],
    ['28P01', 'DB_UNAVAILABLE'],
    ['XX000', 'QUERY_FAILED'],
  ])('maps SQLSTATE %s to %s', (code, expected) => {
    expect(mapPostgresError(pgError(code, 'x'), null, 1000).code).toBe(expected);
  });

  it('maps network failures to DB_UNAVAILABLE', () => {
    for (const error of [
      Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
    ]) {
      expect(mapPostgresError(error, null, 1000).code).toBe('DB_UNAVAILABLE');
    }
  });

  it('says QUERY_CANCELLED or QUERY_TIMEOUT when the adapter stopped the statement itself', () => {
    expect(mapPostgresError(pgError('57014', 'x'), 'abort', 1000).code).toBe('QUERY_CANCELLED');
    expect(mapPostgresError(new Error('anything'), 'timeout', 1000).code).toBe('QUERY_TIMEOUT');
  });

  it('never passes on the values or file paths a server message quotes', () => {
    const secret = 'card 4111-1111-1111-1111';
    const errors = [
      pgError('22P02', `invalid input syntax for type integer: "${secret}"`),
      pgError('23505', `duplicate key value violates unique constraint "u"`, {
        detail: `Key (card)=(${secret}) already exists.`,
      }),
      pgError('58P01', `could not open file "/etc/${secret}"`),
    ];
    for (const error of errors) {
      expect(mapPostgresError(error, null, 1000).message).not.toContain('4111');
    }
  });

  it('names the missing object the agent wrote, with the server hint when it suggests a column', () => {
    expect(
      mapPostgresError(pgError('42P01', 'relation "ordres" does not exist'), null, 1000).message,
    ).toMatch(/does not exist: ordres/);
    expect(
      mapPostgresError(
        pgError('42703', 'column "totl" does not exist', {
          hint: 'Perhaps you meant to reference the column "o.total".',
        }),
        null,
        1000,
      ).message,
    ).toMatch(/totl \(did you mean o\.total\?\)/);
  });

  it('keeps the driver error as cause for the operator log', () => {
    const error = pgError('42601', 'syntax error');
    expect(mapPostgresError(error, null, 1000).cause).toBe(error);
  });
});
