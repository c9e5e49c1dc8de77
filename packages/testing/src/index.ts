// Test support for the workspace's suites. Private: never published.

/** A pino destination that keeps what is written, for reading log bytes in tests. */
export class Capture {
  readonly chunks: string[] = [];

  write(chunk: string): void {
    this.chunks.push(chunk);
  }

  get text(): string {
    return this.chunks.join('');
  }

  /** Every line written, parsed as JSON. */
  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

/** Where the integration tests find PostgreSQL (README: "Tests"). */
export function postgresTestUrl(): string {
  return process.env.SQLWARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** Where the integration tests find MySQL or MariaDB (README: "Tests"). */
export function mysqlTestUrl(): string {
  return process.env.SQLWARDEN_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
}

export interface TestSchema {
  /** A unique schema name (safe to interpolate: letters, digits and _ only). */
  readonly name: string;
  /** An admin connection with search_path set to the schema. */
  readonly client: import('pg').Client;
  /** Drops the schema and everything in it, and closes the connection. */
  drop(): Promise<void>;
}

/**
 * Creates a PostgreSQL schema of its own for a test file, runs `setup` in
 * it, and returns a handle that drops it. Names carry the process id and a
 * timestamp, so parallel test files never collide.
 */
export async function createTestSchema(
  prefix: string,
  setup: (schema: string) => string = () => '',
): Promise<TestSchema> {
  const { default: pg } = await import('pg');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad schema prefix ${prefix}`);
  const client = new pg.Client({ connectionString: postgresTestUrl() });
  await client.connect();
  await client.query(`CREATE SCHEMA ${name}`);
  await client.query(`SET search_path = ${name}`);
  const sql = setup(name);
  if (sql.trim() !== '') await client.query(sql);
  return {
    name,
    client,
    async drop() {
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export { createTestCertificates, type TestCertificates } from './certificates.js';
export { codeOf, eventually } from './conformance/context.js';
export {
  describeAdapterFaults,
  type FaultAdapterOptions,
  type FaultHooks,
  type FaultServer,
  type FaultSuiteTarget,
  faultSettings,
} from './conformance/faults.js';
export {
  MARIADB_FIXTURE,
  mariadbHeavyQuery,
  POSTGRES_FIXTURE,
  postgresHeavyQuery,
} from './conformance/fixtures.js';
export { describeAdapterConformance } from './conformance/index.js';
export { POSTGRES_FAULT_DATABASE, postgresFaultServer } from './conformance/postgres-faults.js';
export {
  CONFORMANCE_JSON,
  CONFORMANCE_TEXT,
  type ConformanceAdapterOptions,
  type ConformanceExpectations,
  type ConformanceFixture,
  type ConformanceNamespace,
  type ConformanceTarget,
  TYPE_COLUMNS,
  type TypeColumn,
} from './conformance/target.js';
export {
  callToolOverHttp,
  e2eEnv,
  type HttpToolAnswer,
  onTestPostgres,
  type RunExit,
  type RunOptions,
  runToEnd,
  tempDir,
  urlWithDatabase,
} from './e2e.js';
export {
  createThrowawayMariadb,
  type ThrowawayMariadb,
  type ThrowawayMariadbOptions,
} from './mariadb-server.js';
export {
  type OtlpAttributes,
  type OtlpPoint,
  type OtlpReceiver,
  type OtlpRequest,
  type OtlpSpan,
  startOtlpReceiver,
} from './otlp-receiver.js';
export { type PgBouncer, type PgBouncerOptions, startPgBouncer } from './pgbouncer.js';
export { freePort } from './ports.js';
export {
  createThrowawayPostgres,
  type ThrowawayPostgres,
  type ThrowawayPostgresOptions,
} from './postgres-cluster.js';
export { createThrowawayRedis, type ThrowawayRedis, untilListening } from './redis-server.js';
export { createTcpProxy, type TcpProxy } from './tcp-proxy.js';
export { type Frame, findFrame, unframed } from './untrusted.js';
