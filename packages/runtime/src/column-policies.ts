/**
 * Column policies in the runtime (governance.columns, docs/governance.md):
 * one masker per process (under governance.maskKey, or a random key of the
 * process, said at start-up), each source's policies bound to its adapter
 * (@sqlwarden/tools' column governance), and the start-up check of the
 * policies against the catalog.
 *
 * A policy naming a table or column the database does not have stops
 * start-up, naming it: a typo would otherwise protect nothing, silently.
 * A source whose database is down at start-up does not stop the server:
 * its policies are checked when its catalog is first read (logged), and
 * until they hold, the statements of the principals they apply to on that
 * source are refused (the tools' governance fails closed).
 */
import { ConfigError, type DatabaseAdapter, parseTablePattern } from '@sqlwarden/core';
import { createMasker, type Masker, serializeError } from '@sqlwarden/security';
import { type ColumnGovernance, createColumnGovernance } from '@sqlwarden/tools';
import type { Logger } from 'pino';
import type { NormalizedConfig, NormalizedSource } from './config/load.js';

/** The process's masker, when any column policy is configured; warns when its key is its own. */
export function maskerOf(config: NormalizedConfig, logger: Logger): Masker | undefined {
  const policies = config.columnPolicies ?? [];
  if (policies.length === 0) return undefined;
  const masker = createMasker(config.maskKey?.reveal());
  if (masker.ephemeral && policies.some((p) => p.action === 'mask' && p.mask === 'hash')) {
    logger.warn(
      'governance.maskKey is not set: hash masks use a random key of this process, so hashes match only within one run (and differ between replicas); set governance.maskKey to one whole ${VAR} of at least 32 random characters',
    );
  }
  return masker;
}

/** The column governance of one source, or undefined when no policy names it. */
export function columnGovernanceOf(
  source: NormalizedSource,
  adapter: DatabaseAdapter,
  config: NormalizedConfig,
  masker: Masker | undefined,
  logger: Logger,
): ColumnGovernance | undefined {
  const policies = (config.columnPolicies ?? []).filter((p) => p.source === source.id);
  if (policies.length === 0 || masker === undefined) return undefined;
  const patterns = source.tables
    .map((text) => parseTablePattern(text, { catalogs: true }))
    .filter((p) => p !== undefined);
  const schemas = [...new Set(patterns.map((p) => p.schema))];
  const catalogs = [
    ...new Set(patterns.flatMap((p) => (p.catalog === undefined ? [] : [p.catalog]))),
  ];
  const namesCatalogs =
    source.dialect === 'odbc' && (source.defaultCatalog !== undefined || catalogs.length > 0);
  return createColumnGovernance({
    source: source.id,
    dialect: source.dialect,
    adapter,
    policies,
    masker,
    defaultSchema: source.defaultSchema,
    ...(source.defaultCatalog !== undefined && { defaultCatalog: source.defaultCatalog }),
    ...(namesCatalogs && { namesCatalogs: true }),
    schemas,
    ...(catalogs.length > 0 && { catalogs }),
    timeoutMs: Math.min(
      source.limits.timeoutMs ?? config.server.limits.timeoutMs,
      config.server.limits.timeoutMs,
    ),
    onProblem: (problem) =>
      logger.error(
        { source: source.id },
        `${problem}: statements of the principals it applies to on this source are refused until it is fixed`,
      ),
  });
}

/**
 * The policies of a source whose catalog was just read, against it: the
 * problems found (a missing table or column). A catalog that cannot be
 * read now is not a problem here (the source is as good as down: its
 * calls check again).
 */
export async function columnPolicyProblems(
  source: string,
  governance: ColumnGovernance | undefined,
  logger: Logger,
): Promise<string[]> {
  if (governance === undefined) return [];
  try {
    return await governance.verify();
  } catch (error) {
    logger.warn(
      { source, err: serializeError(error) },
      'could not check the column policies of this source against its catalog; its calls check them',
    );
    return [];
  }
}

/** Stops start-up on policies that name what the catalog does not have. */
export function assertColumnPolicies(problems: readonly string[]): void {
  if (problems.length > 0) {
    throw new ConfigError(
      'column policies name tables or columns the databases do not have (a policy on a name that does not exist protects nothing); fix governance.columns',
      problems,
    );
  }
}
