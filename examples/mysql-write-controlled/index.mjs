// A write-enabled deployment done right, on MariaDB (or MySQL).
//
// 1. Creates a scratch database from seed.sql and a database user that may
//    read it and change one column of one table: orders.status.
// 2. Starts sqlwarden-stdio with sqlwarden.yaml twice, as a client would:
//    first without SQLWARDEN_ALLOW_WRITES (every write refused), then with
//    it, and calls the purpose-built write tools: dry run, a write, a value
//    outside the allowed ones, a write over the row ceiling.
// 3. Prints the audit lines the writes left, shows that the database user
//    itself cannot do more than the tools allow, then drops the database
//    and the user.
//
//   node examples/mysql-write-controlled/index.mjs
//   EXAMPLE_ADMIN_URL=mysql://root:secret@host:3306 node examples/mysql-write-controlled/index.mjs
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import mysql from 'mysql2/promise';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const adminUrl = new URL(
  process.env.EXAMPLE_ADMIN_URL ??
    process.env.SQLWARDEN_TEST_MYSQL_URL ??
    'mysql://root@127.0.0.1:3306/test',
);

// Names of this run, so two runs never collide.
const suffix = `${process.pid}_${Date.now().toString(36)}`;
const database = `sqlwarden_ex_shop_${suffix}`;
const user = `sqlwarden_ex_${process.pid}`;
const password = randomBytes(12).toString('hex');

const out = (text = '') => process.stdout.write(`${text}\n`);

async function admin(run) {
  const connection = await mysql.createConnection({
    host: adminUrl.hostname,
    port: Number(adminUrl.port || 3306),
    user: decodeURIComponent(adminUrl.username),
    password: decodeURIComponent(adminUrl.password),
    multipleStatements: true, // the administrator's seed script only; sqlwarden never does this
  });
  try {
    return await run(connection);
  } finally {
    await connection.end();
  }
}

async function setUp() {
  await admin(async (db) => {
    await db.query(`CREATE DATABASE ${database}`);
    await db.query(`USE ${database}`);
    await db.query(readFileSync(here('./seed.sql'), 'utf8'));
    // Least privilege: read the shop, change orders.status, nothing else.
    await db.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    await db.query(`GRANT SELECT ON ${database}.* TO '${user}'@'%'`);
    await db.query(`GRANT UPDATE (status) ON ${database}.orders TO '${user}'@'%'`);
  });
}

async function tearDown() {
  await admin(async (db) => {
    await db.query(`DROP DATABASE IF EXISTS ${database}`);
    await db.query(`DROP USER IF EXISTS '${user}'@'%'`);
  });
}

const userUrl = () => {
  const url = new URL(adminUrl);
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  return url.toString();
};

/** One MCP session with sqlwarden-stdio; `writes` sets SQLWARDEN_ALLOW_WRITES=true. */
async function session(writes, run) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [here('../../apps/stdio-server/dist/cli.js'), '--config', here('./sqlwarden.yaml')],
    env: {
      PATH: process.env.PATH ?? '',
      EXAMPLE_DB: database,
      EXAMPLE_DATABASE_URL: userUrl(),
      ...(writes && { SQLWARDEN_ALLOW_WRITES: 'true' }),
    },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const client = new Client({ name: 'example-writes', version: '1.0.0' });
  await client.connect(transport);
  const call = async (name, args) => {
    const result = await client.callTool({ name, arguments: args });
    const text = result.content.map((c) => c.text).join('\n');
    out(`> ${name} ${JSON.stringify(args)}`);
    out(`  ${result.isError ? `ERROR ${text}` : text.split('\n').join('\n  ')}`);
    return result;
  };
  try {
    const { tools } = await client.listTools();
    out(`tools/list: ${tools.map((t) => t.name).join(', ')}`);
    await run(call);
  } finally {
    await client.close();
  }
  return stderr
    .split('\n')
    .filter((line) => line.includes('"kind":"audit"'))
    .map((line) => JSON.parse(line));
}

async function main() {
  await setUp();

  out('== 1. Without SQLWARDEN_ALLOW_WRITES: the deployment switch is off');
  await session(false, async (call) => {
    await call('update_order_status', { order_id: 1001, status: 'paid' });
  });

  out('\n== 2. With SQLWARDEN_ALLOW_WRITES=true');
  const audit = await session(true, async (call) => {
    await call('execute_write', { sql: 'DELETE FROM orders WHERE id = 1001' });
    await call('update_order_status', { order_id: 1001, status: 'paid', dryRun: true });
    await call('update_order_status', { order_id: 1001, status: 'paid' });
    await call('update_order_status', { order_id: 1002, status: 'refunded' });
    await call('cancel_pending_orders', { customer_id: 2 });
    await call('cancel_pending_orders', { customer_id: 1 });
    await call('find_orders', { customer_id: 1 });
    await call('find_orders', { customer_id: 2 });
  });

  out('\n== 3. The audit lines of session 2 (fingerprints, counts, outcomes; no values)');
  for (const line of audit) out(`  ${line.msg}`);

  out('\n== 4. Beneath sqlwarden: what the database user itself may do');
  const direct = await mysql.createConnection(userUrl());
  try {
    for (const sql of [
      'UPDATE orders SET total = 0 WHERE id = 1003',
      'DELETE FROM orders WHERE id = 1003',
      'UPDATE customers SET email = NULL WHERE id = 1',
    ]) {
      try {
        await direct.execute(sql);
        out(`  ${sql}: allowed`);
      } catch (error) {
        out(`  ${sql}: refused by the database (errno ${error.errno})`);
      }
    }
  } finally {
    await direct.end();
  }
}

try {
  await main();
} finally {
  await tearDown();
}
