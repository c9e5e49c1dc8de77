/**
 * ODBC errors to sqlwarden's: by SQLSTATE, the one thing every ODBC driver
 * reports the same way (the driver's text never reaches a client, so a
 * message names nothing: no column, table or place of the statement).
 * Where MySQL reuses a generic SQLSTATE for a specific error (1052, an
 * ambiguous column, is 23000; 1064 and 1055 are 42000), the native error
 * number of MariaDB ODBC's diagnostic decides, with that SQLSTATE only.
 */
import { type ErrorMapper, queryTimeout, statementFailure } from '@sqlwarden/adapter-kit';
import { OdbcDriverError, WorkerLostError } from './host.js';
import { placeholderCount } from './one-statement.js';

/** The SQLSTATE of an ODBC error, if it has one. */
function stateOf(error: unknown): string | undefined {
  return error instanceof OdbcDriverError ? error.state : undefined;
}

/** The native error number of the first diagnostic, if any. */
function nativeOf(error: unknown): number | undefined {
  return error instanceof OdbcDriverError ? error.diagnostics[0]?.code : undefined;
}

export const odbcErrors: ErrorMapper = {
  isConnectionError(error) {
    if (error instanceof WorkerLostError) return true;
    // Class 08: connection exceptions; HYT01: connection timeout; 57P01-57P03
    // (PostgreSQL through psqlODBC): the server ended the session or is
    // shutting down. Any diagnostic record saying so counts.
    if (error instanceof OdbcDriverError && error.connectionDead) return true;
    const states = error instanceof OdbcDriverError ? error.diagnostics.map((d) => d.state) : [];
    return states.some(
      (state) => state.startsWith('08') || state === 'HYT01' || /^57P0[123]$/.test(state),
    );
  },
  map(error, context) {
    const state = stateOf(error);
    // The statement's own time limit (SQL_ATTR_QUERY_TIMEOUT): HYT00, or the
    // cancel it sends (HY008; PostgreSQL's 57014 with psqlODBC). A cancel of
    // the kit's never reaches here (mapDriverError reads its stop first).
    const native = nativeOf(error);
    // ...and MariaDB's max_statement_time, which the mariadb profile sets to
    // the source's limit: native 1969, which MariaDB ODBC reports under
    // HY018 (the server's SQLSTATE is 70100, which 1317, an operator's KILL
    // QUERY, shares).
    if (
      state === 'HYT00' ||
      state === 'HY008' ||
      state === '57014' ||
      ((state === '70100' || state === 'HY018') && native === 1969)
    ) {
      return queryTimeout(context.timeoutMs, error);
    }
    // A write in the read-only session (the guard lets none through).
    if (state === '25006') return statementFailure.readOnly(error, undefined);
    if (state === '42601' || (state === '42000' && native === 1064)) {
      return statementFailure.syntaxError(error);
    }
    if (state === '42702' || (state === '23000' && native === 1052)) {
      return statementFailure.ambiguousColumn(error, undefined, []);
    }
    if (state === '42803' || (state === '42000' && native === 1055)) {
      return statementFailure.notGrouped(error, undefined);
    }
    if (state === '22012') return statementFailure.divisionByZero(error);
    if (state === '42S02' || state === '42P01')
      return statementFailure.unknownTable(error, undefined);
    if (state === '42S22' || state === '42703')
      return statementFailure.unknownColumn(error, undefined);
    // A count of values that does not match the statement's placeholders:
    // the driver's COUNT FIELD errors, or the odbc package's own refusal,
    // which has no SQLSTATE (it checks before the driver is called).
    const expected = context.sql === undefined ? undefined : placeholderCount(context.sql);
    const mismatch =
      state === undefined &&
      expected !== undefined &&
      context.paramCount !== undefined &&
      expected !== context.paramCount;
    if (state === '07002' || state === '07001' || mismatch)
      return statementFailure.parameterCount(error, {
        ...(expected !== undefined && { expected }),
        ...(context.paramCount !== undefined && { given: context.paramCount }),
        placeholder: '?',
      });
    return statementFailure.bySqlState(error, state, `SQLSTATE ${state ?? 'unknown'}`);
  },
};
