// Public API of @sqlwarden/adapter-mysql: anything exported here is a
// contract other packages and users rely on (pinned by src/index.test.ts).

import {
  type Dialect,
  DialectAdapter,
  type SourceAdapter,
  sourceEndpoint,
} from '@sqlwarden/adapter-kit';
import type { OperatorLogger } from '@sqlwarden/core';
import mysql from 'mysql2';
import {
  type MysqlAdapterConfig,
  type MysqlModule,
  type NormalizedConfig,
  normalizeConfig,
} from './config.js';
import { MysqlDriver, type MysqlSession } from './driver.js';
import { mysqlErrors } from './errors.js';
import { privilegeReport } from './grants.js';
import { describeTable, functionCatalog, listTables, viewDependencies } from './introspect.js';

export type { MysqlAdapterConfig, MysqlConnectionOptions, MysqlModule } from './config.js';

/** What `createMysqlAdapter` returns: the kit's adapter on this engine (a name kept for existing callers). */
export type MysqlAdapter = SourceAdapter;

/** MySQL / MariaDB for the adapter kit: its driver, its errors, its catalog. */
function mysqlDialect(config: NormalizedConfig, module: MysqlModule): Dialect<MysqlSession> {
  return {
    name: 'mysql',
    driver: new MysqlDriver(config, module),
    errors: mysqlErrors,
    introspector: {
      listTables: (session, schemas) => listTables(session, schemas),
      describeTable: (session, table) =>
        describeTable(session, table.schema, table.name, session.flavor),
      functionCatalog: (session) => functionCatalog(session, mysqlErrors.isConnectionError),
      privilegeReport: (session, request) => privilegeReport(session, config, request),
      viewDependencies: (session, schemas) =>
        viewDependencies(session, schemas, mysqlErrors.isConnectionError),
    },
  };
}

/**
 * A MySQL or MariaDB adapter for one source, on the `mysql2` peer
 * dependency (or a module of the same shape). Throws ConfigError, naming
 * every problem, for a configuration it cannot use.
 */
export function createMysqlAdapter(
  config: MysqlAdapterConfig,
  options: { readonly logger?: OperatorLogger; readonly mysql?: MysqlModule } = {},
): SourceAdapter {
  const normalized = normalizeConfig(config);
  return new DialectAdapter<MysqlSession>({
    dialect: mysqlDialect(normalized, options.mysql ?? (mysql as unknown as MysqlModule)),
    config: normalized,
    logger: options.logger,
    endpoint: sourceEndpoint({
      url: config.connection.uri,
      host: normalized.host,
      port: normalized.port,
      database: config.connection.database,
    }),
  });
}

export { adapterPlugin } from './plugin.js';
