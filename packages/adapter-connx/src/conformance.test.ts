import {
  type ConformanceNamespace,
  type ConformanceTarget,
  createTestSchema,
  createThrowawayMariadb,
  describeAdapterConformance,
  type FaultServer,
  faultSettings,
  MARIADB_FIXTURE,
  mariadbHeavyQuery,
  mysqlTestUrl,
  POSTGRES_FIXTURE,
  postgresFaultServer,
  postgresHeavyQuery,
  postgresTestUrl,
} from '@sqlwarden/testing';
import mysql from 'mysql2/promise';
import { createConnxAdapter } from './index.js';

// The adapter conformance suite (docs/conformance.md) against the ODBC
// adapter over both stand-in drivers, with writes on: psqlODBC on the local
// PostgreSQL (schemas of its own) and MariaDB ODBC on the local MariaDB
// (databases of its own), dropped afterwards. Each fault suite runs on a
// server of its own (createThrowawayPostgres, createThrowawayMariadb) behind
// the suite's proxy: the ODBC connection string points at the proxy.
// What ODBC cannot do is said by the targets' capabilities, each with its
// reason in docs/conformance.md and docs/connx.md.

/** The database the fault suites' adapters read, on the throwaway servers. */
const FAULT_DATABASE = 'faults';

const unique = () => `${process.pid}_${Math.floor(Math.random() * 36 ** 6).toString(36)}`;

/** An ODBC connection string from its pairs (values without `;`, `{` or `}`). */
const connectionString = (pairs: Record<string, string>) =>
  Object.entries(pairs)
    .map(([key, value]) => `${key}=${value}`)
    .join(';');

/** `$1`, `$2`... for the suite's `?` placeholders, in order (admin SQL holds no other `?`). */
const dollarPlaceholders = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

// ---------------------------------------------------------------------------
// psqlODBC on PostgreSQL
// ---------------------------------------------------------------------------

/**
 * The application name of the suite's adapters (psqlODBC passes libpq
 * options through `pqopt`): the running-statements hook finds our sessions
 * by it.
 */
const PG_APPLICATION = `sqlwarden_cf_${unique()}`;

function psqlodbcString(options: {
  host: string;
  port: number | string;
  database: string;
  user: string;
  password: string;
  applicationName: string;
}): string {
  return connectionString({
    DRIVER: '{PostgreSQL Unicode}',
    SERVER: options.host,
    PORT: String(options.port),
    DATABASE: options.database,
    UID: options.user,
    PWD: options.password,
    pqopt: `{application_name=${options.applicationName}}`,
  });
}

function pgFaultServer(): Promise<FaultServer> {
  return postgresFaultServer((options, database) =>
    createConnxAdapter(
      {
        source: 'faults',
        connection: {
          connectionString: psqlodbcString({
            host: options.host,
            port: options.port,
            database,
            user: 'postgres',
            password: '',
            applicationName: options.applicationName,
          }),
          profile: 'postgres',
        },
        defaultSchema: 'public',
        ...faultSettings(options),
      },
      { logger: options.logger },
    ),
  );
}

/**
 * Our sessions' statements that run now and hold the marker (the admin
 * session excluded). With UseDeclareFetch=1 psqlODBC declares a cursor and
 * the server shows `fetch 100 in "SQL_CUR..."` while the statement works,
 * not the statement: an active fetch of our application counts too. The
 * suite runs one such statement at a time, so a fetch that stays active is
 * the statement that was not stopped (the check still fails then).
 */
const PG_OURS = `application_name = '${PG_APPLICATION}' AND state = 'active' AND pid <> pg_backend_pid() AND (query LIKE $1 OR query ILIKE 'fetch % in "SQL\\_CUR%')`;

async function pgCount(admin: ConformanceNamespace, sql: string, marker: string): Promise<number> {
  const rows = await admin.exec(sql, [`%${marker}%`]);
  return Number(rows[0]?.[0]);
}

