import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { createTestSchema, postgresTestUrl, type TestSchema, unframed } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, failure, ok, type RunningServer, startServer, tempDir, textOf } from './harness.js';

// sqlwarden-stdio with a YAML config, over stdio, against the real
// PostgreSQL: every tool, every denial, the known attacks, the limits.

let schema: TestSchema;
let server: RunningServer;
const dir = tempDir();

const READ_RESULT_KEYS = ['columns', 'rowCount', 'rows', 'truncated'];

beforeAll(async () => {
  schema = await createTestSchema(
    'e2e_stdio',
    () => `
      CREATE TABLE customers (
        id int PRIMARY KEY,
        name text NOT NULL,
        email text,
        balance numeric(12, 2) NOT NULL DEFAULT 0,
        visits bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT '2026-01-02T03:04:05Z'
      );
      COMMENT ON TABLE customers IS 'People who bought something';
      COMMENT ON COLUMN customers.email IS 'Primary contact address';
      INSERT INTO customers (id, name, email, balance, visits)
        SELECT g, 'customer ' || g, 'c' || g || '@example.com', g * 1.25, g * 1000000000000 FROM generate_series(1, 200) g;
      CREATE TABLE orders (
        id int PRIMARY KEY,
        customer_id int NOT NULL REFERENCES customers (id),
        total numeric(10, 2) NOT NULL
      );
      CREATE INDEX orders_customer_idx ON orders (customer_id);
      INSERT INTO orders SELECT g, 1 + g % 200, g * 0.5 FROM generate_series(1, 500) g;
      CREATE TABLE wide (id int PRIMARY KEY, payload text NOT NULL);
      INSERT INTO wide SELECT g, repeat(md5(g::text), 64) FROM generate_series(1, 2000) g;
      CREATE TABLE secrets (id int PRIMARY KEY, token text NOT NULL);
      INSERT INTO secrets VALUES (1, 'do-not-read-me');
      ANALYZE;`,
  );
  const s = schema.name;
  const config = dir.write(
    'sqlwarden.yaml',
    `# e2e: one source, one principal who reads three of the four tables
server:
  limits: { maxRows: 500, maxBytes: 1048576, timeoutMs: 10000 }
sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${s}
    tables: ["${s}.*"]
    # The source's limits lower the server's.
    limits: { maxRows: 50, maxBytes: 65536, timeoutMs: 1500 }
roles:
  analyst:
    - tool:list_tables
    - tool:describe_table
    - tool:query_read
    - read:main:${s}.customers
    - read:main:${s}.orders
    - read:main:${s}.wide
principals:
  alice: { roles: [analyst] }
transports:
  stdio: { principal: alice }
`,
  );
  server = await startServer(['--config', config], { E2E_DATABASE_URL: postgresTestUrl() });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await schema?.drop();
  dir.cleanup();
});

describe('tools/list', () => {
  it('lists the three read tools with read-only annotations and schemas', async () => {
    const { tools } = await server.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'describe_table',
      'list_tables',
      'query_read',
    ]);
    for (const tool of tools) {
      expect(tool.annotations).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      });
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.description?.length).toBeGreaterThan(20);
    }
    const query = tools.find((t) => t.name === 'query_read');
    expect(query?.inputSchema.required).toEqual(['sql']);
    expect(Object.keys(query?.inputSchema.properties ?? {}).sort()).toEqual([
      'maxRows',
      'params',
      'source',
      'sql',
    ]);
  });

  it('speaks MCP 2025-11-25 and says who it is', () => {
    expect(server.client.getServerVersion()).toMatchObject({ name: 'sqlwarden' });
    expect(server.client.getInstructions()).toContain('list_tables');
  });
});

