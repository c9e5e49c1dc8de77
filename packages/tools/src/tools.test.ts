import { createPostgresAdapter } from '@sqlwarden/adapter-postgres';
import {
  type BoundaryDeps,
  createToolRegistry,
  DEFAULT_LIMITS,
  executeToolBoundary,
  ReadResultSchema,
  type ToolCallResult,
} from '@sqlwarden/core';
import { CapabilityPolicy, createAuditSink, createQuotaGate } from '@sqlwarden/security';
import {
  createGuard,
  DEFAULT_MAX_LENGTH,
  type FunctionPolicy,
  loadSqlGuard,
} from '@sqlwarden/sql-guard';
import { Capture, postgresTestUrl, unframed } from '@sqlwarden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadTools } from './index.js';
import { createSourceDirectory, type GuardState, type SourceBinding } from './sources.js';

// The tools through the real boundary, the real capability policy and the
// real PostgreSQL adapter, against the machine's PostgreSQL.

const SCHEMA = `sqlwarden_tools_${process.pid}_${Date.now().toString(36)}`;
let admin: pg.Client;
let guardState: GuardState = { ready: false };
const guardFor = (functionPolicy: FunctionPolicy | undefined): GuardState => ({
  ready: true,
  guard: createGuard({
    dialect: 'postgres',
    defaultSchema: SCHEMA,
    allowedTables: [`${SCHEMA}.*`],
    maxLength: DEFAULT_MAX_LENGTH,
    ...(functionPolicy && { functionPolicy }),
  }),
});
const audit = new Capture();
let deps: BoundaryDeps;
let close: () => Promise<void>;

const analyst = {
  sessionId: 'sess-tools',
  principalId: 'analyst',
  capabilities: [],
  roles: ['analyst'],
  transport: 'in-process',
  readOnly: true,
};

function call(tool: string, input: unknown, context: unknown = analyst): Promise<ToolCallResult> {
  return executeToolBoundary(
    { requestId: `r-${Math.random().toString(36).slice(2)}`, context, tool, input },
    deps,
  );
}

function errorOf(result: ToolCallResult) {
  return result.isError
    ? (result.structuredContent as { error: { code: string; message: string } }).error
    : undefined;
}

const sent: string[] = [];

