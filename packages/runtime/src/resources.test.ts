import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { type JSONRPCMessage, McpError } from '@modelcontextprotocol/sdk/types.js';
import { createLogger, loadEnvironment } from '@sqlwarden/security';
import {
  Capture,
  createTestSchema,
  eventually,
  findFrame,
  postgresTestUrl,
  type TestSchema,
  unframed,
} from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConfig, loadConfig } from './config/load.js';
import { createMcpServer } from './mcp.js';
import { resourceCall, tableUri } from './resources.js';
import { createRuntime, type Runtime } from './runtime.js';

// The schema as MCP resources, with the SDK client over the SDK's in-memory
// transport, against the real PostgreSQL: every read through the boundary.

let schema: TestSchema;
let runtime: Runtime;
let limited: Runtime;
const audit = new Capture();
const limitedAudit = new Capture();

async function connect(on: Runtime, principal: string) {
  const server = createMcpServer(on, on.session('in-process', principal));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'sqlwarden-test', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

/** The JSON-RPC error a request ended with. */
async function rejection(pending: Promise<unknown>): Promise<McpError> {
  const error = await pending.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof McpError)) throw new Error(`expected an McpError, got ${String(error)}`);
  return error;
}

function configOf(extra: Record<string, unknown> = {}) {
  return loadConfig(
    {
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
          'tool:describe_entities',
          `read:main:${schema.name}.orders`,
          `read:main:${schema.name}.CUSTOMERS_VSAM`,
        ],
        lister: ['tool:list_tables', `read:main:${schema.name}.orders`],
      },
      principals: { alice: { roles: ['analyst'] }, bob: { roles: ['lister'] } },
      entities: {
        customer: {
          source: 'main',
          table: `${schema.name}.CUSTOMERS_VSAM`,
          aliases: ['clients', 'account holders'],
          description: 'The people and companies we sell to.',
          columns: { CUST_NO: 'the number printed on invoices' },
        },
        salary: {
          source: 'main',
          table: `${schema.name}.salaries`,
          description: 'What each employee earns.',
        },
      },
      ...extra,
    },
    loadEnvironment({ env: { DATABASE_URL: postgresTestUrl() }, envFile: false }),
  );
}

beforeAll(async () => {
  schema = await createTestSchema(
    'sqlwarden_res',
    () => `CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2));
           COMMENT ON TABLE orders IS 'One row per order';
           CREATE TABLE "CUSTOMERS_VSAM" ("CUST_NO" int PRIMARY KEY, "NAME" text);
           CREATE TABLE salaries (id int, amount int);`,
  );
  const logger = createLogger({ destination: new Capture() });
  runtime = await createRuntime({
    config: assertConfig(await configOf()),
    auditDestination: audit,
    logger,
  });
  limited = await createRuntime({
    config: assertConfig(
      await configOf({
        quotas: {
          tools: {
            describe_table: { rate: { burst: 2, perSecond: 0.001 } },
            list_tables: { rate: { burst: 1, perSecond: 0.001 } },
          },
        },
      }),
    ),
    auditDestination: limitedAudit,
    logger,
  });
});

afterAll(async () => {
  await runtime?.close();
  await limited?.close();
  await schema?.drop();
});

