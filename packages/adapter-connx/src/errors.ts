/**
 * ODBC errors to sqlwarden's: by SQLSTATE, the one thing every ODBC driver
 * reports the same way (the driver's text never reaches a client).
 */
import { type ErrorMapper, queryTimeout, statementFailure } from '@sqlwarden/adapter-kit';
import { OdbcDriverError, WorkerLostError } from './host.js';

/** The SQLSTATE of an ODBC error, if it has one. */
function stateOf(error: unknown): string | undefined {
  return error instanceof OdbcDriverError ? error.state : undefined;
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
    if (state === 'HYT00' || state === 'HY008' || state === '57014') {
      return queryTimeout(context.timeoutMs, error);
    }
    // A write in the read-only session (the guard lets none through).
    if (state === '25006') return statementFailure.readOnly(error, undefined);
    if (state === '42601') return statementFailure.syntaxError(error);
    if (state === '42S02' || state === '42P01')
      return statementFailure.unknownTable(error, undefined);
    if (state === '42S22' || state === '42703')
      return statementFailure.unknownColumn(error, undefined);
    if (state === '07002' || state === '07001')
      return statementFailure.parameterCount(error, {
        ...(context.paramCount !== undefined && { given: context.paramCount }),
        placeholder: '?',
      });
    return statementFailure.bySqlState(error, state, `SQLSTATE ${state ?? 'unknown'}`);
  },
};