const psqlodbc: ConformanceTarget = {
  name: 'ODBC over psqlODBC (PostgreSQL)',
  dialect: 'odbc',
  supportsWrites: true,
  capabilities: {
    errorWords: false,
    comments: false,
    indexes: false,
    exactDecimals: false,
    zonedTimestamps: false,
    socketWatch: false,
  },

  async createNamespace(prefix) {
    const schema = await createTestSchema(prefix);
    return {
      name: schema.name,
      async exec(sql, params) {
        // Without values pg uses the simple protocol (admin DDL); with values, bound parameters.
        const result = await schema.client.query({
          text: params === undefined ? sql : dollarPlaceholders(sql),
          ...(params !== undefined && { values: [...params] }),
          rowMode: 'array',
        });
        return result.rows as unknown[][];
      },
      drop: () => schema.drop(),
    };
  },

  createAdapter(options) {
    const url = new URL(postgresTestUrl());
    return createConnxAdapter({
      source: 'conformance',
      connection: {
        connectionString: psqlodbcString({
          host: url.hostname,
          port: url.port || '5432',
          database: decodeURIComponent(url.pathname.slice(1)) || 'test',
          user: decodeURIComponent(url.username) || 'postgres',
          password: decodeURIComponent(url.password),
          applicationName: PG_APPLICATION,
        }),
        profile: 'postgres',
      },
      defaultSchema: options.namespace,
      statementTimeoutMs: options.statementTimeoutMs,
      pool: { max: options.poolSize, connectionTimeoutMs: options.acquireTimeoutMs },
      allowWrites: options.allowWrites,
    });
  },

  quoteIdent: (name) => `"${name.replaceAll('"', '""')}"`,
  placeholder: () => '?',

  fixture: POSTGRES_FIXTURE,

  expected: {
    resultTypes: {
      id: 'integer',
      n_int: 'integer',
      n_big: 'bigint',
      n_dec: 'numeric',
      n_float: 'float',
      d_date: 'date',
      d_ts: 'timestamp',
      d_tstz: 'timestamp',
      d_time: 'time',
      b_bin: 'longvarbinary',
      j_doc: 'varchar',
      s_text: 'longvarchar',
      b_flag: 'bit',
    },
    columnTypes: {
      cf_parent: { id: 'int4', code: 'varchar', name: 'varchar' },
      cf_child: { id: 'int4', parent_id: 'int4', note: 'varchar' },
    },
    nameDefault: "'unnamed'::character varying",
  },

  // 10^10 rows from two small generated sets: minutes of work, no sleep function.
  wideText: (length) => `repeat('x', ${length})`,
  heavyQuery: postgresHeavyQuery,

  runningStatements: (admin, marker) =>
    pgCount(admin, `SELECT count(*) FROM pg_stat_activity WHERE ${PG_OURS}`, marker),

  killSession: (admin, marker) =>
    pgCount(
      admin,
      `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE ${PG_OURS}) AS k WHERE done`,
      marker,
    ),

  faults: { createServer: pgFaultServer },
};

// ---------------------------------------------------------------------------
// MariaDB ODBC on MariaDB
// ---------------------------------------------------------------------------

const quoteBacktick = (name: string) => `\`${name.replaceAll('`', '``')}\``;

/**
 * The fault server's adapters are told apart by their MariaDB account (one
 * per application name, made when the adapter is): MariaDB ODBC sends no
 * program_name connection attribute that the suite could set.
 */
async function mariadbFaultServer(): Promise<FaultServer> {
  const server = await createThrowawayMariadb();
  const uri = (database?: string) => `mysql://root@127.0.0.1:${server.port}/${database ?? ''}`;
  /** One statement on a connection of its own (an admin connection does not survive the faults). */
  const run = async (database: string | undefined, sql: string, values: unknown[] = []) => {
    const admin = await mysql.createConnection({ uri: uri(database) });
    try {
      const [rows] = await admin.query({ sql, rowsAsArray: true }, values);
      return Array.isArray(rows) ? (rows as unknown[][]) : [];
    } finally {
      await admin.end();
    }
  };
  /** Kills connections by id from one admin session; an id already gone (1094) is not counted. */
  const kill = async (ids: readonly number[]) => {
    const admin = await mysql.createConnection({ uri: uri() });
    let killed = 0;
    try {
      for (const id of ids) {
        try {
          await admin.query(`KILL CONNECTION ${Number(id)}`);
          killed++;
        } catch (error) {
          if ((error as { errno?: number }).errno !== 1094) throw error;
        }
      }
    } finally {
      await admin.end();
    }
    return killed;
  };
  const sessionsOf = async (user: string) =>
    (
      await run(
        undefined,
        'SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()',
        [user],
      )
    ).map((row) => Number(row[0]));
  await run(undefined, `CREATE DATABASE ${FAULT_DATABASE} CHARACTER SET utf8mb4`);
  return {
    host: '127.0.0.1',
    port: server.port,
    exec: (sql) => run(FAULT_DATABASE, sql),
    async createAdapter(options) {
      // Its own account, named by the application name (letters, digits, `_`).
      const user = options.applicationName;
      if (!/^[a-z0-9_]+$/i.test(user)) throw new Error(`bad application name ${user}`);
      for (const host of ['%', 'localhost', '127.0.0.1']) {
        await run(undefined, `CREATE USER IF NOT EXISTS '${user}'@'${host}'`);
        await run(undefined, `GRANT ALL ON ${FAULT_DATABASE}.* TO '${user}'@'${host}'`);
      }
      return createConnxAdapter(
        {
          source: 'faults',
          connection: {
            connectionString: connectionString({
              DRIVER: '{MariaDB Unicode}',
              SERVER: options.host,
              PORT: String(options.port),
              DATABASE: FAULT_DATABASE,
              UID: user,
              PWD: '',
            }),
            profile: 'mariadb',
          },
          defaultSchema: FAULT_DATABASE,
          ...faultSettings(options),
        },
        { logger: options.logger },
      );
    },
    async restart(mode) {
      await server.stop(mode === 'graceful' ? 'clean' : 'crash');
      await server.start();
    },
    terminateSessions: async (user) => kill(await sessionsOf(user)),
    sessions: async (user) => (await sessionsOf(user)).length,
    async dropDatabase() {
      // MariaDB has no DROP DATABASE ... FORCE: the database's sessions are ended
      // before the drop and again after it (those opened in between).
      const endSessions = async () => {
        const ids = await run(
          undefined,
          'SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
          [FAULT_DATABASE],
        );
        await kill(ids.map((row) => Number(row[0])));
      };
      await endSessions();
      await run(undefined, `DROP DATABASE ${FAULT_DATABASE}`);
      await endSessions();
    },
    createDatabase: async () => {
      await run(undefined, `CREATE DATABASE ${FAULT_DATABASE} CHARACTER SET utf8mb4`);
    },
    destroy: () => server.destroy(),
  };
}

