import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { type JSONRPCMessage, McpError } from '@modelcontextprotocol/sdk/types.js';
import { loadEnvironment } from '@sqlwarden/security';
import {
  Capture,
  createTestSchema,
  eventually,
  postgresTestUrl,
  type TestSchema,
  unframed,
} from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConfig, loadConfig } from './config/load.js';
import { createMcpServer } from './mcp.js';
import { createRuntime, type Runtime } from './runtime.js';

// The runtime's MCP server with the SDK client over the SDK's in-memory
// transport, against the real PostgreSQL. (tests/e2e runs the built app over stdio.)

let schema: TestSchema;
let runtime: Runtime;
const audit = new Capture();
const operator = new Capture();

async function connect(principal: string) {
  const session = runtime.session('in-process', principal);
  const server = createMcpServer(runtime, session);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  // Everything the server sends, as a real client would receive it.
  const sent: JSONRPCMessage[] = [];
  const send = serverSide.send.bind(serverSide);
  serverSide.send = (message, options) => {
    sent.push(message);
    return send(message, options);
  };
  await server.connect(serverSide);
  const client = new Client({ name: 'sqlwarden-test', version: '1.0.0' });
  await client.connect(clientSide);
  return { client, server, sent };
}

beforeAll(async () => {
  schema = await createTestSchema(
    'sqlwarden_mcp',
    () => `CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2));
           INSERT INTO orders SELECT g, g * 2.5 FROM generate_series(1, 30) g;
           CREATE TABLE salaries (id int, amount int);`,
  );
  const config = assertConfig(
    await loadConfig(
      {
        server: { limits: { maxRows: 10 } },
        sources: {
          main: {
            kind: 'postgres',
            url: '${DATABASE_URL}',
            defaultSchema: schema.name,
            tables: [`${schema.name}.*`],
          },
        },
        roles: {
          analyst: [
            'tool:list_tables',
            'tool:describe_table',
            'tool:query_read',
            `read:main:${schema.name}.orders`,
          ],
          viewer: ['tool:list_tables'],
        },
        principals: { alice: { roles: ['analyst'] }, bob: { roles: ['viewer'] } },
        transports: { stdio: { principal: 'alice' } },
      },
      loadEnvironment({ env: { DATABASE_URL: postgresTestUrl() }, envFile: false }),
    ),
  );
  const { createLogger } = await import('@sqlwarden/security');
  runtime = await createRuntime({
    config,
    auditDestination: audit,
    logger: createLogger({ destination: operator }),
  });
});

afterAll(async () => {
  await runtime?.close();
  await schema?.drop();
});

