import {
  type ConformanceNamespace,
  type ConformanceTarget,
  createThrowawayMariadb,
  describeAdapterConformance,
  eventually,
  type FaultServer,
  faultSettings,
  MARIADB_FIXTURE,
  mariadbHeavyQuery,
  mysqlTestUrl,
} from '@sqlwarden/testing';
import mysql from 'mysql2/promise';
import { createMysqlAdapter } from './index.js';
import { quoteIdent } from './session.js';

// The adapter conformance suite (@sqlwarden/testing) against the real MariaDB
// of this machine (SQLWARDEN_TEST_MYSQL_URL), in databases of its own,
// dropped afterwards. Its fault suite runs on a server of its own
// (createThrowawayMariadb), which it restarts: the shared server never is.

/** The database the fault suite's adapter reads, on the throwaway server. */
const FAULT_DATABASE = 'faults';

async function faultServer(): Promise<FaultServer> {
  // performance_schema keeps program_name: sessions are found by application name.
  const server = await createThrowawayMariadb({ connectAttributes: true });
  const uri = (database: string) => `mysql://root@127.0.0.1:${server.port}/${database}`;
  /** One statement on a connection of its own (an admin connection does not survive the faults). */
  const run = async (database: string, sql: string, values: unknown[] = []) => {
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
    const admin = await mysql.createConnection({ uri: uri('test') });
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
  const sessionsOf = async (applicationName: string) =>
    (
      await run(
        'test',
        "SELECT PROCESSLIST_ID FROM performance_schema.session_connect_attrs WHERE ATTR_NAME = 'program_name' AND ATTR_VALUE = ?",
        [applicationName],
      )
    ).map((row) => Number(row[0]));
  await run('test', `CREATE DATABASE ${FAULT_DATABASE} CHARACTER SET utf8mb4`);
  return {
    host: '127.0.0.1',
    port: server.port,
    exec: (sql) => run(FAULT_DATABASE, sql),
    createAdapter: (options) =>
      createMysqlAdapter(
        {
          source: 'faults',
          connection: { uri: `mysql://root@${options.host}:${options.port}/${FAULT_DATABASE}` },
          defaultSchema: FAULT_DATABASE,
          ...faultSettings(options),
        },
        { logger: options.logger },
      ),
    async restart(mode) {
      await server.stop(mode === 'graceful' ? 'clean' : 'crash');
      await server.start();
    },
    terminateSessions: async (applicationName) => kill(await sessionsOf(applicationName)),
    sessions: async (applicationName) => (await sessionsOf(applicationName)).length,
    async dropDatabase() {
      // MariaDB has no DROP DATABASE ... FORCE: the database's sessions are ended
      // before the drop and again after it (those opened in between).
      const endSessions = async () => {
        const ids = await run(
          'test',
          'SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
          [FAULT_DATABASE],
        );
        await kill(ids.map((row) => Number(row[0])));
      };
      await endSessions();
      await run('test', `DROP DATABASE ${FAULT_DATABASE}`);
      await endSessions();
    },
    createDatabase: async () => {
      await run('test', `CREATE DATABASE ${FAULT_DATABASE} CHARACTER SET utf8mb4`);
    },
    destroy: () => server.destroy(),
  };
}

function urlOf(database: string): string {
  const url = new URL(mysqlTestUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

/** Our statements whose text holds the marker, seen from the admin session (itself excluded). */
async function ours(admin: ConformanceNamespace, marker: string): Promise<number[]> {
  const rows = await admin.exec(
    'SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()',
    [`%${marker}%`],
  );
  return rows.map((row) => Number(row[0]));
}

const mariadb: ConformanceTarget = {
  name: 'MariaDB',
  dialect: 'mysql',

  async createNamespace(prefix) {
    const name = `${prefix}_${process.pid}_${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
    const admin = await mysql.createConnection({ uri: mysqlTestUrl() });
    await admin.query(`CREATE DATABASE ${quoteIdent(name)} CHARACTER SET utf8mb4`);
    await admin.query(`USE ${quoteIdent(name)}`);
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
          await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
        } finally {
          await admin.end();
        }
      },
    };
  },

  createAdapter(options) {
    return createMysqlAdapter({
      source: 'conformance',
      connection: { uri: urlOf(options.namespace) },
      defaultSchema: options.namespace,
      statementTimeoutMs: options.statementTimeoutMs,
      pool: { max: options.poolSize, connectionTimeoutMs: options.acquireTimeoutMs },
      allowWrites: options.allowWrites,
    });
  },

  quoteIdent,
  placeholder: () => '?',

  fixture: MARIADB_FIXTURE,

  expected: {
    resultTypes: {
      id: 'int',
      n_int: 'int',
      n_big: 'bigint',
      n_dec: 'decimal',
      n_float: 'double',
      d_date: 'date',
      d_ts: 'datetime',
      d_tstz: 'timestamp',
      d_time: 'time',
      b_bin: 'varbinary',
      j_doc: 'json',
      s_text: 'text',
      b_flag: 'tinyint',
    },
    columnTypes: {
      cf_parent: { id: 'int(11)', code: 'varchar(20)', name: 'varchar(100)' },
      cf_child: { id: 'int(11)', parent_id: 'int(11)', note: 'varchar(100)' },
    },
    nameDefault: "'unnamed'",
  },

  // 10^10 pairs from MariaDB's sequence engine: minutes of work, no sleep function.
  wideText: (length) => `repeat('x', ${length})`,
  heavyQuery: mariadbHeavyQuery,

  runningStatements: async (admin, marker) => (await ours(admin, marker)).length,

  async killSession(admin, marker) {
    // The adapter prepares, then executes: the statement shows in PROCESSLIST
    // while it is prepared, not in the moment between, and again once it
    // runs. Seen once ("started"), it may be in that moment: look again.
    let ids: number[] = [];
    await eventually(async () => {
      ids = await ours(admin, marker);
      return ids.length > 0;
    }, 5000);
    for (const id of ids) await admin.exec(`KILL ${Number(id)}`);
    return ids.length;
  },

  faults: { createServer: faultServer },
};

describeAdapterConformance(mariadb);
