import { expect, it } from 'vitest';
import * as api from './index.js';

// The public surface of @sqlwarden/sql-guard. Update on purpose, with a changeset.
it('exports exactly the pinned public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'ALLOWED_FUNCTIONS',
    'DEFAULT_ALLOWED_VOLATILE',
    'DEFAULT_MAX_LENGTH',
    'DIALECTS',
    'MAX_NESTING',
    'REJECTION_REASONS',
    'REJECTION_REASON_LIST',
    'STATEMENT_KINDS',
    'allowEntryProblem',
    'analyze',
    'bindNamedParameters',
    'checkColumns',
    'checkRead',
    'checkWrite',
    'createGuard',
    'fingerprint',
    'isSqlGuardReady',
    'loadSqlGuard',
    'statementText',
    'tableAllowed',
  ]);
});

it('pins the closed table of rejection reasons', () => {
  expect(api.REJECTION_REASON_LIST).toEqual([
    'GUARD_NOT_READY',
    'EMPTY_STATEMENT',
    'TOO_LONG',
    'INVALID_CHARACTER',
    'NESTING_TOO_DEEP',
    'PARSE_ERROR',
    'UNSUPPORTED_SYNTAX',
    'MULTI_STATEMENT',
    'SEMICOLON',
    'EXECUTABLE_COMMENT',
    'AMBIGUOUS_COMMENT',
    'NOT_A_READ',
    'NOT_A_WRITE',
    'DATA_MODIFYING_CTE',
    'SELECT_INTO',
    'LOCKING_CLAUSE',
    'TRANSACTION_CONTROL',
    'SESSION_STATE',
    'VARIABLE_ASSIGNMENT',
    'EXPLAIN_ANALYZE',
    'FORBIDDEN_FUNCTION',
    'TABLE_NOT_ALLOWED',
    'CATALOG_QUERY',
    'UNQUALIFIED_TABLE',
    'AMBIGUOUS_TABLE',
    'WRITE_WITHOUT_WHERE',
    'RETURNING_NOT_ALLOWED',
    'COLUMN_DENIED',
    'COLUMN_MASKED',
    'COLUMN_UNRESOLVED',
    'RELATION_GOVERNED',
  ]);
  for (const reason of api.REJECTION_REASON_LIST) {
    expect(api.REJECTION_REASONS[reason]).toMatch(/^[A-Z].+[.)]$/);
  }
});