beforeAll(async () => {
  await loadSqlGuard();
  admin = new pg.Client({ connectionString: postgresTestUrl() });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${SCHEMA}; SET search_path = ${SCHEMA};
    CREATE TABLE secrets (id int PRIMARY KEY, key text);
    CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, secret_id int REFERENCES secrets (id));
    COMMENT ON TABLE customers IS 'People';
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers (id), total numeric(10,2), note text);
    INSERT INTO secrets VALUES (1, 'sk_live_do_not_show');
    INSERT INTO customers VALUES (1, 'Ada', 1), (2, 'Grace', NULL);
    INSERT INTO orders SELECT g, 1 + g % 2, g * 1.5, CASE WHEN g = 1 THEN E'tab\\there\\nnewline' ELSE 'n' END FROM generate_series(1, 50) g;`);
  const adapter = createPostgresAdapter({
    source: 'main',
    connection: { connectionString: postgresTestUrl() },
    defaultSchema: SCHEMA,
    statementTimeoutMs: 5000,
  });
  // Observes the text the adapter receives (the real adapter still runs it).
  const read = adapter.read.bind(adapter);
  adapter.read = (request) => {
    sent.push(request.sql);
    return read(request);
  };
  const source: SourceBinding = {
    id: 'main',
    adapter,
    dialect: 'postgres',
    defaultSchema: SCHEMA,
    readable: [`${SCHEMA}.*`],
    writable: [],
    guard: () => guardState,
  };
  guardState = guardFor(undefined);
  const registry = createToolRegistry(createReadTools(createSourceDirectory([source])));
  deps = {
    registry,
    authorizer: new CapabilityPolicy({
      roles: {
        analyst: [
          'tool:list_tables',
          'tool:describe_table',
          'tool:query_read',
          `read:main:${SCHEMA}.customers`,
          `read:main:${SCHEMA}.orders`,
        ],
      },
    }),
    quota: createQuotaGate({ policy: {} }),
    audit: createAuditSink({ destination: audit, tools: registry.list().map((t) => t.name) }),
    limits: { ...DEFAULT_LIMITS, maxRows: 20 },
    readOnly: true,
    writesEnabled: false,
  };
  close = () => adapter.close();
});

afterAll(async () => {
  await close?.();
  await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin?.end();
});

describe('list_tables', () => {
  it('lists only the tables the principal may read, though the source serves more', async () => {
    const result = await call('list_tables', {});
    expect(result.isError).toBeUndefined();
    expect(result.structuredContent).toMatchObject({
      source: 'main',
      truncated: false,
      tables: [
        { schema: SCHEMA, name: 'customers', kind: 'table', comment: 'People' },
        { schema: SCHEMA, name: 'orders', kind: 'table' },
      ],
    });
    expect(result.content[0]?.text).not.toContain('secrets');
    expect(result.content[0]?.text).toMatch(/^2 tables in source main:/);
  });

  it('filters by schema and refuses an unknown source', async () => {
    expect((await call('list_tables', { schema: 'other' })).structuredContent).toMatchObject({
      tables: [],
    });
    expect(errorOf(await call('list_tables', { source: 'nope' }))?.code).toBe('NOT_FOUND');
  });
});

describe('describe_table', () => {
  it('describes a granted table, leaving out foreign keys to tables the principal may not read', async () => {
    const result = await call('describe_table', { table: 'customers' });
    expect(result.structuredContent).toMatchObject({
      name: 'customers',
      primaryKey: ['id'],
      foreignKeys: [],
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'name', type: 'text', nullable: false },
        { name: 'secret_id', type: 'integer', nullable: true },
      ],
    });
    expect(result.content[0]?.text).not.toContain('secrets');
    const orders = await call('describe_table', { table: `${SCHEMA}.orders` });
    expect(orders.structuredContent).toMatchObject({
      foreignKeys: [{ columns: ['customer_id'], references: { name: 'customers' } }],
    });
  });

  it('refuses a served but ungranted table before asking the database, and hides unserved ones', async () => {
    expect(errorOf(await call('describe_table', { table: 'secrets' }))?.code).toBe('FORBIDDEN');
    expect(
      errorOf(await call('describe_table', { table: 'pg_class', schema: 'pg_catalog' }))?.code,
    ).toBe('NOT_FOUND');
    expect(
      errorOf(
        await call(
          'describe_table',
          { table: 'missing' },
          { ...analyst, capabilities: [`read:main:${SCHEMA}.missing`] },
        ),
      )?.code,
    ).toBe('NOT_FOUND');
  });
});

describe('query_read', () => {
  it('runs a granted read with bound parameters and returns the result contract', async () => {
    const result = await call('query_read', {
      sql: 'SELECT id, name FROM customers WHERE id = $1',
      params: [2],
    });
    expect(ReadResultSchema.parse(result.structuredContent)).toEqual({
      columns: [
        { name: 'id', type: 'int4' },
        { name: 'name', type: 'text' },
      ],
      rows: [[2, 'Grace']],
      rowCount: 1,
      truncated: false,
    });
    expect(unframed(result.content[0]?.text ?? '')).toBe('1 row\nid\tname\n2\tGrace');
  });

  it('escapes tabs and line breaks in the text a model reads', async () => {
    const result = await call('query_read', { sql: 'SELECT note FROM orders WHERE id = 1' });
    expect(unframed(result.content[0]?.text ?? '')).toBe('1 row\nnote\ntab\\there\\nnewline');
  });

  it('caps rows by the server limit and by maxRows, and says the result is truncated', async () => {
    const capped = await call('query_read', { sql: 'SELECT id FROM orders ORDER BY id' });
    expect(capped.structuredContent).toMatchObject({
      rowCount: 20,
      truncated: true,
      truncatedReason: 'maxRows',
    });
    expect(capped.content[0]?.text).toMatch(/^20 rows \(truncated at the row limit/);
    const fewer = await call('query_read', {
      sql: 'SELECT id FROM orders ORDER BY id',
      maxRows: 3,
    });
    expect(fewer.structuredContent).toMatchObject({ rowCount: 3, truncated: true });
    const more = await call('query_read', {
      sql: 'SELECT id FROM orders ORDER BY id',
      maxRows: 10_000,
    });
    expect(more.structuredContent).toMatchObject({ rowCount: 20 });
  });

  it('accepts one trailing semicolon, and sends the statement without it or what follows', async () => {
    const plain = await call('query_read', { sql: 'SELECT id FROM orders WHERE id = 3' });
    const ended = await call('query_read', {
      sql: 'SELECT id FROM orders WHERE id = 3 ; -- the end',
    });
    expect(ended.isError).toBeUndefined();
    expect(ended.structuredContent).toEqual(plain.structuredContent);
    expect(sent.at(-1)).toBe('SELECT id FROM orders WHERE id = 3 ');
    const [first, second] = audit.lines().slice(-2);
    expect(second?.fp).toBe(first?.fp);
    const twice = await call('query_read', { sql: 'SELECT id FROM orders WHERE id = 3;;' });
    expect(errorOf(twice)?.message).toMatch(/\[rule SEMICOLON\]$/);
  });

  it('refuses what the guard refuses, naming the rule', async () => {
    const result = await call('query_read', { sql: "SELECT * FROM pg_read_file('/etc/passwd')" });
    expect(errorOf(result)).toMatchObject({
      code: 'QUERY_REJECTED',
      message: expect.stringMatching(/\[rule FORBIDDEN_FUNCTION\]$/),
    });
    const stacked = await call('query_read', { sql: 'SELECT 1; COMMIT; DROP TABLE orders' });
    expect(errorOf(stacked)).toMatchObject({
      code: 'QUERY_REJECTED',
      message: expect.stringMatching(/MULTI_STATEMENT/),
    });
    const outside = await call('query_read', { sql: 'SELECT * FROM pg_catalog.pg_authid' });
    expect(errorOf(outside)?.message).toMatch(/list_tables.*\[rule CATALOG_QUERY\]$/);
  });

  it('refuses a served table the principal was not granted, without running anything', async () => {
    const result = await call('query_read', {
      sql: 'SELECT c.name FROM customers c JOIN secrets s ON s.id = c.secret_id',
    });
    expect(errorOf(result)?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(result)).not.toContain('sk_live');
  });

  it('checks the number of parameters', async () => {
    const result = await call('query_read', { sql: 'SELECT $1::int + $2::int', params: [1] });
    expect(errorOf(result)).toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/2 parameters but 1 values/),
    });
  });

  it('refuses reads while the source function policy is not known yet', async () => {
    guardState = { ready: false };
    try {
      expect(errorOf(await call('query_read', { sql: 'SELECT 1' }))?.code).toBe('DB_UNAVAILABLE');
    } finally {
      guardState = guardFor(undefined);
    }
  });

  it('applies the function policy from the catalog', async () => {
    guardState = guardFor({ deny: ['my_reader'] });
    try {
      expect(errorOf(await call('query_read', { sql: 'SELECT my_reader()' }))?.code).toBe(
        'QUERY_REJECTED',
      );
    } finally {
      guardState = guardFor(undefined);
    }
  });

  it('audits fingerprints and counts, never the statement or its values', async () => {
    await call('query_read', {
      sql: "SELECT id FROM customers WHERE name = $1 AND 'marker_literal' <> ''",
      params: ['value_marker'],
    });
    const event = audit.lines().at(-1);
    expect(event).toMatchObject({
      tool: 'query_read',
      decision: 'allow',
      source: 'main',
      rows: 0,
      fp: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
    expect(audit.text).not.toMatch(/marker_literal|value_marker|SELECT/);
  });
});