describe('resources', () => {
  it('declares the resources capability', async () => {
    const client = await connect(runtime, 'alice');
    expect(client.getServerCapabilities()).toMatchObject({
      resources: { subscribe: false, listChanged: false },
    });
    await client.close();
  });

  it('lists a source and only the tables the principal may read, and the entities', async () => {
    const client = await connect(runtime, 'alice');
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual([
      'schema://main',
      `schema://main/${schema.name}.CUSTOMERS_VSAM`,
      `schema://main/${schema.name}.orders`,
      'entities://all',
    ]);
    // Framed (the default): the table's comment, the database's words, is
    // not in the listing, only in the resource (framed there).
    expect(resources.find((r) => r.uri.endsWith('.orders'))).toMatchObject({
      name: `main/${schema.name}.orders`,
      description: `The table ${schema.name}.orders of source main: columns, keys and indexes (as describe_table gives them).`,
      mimeType: 'text/plain',
    });
    expect(resources.find((r) => r.uri === 'entities://all')?.mimeType).toBe('application/json');
    // The listing went through the boundary: one list_tables call, audited.
    expect(audit.lines().at(-1)).toMatchObject({
      tool: 'list_tables',
      principalId: 'alice',
      decision: 'allow',
      source: 'main',
      rows: 2,
    });
    await client.close();
  });

  it('gives the templates of the tools the principal may call', async () => {
    const alice = await connect(runtime, 'alice');
    expect(
      (await alice.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate),
    ).toEqual(['schema://{source}', 'schema://{source}/{schema}.{table}']);
    const bob = await connect(runtime, 'bob');
    expect((await bob.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate)).toEqual(
      ['schema://{source}'],
    );
    // bob may not call describe_entities: no entities resource.
    expect((await bob.listResources()).resources.map((r) => r.uri)).toEqual([
      'schema://main',
      `schema://main/${schema.name}.orders`,
    ]);
    await alice.close();
    await bob.close();
  });

  it('reads a table as describe_table gives it, as JSON framed as data, and audits the read', async () => {
    const client = await connect(runtime, 'alice');
    const uri = `schema://main/${schema.name}.CUSTOMERS_VSAM`;
    const { contents } = await client.readResource({ uri });
    expect(contents).toHaveLength(1);
    expect(contents[0]).toMatchObject({ uri, mimeType: 'text/plain' });
    const text = (contents[0] as { text: string }).text;
    expect(findFrame(text)).toMatchObject({ before: '', after: '' });
    const body = JSON.parse(unframed(text));
    expect(body).toMatchObject({
      source: 'main',
      schema: schema.name,
      name: 'CUSTOMERS_VSAM',
      primaryKey: ['CUST_NO'],
    });
    expect(body.columns.map((c: { name: string }) => c.name)).toEqual(['CUST_NO', 'NAME']);
    expect(audit.lines().at(-1)).toMatchObject({
      tool: 'describe_table',
      principalId: 'alice',
      decision: 'allow',
      source: 'main',
      rows: 2,
    });
    await client.close();
  });

  it('reads the list of a source', async () => {
    const client = await connect(runtime, 'bob');
    const { contents } = await client.readResource({ uri: 'schema://main' });
    const body = JSON.parse(unframed((contents[0] as { text: string }).text));
    expect(body).toMatchObject({ source: 'main', truncated: false });
    expect(body.tables.map((t: { name: string }) => t.name)).toEqual(['orders']);
    await client.close();
  });

  it('answers a table the principal may not read exactly as one that does not exist, and audits both', async () => {
    const client = await connect(runtime, 'alice');
    const denied = await rejection(
      client.readResource({ uri: `schema://main/${schema.name}.salaries` }),
    );
    expect(audit.lines().at(-1)).toMatchObject({
      tool: 'describe_table',
      principalId: 'alice',
      decision: 'deny',
      code: 'FORBIDDEN',
      missing: `read:main:${schema.name}.salaries`,
    });
    const missing = await rejection(
      client.readResource({ uri: `schema://main/${schema.name}.nothing_here` }),
    );
    expect(audit.lines().at(-1)).toMatchObject({ tool: 'describe_table', code: 'FORBIDDEN' });
    const unserved = await rejection(
      client.readResource({ uri: 'schema://main/pg_catalog.pg_authid' }),
    );
    expect(audit.lines().at(-1)).toMatchObject({ tool: 'describe_table', code: 'NOT_FOUND' });
    for (const error of [denied, missing, unserved]) {
      expect(error.code).toBe(-32602);
      expect(error.message).toBe(
        'MCP error -32602: Resource not found: no resource at that URI among those you may read; call resources/list.',
      );
      expect(error.data).toEqual({ uri: expect.stringMatching(/^schema:\/\/main\//) });
    }
    await client.close();
  });

  it('never asks the database about a table the principal may not read', async () => {
    const adapter = runtime.sources[0]?.adapter;
    if (adapter === undefined) throw new Error('no source');
    const describe = adapter.describeTable.bind(adapter);
    const asked: string[] = [];
    adapter.describeTable = (request) => {
      asked.push(request.table.name);
      return describe(request);
    };
    try {
      const client = await connect(runtime, 'alice');
      await rejection(client.readResource({ uri: `schema://main/${schema.name}.salaries` }));
      expect(asked).toEqual([]);
      await client.readResource({ uri: `schema://main/${schema.name}.orders` });
      expect(asked).toEqual(['orders']);
      await client.close();
    } finally {
      adapter.describeTable = describe;
    }
  });

  it('refuses resources requests before initialize with -32600', async () => {
    const server = createMcpServer(runtime, runtime.session('in-process', 'alice'));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const answers: JSONRPCMessage[] = [];
    clientSide.onmessage = (message) => {
      answers.push(message);
    };
    await server.connect(serverSide);
    await clientSide.start();
    await clientSide.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'resources/read',
      params: { uri: `schema://main/${schema.name}.orders` },
    });
    await clientSide.send({ jsonrpc: '2.0', id: 2, method: 'resources/list', params: {} });
    await eventually(async () => answers.length === 2, 5000);
    for (const answer of answers) {
      expect(answer).toMatchObject({ error: { code: -32600 } });
      expect(answer).not.toHaveProperty('result');
    }
    await clientSide.close();
  });

  it('answers a URI of no served form with -32602, audited as a refused lookup', async () => {
    const client = await connect(runtime, 'alice');
    const error = await rejection(client.readResource({ uri: 'file:///etc/passwd' }));
    expect(error.code).toBe(-32602);
    expect(error.data).toEqual({ uri: 'file:///etc/passwd' });
    expect(audit.lines().at(-1)).toMatchObject({
      principalId: 'alice',
      decision: 'deny',
      code: 'UNKNOWN_TOOL',
      stage: 'lookup',
    });
    expect(audit.lines().at(-1)).not.toHaveProperty('tool');
    await client.close();
  });

  it('refuses a table read to a principal without tool:describe_table', async () => {
    const client = await connect(runtime, 'bob');
    const error = await rejection(
      client.readResource({ uri: `schema://main/${schema.name}.orders` }),
    );
    expect(error.code).toBe(-32602);
    expect(audit.lines().at(-1)).toMatchObject({
      tool: 'describe_table',
      principalId: 'bob',
      code: 'FORBIDDEN',
      missing: 'tool:describe_table',
    });
    await client.close();
  });

  it('answers a malformed resources/read with -32602', async () => {
    const client = await connect(runtime, 'alice');
    const error = await rejection(
      client.request(
        { method: 'resources/read', params: { uri: 42 } } as never,
        (await import('@modelcontextprotocol/sdk/types.js')).ReadResourceResultSchema,
      ),
    );
    expect(error.code).toBe(-32602);
    expect(error.message).toMatch(/params\.uri must be the URI of a resource/);
    await client.close();
  });

  it('spends the describe_table quota: over it, a read is -32010 RATE_LIMITED, audited', async () => {
    const client = await connect(limited, 'alice');
    const uri = `schema://main/${schema.name}.orders`;
    await client.readResource({ uri });
    await client.readResource({ uri });
    const error = await rejection(client.readResource({ uri }));
    expect(error.code).toBe(-32010);
    expect(error.data).toMatchObject({ code: 'RATE_LIMITED' });
    expect(error.data).toHaveProperty('retryAfterMs');
    expect(limitedAudit.lines().at(-1)).toMatchObject({
      tool: 'describe_table',
      decision: 'deny',
      code: 'RATE_LIMITED',
      stage: 'quota',
    });
    // The same budget as the tool itself.
    const call = await client.callTool({
      name: 'describe_table',
      arguments: { table: 'orders' },
    });
    expect(call).toMatchObject({
      isError: true,
      structuredContent: { error: { code: 'RATE_LIMITED' } },
    });
    await client.close();
  });

  it('spends the list_tables quota on resources/list: over it, the list is -32010, not empty', async () => {
    const client = await connect(limited, 'bob');
    expect((await client.listResources()).resources.map((r) => r.uri)).toEqual([
      'schema://main',
      `schema://main/${schema.name}.orders`,
    ]);
    const error = await rejection(client.listResources());
    expect(error.code).toBe(-32010);
    expect(error.data).toMatchObject({ code: 'RATE_LIMITED' });
    expect(limitedAudit.lines().at(-1)).toMatchObject({
      tool: 'list_tables',
      principalId: 'bob',
      code: 'RATE_LIMITED',
    });
    await client.close();
  });
});

describe('untrusted data off', () => {
  it('serves the schema resources as plain JSON, with table comments in the listing', async () => {
    const off = await createRuntime({
      config: assertConfig(await configOf({ governance: { untrustedData: 'off' } })),
      auditDestination: new Capture(),
      logger: createLogger({ destination: new Capture() }),
    });
    try {
      const client = await connect(off, 'bob');
      const { resources } = await client.listResources();
      expect(resources.find((r) => r.uri.endsWith('.orders'))).toMatchObject({
        description: 'One row per order',
        mimeType: 'application/json',
      });
      const { contents } = await client.readResource({ uri: 'schema://main' });
      expect(contents[0]).toMatchObject({ mimeType: 'application/json' });
      const text = (contents[0] as { text: string }).text;
      expect(findFrame(text)).toBeUndefined();
      expect(JSON.parse(text).tables[0]).toMatchObject({ comment: 'One row per order' });
      await client.close();
    } finally {
      await off.close();
    }
  });
});

describe('entities', () => {
  it('serves entities://all with the entities whose table the principal may read', async () => {
    const client = await connect(runtime, 'alice');
    const { contents } = await client.readResource({ uri: 'entities://all' });
    expect(JSON.parse((contents[0] as { text: string }).text)).toEqual({
      entities: [
        {
          name: 'customer',
          source: 'main',
          table: `${schema.name}.CUSTOMERS_VSAM`,
          aliases: ['clients', 'account holders'],
          description: 'The people and companies we sell to.',
          columns: { CUST_NO: 'the number printed on invoices' },
        },
      ],
    });
    expect(audit.lines().at(-1)).toMatchObject({
      tool: 'describe_entities',
      decision: 'allow',
      rows: 1,
    });
    await client.close();
  });

  it('finds CUSTOMERS_VSAM when asked about clients, through describe_entities', async () => {
    const client = await connect(runtime, 'alice');
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('describe_entities');
    const result = await client.callTool({
      name: 'describe_entities',
      arguments: { query: 'clients' },
    });
    expect(result.structuredContent).toMatchObject({
      entities: [{ name: 'customer', table: `${schema.name}.CUSTOMERS_VSAM` }],
    });
    const salaries = await client.callTool({
      name: 'describe_entities',
      arguments: { query: 'employee' },
    });
    expect(salaries.structuredContent).toEqual({ entities: [] });
    await client.close();
  });

  it('refuses entities://all to a principal without tool:describe_entities', async () => {
    const client = await connect(runtime, 'bob');
    const error = await rejection(client.readResource({ uri: 'entities://all' }));
    expect(error.code).toBe(-32602);
    await client.close();
  });
});

describe('resource URIs', () => {
  it('percent-encode names, dots included, and decode back to the same call', () => {
    const uri = tableUri('main', 'odd.schema', 'a/b c');
    expect(uri).toBe('schema://main/odd%2Eschema.a%2Fb%20c');
    expect(resourceCall(uri)).toEqual({
      tool: 'describe_table',
      input: { source: 'main', schema: 'odd.schema', table: 'a/b c' },
    });
    expect(resourceCall('schema://main/a.b.c')).toBeUndefined();
    expect(resourceCall('schema://main/%E0%A4%A.b')).toBeUndefined();
  });
});
