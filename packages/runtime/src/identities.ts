/**
 * Principals' identities in the databases (principals.<id>.database;
 * docs/governance.md, "Identity in the database"), as each source's binding
 * hands them to the tools (`SourceBinding.databaseAccess`):
 *
 *  - PostgreSQL: the source's own adapter (its pool), and an identity per
 *    call: the principal's role and the session's verified principal as the
 *    subject (`DatabaseIdentity`). The adapter applies both in the call's own
 *    transaction.
 *  - MySQL/MariaDB: an adapter of the principal's own on the same source,
 *    with the principal's user and password and otherwise the source's
 *    settings, its pool the source's capped at PRINCIPAL_POOL_MAX
 *    connections (a principal's calls are few and each waits its turn; the
 *    source's own pool keeps the catalog queries). Created at start-up, with
 *    the source's; it connects on the principal's first call (the pool
 *    opens connections on demand), and the runtime's close closes it.
 *
 * A principal without an identity on a source gets the source's adapter and
 * no identity: exactly as without this feature. The checks (config/identity.ts)
 * refuse any other kind at start-up; should one reach here, it fails closed.
 */
import {
  type AdapterSource,
  ConfigError,
  type DatabaseAdapter,
  type OperatorLogger,
} from '@sqlwarden/core';
import type { DatabaseAccess, SourceBinding } from '@sqlwarden/tools';
import type { NormalizedDatabaseIdentity } from './config/identity.js';
import type { NormalizedConfig, NormalizedSource } from './config/load.js';

/** Connections at most in a principal's own pool on a MySQL source (the source's `pool.max` when lower). */
export const PRINCIPAL_POOL_MAX = 2;

export interface DatabaseIdentities {
  /**
   * The `databaseAccess` of one source's binding: `adapter` is the source's
   * own, `plugged` the source as its plugin took it. Undefined when no
   * principal has an identity on it.
   */
  accessOf(
    source: NormalizedSource,
    plugged: AdapterSource,
    adapter: DatabaseAdapter,
  ): SourceBinding['databaseAccess'];
  /** Closes the principals' own adapters. */
  close(): Promise<void>;
}

export function databaseIdentities(
  config: NormalizedConfig,
  logger: OperatorLogger | undefined,
): DatabaseIdentities {
  const own: DatabaseAdapter[] = [];
  return {
    accessOf(source, plugged, adapter) {
      const access = new Map<string, DatabaseAccess>();
      for (const principal of Object.values(config.principals)) {
        if (!Object.hasOwn(principal.database, source.id)) continue;
        const identity = principal.database[source.id] as NormalizedDatabaseIdentity;
        if (source.kind === 'postgres') {
          access.set(principal.id, {
            adapter,
            identity: {
              ...(identity.role !== undefined && { role: identity.role }),
              subject: principal.id,
            },
          });
        } else if (source.kind === 'mysql' && identity.user !== undefined) {
          const mine = source.adapter.create(principalSource(plugged, identity.user, identity), {
            ...(logger !== undefined && { logger }),
          });
          own.push(mine);
          access.set(principal.id, { adapter: mine });
        } else {
          // The configuration checks refuse this; never run such calls as the source's user.
          throw new ConfigError('a database identity cannot be applied', [
            `principals.${principal.id}.database.${source.id}: not supported on a ${source.kind} source`,
          ]);
        }
      }
      if (access.size === 0) return undefined;
      return (principalId) => access.get(principalId);
    },
    async close() {
      await Promise.allSettled(own.map((adapter) => adapter.close()));
    },
  };
}

/**
 * The source as a principal's own MySQL pool sees it: the principal's user
 * and password in place of the source's (the source's password never goes
 * with another user: it is dropped from the URL too), a smaller pool,
 * everything else the source's.
 */
function principalSource(
  source: AdapterSource,
  user: string,
  identity: NormalizedDatabaseIdentity,
): AdapterSource {
  const { url, user: _user, password: _password, ...connection } = source.connection;
  const password = identity.password;
  return {
    ...source,
    pool: {
      ...source.pool,
      max: Math.min(source.pool.max ?? PRINCIPAL_POOL_MAX, PRINCIPAL_POOL_MAX),
    },
    connection: {
      ...connection,
      // The adapter takes the user in the URL when there is one (never both).
      ...(url !== undefined ? { url: () => withUser(url(), user) } : { user }),
      ...(password !== undefined && { password: () => password.reveal() }),
    },
  };
}

/** `url` with `user` and no password (read when a connection opens). */
function withUser(url: string, user: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(user);
  parsed.password = '';
  return parsed.toString();
}
