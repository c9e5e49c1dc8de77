import { createPostgresAdapter, type PostgresAdapter } from '@sqlwarden/adapter-postgres';
import {
  type BoundaryDeps,
  createToolRegistry,
  DEFAULT_LIMITS,
  executeToolBoundary,
  type ToolCallResult,
} from '@sqlwarden/core';
import { CapabilityPolicy, createAuditSink, createQuotaGate } from '@sqlwarden/security';
import { createGuard, DEFAULT_MAX_LENGTH, loadSqlGuard } from '@sqlwarden/sql-guard';
import { Capture, postgresTestUrl } from '@sqlwarden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declareTool } from './declared.js';
import { createReadTools } from './index.js';
import { createSourceDirectory, type SourceBinding } from './sources.js';
import { authorizeStatement } from './statement.js';

// Three-part names (catalog.schema.table, as CONNX writes them) through the
// real boundary and capability policy, on the machine's PostgreSQL, which
// takes a three-part name whose catalog is its current database: the source
// is an ODBC-dialect source with that database as its default catalog.

const SCHEMA = `sqlwarden_names_${process.pid}_${Date.now().toString(36)}`;
let admin: pg.Client;
let adapter: PostgresAdapter;
let db = '';
let deps: BoundaryDeps;
const listRequests: unknown[] = [];

function source(overrides: Partial<SourceBinding> = {}): SourceBinding {
  const readable = overrides.readable ?? [`${db}.${SCHEMA}.*`];
  const defaultCatalog = 'defaultCatalog' in overrides ? overrides.defaultCatalog : db;
  const guard = createGuard({
    dialect: 'odbc',
    ...(defaultCatalog !== undefined && { defaultCatalog }),
    defaultSchema: SCHEMA,
    allowedTables: readable,
    maxLength: DEFAULT_MAX_LENGTH,
  });
  return {
    id: 'connx',
    adapter,
    dialect: 'odbc',
    defaultSchema: SCHEMA,
    writable: [],
    guard: () => ({ ready: true, guard }),
    ...overrides,
    ...(defaultCatalog !== undefined && { defaultCatalog }),
    readable,
  };
}

const session = (capabilities: string[]) => ({
  sessionId: 'sess-names',
  principalId: 'analyst',
  capabilities: ['tool:list_tables', 'tool:describe_table', 'tool:query_read', ...capabilities],
  roles: [],
  transport: 'in-process',
  readOnly: true,
});

function call(tool: string, input: unknown, capabilities: string[]): Promise<ToolCallResult> {
  return executeToolBoundary(
    {
      requestId: `r-${Math.random().toString(36).slice(2)}`,
      context: session(capabilities),
      tool,
      input,
    },
    deps,
  );
}

const errorOf = (result: ToolCallResult) =>
  result.isError
    ? (result.structuredContent as { error: { code: string; message: string } }).error
    : undefined;

beforeAll(async () => {
  await loadSqlGuard();
  admin = new pg.Client({ connectionString: postgresTestUrl() });
  await admin.connect();
  db = (await admin.query('SELECT current_database() AS db')).rows[0].db;
  await admin.query(`CREATE SCHEMA ${SCHEMA}; SET search_path = ${SCHEMA};
    CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers (id), total int);
    INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace');
    INSERT INTO orders VALUES (1, 1, 10), (2, 2, 20), (3, 1, 30);`);
  adapter = createPostgresAdapter({
    source: 'connx',
    connection: { connectionString: postgresTestUrl() },
    defaultSchema: SCHEMA,
    statementTimeoutMs: 5000,
  });
  // An adapter that names catalogs reports each table's catalog: this one's is the database.
  const listTables = adapter.listTables.bind(adapter);
  adapter.listTables = async (request) => {
    listRequests.push({ schemas: request.schemas, catalogs: request.catalogs });
    return (await listTables(request)).map((t) => ({ ...t, catalog: db }));
  };
  const registry = createToolRegistry(createReadTools(createSourceDirectory([source()])));
  deps = {
    registry,
    authorizer: new CapabilityPolicy(),
    quota: createQuotaGate({ policy: {} }),
    audit: createAuditSink({
      destination: new Capture(),
      tools: registry.list().map((t) => t.name),
    }),
    limits: DEFAULT_LIMITS,
    readOnly: true,
    writesEnabled: false,
  };
});

afterAll(async () => {
  await adapter?.close();
  await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin?.end();
});

describe('authorizeStatement on a source that names catalogs', () => {
  it('asks for the three-part capability of every table, however the statement names it', () => {
    const result = authorizeStatement(
      source(),
      `SELECT o.id FROM ${db}.${SCHEMA}.orders o JOIN ${SCHEMA}.customers c ON c.id = o.customer_id JOIN ${db}..orders p ON p.id = o.id`,
      0,
      'read',
    );
    expect(result.ok && result.capabilities).toEqual([
      `read:connx:${db}.${SCHEMA}.orders`,
      `read:connx:${db}.${SCHEMA}.customers`,
      `read:connx:${db}.${SCHEMA}.orders`,
    ]);
  });

  it('refuses a name whose catalog it cannot resolve, naming what to configure', () => {
    const result = authorizeStatement(
      source({ defaultCatalog: undefined }),
      'SELECT * FROM orders',
      0,
      'read',
    );
    expect(result).toMatchObject({ ok: false, code: 'QUERY_REJECTED' });
    expect(!result.ok && result.message).toMatch(
      /configure defaultCatalog\) \[rule AMBIGUOUS_TABLE\]$/,
    );
  });
});

