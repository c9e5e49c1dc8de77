/**
 * The runtime's entry to this package (exported as `adapterPlugin`): the
 * runtime imports the package only when a `kind: mysql` source is
 * configured, so a PostgreSQL deployment never loads mysql2.
 */
import { connectionFields, sourceSettings } from '@sqlwarden/adapter-kit';
import type { AdapterPlugin, AdapterSource } from '@sqlwarden/core';
import { createMysqlAdapter } from './index.js';

/** The database a MySQL source connects to: `database`, or the URL's path. */
function databaseOf(source: { readonly url?: string; readonly database?: string }) {
  if (source.database !== undefined) return source.database;
  if (source.url === undefined) return undefined;
  try {
    const path = decodeURIComponent(new URL(source.url).pathname.slice(1));
    return path === '' ? undefined : path;
  } catch {
    return undefined;
  }
}

/** A source as the adapter takes it, from the runtime's checked source. */
function adapterConfig(source: AdapterSource) {
  const { url } = source.connection;
  return {
    ...sourceSettings(source),
    connection: {
      ...(url !== undefined && { uri: url() }),
      ...connectionFields(source),
    },
  };
}

export const adapterPlugin: AdapterPlugin = {
  kind: 'mysql',
  dialect: 'mysql',
  schemes: ['mysql', 'mariadb'],
  estimatesCost: true,
  check(source, at) {
    // In MySQL the schema is the database: every connection opens in it, and
    // unqualified tables resolve there.
    const database = databaseOf(source);
    const defaultSchema = source.defaultSchema ?? database;
    const problems: string[] = [];
    if (defaultSchema === undefined) {
      problems.push(
        `${at}: name the database (in the URL, database, or defaultSchema); MySQL resolves unqualified tables there`,
      );
    } else if (database !== undefined && database !== defaultSchema) {
      problems.push(
        `${at}.defaultSchema: the connection opens in the database (${database}); give the same name or leave defaultSchema out`,
      );
    }
    return { problems, defaultSchema: defaultSchema ?? '' };
  },
  create: (source, options) =>
    createMysqlAdapter(adapterConfig(source), {
      ...(options.logger !== undefined && { logger: options.logger }),
    }),
};