/** Our statements whose text holds the marker, seen from the admin session (itself excluded). */
async function mariadbOurs(admin: ConformanceNamespace, marker: string): Promise<number[]> {
  const rows = await admin.exec(
    'SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()',
    [`%${marker}%`],
  );
  return rows.map((row) => Number(row[0]));
}

const mariadbOdbc: ConformanceTarget = {
  name: 'ODBC over MariaDB ODBC',
  dialect: 'odbc',
  supportsWrites: true,
  capabilities: {
    errorWords: false,
    indexes: false,
    exactDecimals: false,
    zonedTimestamps: false,
    socketWatch: false,
  },

  async createNamespace(prefix) {
    const name = `${prefix}_${unique()}`;
    const admin = await mysql.createConnection({ uri: mysqlTestUrl() });
    await admin.query(`CREATE DATABASE ${quoteBacktick(name)} CHARACTER SET utf8mb4`);
    await admin.query(`USE ${quoteBacktick(name)}`);
    // TIMESTAMP literals of the fixture are written in UTC.
    await admin.query("SET time_zone = '+00:00'");
    return {
      name,
      async exec(sql, params) {
        const [rows] = await admin.query({ sql, rowsAsArray: true }, [...(params ?? [])]);
        return Array.isArray(rows) ? (rows as unknown[][]) : [];
      },
      async drop() {
        try {
          await admin.query(`DROP DATABASE IF EXISTS ${quoteBacktick(name)}`);
        } finally {
          await admin.end();
        }
      },
    };
  },

  createAdapter(options) {
    const url = new URL(mysqlTestUrl());
    return createConnxAdapter({
      source: 'conformance',
      connection: {
        connectionString: connectionString({
          DRIVER: '{MariaDB Unicode}',
          SERVER: url.hostname,
          PORT: url.port || '3306',
          DATABASE: options.namespace,
          UID: decodeURIComponent(url.username) || 'root',
          PWD: decodeURIComponent(url.password),
        }),
        profile: 'mariadb',
      },
      defaultSchema: options.namespace,
      statementTimeoutMs: options.statementTimeoutMs,
      pool: { max: options.poolSize, connectionTimeoutMs: options.acquireTimeoutMs },
      allowWrites: options.allowWrites,
    });
  },

  quoteIdent: quoteBacktick,
  placeholder: () => '?',

  fixture: MARIADB_FIXTURE,

  expected: {
    resultTypes: {
      id: 'integer',
      n_int: 'integer',
      n_big: 'bigint',
      n_dec: 'decimal',
      n_float: 'double',
      d_date: 'date',
      d_ts: 'timestamp',
      d_tstz: 'timestamp',
      d_time: 'time',
      b_bin: 'varbinary',
      j_doc: 'longvarchar',
      s_text: 'longvarchar',
      b_flag: 'tinyint',
    },
    columnTypes: {
      cf_parent: { id: 'int', code: 'varchar', name: 'varchar' },
      cf_child: { id: 'int', parent_id: 'int', note: 'varchar' },
    },
    nameDefault: "'unnamed'",
  },

  // 10^10 pairs from MariaDB's sequence engine: minutes of work, no sleep function.
  wideText: (length) => `repeat('x', ${length})`,
  heavyQuery: mariadbHeavyQuery,

  runningStatements: async (admin, marker) => (await mariadbOurs(admin, marker)).length,

  async killSession(admin, marker) {
    const ids = await mariadbOurs(admin, marker);
    for (const id of ids) await admin.exec(`KILL ${Number(id)}`);
    return ids.length;
  },

  faults: { createServer: mariadbFaultServer },
};

describeAdapterConformance(psqlodbc);
describeAdapterConformance(mariadbOdbc);