describe('the MCP server', () => {
  it('negotiates protocol revision 2025-11-25 and gives instructions', async () => {
    const { client, sent } = await connect('alice');
    const initialize = sent.find((m) => 'result' in m && 'protocolVersion' in (m.result as object));
    expect(initialize).toMatchObject({
      result: { protocolVersion: '2025-11-25', capabilities: { tools: {} } },
    });
    expect(client.getServerVersion()).toMatchObject({ name: 'sqlwarden', version: '0.1.0' });
    expect(client.getInstructions()).toMatch(/list_tables/);
    await client.close();
  });

  it('lists the read tools with schemas and read-only, non-destructive, idempotent, closed-world annotations', async () => {
    const { client } = await connect('alice');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['list_tables', 'describe_table', 'query_read']);
    for (const tool of tools) {
      expect(tool.annotations).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      });
      expect(tool.inputSchema).toMatchObject({ type: 'object', additionalProperties: false });
      expect(tool.outputSchema).toMatchObject({ type: 'object' });
    }
    const query = tools.find((t) => t.name === 'query_read');
    expect(query?.inputSchema.required).toEqual(['sql']);
    await client.close();
  });

  it('shows a session only the tools it may call', async () => {
    const { client } = await connect('bob');
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['list_tables']);
    await client.close();
  });

  it('runs query_read and the client validates the structured result against the output schema', async () => {
    const { client } = await connect('alice');
    await client.listTools();
    const result = await client.callTool({
      name: 'query_read',
      arguments: { sql: 'SELECT id, total FROM orders WHERE id <= $1 ORDER BY id', params: [2] },
    });
    expect(result.structuredContent).toEqual({
      columns: [
        { name: 'id', type: 'int4' },
        { name: 'total', type: 'numeric' },
      ],
      rows: [
        [1, '2.50'],
        [2, '5.00'],
      ],
      rowCount: 2,
      truncated: false,
    });
    expect(result.content).toEqual([{ type: 'text', text: expect.any(String) }]);
    expect(unframed((result.content as { text: string }[])[0]?.text ?? '')).toBe(
      '2 rows\nid\ttotal\n1\t2.50\n2\t5.00',
    );
    await client.close();
  });

  it('answers an unknown tool with JSON-RPC error -32602, after auditing it', async () => {
    const { client } = await connect('alice');
    const attempt = client.callTool({ name: 'drop_everything', arguments: {} });
    await expect(attempt).rejects.toBeInstanceOf(McpError);
    await expect(attempt).rejects.toMatchObject({ code: -32602 });
    expect(audit.lines().at(-1)).toMatchObject({ code: 'UNKNOWN_TOOL', stage: 'lookup' });
    await client.close();
  });

  it('answers invalid arguments and refused calls as tool errors a model can act on', async () => {
    const { client } = await connect('alice');
    // Listed first, as real clients do: the SDK client then validates every result
    // (errors included) against the advertised output schema.
    await client.listTools();
    const invalid = await client.callTool({ name: 'query_read', arguments: { sql: 42 } });
    expect(invalid).toMatchObject({
      isError: true,
      structuredContent: { error: { code: 'INVALID_INPUT' } },
    });
    const forbidden = await client.callTool({
      name: 'query_read',
      arguments: { sql: 'SELECT * FROM salaries' },
    });
    expect(forbidden).toMatchObject({
      isError: true,
      structuredContent: { error: { code: 'FORBIDDEN' } },
    });
    const bob = await connect('bob');
    const denied = await bob.client.callTool({
      name: 'query_read',
      arguments: { sql: 'SELECT 1' },
    });
    expect(denied).toMatchObject({
      isError: true,
      structuredContent: { error: { code: 'FORBIDDEN' } },
    });
    await client.close();
    await bob.client.close();
  });

  it('cancels a running statement when the client cancels the request', async () => {
    const { client } = await connect('alice');
    const controller = new AbortController();
    const pending = client.callTool(
      {
        name: 'query_read',
        arguments: { sql: 'SELECT count(*) FROM generate_series(1, 500000000) AS cancel_me' },
      },
      undefined,
      { signal: controller.signal },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort();
    await expect(pending).rejects.toThrow();
    // The server ends the statement; on a loaded machine that can take a moment.
    const audited = () => audit.lines().at(-1)?.code === 'QUERY_CANCELLED';
    expect(await eventually(async () => audited(), 10_000)).toBe(true);
    expect(audit.lines().at(-1)).toMatchObject({ tool: 'query_read', code: 'QUERY_CANCELLED' });
    const running = async () => {
      const active = await schema.client.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%cancel_me%' AND pid <> pg_backend_pid()",
      );
      return active.rows[0].n as number;
    };
    expect(await eventually(async () => (await running()) === 0, 10_000)).toBe(true);
    await client.close();
  });

  it('logged the superuser warning of the least-privilege report at start-up', () => {
    expect(operator.text).toMatch(/superuser/);
  });
});

describe('the SDK', () => {
  it('is used through its public API only (nothing from Protocol reached past a subclass)', async () => {
    const { readFile, readdir } = await import('node:fs/promises');
    const dir = new URL('./', import.meta.url);
    const files = (await readdir(dir, { recursive: true })).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
    );
    expect(files).toContain('mcp.ts');
    for (const file of files) {
      const text = await readFile(new URL(file, dir), 'utf8');
      expect(text, file).not.toMatch(/sdk\/shared\/protocol|Protocol\.prototype/);
    }
  });
});
