// Public API of @sqlwarden/adapter-postgres: anything exported here is a
// contract other packages and users rely on (pinned by src/index.test.ts).

import {
  type Dialect,
  DialectAdapter,
  type SourceAdapter,
  sourceEndpoint,
} from '@sqlwarden/adapter-kit';
import type { OperatorLogger } from '@sqlwarden/core';
import pg from 'pg';
import {
  type NormalizedConfig,
  normalizeConfig,
  type PgModule,
  type PostgresAdapterConfig,
} from './config.js';
import { type PgSession, PostgresDriver } from './driver.js';
import { postgresErrors } from './errors.js';
import {
  describeTable,
  functionCatalog,
  listTables,
  privilegeReport,
  viewDependencies,
} from './introspect.js';

export type { PgModule, PostgresAdapterConfig, PostgresConnectionOptions } from './config.js';

/** What `createPostgresAdapter` returns: the kit's adapter on this engine (a name kept for existing callers). */
export type PostgresAdapter = SourceAdapter;

/** PostgreSQL for the adapter kit: its driver, its errors, its catalog. */
function postgresDialect(config: NormalizedConfig, module: PgModule): Dialect<PgSession> {
  return {
    name: 'postgres',
    driver: new PostgresDriver(config, module),
    errors: postgresErrors,
    introspector: {
      listTables: (session, schemas) => listTables(session.client, schemas),
      describeTable: (session, table) => describeTable(session.client, table.schema, table.name),
      functionCatalog: (session) => functionCatalog(session.client),
      privilegeReport: (session, request) =>
        privilegeReport(session.client, config.source, request),
      viewDependencies: (session, schemas) => viewDependencies(session.client, schemas),
    },
  };
}

/**
 * A PostgreSQL adapter for one source, on the `pg` peer dependency (or a
 * module of the same shape). Throws ConfigError, naming every problem, for
 * a configuration it cannot use.
 */
export function createPostgresAdapter(
  config: PostgresAdapterConfig,
  options: { readonly logger?: OperatorLogger; readonly pg?: PgModule } = {},
): SourceAdapter {
  const normalized = normalizeConfig(config);
  return new DialectAdapter<PgSession>({
    dialect: postgresDialect(normalized, options.pg ?? (pg as unknown as PgModule)),
    config: normalized,
    logger: options.logger,
    endpoint: sourceEndpoint({
      ...normalized.connection,
      url: normalized.connection.connectionString,
    }),
  });
}

export { adapterPlugin } from './plugin.js';
