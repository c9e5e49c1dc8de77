// Read-only introspection of a PostgreSQL database by a restricted principal.
//
// 1. Creates a scratch database from seed.sql (an inventory, and an hr
//    schema nobody here may see) and a database role that can only read the
//    inventory, in read-only sessions.
// 2. Starts sqlwarden-stdio with sqlwarden.yaml, connected as that role
//    (the URL, password included, only in the environment), and talks to it
//    with the MCP SDK client over stdio.
// 3. Prints what the cataloguer principal can and cannot do, then drops the
//    database and the role.
//
//   node examples/postgres-introspection/index.mjs
//   EXAMPLE_ADMIN_URL=postgres://admin@host/postgres node examples/postgres-introspection/index.mjs
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import pg from 'pg';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const adminUrl =
  process.env.EXAMPLE_ADMIN_URL ??
  process.env.SQLWARDEN_TEST_PG_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

// Names of this run, so two runs never collide.
const suffix = `${process.pid}_${Date.now().toString(36)}`;
const database = `sqlwarden_ex_catalog_${suffix}`;
const role = `sqlwarden_ex_reader_${suffix}`;
const password = randomBytes(12).toString('hex');

const out = (text = '') => process.stdout.write(`${text}\n`);

async function withClient(url, run) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

function urlFor(base, changes) {
  const url = new URL(base);
  Object.assign(url, changes);
  return url.toString();
}

async function setUp() {
  await withClient(adminUrl, async (admin) => {
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  });
  await withClient(urlFor(adminUrl, { pathname: `/${database}` }), async (admin) => {
    await admin.query(readFileSync(here('./seed.sql'), 'utf8'));
    // The least-privilege role of docs/postgres.md: read the inventory, nothing else.
    await admin.query(`
      GRANT CONNECT ON DATABASE ${database} TO ${role};
      GRANT USAGE ON SCHEMA inventory TO ${role};
      GRANT SELECT ON ALL TABLES IN SCHEMA inventory TO ${role};
      ALTER ROLE ${role} SET default_transaction_read_only = on;`);
  });
}

async function tearDown() {
  await withClient(adminUrl, async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
  });
}

async function main() {
  await setUp();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [here('../../apps/stdio-server/dist/cli.js'), '--config', here('./sqlwarden.yaml')],
    env: {
      ...process.env,
      EXAMPLE_DATABASE_URL: urlFor(adminUrl, {
        username: role,
        password,
        pathname: `/${database}`,
      }),
    },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const client = new Client({ name: 'example-introspection', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    out(`tools/list: ${tools.map((t) => t.name).join(', ')}`);

    const call = async (label, name, args) => {
      const result = await client.callTool({ name, arguments: args });
      const text = result.content.map((c) => c.text).join('\n');
      out(`\n> ${label}: ${name} ${JSON.stringify(args)}`);
      out(result.isError ? `ERROR ${text}` : text);
      return result;
    };
    await call('what is there', 'list_tables', {});
    await call('one table in detail', 'describe_table', { table: 'inventory.stock' });
    await call('a view', 'describe_table', { table: 'inventory.low_stock' });
    await call('a schema this principal may not see', 'describe_table', { table: 'hr.salaries' });
    await call('rows: no grant for query_read', 'query_read', {
      sql: 'SELECT * FROM inventory.stock',
    });

    // The server's start-up report: connecting as this role, nothing to warn about.
    const warnings = stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .filter((line) => line.level >= 40);
    out(
      `\nstart-up warnings: ${warnings.length === 0 ? 'none' : warnings.map((w) => w.msg).join('; ')}`,
    );
  } finally {
    await client.close();
  }
}

try {
  await main();
} finally {
  await tearDown();
}
