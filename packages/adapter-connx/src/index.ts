// Public API of @sqlwarden/adapter-connx: anything exported here is a
// contract other packages and users rely on (pinned by src/index.test.ts).

import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import type { OperatorLogger } from '@sqlwarden/core';
import { connxAdapter } from './adapter.js';
import type { ConnxAdapterConfig } from './config.js';

export type { ConnxAdapterConfig, OdbcConnectionOptions, OdbcProfile } from './config.js';

/**
 * An ODBC adapter for one source (CONNX, or any ODBC driver), its driver
 * running in a worker process of its own (docs/connx.md). Throws
 * ConfigError, naming every problem, for a configuration it cannot use.
 */
export function createConnxAdapter(
  config: ConnxAdapterConfig,
  options: { readonly logger?: OperatorLogger } = {},
): SourceAdapter {
  return connxAdapter(config, options).adapter;
}

export { adapterPlugin } from './plugin.js';
