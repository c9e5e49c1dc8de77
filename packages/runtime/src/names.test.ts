import { type AdapterPlugin, executeToolBoundary, type ToolCallResult } from '@sqlwarden/core';
import { loadEnvironment } from '@sqlwarden/security';
import { Capture, createTestSchema, postgresTestUrl, type TestSchema } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConfig, loadConfig } from './config/load.js';
import { createRuntime, type Runtime } from './runtime.js';

// A source that names tables catalog.schema.table, through the whole runtime:
// configuration, the source's guard with its defaultCatalog, the tools and
// the capability policy. No ODBC adapter is in this package: an embedder's
// plugin of dialect odbc runs on the machine's PostgreSQL, which takes a
// three-part name whose catalog is its current database.

let schema: TestSchema;
let runtime: Runtime;
let db = '';

async function read(sql: string, principal: string): Promise<ToolCallResult> {
  return executeToolBoundary(
    {
      requestId: `r-${Math.random().toString(36).slice(2)}`,
      context: runtime.session('in-process', principal),
      tool: 'query_read',
      input: { sql },
    },
    runtime.deps,
  );
}

const codeOf = (result: ToolCallResult) =>
  result.isError ? (result.structuredContent as { error: { code: string } }).error.code : 'ok';

beforeAll(async () => {
  schema = await createTestSchema(
    'sqlwarden_names',
    () => `CREATE TABLE orders (id int PRIMARY KEY, total int);
           INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 5) g;
           CREATE TABLE salaries (id int, amount int);`,
  );
  const url = new URL(postgresTestUrl());
  db = url.pathname.slice(1);
  const postgres = (await import('@sqlwarden/adapter-postgres')).adapterPlugin;
  const odbc: AdapterPlugin = {
    ...postgres,
    kind: 'odbcpg',
    dialect: 'odbc',
    schemes: ['odbc'],
    estimatesCost: false,
    check: (source) => ({ problems: [], defaultSchema: source.defaultSchema ?? 'dbo' }),
  };
  const config = assertConfig(
    await loadConfig(
      {
        sources: {
          connx: {
            kind: 'odbcpg',
            host: url.hostname,
            port: Number(url.port || 5432),
            database: db,
            user: decodeURIComponent(url.username),
            defaultCatalog: db,
            defaultSchema: schema.name,
            tables: [`${db}.${schema.name}.orders`],
          },
        },
        roles: {
          analyst: [
            'tool:query_read',
            'tool:describe_entities',
            `read:connx:${db}.${schema.name}.orders`,
          ],
          twoPart: ['tool:query_read', 'read:connx:*'],
          noRead: ['tool:describe_entities'],
        },
        entities: {
          orders: {
            source: 'connx',
            table: `${db}.${schema.name}.orders`,
            aliases: ['purchases'],
            description: 'Orders placed by customers',
          },
        },
        principals: {
          alice: { roles: ['analyst'] },
          bob: { roles: ['twoPart'] },
          carol: { roles: ['noRead'] },
        },
      },
      loadEnvironment({ env: {}, envFile: false }),
      { adapters: [odbc] },
    ),
  );
  runtime = await createRuntime({ config, auditDestination: new Capture() });
});

afterAll(async () => {
  await runtime?.close();
  await schema?.drop();
});

describe('a source with defaultCatalog, through the runtime', () => {
  it('gives the tools the default catalog', () => {
    expect(runtime.sources[0]).toMatchObject({ dialect: 'odbc', defaultCatalog: db });
  });

  it('resolves unqualified, two- and three-part names to the granted three-part table', async () => {
    for (const table of ['orders', `${schema.name}.orders`, `${db}.${schema.name}.orders`]) {
      const result = await read(`SELECT id, total FROM ${table} WHERE id = 3`, 'alice');
      expect({ table, code: codeOf(result), rows: result.structuredContent?.rows }).toEqual({
        table,
        code: 'ok',
        rows: [[3, 30]],
      });
    }
  });

  it('refuses what the allow list or the grants do not cover', async () => {
    expect(codeOf(await read('SELECT * FROM salaries', 'alice'))).toBe('QUERY_REJECTED');
    expect(codeOf(await read(`SELECT * FROM other.${schema.name}.orders`, 'alice'))).toBe(
      'QUERY_REJECTED',
    );
    expect(codeOf(await read('SELECT * FROM orders', 'bob'))).toBe('ok');
  });
});

describe('entities on a source with catalogs', () => {
  async function entities(principal: string) {
    const result = await executeToolBoundary(
      {
        requestId: `e-${Math.random().toString(36).slice(2)}`,
        context: runtime.session('in-process', principal),
        tool: 'describe_entities',
        input: { query: 'purchases' },
      },
      runtime.deps,
    );
    return (result.structuredContent as { entities?: Array<{ table: string }> }).entities;
  }

  it('names the table by catalog.schema.table and shows it only to a principal that may read it', async () => {
    expect(await entities('alice')).toEqual([
      expect.objectContaining({ table: `${db}.${schema.name}.orders` }),
    ]);
    expect(await entities('carol')).toEqual([]);
  });
});
