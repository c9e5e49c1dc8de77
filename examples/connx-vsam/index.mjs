// The CONNX reference MCP server's VSAM sample, served by sqlwarden.
//
// 1. Creates the stand-in of the sample's CDD: a PostgreSQL database named
//    like its catalog (daea_mainframe_vsam) with the VSAM files as tables of
//    schema dbo, fixed-width CHAR fields (seed.sql), reached over ODBC
//    through unixODBC and psqlODBC (a private ODBCSYSINI: the machine's ODBC
//    set-up is not touched, and the driver writes no log files).
// 2. Starts sqlwarden-stdio --config sqlwarden.yaml as a client would and
//    replays the calls the sample's own tests make: query_connx (rows, a
//    batch, a write, a table not served), update_connx with writes off, the
//    purpose-built tools (find_customers by state and by city, get_customer,
//    counts, cities, missing phones), the entities, the schema resources.
// 3. Prints the audit lines (fingerprints, never SQL), then drops the
//    database.
//
//   node examples/connx-vsam/index.mjs
//   EXAMPLE_ADMIN_URL=postgres://postgres@host:5432/postgres node examples/connx-vsam/index.mjs
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import pg from 'pg';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const adminUrl = new URL(
  process.env.EXAMPLE_ADMIN_URL ??
    process.env.SQLWARDEN_TEST_PG_URL ??
    'postgres://postgres@127.0.0.1:5432/test',
);
// The sample's SQL names this catalog, so the database has its name (one run at a time).
const CATALOG = 'daea_mainframe_vsam';

const out = (text = '') => process.stdout.write(`${text}\n`);

async function admin(database, run) {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const adminDatabase = adminUrl.pathname.slice(1) || 'postgres';

async function setUp() {
  await admin(adminDatabase, async (db) => {
    await db.query(`DROP DATABASE IF EXISTS ${CATALOG} WITH (FORCE)`);
    await db.query(`CREATE DATABASE ${CATALOG}`);
  });
  await admin(CATALOG, (db) => db.query(readFileSync(here('./seed.sql'), 'utf8')));
}

async function tearDown() {
  await admin(adminDatabase, (db) => db.query(`DROP DATABASE IF EXISTS ${CATALOG} WITH (FORCE)`));
}

/** A private unixODBC set-up with the stand-in driver (Debian's psqlODBC logs to /tmp otherwise). */
function odbcSetUp() {
  const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-connx-vsam-'));
  writeFileSync(
    join(dir, 'odbcinst.ini'),
    '[PostgreSQL Unicode]\nDriver=psqlodbcw.so\nCommLog=0\nDebug=0\n',
  );
  writeFileSync(join(dir, 'odbc.ini'), '');
  return dir;
}

async function main() {
  await setUp();
  const odbcDir = odbcSetUp();
  const connection = [
    'DRIVER={PostgreSQL Unicode}',
    `SERVER=${adminUrl.hostname}`,
    `PORT=${adminUrl.port || '5432'}`,
    `DATABASE=${CATALOG}`,
    `UID=${decodeURIComponent(adminUrl.username) || 'postgres'}`,
    ...(adminUrl.password === '' ? [] : [`PWD=${decodeURIComponent(adminUrl.password)}`]),
  ].join(';');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [here('../../apps/stdio-server/dist/cli.js'), '--config', here('./sqlwarden.yaml')],
    env: { PATH: process.env.PATH ?? '', ODBCSYSINI: odbcDir, VSAM_ODBC: connection },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const client = new Client({ name: 'connx-sample-client', version: '1.0.0' });
  const call = async (name, args = {}) => {
    out(`> ${name} ${JSON.stringify(args)}`);
    try {
      const result = await client.callTool({ name, arguments: args });
      const text = result.content.map((c) => c.text).join('\n');
      out(`  ${result.isError ? `ERROR ${text}` : text.split('\n').join('\n  ')}`);
    } catch (error) {
      out(`  PROTOCOL ERROR ${error.message}`);
    }
  };
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    out(`== tools/list: ${tools.map((t) => t.name).join(', ')}`);

    out('\n== query_connx, as the sample tests it');
    await call('query_connx', {
      query:
        'SELECT RTRIM(CUSTOMERID) AS ID, CUSTOMERNAME FROM daea_Mainframe_VSAM.dbo.CUSTOMERS_VSAM ORDER BY CUSTOMERID',
    });
    await call('query_connx', { query: 'SELECT 1; SELECT 2' });
    await call('query_connx', { query: 'DELETE FROM daea_Mainframe_VSAM.dbo.CUSTOMERS_VSAM' });
    await call('query_connx', {
      query: 'UPDATE daea_Mainframe_VSAM.dbo.CUSTOMERS_VSAM SET CUSTOMERNAME = 1',
    });
    await call('query_connx', { query: 'SELECT SALARY FROM daea_Mainframe_VSAM.dbo.PAYROLL_VSAM' });
    await call('query_connx', {
      query: 'SELECT {fn NOW()} AS T FROM daea_Mainframe_VSAM.dbo.CUSTOMERS_VSAM',
    });
    await call('update_connx', {
      operation: 'update',
      query:
        "UPDATE daea_Mainframe_VSAM.dbo.CUSTOMERS_VSAM SET CUSTOMERPHONE = 'x' WHERE CUSTOMERID = 'C0000002'",
    });

    out('\n== the purpose-built tools');
    await call('count_customers');
    await call('find_customers', { state: 'VA' });
    await call('find_customers', { state: 'va', city: 'Richmond' });
    await call('find_customers', { state: 'Virginia' });
    await call('get_customer', { customer_id: 'C0000004' });
    await call('customers_by_state');
    await call('customer_cities');
    await call('customers_missing_phone');

    out('\n== entities and schema resources');
    await call('describe_entities', { query: 'clients' });
    const { resources } = await client.listResources();
    out(`resources/list: ${resources.map((r) => r.uri).join(', ')}`);
    const table = resources.find((r) => r.uri.includes('customers_vsam'));
    if (table !== undefined) {
      const read = await client.readResource({ uri: table.uri });
      // Framed as data (governance.untrustedData, text/plain): the JSON is
      // the one line between the <data-...> lines. Unframed: the whole text.
      const content = read.contents[0];
      const text = content?.text ?? '{}';
      const json =
        content?.mimeType === 'text/plain' ? text.split('\n').slice(2, -1).join('\n') : text;
      const description = JSON.parse(json);
      out(
        `resources/read ${table.uri}: columns ${(description.columns ?? []).map((c) => `${c.name} ${c.type}`).join(', ')}`,
      );
    }
  } finally {
    await client.close();
    rmSync(odbcDir, { recursive: true, force: true });
  }
  out('\n== the audit lines (fingerprints, counts, outcomes; never SQL or values)');
  for (const line of stderr.split('\n')) {
    if (line.includes('"kind":"audit"')) out(`  ${JSON.parse(line).msg}`);
  }
}

try {
  await main();
} finally {
  await tearDown();
}
