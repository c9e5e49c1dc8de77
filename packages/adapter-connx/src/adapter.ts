/**
 * The ODBC dialect on the kit, and its worker host. Not the package's
 * public entry (index.ts): tests build adapters here with worker options
 * a deployment never sets.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Dialect, DialectAdapter, type SourceAdapter } from '@sqlwarden/adapter-kit';
import type { OperatorLogger } from '@sqlwarden/core';
import { type ConnxAdapterConfig, type NormalizedConfig, normalizeConfig } from './config.js';
import { OdbcDriver, type OdbcSession } from './driver.js';
import { odbcErrors } from './errors.js';
import { WorkerHost } from './host.js';
import { describeTable, listTables } from './introspect.js';

/**
 * The worker's entry: worker.js next to this module in dist; from the
 * sources (tests), the built one in ../dist.
 */
export function defaultWorkerPath(): string {
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'worker.js');
  return existsSync(beside) ? beside : join(here, '..', 'dist', 'worker.js');
}

function odbcDialect(config: NormalizedConfig, host: WorkerHost): Dialect<OdbcSession> {
  const catalogIsSchema = config.profile === 'mariadb';
  return {
    name: 'odbc',
    driver: new OdbcDriver(config, host),
    errors: odbcErrors,
    introspector: {
      listTables: (session, schemas, catalogs) =>
        listTables(session, schemas, catalogIsSchema, catalogs),
      describeTable: (session, table) => describeTable(session, table, catalogIsSchema),
      // ODBC has no portable function catalog: the odbc guard dialect allows no
      // function outside its own list (docs/connx.md).
      functionCatalog: async () => ({ volatile: [], userDefined: [] }),
      privilegeReport: async () => ({
        warnings: sessionIsReadOnly(config)
          ? []
          : [
              `source ${config.source}: sqlwarden cannot make a ${config.profile} ODBC session read-only${config.profile === 'connx' && !config.allowWrites ? ' beyond CONNX READONLY=1' : ''}; connect with an account that can only read (a SELECT-only CDD or role: docs/connx.md#read-only-in-depth)`,
            ],
      }),
    },
  };
}

function sessionIsReadOnly(config: NormalizedConfig): boolean {
  return config.profile === 'postgres' || config.profile === 'mariadb';
}

export interface AdapterInternals {
  readonly logger?: OperatorLogger;
  /** The worker's entry (default: dist/worker.js of this package). */
  readonly workerPath?: string;
  /** Extra environment of the worker (tests: SQLWARDEN_ODBC_WORKER_FAULTS=1). */
  readonly workerEnv?: Readonly<Record<string, string>>;
}

/** The adapter and its worker host (tests reach the host to kill the worker). */
export function connxAdapter(
  config: ConnxAdapterConfig,
  options: AdapterInternals = {},
): { readonly adapter: SourceAdapter; readonly host: WorkerHost } {
  const normalized = normalizeConfig(config);
  const host = new WorkerHost({
    workerPath: options.workerPath ?? defaultWorkerPath(),
    memoryMb: normalized.workerMemoryMb,
    ...(options.workerEnv !== undefined && { env: options.workerEnv }),
  });
  const adapter = new DialectAdapter<OdbcSession>({
    dialect: odbcDialect(normalized, host),
    config: normalized,
    logger: options.logger,
  });
  return { adapter, host };
}