describe('list_tables and describe_table', () => {
  it('lists exactly the granted tables, with kind, estimated rows and comment', async () => {
    const result = await call(server, 'list_tables', {});
    const { tables } = ok<{ tables: Array<Record<string, unknown>> }>(result);
    const names = tables.map((t) => `${t.schema}.${t.name}`).sort();
    const s = schema.name;
    expect(names).toEqual([`${s}.customers`, `${s}.orders`, `${s}.wide`]);
    expect(tables.find((t) => t.name === 'customers')).toMatchObject({
      kind: 'table',
      estimatedRows: 200,
      comment: 'People who bought something',
    });
    expect(textOf(result)).toContain(`${s}.customers (table, ~200 rows)`);
    expect(textOf(result)).not.toContain('secrets');
  });

  it('describes a table: columns, primary key, foreign keys, indexes', async () => {
    const result = await call(server, 'describe_table', { table: 'orders' });
    const table = ok<{
      columns: Array<{ name: string; type: string; nullable: boolean }>;
      primaryKey: string[];
      foreignKeys: Array<{ columns: string[]; references: { name: string; columns: string[] } }>;
      indexes: Array<{ name: string; columns: string[]; unique: boolean }>;
    }>(result);
    expect(table.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['id', 'integer', false],
      ['customer_id', 'integer', false],
      ['total', 'numeric(10,2)', false],
    ]);
    expect(table.primaryKey).toEqual(['id']);
    expect(table.foreignKeys).toMatchObject([
      { columns: ['customer_id'], references: { name: 'customers', columns: ['id'] } },
    ]);
    expect(table.indexes.map((i) => i.name).sort()).toEqual(['orders_customer_idx', 'orders_pkey']);
  });

  it('shows column comments and defaults', async () => {
    const table = ok<{
      columns: Array<{ name: string; comment: string | null; default: string | null }>;
    }>(await call(server, 'describe_table', { table: `${schema.name}.customers` }));
    expect(table.columns.find((c) => c.name === 'email')?.comment).toBe('Primary contact address');
    expect(table.columns.find((c) => c.name === 'balance')?.default).toBe('0');
  });

  it('refuses to describe a table the principal is not granted', async () => {
    const error = failure(await call(server, 'describe_table', { table: 'secrets' }));
    expect(error.code).toBe('FORBIDDEN');
  });

  it('answers a table outside the served ones as not found', async () => {
    const error = failure(await call(server, 'describe_table', { table: 'pg_catalog.pg_authid' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('list_tables');
  });
});

describe('query_read', () => {
  it('returns columns with types, rows as arrays, and a compact text form', async () => {
    const result = await call(server, 'query_read', {
      sql: 'SELECT id, name, balance, visits, created_at FROM customers WHERE id <= 2 ORDER BY id',
    });
    const read = ok<{
      columns: Array<{ name: string; type: string }>;
      rows: unknown[][];
      rowCount: number;
      truncated: boolean;
    }>(result);
    expect(Object.keys(read).sort()).toEqual(READ_RESULT_KEYS);
    expect(read.columns).toEqual([
      { name: 'id', type: 'int4' },
      { name: 'name', type: 'text' },
      { name: 'balance', type: 'numeric' },
      { name: 'visits', type: 'int8' },
      { name: 'created_at', type: 'timestamptz' },
    ]);
    // numeric and bigint come as strings (exact), timestamps as ISO text in UTC.
    expect(read.rows[0]).toEqual([1, 'customer 1', '1.25', '1000000000000', expect.any(String)]);
    expect(String(read.rows[0]?.[4])).toMatch(/^2026-01-02[ T]03:04:05(\+00(:00)?|Z)$/);
    expect(read.rowCount).toBe(2);
    expect(read.truncated).toBe(false);
    expect(unframed(textOf(result)).split('\n').slice(0, 2)).toEqual([
      '2 rows',
      'id\tname\tbalance\tvisits\tcreated_at',
    ]);
  });

  it('binds parameters', async () => {
    const read = ok<{ rows: unknown[][] }>(
      await call(server, 'query_read', {
        sql: 'SELECT name FROM customers WHERE id = $1 OR email = $2 ORDER BY id',
        params: [7, 'c9@example.com'],
      }),
    );
    expect(read.rows).toEqual([['customer 7'], ['customer 9']]);
  });

  it('joins granted tables', async () => {
    const read = ok<{ rows: unknown[][] }>(
      await call(server, 'query_read', {
        sql: 'SELECT c.name, count(*)::int FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.id = 3 GROUP BY c.name',
      }),
    );
    expect(read.rows).toEqual([['customer 3', 3]]);
  });
});

describe('limits', () => {
  it('truncates at the row limit and says so', async () => {
    const result = await call(server, 'query_read', { sql: 'SELECT id FROM orders ORDER BY id' });
    const read = ok<{ rowCount: number; truncated: boolean; truncatedReason?: string }>(result);
    expect(read).toMatchObject({ rowCount: 50, truncated: true, truncatedReason: 'maxRows' });
    expect(textOf(result)).toContain('truncated at the row limit');
  });

  it('lets a call ask for fewer rows, never more', async () => {
    const fewer = ok<{ rowCount: number }>(
      await call(server, 'query_read', { sql: 'SELECT id FROM orders', maxRows: 5 }),
    );
    expect(fewer.rowCount).toBe(5);
    const more = ok<{ rowCount: number }>(
      await call(server, 'query_read', { sql: 'SELECT id FROM orders', maxRows: 400 }),
    );
    expect(more.rowCount).toBe(50);
  });

  it('truncates at the byte limit and says so', async () => {
    const result = await call(server, 'query_read', { sql: 'SELECT * FROM wide ORDER BY id' });
    const read = ok<{ rowCount: number; truncated: boolean; truncatedReason?: string }>(result);
    expect(read.truncated).toBe(true);
    expect(read.truncatedReason).toBe('maxBytes');
    // 2,048-character payloads against a 64 KiB limit: fewer rows than maxRows (50).
    expect(read.rowCount).toBeGreaterThan(20);
    expect(read.rowCount).toBeLessThan(32);
    expect(Buffer.byteLength(JSON.stringify(result.structuredContent))).toBeLessThan(70_000);
    expect(textOf(result)).toContain('truncated at the size limit');
  });

  it('cancels a slow statement at the time limit, and the next call works', async () => {
    const started = performance.now();
    const error = failure(
      await call(server, 'query_read', {
        sql: 'SELECT count(*) FROM customers a, orders b, wide c, orders d',
      }),
    );
    const elapsed = performance.now() - started;
    expect(error.code).toBe('QUERY_TIMEOUT');
    expect(elapsed).toBeGreaterThan(1_000);
    // The source's 1.5 s, not the server's 10 s.
    expect(elapsed).toBeLessThan(5_000);
    await expectNoActiveStatement();
    const read = ok<{ rows: unknown[][] }>(
      await call(server, 'query_read', { sql: 'SELECT 1 AS one' }),
    );
    expect(read.rows).toEqual([[1]]);
  }, 30_000);

  it('cancels the statement on the server when the client cancels the call', async () => {
    const controller = new AbortController();
    const pending = call(
      server,
      'query_read',
      { sql: 'SELECT count(*) FROM customers a, orders b, wide c, wide d' },
      { signal: controller.signal },
    );
    await waitFor(async () => (await activeStatements()) === 1);
    controller.abort();
    await expect(pending).rejects.toThrow(/abort/i);
    await expectNoActiveStatement();
    const read = ok<{ rows: unknown[][] }>(
      await call(server, 'query_read', { sql: 'SELECT 2 AS two' }),
    );
    expect(read.rows).toEqual([[2]]);
  }, 30_000);
});

describe('denials', () => {
  it('rejects a write and says which rule, and nothing is written', async () => {
    const error = failure(
      await call(server, 'query_read', { sql: "UPDATE customers SET name = 'x' WHERE id = 1" }),
    );
    expect(error.code).toBe('QUERY_REJECTED');
    expect(error.message).toContain('[rule NOT_A_READ]');
    const { rows } = await schema.client.query('SELECT name FROM customers WHERE id = 1');
    expect(rows[0].name).toBe('customer 1');
  });

  it('rejects the stacked COMMIT; DROP attack, and the table is still there', async () => {
    for (const sql of [
      'SELECT 1; COMMIT; DROP TABLE customers CASCADE',
      'COMMIT; DROP TABLE customers CASCADE',
      'SELECT 1; DROP TABLE orders',
    ]) {
      const error = failure(await call(server, 'query_read', { sql }));
      expect(error.code, sql).toBe('QUERY_REJECTED');
    }
    const { rows } = await schema.client.query(
      `SELECT count(*)::int AS n FROM customers, (SELECT to_regclass('orders') AS o) t WHERE t.o IS NOT NULL`,
    );
    expect(rows[0].n).toBe(200);
  });

  it('rejects pg_read_file in FROM and other server-file functions', async () => {
    for (const sql of [
      "SELECT * FROM pg_read_file('/etc/passwd')",
      "SELECT pg_read_file('/etc/passwd')",
      "SELECT * FROM pg_ls_dir('.')",
      "SELECT lo_import('/etc/passwd')",
    ]) {
      const error = failure(await call(server, 'query_read', { sql }));
      expect(error.code, sql).toBe('QUERY_REJECTED');
    }
  });

  it('refuses a function created after start-up (not in the catalog it read)', async () => {
    const s = schema.name;
    await schema.client.query(
      `CREATE FUNCTION ${s}.created_later() RETURNS int LANGUAGE sql STABLE AS 'SELECT 42'`,
    );
    for (const sql of [`SELECT ${s}.created_later()`, 'SELECT created_later()']) {
      const error = failure(await call(server, 'query_read', { sql }));
      expect(error.code, sql).toBe('QUERY_REJECTED');
      expect(error.message).toContain('[rule FORBIDDEN_FUNCTION]');
    }
    // System functions still work.
    const read = ok<{ rows: unknown[][] }>(
      await call(server, 'query_read', { sql: "SELECT upper('a'), length('abc')" }),
    );
    expect(read.rows).toEqual([['A', 3]]);
  });

  it('refuses a table the principal is not granted, alone or in a join', async () => {
    for (const sql of [
      'SELECT * FROM secrets',
      'SELECT c.name FROM customers c JOIN secrets s ON s.id = c.id',
      'SELECT (SELECT token FROM secrets LIMIT 1)',
      'WITH t AS (SELECT * FROM secrets) SELECT * FROM t',
    ]) {
      const error = failure(await call(server, 'query_read', { sql }));
      expect(error.code, sql).toBe('FORBIDDEN');
      expect(error.message).not.toContain('do-not-read-me');
    }
  });

  it('refuses tables outside the served schema', async () => {
    const error = failure(
      await call(server, 'query_read', { sql: 'SELECT * FROM pg_catalog.pg_authid' }),
    );
    expect(error.code).toBe('QUERY_REJECTED');
    expect(error.message).toContain('pg_catalog.pg_authid is not allowed for reading');
    // A system catalog: refused, with the tools that show what may be read.
    expect(error.message).toContain('[rule CATALOG_QUERY]');
  });

  it('answers bad arguments with INVALID_INPUT and what to fix', async () => {
    expect(failure(await call(server, 'query_read', {})).code).toBe('INVALID_INPUT');
    expect(failure(await call(server, 'query_read', { sql: 42 })).code).toBe('INVALID_INPUT');
    const mismatch = failure(
      await call(server, 'query_read', { sql: 'SELECT $1::int + $2::int', params: [1] }),
    );
    expect(mismatch.code).toBe('INVALID_INPUT');
    expect(mismatch.message).toContain('2 parameters but 1');
  });

  it('answers an unknown source with NOT_FOUND', async () => {
    const error = failure(await call(server, 'query_read', { source: 'nope', sql: 'SELECT 1' }));
    expect(error.code).toBe('NOT_FOUND');
  });

  it('answers a statement that fails in the database with its code, not a stack trace', async () => {
    const error = failure(await call(server, 'query_read', { sql: 'SELECT 1 / 0' }));
    expect(error.code).toBe('QUERY_FAILED');
    expect(error.message).not.toMatch(/\n\s+at /);
    const missing = failure(
      await call(server, 'query_read', { sql: 'SELECT nope FROM customers' }),
    );
    expect(missing.message).toContain('nope');
  });

  it('answers an unknown tool with JSON-RPC -32602', async () => {
    const error = await server.client
      .callTool({ name: 'drop_database', arguments: {} })
      .catch((e) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32602);
  });
});

describe('audit and logs', () => {
  it('writes one audit line per call with a fingerprint, never the SQL', async () => {
    const marker = 'zz_audit_marker_7731';
    // The server's earlier calls have lines already: wait for these two's.
    const before = server.auditLines().length;
    await call(server, 'query_read', { sql: `SELECT '${marker}' AS m` });
    await call(server, 'query_read', { sql: `SELECT 1; DROP TABLE ${marker}` });
    await waitFor(async () => server.auditLines().length >= before + 2);
    const stderr = server.stderr();
    expect(stderr).not.toContain(marker);
    expect(stderr).not.toContain('DROP TABLE');
    expect(stderr).not.toContain('/etc/passwd');
    expect(stderr).not.toContain('do-not-read-me');
    const last = server.auditLines().slice(before, before + 2);
    expect(last[0]).toMatchObject({
      tool: 'query_read',
      decision: 'allow',
      rows: 1,
      principalId: 'alice',
    });
    expect(last[0]?.fp).toMatch(/^[0-9a-f]{12}$/);
    expect(last[1]).toMatchObject({ tool: 'query_read', decision: 'deny', code: 'QUERY_REJECTED' });
  });
});

async function activeStatements(): Promise<number> {
  const { rows } = await schema.client.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE application_name = 'sqlwarden' AND state = 'active'
        AND query LIKE '%FROM customers a, orders b, wide c%' AND pid <> pg_backend_pid()`,
  );
  return rows[0].n as number;
}

async function expectNoActiveStatement(): Promise<void> {
  await waitFor(async () => (await activeStatements()) === 0);
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
