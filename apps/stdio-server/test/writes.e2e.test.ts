import { createTestSchema, postgresTestUrl, type TestSchema } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, failure, ok, runCli, startServer, tempDir, textOf } from './harness.js';

// Controlled writes end to end: the built sqlwarden-stdio, a YAML config,
// the real PostgreSQL. Writes are off by default; each enabling condition
// is switched off alone and shown to be necessary, with nothing written.
// The frozen invariants hold against the real database too: a read-only
// server refuses a write before any grant is looked at, and a write runs
// only under the controlled path (transaction, ceiling, dry run).

let schema: TestSchema;
const dir = tempDir();

beforeAll(async () => {
  schema = await createTestSchema(
    'e2e_writes',
    () => `CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, state char(2) NOT NULL, city text);
           INSERT INTO customers VALUES
             (1, 'Ada', 'OH', 'Columbus'), (2, 'Bo', 'OH', 'Dayton'), (3, 'Cy', 'TX', 'Austin'),
             (4, 'Di', 'OH', 'Columbus'), (5, 'Ed', 'CA', NULL);
           CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), status text NOT NULL);
           INSERT INTO orders SELECT g, 1 + g % 5, 'pending' FROM generate_series(1, 20) g;`,
  );
});

afterAll(async () => {
  await schema?.drop();
  dir.cleanup();
});

interface Options {
  readonly readOnly?: boolean;
  readonly grants?: readonly string[];
  readonly writable?: boolean;
  readonly tools?: string;
}

function configFile(name: string, options: Options = {}): string {
  const s = schema.name;
  const grants = options.grants ?? [
    'tool:list_tables',
    'tool:query_read',
    'tool:execute_write',
    'tool:find_customers',
    'tool:get_customer',
    'tool:update_order_status',
    `read:main:${s}.*`,
    `write:main:${s}.orders`,
  ];
  return dir.write(
    `${name}.yaml`,
    `server:
  readOnly: ${options.readOnly ?? false}
  limits: { maxAffectedRows: 5 }
  defaultSource: main
sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${s}
    tables: ["${s}.*"]
${options.writable === false ? '' : `    writable: ["${s}.orders"]\n`}  archive:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${s}
    tables: ["${s}.*"]
roles:
  clerk: ${JSON.stringify(grants)}
principals:
  clerk: { roles: [clerk] }
transports:
  stdio: { principal: clerk }
${
  options.tools ??
  `tools:
  find_customers:
    description: Customers in a US state, optionally in one city, by name.
    source: main
    kind: read
    sql: >-
      SELECT id, name, city FROM customers
       WHERE state = :state AND (CAST(:city AS text) IS NULL OR city = :city)
       ORDER BY name LIMIT :max_rows
    parameters:
      state: { type: string, pattern: "^[A-Z]{2}$", description: Two-letter state code }
      city: { type: string, maxLength: 64, optional: true }
      max_rows: { type: integer, minimum: 1, maximum: 500, default: 100 }
  get_customer:
    description: One customer by id.
    source: main
    kind: read
    sql: SELECT id, name, state, city FROM customers WHERE id = :id
    parameters:
      id: { type: integer, minimum: 1 }
  update_order_status:
    description: Sets the status of one order.
    source: main
    kind: write
    sql: UPDATE orders SET status = :status WHERE id = :order_id
    parameters:
      order_id: { type: integer, minimum: 1 }
      status: { type: string, enum: [paid, shipped, cancelled] }
`
}`,
  );
}

const env = (writes: boolean): Record<string, string> => ({
  E2E_DATABASE_URL: postgresTestUrl(),
  ...(writes && { SQLWARDEN_ALLOW_WRITES: 'true' }),
});

async function statuses(): Promise<string> {
  const { rows } = await schema.client.query(
    "SELECT string_agg(id || ':' || status, ',' ORDER BY id) AS s FROM orders",
  );
  return rows[0].s as string;
}

