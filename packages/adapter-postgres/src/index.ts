// Public API of @sqlwarden/adapter-postgres: anything exported here is a
// contract other packages and users rely on (pinned by src/index.test.ts).

import type { OperatorLogger } from '@sqlwarden/core';
import pg from 'pg';
import { PostgresAdapter } from './adapter.js';
import type { PgModule, PostgresAdapterConfig } from './config.js';

export type { PostgresAdapterOptions } from './adapter.js';
export { PostgresAdapter } from './adapter.js';
export type {
  PgModule,
  PostgresAdapterConfig,
  PostgresConnectionOptions,
  PostgresPoolOptions,
} from './config.js';
export type { PostgresErrorContext, StopReason } from './errors.js';
export { mapPostgresError } from './errors.js';
export { quoteIdent, sessionSetup } from './session.js';

/** A PostgreSQL adapter for one source, on the `pg` peer dependency (or a module of the same shape). */
export function createPostgresAdapter(
  config: PostgresAdapterConfig,
  options: { readonly logger?: OperatorLogger; readonly pg?: PgModule } = {},
): PostgresAdapter {
  return new PostgresAdapter({
    config,
    pg: options.pg ?? (pg as unknown as PgModule),
    logger: options.logger,
  });
}
