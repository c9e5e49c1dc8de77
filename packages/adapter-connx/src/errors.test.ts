import { describe, expect, it } from 'vitest';
import { odbcErrors } from './errors.js';
import { OdbcDriverError, WorkerLostError } from './host.js';

const odbcError = (state: string) =>
  new OdbcDriverError({
    message: '[odbc] Error executing the sql statement',
    diagnostics: [{ state, code: 1, message: `ERROR: secret_table_name PARAMCANARY (${state})` }],
  });

const context = { timeoutMs: 1500, sql: 'SELECT 1', paramCount: 0 };

describe('ODBC errors', () => {
  it('takes a worker that ended, and SQLSTATE class 08, as a lost connection', () => {
    expect(
      odbcErrors.isConnectionError(new WorkerLostError('the ODBC worker ended (SIGSEGV)')),
    ).toBe(true);
    expect(odbcErrors.isConnectionError(odbcError('08S01'))).toBe(true);
    // The SQLSTATE is the error's code: what the operator's outage log shows.
    expect(odbcError('08S01').code).toBe('08S01');
    // psqlODBC: a session the server ended (pg_terminate_backend, shutdown).
    expect(odbcErrors.isConnectionError(odbcError('57P01'))).toBe(true);
    expect(odbcErrors.isConnectionError(odbcError('42601'))).toBe(false);
    // Whatever the SQLSTATE, when the driver says the connection is dead.
    const dead = new OdbcDriverError({
      message: '[odbc] Error executing the sql statement',
      diagnostics: [{ state: 'HY000', code: 1, message: 'server closed the connection' }],
      connectionDead: true,
    });
    expect(odbcErrors.isConnectionError(dead)).toBe(true);
    expect(odbcErrors.isConnectionError(odbcError('HY000'))).toBe(false);
  });

  it("maps the statement's own time limit to QUERY_TIMEOUT, naming the limit", () => {
    for (const state of ['HYT00', 'HY008', '57014']) {
      const mapped = odbcErrors.map(odbcError(state), context);
      expect(mapped.code).toBe('QUERY_TIMEOUT');
      expect(mapped.message).toContain('1500 ms');
    }
    // MariaDB's max_statement_time (1969; MariaDB ODBC says HY018, the server 70100);
    // an operator's KILL QUERY (1317) is not the statement's time limit.
    const native = (state: string, code: number) =>
      new OdbcDriverError({
        message: '[odbc] Error executing the sql statement',
        diagnostics: [{ state, code, message: 'Query execution was interrupted' }],
      });
    expect(odbcErrors.map(native('HY018', 1969), context).code).toBe('QUERY_TIMEOUT');
    expect(odbcErrors.map(native('70100', 1969), context).code).toBe('QUERY_TIMEOUT');
    expect(odbcErrors.map(native('70100', 1317), context).code).toBe('QUERY_FAILED');
  });

  it("words the rest by SQLSTATE, never with the driver's text", () => {
    for (const state of ['42601', '42S02', '42P01', '42S22', '42703', '07002', '22012', 'HY000']) {
      const mapped = odbcErrors.map(odbcError(state), context);
      expect(mapped.message).not.toContain('PARAMCANARY');
      expect(mapped.message).not.toContain('secret_table_name');
    }
    expect(odbcErrors.map(odbcError('42S02'), context).code).toBe('NOT_FOUND');
    expect(odbcErrors.map(odbcError('25006'), context).code).toBe('READ_ONLY');
    expect(odbcErrors.map(odbcError('22012'), context).message).toBe(
      'The statement divides by zero: guard the divisor, for example with NULLIF(x, 0).',
    );
    expect(odbcErrors.map(odbcError('22003'), context).message).toContain('SQLSTATE 22003');
  });

  it('reads the native error number only where MySQL reuses a generic SQLSTATE (MariaDB ODBC)', () => {
    const mysqlError = (state: string, code: number) =>
      new OdbcDriverError({
        message: '[odbc] Error executing the sql statement',
        diagnostics: [{ state, code, message: `secret_table_name (${code})` }],
      });
    expect(odbcErrors.map(mysqlError('23000', 1052), context).message).toBe(
      'A column name of the statement is ambiguous: qualify it with its table or alias.',
    );
    // 23000 without 1052 is an integrity constraint, as its class says.
    expect(odbcErrors.map(mysqlError('23000', 1062), context).message).toContain('SQLSTATE 23000');
    expect(odbcErrors.map(mysqlError('42000', 1064), context).message).toBe(
      'The database could not parse the statement: check its syntax.',
    );
    expect(odbcErrors.map(mysqlError('42000', 1055), context).message).toMatch(
      /^A selected column must appear in GROUP BY/,
    );
    expect(odbcErrors.map(odbcError('42702'), context).message).toMatch(/ambiguous/);
  });

  it('says how many parameters the statement takes when the odbc package refuses the count (no SQLSTATE)', () => {
    const refused = new OdbcDriverError({ message: '[odbc] parameters', diagnostics: [] });
    const mapped = odbcErrors.map(refused, {
      timeoutMs: 1500,
      sql: 'SELECT ? AS a, ? AS b',
      paramCount: 1,
    });
    expect(mapped.message).toBe(
      'The statement takes 2 parameters but 1 value was given: give one value for each ?.',
    );
  });
});