describe('writes enabled by every layer', () => {
  it('lists the write tools as destructive and writes through execute_write', async () => {
    const server = await startServer(['--config', configFile('enabled')], env(true));
    try {
      const { tools } = await server.client.listTools();
      const write = tools.find((t) => t.name === 'execute_write');
      expect(write?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
      expect(tools.find((t) => t.name === 'update_order_status')?.annotations).toMatchObject({
        destructiveHint: true,
      });
      const result = await call(server, 'execute_write', {
        sql: 'UPDATE orders SET status = $1 WHERE id = $2',
        params: ['paid', 1],
      });
      expect(ok(result)).toEqual({ affectedRows: 1, committed: true, dryRun: false });
      expect(await statuses()).toMatch(/^1:paid,/);

      const dry = await call(server, 'execute_write', {
        sql: "UPDATE orders SET status = 'x' WHERE customer_id = $1",
        params: [2],
        dryRun: true,
      });
      expect(ok(dry)).toEqual({ affectedRows: 4, committed: false, dryRun: true });
      const over = failure(
        await call(server, 'execute_write', {
          sql: "UPDATE orders SET status = 'x' WHERE id > $1",
          params: [0],
        }),
      );
      expect(over.code).toBe('WRITE_LIMIT_EXCEEDED');
      expect(await statuses()).not.toContain(':x');

      // Audit: fingerprint, affected rows, outcome; never the values.
      const audit = server.auditLines().filter((l) => l.tool === 'execute_write');
      expect(audit.map((l) => [l.decision, l.rows, l.committed, l.code])).toEqual([
        ['allow', 1, true, undefined],
        ['allow', 4, false, undefined],
        ['deny', undefined, undefined, 'WRITE_LIMIT_EXCEEDED'],
      ]);
      expect(server.stderr()).not.toContain('paid');
    } finally {
      await server.close();
    }
  });

  it('runs the declared tools: bound values, constraints, defaults, dry run', async () => {
    const server = await startServer(['--config', configFile('declared')], env(true));
    try {
      const found = ok<{ rows: unknown[][] }>(
        await call(server, 'find_customers', { state: 'OH', city: 'Columbus' }),
      );
      expect(found.rows).toEqual([
        [1, 'Ada', 'Columbus'],
        [4, 'Di', 'Columbus'],
      ]);
      expect(
        ok<{ rowCount: number }>(await call(server, 'find_customers', { state: 'OH', max_rows: 2 }))
          .rowCount,
      ).toBe(2);
      for (const bad of [
        { state: "OH' OR '1'='1" },
        { state: 'OH', max_rows: 501 },
        { state: 'OH', sql: 'SELECT 1' },
        {},
      ]) {
        expect(failure(await call(server, 'find_customers', bad)).code).toBe('INVALID_INPUT');
      }
      expect(ok<{ rows: unknown[][] }>(await call(server, 'get_customer', { id: 3 })).rows).toEqual(
        [[3, 'Cy', 'TX', 'Austin']],
      );

      const dry = await call(server, 'update_order_status', {
        order_id: 7,
        status: 'shipped',
        dryRun: true,
      });
      expect(textOf(dry)).toBe('Dry run: 1 row would change; nothing was changed (rolled back).');
      expect(await statuses()).toContain(',7:pending,');
      expect(
        failure(await call(server, 'update_order_status', { order_id: 7, status: 'lost' })).code,
      ).toBe('INVALID_INPUT');
      ok(await call(server, 'update_order_status', { order_id: 7, status: 'shipped' }));
      expect(await statuses()).toContain(',7:shipped,');
    } finally {
      await server.close();
    }
  });
});

describe('each condition is necessary', () => {
  const attempt = async (
    file: string,
    writes: boolean,
    tool = 'execute_write',
    args: Record<string, unknown> = {
      sql: 'UPDATE orders SET status = $1 WHERE id = $2',
      params: ['refused', 2],
    },
  ) => {
    const before = await statuses();
    const server = await startServer(['--config', file], env(writes));
    try {
      const { tools } = await server.client.listTools();
      const error = failure(await call(server, tool, args));
      expect(await statuses()).toEqual(before);
      return { code: error.code, message: error.message, listed: tools.map((t) => t.name) };
    } finally {
      await server.close();
    }
  };

  it('the environment switch: off by default (WRITES_DISABLED), write tools not listed', async () => {
    const result = await attempt(configFile('switch-off'), false);
    expect(result.code).toBe('WRITES_DISABLED');
    expect(result.listed).not.toContain('execute_write');
    expect(result.listed).not.toContain('update_order_status');
    expect(result.listed).toContain('find_customers');
    const declared = await attempt(configFile('switch-off'), false, 'update_order_status', {
      order_id: 2,
      status: 'paid',
    });
    expect(declared.code).toBe('WRITES_DISABLED');
  });

  it('the server not read-only: READ_ONLY, before any grant is looked at', async () => {
    // No grant at all, yet READ_ONLY and not FORBIDDEN: the gate comes first.
    const result = await attempt(
      configFile('read-only', { readOnly: true, grants: [] }),
      true,
      'update_order_status',
      { order_id: 2, status: 'paid' },
    );
    expect(result.code).toBe('READ_ONLY');
    expect(result.listed).toEqual([]);
  });

  it('the source configured writable: READ_ONLY', async () => {
    const s = schema.name;
    const result = await attempt(
      configFile('not-writable', {
        grants: ['tool:execute_write', 'read:archive:*', `write:archive:${s}.*`],
      }),
      true,
      'execute_write',
      {
        source: 'archive',
        sql: 'UPDATE orders SET status = $1 WHERE id = $2',
        params: ['refused', 2],
      },
    );
    expect(result.code).toBe('READ_ONLY');
    expect(result.message).toContain('Source archive is read-only');
  });

  it('no writable source at all: execute_write is not registered', async () => {
    const server = await startServer(
      ['--config', configFile('nothing-writable', { writable: false, tools: '' })],
      env(true),
    );
    try {
      const { tools } = await server.client.listTools();
      expect(tools.map((t) => t.name)).not.toContain('execute_write');
      const error = await server.client
        .callTool({ name: 'execute_write', arguments: { sql: 'DELETE FROM orders WHERE id = 1' } })
        .catch((e: unknown) => e);
      expect((error as { code?: number }).code).toBe(-32602);
    } finally {
      await server.close();
    }
    expect(await statuses()).toContain('1:');
  });

  it('the write grant on the table: FORBIDDEN', async () => {
    const s = schema.name;
    const result = await attempt(
      configFile('no-grant', { grants: ['tool:execute_write', `read:main:${s}.*`] }),
      true,
    );
    expect(result.code).toBe('FORBIDDEN');
  });
});

describe('declared tools are checked at start-up', () => {
  it('a declared read tool whose statement writes stops the server with the problem', async () => {
    const file = configFile('bad-tool', {
      tools: `tools:
  sneaky:
    description: looks like a read
    source: main
    kind: read
    sql: DELETE FROM orders WHERE id = :id
    parameters:
      id: { type: integer }
`,
    });
    const run = await runCli(['--config', file], { env: env(true) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('tools.sneaky.sql: not accepted as a read');
    expect(run.stderr).toContain('[rule NOT_A_READ]');
  });
});
