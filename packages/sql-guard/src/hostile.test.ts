import { beforeAll, describe, expect, it } from 'vitest';
import { checkRead, checkWrite, DEFAULT_MAX_LENGTH, loadSqlGuard } from './guard.js';
import { CORPUS_OPTIONS } from './test-support.js';
import type { Dialect } from './types.js';

beforeAll(() => loadSqlGuard());

const DIALECTS: readonly Dialect[] = ['postgres', 'mysql', 'odbc'];

function reasonOf(dialect: Dialect, sql: string, maxLength?: number) {
  const result = checkRead(sql, { ...CORPUS_OPTIONS[dialect], maxLength });
  return result.ok ? 'accepted' : result.reason;
}

describe.each(DIALECTS)('hostile shapes fail closed (%s)', (dialect) => {
  it('refuses empty and comment-only input', () => {
    for (const sql of ['', ' ', '\n\t', '/* */', '-- x', '/* a */ -- b']) {
      expect(['EMPTY_STATEMENT']).toContain(reasonOf(dialect, sql));
    }
  });

  it('refuses 8,000 levels of nested parentheses without overflowing', () => {
    const sql = `SELECT ${'('.repeat(8000)}1${')'.repeat(8000)}`;
    const reason = reasonOf(dialect, sql);
    // PostgreSQL's own parser copes with the depth; the statement is then a harmless read.
    if (dialect === 'postgres') expect(reason).toBe('accepted');
    else expect(reason).toBe('NESTING_TOO_DEEP');
  });

  it('refuses 8,000 nested subqueries hiding a forbidden function, without overflowing', () => {
    const sleep = dialect === 'mysql' ? 'SLEEP(1)' : 'pg_sleep(1)';
    const sql = `SELECT ${'(SELECT '.repeat(8000)}${sleep}${')'.repeat(8000)}`;
    expect(['NESTING_TOO_DEEP', 'FORBIDDEN_FUNCTION']).toContain(reasonOf(dialect, sql));
  });

  it('refuses a 1 MB statement with TOO_LONG, and honours a configured limit', () => {
    const big = `SELECT ${'1,'.repeat(500_000)}1`;
    expect(big.length).toBeGreaterThan(DEFAULT_MAX_LENGTH);
    expect(reasonOf(dialect, big)).toBe('TOO_LONG');
    expect(reasonOf(dialect, 'SELECT 12345', 10)).toBe('TOO_LONG');
  });

  it('refuses NUL bytes and invalid Unicode', () => {
    expect(reasonOf(dialect, 'SELECT 1\u0000; DROP TABLE orders')).toBe('INVALID_CHARACTER');
    expect(reasonOf(dialect, "SELECT '\uD800'")).toBe('INVALID_CHARACTER');
    expect(reasonOf(dialect, "SELECT '\uDC00x'")).toBe('INVALID_CHARACTER');
    expect(reasonOf(dialect, "SELECT '😀' AS ok")).toBe('accepted');
  });

  it('refuses input that is not a string instead of throwing', () => {
    for (const value of [undefined, null, 42, {}, ['SELECT 1']]) {
      expect(checkRead(value as unknown as string, CORPUS_OPTIONS[dialect]).ok).toBe(false);
      expect(checkWrite(value as unknown as string, CORPUS_OPTIONS[dialect]).ok).toBe(false);
    }
  });
});

describe('rejection messages', () => {
  const SECRET = 'sk_live_51HxQ9fakeSecret';
  const probes: ReadonlyArray<readonly [Dialect, string]> = [
    ['postgres', `SELECT pg_sleep(1), '${SECRET}'`],
    ['postgres', `SELECT * FROM hr.salaries WHERE key = '${SECRET}'`],
    ['postgres', `SELECT '${SECRET}'; DROP TABLE orders`],
    ['postgres', `SELECT * INTO t FROM orders WHERE k = '${SECRET}'`],
    ['postgres', `SELECT '${SECRET}' FRMO orders`],
    ['mysql', `SELECT SLEEP(1), '${SECRET}'`],
    ['mysql', `SELECT '${SECRET}' /*! DROP */`],
    ['mysql', `SELECT * FROM mysql.user WHERE x = "${SECRET}"`],
    ['mysql', `SELECT '${SECRET}' INTO OUTFILE '/tmp/${SECRET}'`],
    ['odbc', `SELECT E'${SECRET}'`],
    ['odbc', `SELECT * FROM secret.t WHERE x = '${SECRET}'`],
  ];

  it.each(probes)('%s: never echoes a literal of %j', (dialect, sql) => {
    const result = checkRead(sql, CORPUS_OPTIONS[dialect]);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(JSON.stringify(result)).not.toContain('sk_live');
  });

  it('keeps messages to one bounded line', () => {
    const result = checkRead(
      `SELECT * FROM ${'x'.repeat(300)}.${'y'.repeat(300)}`,
      CORPUS_OPTIONS.mysql,
    );
    expect(!result.ok && result.message.length).toBeLessThan(400);
  });
});
