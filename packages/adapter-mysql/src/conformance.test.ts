import {
  type ConformanceNamespace,
  type ConformanceTarget,
  createThrowawayMariadb,
  describeAdapterConformance,
  type FaultServer,
  faultSettings,
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

  fixture: {
    quoteTable: 'we`ird',
    floatSpecials: false,
    nativeBoolean: false,
    statements: [
      `CREATE TABLE cf_types (
        id int PRIMARY KEY, n_int int, n_big bigint, n_dec decimal(38, 9), n_float double,
        d_date date, d_ts datetime(6), d_tstz timestamp(6) NULL, d_time time(6),
        b_bin varbinary(16), j_doc json, s_text text, b_flag boolean)`,
      `INSERT INTO cf_types VALUES
        (1, 2147483647, 9007199254740993, 12345678901234567890.123456789, 1.5,
         '2024-02-29', '2024-02-29 13:45:06.123456', '2024-02-29 11:45:06.123456', '23:59:58.123456',
         x'00ff10', '{"a": [1, 2.5, "x"], "b": {"c": null}, "s": "é \\\\"q\\\\""}',
         'it\\'s "q" \\\\ C:\\\\path\\n2nd line\\tü 😀', true),
        (2, -2147483648, -9223372036854775808, -0.000000001, -2.25,
         '1970-01-01', '1969-12-31 23:59:59.999999', '2001-09-09 01:46:40.654321', '00:00:00.000001',
         x'', '[]', '', false),
        (3, 0, 1, 0, 0.1,
         '9999-12-31', '9999-12-31 23:59:59.999999', '1999-12-31 22:00:00.000001', '12:30:00.100001',
         x'00', 'null', 'plain', true),
        (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
      'CREATE TABLE cf_wide (id int PRIMARY KEY, payload text NOT NULL)',
      `INSERT INTO cf_wide
         SELECT seq, CASE WHEN seq % 2 = 0 THEN REPEAT('é', 500) ELSE REPEAT('x', 1000) END
           FROM seq_1_to_200`,
      'CREATE TABLE cf_many (id int PRIMARY KEY, label text NOT NULL)',
      "INSERT INTO cf_many SELECT seq, CONCAT('row ', seq) FROM seq_1_to_3000",
      `CREATE TABLE cf_parent (
        id int PRIMARY KEY, code varchar(20) NOT NULL,
        name varchar(100) DEFAULT 'unnamed' COMMENT 'Display name',
        CONSTRAINT cf_parent_code_key UNIQUE (code)) COMMENT 'Parent rows'`,
      // The index on parent_id is declared with the key, so InnoDB does not add one of its own.
      `CREATE TABLE cf_child (
        id int PRIMARY KEY, parent_id int NOT NULL, note varchar(100) COMMENT 'Free text',
        KEY cf_child_parent_idx (parent_id), KEY cf_child_note_parent_idx (note, parent_id),
        CONSTRAINT cf_child_parent_fk FOREIGN KEY (parent_id) REFERENCES cf_parent (id))`,
      'CREATE VIEW cf_parent_view AS SELECT id, code FROM cf_parent',
      "INSERT INTO cf_parent VALUES (1, 'alpha', 'Alpha'), (2, 'o''brien', DEFAULT)",
      "INSERT INTO cf_child VALUES (1, 1, 'first'), (2, 2, NULL)",
      'ANALYZE TABLE cf_many',
    ],
  },

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
  heavyQuery: (marker) =>
    `SELECT COUNT(*) AS ${marker} FROM seq_1_to_100000 a, seq_1_to_100000 b WHERE a.seq <> b.seq`,

  runningStatements: async (admin, marker) => (await ours(admin, marker)).length,

  async killSession(admin, marker) {
    const ids = await ours(admin, marker);
    for (const id of ids) await admin.exec(`KILL ${Number(id)}`);
    return ids.length;
  },

  faults: { createServer: faultServer },
};

describeAdapterConformance(mariadb);