describe('query_read with three-part names', () => {
  it('runs a read granted with the three-part capability', async () => {
    const result = await call(
      'query_read',
      { sql: `SELECT id, total FROM ${db}.${SCHEMA}.orders WHERE customer_id = 1 ORDER BY id` },
      [`read:connx:${db}.${SCHEMA}.orders`],
    );
    expect(result.isError).toBeUndefined();
    expect((result.structuredContent as { rows: unknown[] }).rows).toEqual([
      [1, 10],
      [3, 30],
    ]);
  });

  it('refuses it to a principal holding only two-part grants, or grants of another catalog', async () => {
    for (const grant of [
      `read:connx:${SCHEMA}.*`,
      `read:connx:${SCHEMA}.orders`,
      `read:connx:other.${SCHEMA}.*`,
      `read:connx:${db}.${SCHEMA}.customers`,
    ]) {
      const result = await call('query_read', { sql: `SELECT id FROM ${SCHEMA}.orders` }, [grant]);
      expect({ grant, code: errorOf(result)?.code }).toEqual({ grant, code: 'FORBIDDEN' });
    }
    const wide = await call('query_read', { sql: `SELECT id FROM ${SCHEMA}.orders` }, [
      'read:connx:*',
    ]);
    expect(wide.isError).toBeUndefined();
  });

  it('refuses a table of a catalog the source does not serve', async () => {
    const result = await call('query_read', { sql: `SELECT id FROM other.${SCHEMA}.orders` }, [
      'read:connx:*',
    ]);
    expect(errorOf(result)).toMatchObject({
      code: 'QUERY_REJECTED',
      message: expect.stringContaining(`other.${SCHEMA}.orders is not allowed`),
    });
  });
});

describe('describe_table and list_tables with three-part names', () => {
  const granted = () => [`read:connx:${db}.${SCHEMA}.*`];

  it('describes a table named catalog.schema.name, schema.name or name, with its capability', async () => {
    for (const table of [`${db}.${SCHEMA}.customers`, `${SCHEMA}.customers`, 'customers']) {
      const result = await call('describe_table', { table }, granted());
      expect({ table, content: result.structuredContent }).toMatchObject({
        table,
        content: { schema: SCHEMA, name: 'customers', primaryKey: ['id'] },
      });
    }
    const forbidden = await call('describe_table', { table: 'customers' }, [
      `read:connx:${SCHEMA}.customers`,
    ]);
    expect(errorOf(forbidden)?.code).toBe('FORBIDDEN');
  });

  it('answers NOT_FOUND for another catalog and INVALID_INPUT for a name it cannot resolve', async () => {
    const other = await call('describe_table', { table: `other.${SCHEMA}.customers` }, [
      'read:connx:*',
    ]);
    expect(errorOf(other)?.code).toBe('NOT_FOUND');
    for (const table of [
      `a.${db}.${SCHEMA}.customers`,
      `.${SCHEMA}.customers`,
      `${db}.${SCHEMA}.`,
    ]) {
      const result = await call('describe_table', { table }, ['read:connx:*']);
      expect({ table, code: errorOf(result)?.code }).toEqual({ table, code: 'INVALID_INPUT' });
    }
  });

  it('lists the tables with their catalog, asking the adapter for the served catalogs', async () => {
    listRequests.length = 0;
    const result = await call('list_tables', {}, [`read:connx:${db}.${SCHEMA}.orders`]);
    expect(result.structuredContent).toMatchObject({
      tables: [{ catalog: db, schema: SCHEMA, name: 'orders' }],
    });
    expect(result.content[0]?.text).toContain(`${db}.${SCHEMA}.orders (table`);
    expect(listRequests).toEqual([{ schemas: [SCHEMA], catalogs: [db] }]);
  });
});

describe('declared tools on a source that names catalogs', () => {
  const spec = (sql: string) => ({
    name: 'order_total',
    description: 'The total of one order.',
    source: 'connx',
    kind: 'read' as const,
    sql,
    parameters: { id: { type: 'integer' as const } },
  });

  it('checks the statement at start-up with the default catalog, as the calls will be', () => {
    const directory = createSourceDirectory([source()]);
    expect(declareTool(spec('SELECT total FROM orders WHERE id = :id'), directory).ok).toBe(true);
    expect(declareTool(spec(`SELECT total FROM ${db}..orders WHERE id = :id`), directory).ok).toBe(
      true,
    );
    const other = declareTool(spec('SELECT total FROM other.dbo.orders WHERE id = :id'), directory);
    expect(other.ok ? [] : other.problems).toEqual([
      expect.stringMatching(
        /other\.dbo\.orders is not allowed for reading.*\[rule TABLE_NOT_ALLOWED\]$/,
      ),
    ]);
  });

  it('refuses at start-up a statement whose names need a default catalog the source lacks', () => {
    const directory = createSourceDirectory([source({ defaultCatalog: undefined })]);
    const result = declareTool(spec('SELECT total FROM orders WHERE id = :id'), directory);
    expect(result.ok ? [] : result.problems).toEqual([
      expect.stringMatching(/configure defaultCatalog\) \[rule AMBIGUOUS_TABLE\]$/),
    ]);
  });
});
