/**
 * The runtime's entry to this package (exported as `adapterPlugin`): the
 * runtime imports the package only when a `kind: postgres` source is
 * configured.
 */
import { connectionFields, sourceSettings } from '@sqlwarden/adapter-kit';
import type { AdapterPlugin, AdapterSource } from '@sqlwarden/core';
import { createPostgresAdapter } from './index.js';

/** A source as the adapter takes it, from the runtime's checked source. */
function adapterConfig(source: AdapterSource) {
  const { url } = source.connection;
  return {
    ...sourceSettings(source),
    connection: {
      ...(url !== undefined && { connectionString: url() }),
      ...connectionFields(source),
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
