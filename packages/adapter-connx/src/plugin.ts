/**
 * The runtime's entry to this package (exported as `adapterPlugin`): the
 * runtime imports the package only when a `kind: odbc` source is
 * configured, so no other deployment loads (or builds) the ODBC driver.
 */
import { sourceSettings } from '@sqlwarden/adapter-kit';
import type { AdapterPlugin, AdapterSource } from '@sqlwarden/core';
import { ConfigError } from '@sqlwarden/core';
import type { OdbcProfile } from './config.js';
import { createConnxAdapter } from './index.js';

/** The adapter's configuration of a source as the runtime hands it over (every odbc key passed on). */
export function adapterConfig(source: AdapterSource) {
  const odbc = source.connection.odbc;
  if (odbc === undefined) {
    throw new ConfigError(`Invalid ODBC source ${source.id}`, [
      `sources.${source.id}.odbc: give the ODBC connection (odbc.connectionString)`,
    ]);
  }
  return {
    ...sourceSettings(source),
    connection: {
      connectionString: odbc.connectionString,
      ...(odbc.profile !== undefined && { profile: odbc.profile as OdbcProfile }),
      ...(odbc.fetchSize !== undefined && { fetchSize: odbc.fetchSize }),
      ...(odbc.trimChar !== undefined && { trimChar: odbc.trimChar }),
      ...(odbc.workerMemoryMb !== undefined && { workerMemoryMb: odbc.workerMemoryMb }),
    },
  };
}

export const adapterPlugin: AdapterPlugin = {
  kind: 'odbc',
  dialect: 'odbc',
  schemes: [],
  // ODBC has no portable EXPLAIN: the cost gate refuses a source it applies to.
  estimatesCost: false,
  check(source, at) {
    const problems: string[] = [];
    if (source.defaultSchema === undefined) {
      problems.push(
        `${at}.defaultSchema: name the schema unqualified names resolve to (on MariaDB ODBC, the database)`,
      );
    }
    if (source.url !== undefined) {
      problems.push(`${at}.url: an ODBC source has no URL; give odbc.connectionString instead`);
    }
    return { problems, defaultSchema: source.defaultSchema ?? '' };
  },
  // The postgres and mariadb profiles pin the session's schema (and the
  // database is the catalog); CONNX and unknown drivers resolve shorter
  // names themselves, across catalogs.
  qualifiedNamesOnly: (source) =>
    !['postgres', 'mariadb'].includes(source.connection.odbc?.profile ?? 'generic'),
  create: (source, options) =>
    createConnxAdapter(adapterConfig(source), {
      ...(options.logger !== undefined && { logger: options.logger }),
    }),
};
