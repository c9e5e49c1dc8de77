// Public API of @sqlwarden/adapter-mysql: anything exported here is a
// contract other packages and users rely on (pinned by src/index.test.ts).

import type { OperatorLogger } from '@sqlwarden/core';
import mysql from 'mysql2';
import { MysqlAdapter } from './adapter.js';
import type { MysqlAdapterConfig, MysqlModule } from './config.js';

export type { MysqlAdapterOptions } from './adapter.js';
export { MysqlAdapter } from './adapter.js';
export type {
  MysqlAdapterConfig,
  MysqlConnectionOptions,
  MysqlModule,
  MysqlPoolOptions,
} from './config.js';
export type { MysqlErrorContext, StopReason } from './errors.js';
export { mapMysqlError } from './errors.js';
export type { ServerFlavor } from './session.js';
export { quoteIdent, sessionSetup } from './session.js';

/** A MySQL or MariaDB adapter for one source, on the `mysql2` peer dependency (or a module of the same shape). */
export function createMysqlAdapter(
  config: MysqlAdapterConfig,
  options: { readonly logger?: OperatorLogger; readonly mysql?: MysqlModule } = {},
): MysqlAdapter {
  return new MysqlAdapter({
    config,
    mysql: options.mysql ?? (mysql as unknown as MysqlModule),
    logger: options.logger,
  });
}
