import { expect, it } from 'vitest';
import { checkRead } from './guard.js';

// Runs in its own file (its own module instance) before anything loads the parser.
it('refuses PostgreSQL and ODBC statements until loadSqlGuard() has run, and serves what node-sql-parser reads of MySQL at once', () => {
  expect(checkRead('SELECT 1', { dialect: 'postgres' })).toMatchObject({
    ok: false,
    reason: 'GUARD_NOT_READY',
  });
  expect(checkRead('SELECT 1', { dialect: 'odbc' })).toMatchObject({
    ok: false,
    reason: 'GUARD_NOT_READY',
  });
  expect(checkRead('SELECT 1', { dialect: 'mysql' }).ok).toBe(true);
  // What only the second MySQL parser (WASM) reads waits for it, like PostgreSQL.
  expect(checkRead('SELECT * FROM a NATURAL JOIN b', { dialect: 'mysql' })).toMatchObject({
    ok: false,
    reason: 'GUARD_NOT_READY',
  });
});
