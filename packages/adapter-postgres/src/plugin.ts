/**
 * The runtime's entry to this package (exported as `adapterPlugin`): the
 * runtime imports the package only when a `kind: postgres` source is
 * configured.
 */
import { connectionFields, sourceSettings } from '@sqlwarden/adapter-kit';
import type { AdapterPlugin, AdapterSource } from '@sqlwarden/core';
import { poolingProblem } from './config.js';
import { createPostgresAdapter } from './index.js';

/** A source as the adapter takes it, from the runtime's checked source. */
function adapterConfig(source: AdapterSource) {
  const { url, pooling } = source.connection;
  return {
    ...sourceSettings(source),
    connection: {
      ...(url !== undefined && { connectionString: url() }),
      ...connectionFields(source),
      ...(pooling !== undefined && { pooling }),
    },
  };
}

export const adapterPlugin: AdapterPlugin = {
  kind: 'postgres',
  dialect: 'postgres',
  schemes: ['postgres', 'postgresql'],
  estimatesCost: true,
  // Unqualified names resolve in the session's search_path: public unless said.
  check: (source, at) => {
    const pooling = poolingProblem(source.pooling);
    return {
      problems: pooling === undefined ? [] : [`${at}.pooling: ${pooling}`],
      defaultSchema: source.defaultSchema ?? 'public',
    };
  },
  create: (source, options) =>
    createPostgresAdapter(adapterConfig(source), {
      ...(options.logger !== undefined && { logger: options.logger }),
    }),
};
