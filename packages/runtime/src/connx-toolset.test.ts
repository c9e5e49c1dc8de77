import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createLogger, loadEnvironment } from '@sqlwarden/security';
import { Capture, createTestSchema, postgresTestUrl, type TestSchema } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConfig, loadConfig } from './config/load.js';
import { createMcpServer } from './mcp.js';
import { createRuntime, type Runtime } from './runtime.js';

// `server.toolset: connx`: the CONNX reference server's tool names and
// argument names (query_connx { query }, update_connx { operation, query })
// in place of query_read and execute_write, every layer underneath. Any kind
// of source serves them; here the real PostgreSQL.

let schema: TestSchema;
let runtime: Runtime;
const audit = new Capture();

async function connect(principal: string) {
  const server = createMcpServer(runtime, runtime.session('in-process', principal));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'connx-sample-client', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

type Result = Awaited<ReturnType<Client['callTool']>>;
const errorOf = (result: Result) =>
  (result.structuredContent as { error?: { code: string; message: string } }).error;

beforeAll(async () => {
  schema = await createTestSchema(
    'sqlwarden_connx_set',
    () => `CREATE TABLE customers (id int PRIMARY KEY, name char(20), state char(2));
           INSERT INTO customers VALUES (1, 'Ada', 'CA'), (2, 'Grace', 'NY'), (3, 'Edsger', 'CA');
           CREATE TABLE secrets (id int, secret text);`,
  );
  const s = schema.name;
  const config = assertConfig(
    await loadConfig(
      {
        server: { toolset: 'connx', readOnly: false },
        sources: {
          vsam: {
            kind: 'postgres',
            url: '${DATABASE_URL}',
            defaultSchema: s,
            tables: [`${s}.*`],
            writable: [`${s}.customers`],
          },
        },
        roles: {
          reader: ['tool:query_connx', 'tool:list_tables', `read:vsam:${s}.customers`],
          writer: ['tool:update_connx', `write:vsam:${s}.customers`],
        },
        principals: {
          agent: { roles: ['reader', 'writer'] },
          viewer: { roles: ['reader'] },
        },
        quotas: { tools: { query_connx: { concurrency: 4 } } },
      },
      loadEnvironment({
        env: { DATABASE_URL: postgresTestUrl(), SQLWARDEN_ALLOW_WRITES: 'true' },
        envFile: false,
      }),
    ),
  );
  runtime = await createRuntime({
    config,
    auditDestination: audit,
    logger: createLogger({ destination: new Capture() }),
  });
});

afterAll(async () => {
  await runtime?.close();
  await schema?.drop();
});

describe('the connx toolset', () => {
  it('lists query_connx and update_connx in place of query_read and execute_write', async () => {
    const client = await connect('agent');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['list_tables', 'query_connx', 'update_connx']);
    const query = tools.find((t) => t.name === 'query_connx');
    expect(Object.keys(query?.inputSchema.properties ?? {})).toEqual(['query']);
    const update = tools.find((t) => t.name === 'update_connx');
    expect(Object.keys(update?.inputSchema.properties ?? {})).toEqual(['operation', 'query']);
    expect(update?.annotations).toMatchObject({ destructiveHint: true });
    const viewer = await connect('viewer');
    expect((await viewer.listTools()).tools.map((t) => t.name)).toEqual([
      'list_tables',
      'query_connx',
    ]);
    await client.close();
    await viewer.close();
  });

  it('answers query_connx with the rows, CHAR padding as the database returns it, and audits a fingerprint', async () => {
    const client = await connect('agent');
    const result = await client.callTool({
      name: 'query_connx',
      arguments: { query: `SELECT id, name FROM customers WHERE state = 'CA' ORDER BY id` },
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      rows: [
        [1, 'Ada'.padEnd(20)],
        [3, 'Edsger'.padEnd(20)],
      ],
      rowCount: 2,
    });
    expect(audit.lines().at(-1)).toMatchObject({
      tool: 'query_connx',
      decision: 'allow',
      rows: 2,
      msg: expect.stringMatching(/^Query OK fp=[0-9a-f]{12} rows=2$/),
    });
    expect(audit.text).not.toContain("'CA'");
    await client.close();
  });

  it('keeps every layer: a batch, a table not granted, and a write through query_connx are refused', async () => {
    const client = await connect('agent');
    const cases: Array<[string, string]> = [
      ['SELECT 1; DROP TABLE customers', 'QUERY_REJECTED'],
      ['SELECT secret FROM secrets', 'FORBIDDEN'],
      [`UPDATE customers SET name = 'x' WHERE id = 1`, 'QUERY_REJECTED'],
    ];
    for (const [query, code] of cases) {
      const result = await client.callTool({ name: 'query_connx', arguments: { query } });
      expect(errorOf(result)?.code, query).toBe(code);
    }
    const wrongName = await client.callTool({
      name: 'query_connx',
      arguments: { sql: 'SELECT 1' },
    });
    expect(errorOf(wrongName)?.code).toBe('INVALID_INPUT');
    await client.close();
  });

  it('runs update_connx when the operation names the statement, and refuses it otherwise', async () => {
    const client = await connect('agent');
    const done = await client.callTool({
      name: 'update_connx',
      arguments: { operation: 'update', query: `UPDATE customers SET state = 'WA' WHERE id = 2` },
    });
    expect(done.structuredContent).toMatchObject({ affectedRows: 1, committed: true });
    const mismatch = await client.callTool({
      name: 'update_connx',
      arguments: { operation: 'DELETE', query: `UPDATE customers SET state = 'OR' WHERE id = 2` },
    });
    expect(errorOf(mismatch)).toMatchObject({
      code: 'INVALID_INPUT',
      message:
        '"operation" is DELETE but the statement is an UPDATE; send the operation the statement is.',
    });
    const unknown = await client.callTool({
      name: 'update_connx',
      arguments: { operation: 'MERGE', query: `UPDATE customers SET state = 'OR' WHERE id = 2` },
    });
    expect(errorOf(unknown)?.code).toBe('INVALID_INPUT');
    const rows = await schema.client.query('SELECT state FROM customers WHERE id = 2');
    expect(rows.rows).toEqual([{ state: 'WA' }]);
    const viewer = await connect('viewer');
    const forbidden = await viewer.callTool({
      name: 'update_connx',
      arguments: { operation: 'DELETE', query: 'DELETE FROM customers WHERE id = 3' },
    });
    expect(errorOf(forbidden)?.code).toBe('FORBIDDEN');
    await client.close();
    await viewer.close();
  });

  it('reserves the two names: a declared tool may not take one', async () => {
    const result = await loadConfig(
      {
        sources: { main: { kind: 'postgres', url: 'postgres://r@h/x', tables: ['public.*'] } },
        principals: { p: { capabilities: ['tool:query_connx'] } },
        tools: {
          query_connx: { description: 'x', source: 'main', kind: 'read', sql: 'SELECT 1' },
        },
      },
      loadEnvironment({ env: {}, envFile: false }),
    );
    expect(result.ok ? [] : result.problems).toContain(
      'tools.query_connx: the name of a built-in tool; choose another',
    );
  });
});
