/**
 * The runtime's entry to this package (exported as `adapterPlugin`): the
 * runtime imports the package only when a `kind: postgres` source is
 * configured.
 */
import type { AdapterPlugin, AdapterSource } from '@sqlwarden/core';
import { createPostgresAdapter } from './index.js';

/** A PostgreSQL source as the adapter takes it, from the runtime's checked source. */
function adapterConfig(source: AdapterSource) {
  const c = source.connection;
  return {
    source: source.id,
    defaultSchema: source.defaultSchema,
    statementTimeoutMs: source.statementTimeoutMs,
    pool: source.pool,
    allowWrites: source.allowWrites,
    connection: {
      ...(c.url !== undefined && { connectionString: c.url() }),
      ...(c.host !== undefined && { host: c.host }),
      ...(c.port !== undefined && { port: c.port }),
      ...(c.database !== undefined && { database: c.database }),
      ...(c.user !== undefined && { user: c.user }),
      ...(c.password !== undefined && { password: c.password }),
      ...(c.ssl !== undefined && { ssl: c.ssl }),
    },
  };
}

export const adapterPlugin: AdapterPlugin = {
  kind: 'postgres',
  dialect: 'postgres',
  schemes: ['postgres', 'postgresql'],
  estimatesCost: true,
  // Unqualified names resolve in the session's search_path: public unless said.
  check: (source) => ({ problems: [], defaultSchema: source.defaultSchema ?? 'public' }),
  create: (source, options) =>
    createPostgresAdapter(adapterConfig(source), {
      ...(options.logger !== undefined && { logger: options.logger }),
    }),
};
