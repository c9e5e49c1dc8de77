/**
 * The built-in functions a statement may call without an allow entry,
 * per dialect, by category (each list's file says how it was built and
 * what is refused). Frozen: a caller cannot widen them.
 */
import type { Dialect } from '../types.js';
import { MYSQL_FUNCTIONS } from './mysql.js';
import { ODBC_FUNCTIONS } from './odbc.js';
import { POSTGRES_FUNCTIONS } from './postgres.js';

function frozen<T extends Readonly<Record<string, readonly string[]>>>(lists: T): T {
  for (const names of Object.values(lists)) Object.freeze(names);
  return Object.freeze(lists);
}

export const ALLOWED_FUNCTIONS: Readonly<
  Record<Dialect, Readonly<Record<string, readonly string[]>>>
> = Object.freeze({
  postgres: frozen(POSTGRES_FUNCTIONS),
  mysql: frozen(MYSQL_FUNCTIONS),
  odbc: frozen(ODBC_FUNCTIONS),
});
