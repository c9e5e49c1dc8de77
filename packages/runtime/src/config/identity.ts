/**
 * principals.<id>.database: who a principal is to each source's database
 * (docs/governance.md, "Identity in the database"), checked against the
 * source's kind and normalized, its password a Secret.
 *
 *  - PostgreSQL: `role` (each call runs under SET LOCAL ROLE, with the
 *    subject in sqlwarden.subject), or nothing (the subject alone, under
 *    the source's own user); `user` and `password` are MySQL's: refused.
 *  - MySQL/MariaDB: `user` (required) and `password`, only as one whole
 *    ${VAR} (secrets never go in the file); `role` is PostgreSQL's: refused.
 *  - ODBC and any other kind: no identity per call can be applied: refused,
 *    rather than run the principal's calls as the source's own user.
 */
import { Secret } from '@sqlwarden/security';
import type { ParsedConfig } from './schema.js';

/** One principal's identity on one source, checked. */
export interface NormalizedDatabaseIdentity {
  /** PostgreSQL: the role its calls run as. */
  readonly role?: string;
  /** MySQL/MariaDB: the user of its own pool. */
  readonly user?: string;
  /** MySQL/MariaDB: that user's password, from the environment. */
  readonly password?: Secret;
}

/** The kinds of source that take a database identity, and what each takes. */
const IDENTITY_KEYS: Readonly<Record<string, readonly string[]>> = {
  postgres: ['role'],
  mysql: ['user', 'password'],
};

/**
 * Each principal's database identities: a defined source of a kind that
 * takes one, the keys of that kind only, a password only from the
 * environment. Problems name their key.
 */
export function checkDatabaseIdentities(
  config: ParsedConfig,
  fromEnv: ReadonlySet<string>,
  broken: ReadonlySet<string>,
  problems: string[],
): void {
  for (const [id, principal] of Object.entries(config.principals)) {
    for (const [sourceId, identity] of Object.entries(principal.database ?? {})) {
      const at = `principals.${id}.database.${sourceId}`;
      const source = Object.hasOwn(config.sources, sourceId) ? config.sources[sourceId] : undefined;
      if (source === undefined) {
        if (!broken.has(`sources.${sourceId}`))
          problems.push(`${at}: ${sourceId} is not defined under sources`);
        continue;
      }
      const takes = Object.hasOwn(IDENTITY_KEYS, source.kind)
        ? IDENTITY_KEYS[source.kind]
        : undefined;
      if (takes === undefined) {
        problems.push(
          `${at}: ${source.kind} sources cannot run calls under a principal's own database identity (only postgres: role, and mysql: user and password); remove it, and give the source's own user only the grants every principal may use`,
        );
        continue;
      }
      for (const key of Object.keys(identity) as Array<keyof typeof identity>) {
        if (identity[key] === undefined || takes.includes(key)) continue;
        problems.push(
          source.kind === 'postgres'
            ? `${at}.${key}: a postgres source takes a role (each call runs under SET LOCAL ROLE, the source's user a member of it), not a user or password of its own`
            : `${at}.${key}: a mysql source takes a user (and its password), a pool of the principal's own; role is for postgres sources`,
        );
      }
      if (source.kind === 'postgres' && identity.role?.toLowerCase() === 'none') {
        problems.push(
          `${at}.role: "none" is not a role to PostgreSQL (SET ROLE none is the source's own user); name a role`,
        );
      }
      if (source.kind === 'mysql') {
        if (identity.user === undefined) {
          problems.push(`${at}.user: a mysql source needs the user this principal connects as`);
        }
        if (identity.password !== undefined && !fromEnv.has(`${at}.password`)) {
          problems.push(
            `${at}.password: write it as \${VARIABLE} and set the variable; passwords never go in the file`,
          );
        }
      }
    }
  }
}

/** A principal's identities as the runtime uses them (after checkDatabaseIdentities found no problem). */
export function normalizeDatabaseIdentities(
  principalId: string,
  database: ParsedConfig['principals'][string]['database'],
): Readonly<Record<string, NormalizedDatabaseIdentity>> {
  const out: Record<string, NormalizedDatabaseIdentity> = {};
  for (const [sourceId, identity] of Object.entries(database ?? {})) {
    out[sourceId] = {
      ...(identity.role !== undefined && { role: identity.role }),
      ...(identity.user !== undefined && { user: identity.user }),
      // A Secret from here on: scrubbed from every log line, never printed.
      ...(identity.password !== undefined && {
        password: new Secret(
          `principals.${principalId}.database.${sourceId}.password`,
          identity.password,
        ),
      }),
    };
  }
  return out;
}
