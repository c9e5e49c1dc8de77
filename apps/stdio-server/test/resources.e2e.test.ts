import { randomBytes } from 'node:crypto';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { mysqlTestUrl, postgresTestUrl, unframed } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditLineAfter,
  call,
  ok,
  onTestMysql,
  onTestPostgres,
  type RunningServer,
  startServer,
  tempDir,
  urlWithDatabase,
} from './harness.js';

// The schema as MCP resources end to end: the built sqlwarden-stdio over
// real stdio, on the real PostgreSQL and MariaDB (every kind of source
// there is), each read audited as the tool call it stands for.

const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
const DB = `sqlwarden_res_${tag}`;
const dir = tempDir();

const engines = [
  {
    kind: 'postgres' as const,
    url: () => urlWithDatabase(postgresTestUrl(), DB),
    schema: 'public',
    async setUp() {
      await onTestPostgres(`CREATE DATABASE ${DB}`);
      await onTestPostgres(
        `
          CREATE TABLE "CUSTOMERS_VSAM" ("CUST_NO" int PRIMARY KEY, "NAME" text NOT NULL);
          CREATE TABLE salaries (id int PRIMARY KEY, amount int);`,
        DB,
      );
    },
    async tearDown() {
      await onTestPostgres(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    },
  },
  {
    kind: 'mysql' as const,
    url: () => urlWithDatabase(mysqlTestUrl(), DB),
    schema: DB,
    async setUp() {
      await onTestMysql(
        `CREATE DATABASE ${DB} CHARACTER SET utf8mb4`,
        `
          CREATE TABLE ${DB}.CUSTOMERS_VSAM (CUST_NO int PRIMARY KEY, NAME varchar(100) NOT NULL);
          CREATE TABLE ${DB}.salaries (id int PRIMARY KEY, amount int);`,
      );
    },
    async tearDown() {
      await onTestMysql(`DROP DATABASE IF EXISTS ${DB}`);
    },
  },
];

type Engine = (typeof engines)[number];

function configFile(engine: Engine): string {
  const grants = [
    'tool:list_tables',
    'tool:describe_table',
    'tool:describe_entities',
    `read:main:${engine.schema}.CUSTOMERS_VSAM`,
  ];
  return dir.write(
    `${engine.kind}.yaml`,
    `sources:
  main:
    kind: ${engine.kind}
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${engine.schema}
    tables: ["${engine.schema}.*"]
entities:
  customer:
    source: main
    table: ${engine.schema}.CUSTOMERS_VSAM
    aliases: [clients]
    description: The people we sell to.
    columns:
      CUST_NO: the number printed on invoices
  salary:
    source: main
    table: ${engine.schema}.salaries
    description: What each employee earns.
roles:
  analyst: ${JSON.stringify(grants)}
principals:
  alice: { roles: [analyst] }
`,
  );
}

/** The describe_table audit line with this decision written after `before` lines (a resource read is one). */
function auditAfter(server: RunningServer, before: number, decision: 'allow' | 'deny') {
  return auditLineAfter(
    server,
    before,
    (line) => line.tool === 'describe_table' && line.decision === decision,
  );
}

async function rejection(pending: Promise<unknown>): Promise<McpError> {
  const error = await pending.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof McpError)) throw new Error(`expected an McpError, got ${String(error)}`);
  return error;
}

afterAll(() => dir.cleanup());

describe.each(engines)('resources on $kind', (engine) => {
  let server: RunningServer;

  beforeAll(async () => {
    await engine.setUp();
    server = await startServer(['--config', configFile(engine)], {
      E2E_DATABASE_URL: engine.url(),
    });
  });

  afterAll(async () => {
    await server?.close();
    await engine.tearDown();
  });

  it('lists the source, the one table alice may read and the entities', async () => {
    expect(server.client.getServerCapabilities()).toHaveProperty('resources');
    const { resources } = await server.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual([
      'schema://main',
      `schema://main/${engine.schema}.CUSTOMERS_VSAM`,
      'entities://all',
    ]);
    const { resourceTemplates } = await server.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual([
      'schema://{source}',
      'schema://{source}/{schema}.{table}',
    ]);
  });

  it('reads the table as JSON framed as data, audited as describe_table', async () => {
    const before = server.auditLines().length;
    const uri = `schema://main/${engine.schema}.CUSTOMERS_VSAM`;
    const { contents } = await server.client.readResource({ uri });
    expect(contents[0]).toMatchObject({ uri, mimeType: 'text/plain' });
    const table = JSON.parse(unframed((contents[0] as { text: string }).text));
    expect(table).toMatchObject({
      source: 'main',
      schema: engine.schema,
      name: 'CUSTOMERS_VSAM',
      primaryKey: ['CUST_NO'],
    });
    expect(table.columns.map((c: { name: string }) => c.name)).toEqual(['CUST_NO', 'NAME']);
    expect(await auditAfter(server, before, 'allow')).toMatchObject({
      tool: 'describe_table',
      principalId: 'alice',
      transport: 'stdio',
      decision: 'allow',
      source: 'main',
    });
  });

  it('answers a refused table exactly as a missing one, and audits the refusal', async () => {
    const before = server.auditLines().length;
    const refused = await rejection(
      server.client.readResource({ uri: `schema://main/${engine.schema}.salaries` }),
    );
    expect(await auditAfter(server, before, 'deny')).toMatchObject({
      tool: 'describe_table',
      decision: 'deny',
      code: 'FORBIDDEN',
      missing: `read:main:${engine.schema}.salaries`,
    });
    const missing = await rejection(
      server.client.readResource({ uri: `schema://main/${engine.schema}.no_such_table` }),
    );
    expect(refused.code).toBe(-32602);
    expect(missing.code).toBe(refused.code);
    expect(missing.message).toBe(refused.message);
    expect(refused.message).toMatch(/Resource not found/);
  });

  it('serves the entities alice may read, and finds CUSTOMERS_VSAM as "clients"', async () => {
    const { contents } = await server.client.readResource({ uri: 'entities://all' });
    const body = JSON.parse((contents[0] as { text: string }).text);
    expect(body.entities.map((e: { name: string }) => e.name)).toEqual(['customer']);
    const found = ok<{ entities: { table: string }[] }>(
      await call(server, 'describe_entities', { query: 'clients' }),
    );
    expect(found.entities.map((e) => e.table)).toEqual([`${engine.schema}.CUSTOMERS_VSAM`]);
  });
});
