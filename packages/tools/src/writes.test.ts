import { createPostgresAdapter, type PostgresAdapter } from '@sqlwarden/adapter-postgres';
import {
  type AnyTool,
  type BoundaryDeps,
  createToolRegistry,
  DEFAULT_LIMITS,
  executeToolBoundary,
  type ToolCallResult,
} from '@sqlwarden/core';
import { CapabilityPolicy, createAuditSink, createQuotaGate } from '@sqlwarden/security';
import { createGuard, DEFAULT_MAX_LENGTH, loadSqlGuard } from '@sqlwarden/sql-guard';
import { Capture, createTestSchema, postgresTestUrl, type TestSchema } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeclaredToolSpec, declareTool } from './declared.js';
import { executeWriteTool } from './execute-write.js';
import { createSourceDirectory, type SourceBinding } from './sources.js';

// execute_write and declared tools through the real boundary, the real
// capability policy and the real PostgreSQL adapter: every layer that must
// allow a write, each proven necessary by switching it off alone.

let schema: TestSchema;
let writer: PostgresAdapter;
let readOnlyAdapter: PostgresAdapter;
const audit = new Capture();

const binding = (
  id: string,
  adapter: PostgresAdapter,
  writable: readonly string[],
  s: string,
): SourceBinding => {
  const guard = createGuard({
    dialect: 'postgres',
    defaultSchema: s,
    allowedTables: [`${s}.*`],
    writableTables: [...writable],
    allowReturning: false,
    maxLength: DEFAULT_MAX_LENGTH,
  });
  return {
    id,
    adapter,
    dialect: 'postgres',
    defaultSchema: s,
    readable: [`${s}.*`],
    writable,
    limits: { maxAffectedRows: 5 },
    guard: () => ({ ready: true, guard }),
  };
};

interface Layers {
  readonly readOnly?: boolean;
  readonly writesEnabled?: boolean;
  readonly sessionReadOnly?: boolean;
  readonly capabilities?: readonly string[];
  readonly tools?: (directory: ReturnType<typeof createSourceDirectory>) => AnyTool[];
}

function deps(layers: Layers = {}): BoundaryDeps {
  const s = schema.name;
  const directory = createSourceDirectory(
    [binding('main', writer, [`${s}.orders`], s), binding('frozen', readOnlyAdapter, [], s)],
    'main',
  );
  const registry = createToolRegistry(layers.tools?.(directory) ?? [executeWriteTool(directory)]);
  return {
    registry,
    authorizer: new CapabilityPolicy({ roles: {} }),
    quota: createQuotaGate({ policy: {} }),
    audit: createAuditSink({ destination: audit, tools: registry.list().map((t) => t.name) }),
    limits: DEFAULT_LIMITS,
    readOnly: layers.readOnly ?? false,
    writesEnabled: layers.writesEnabled ?? true,
  };
}

const ALL_GRANTS = () => [
  'tool:execute_write',
  `write:main:${schema.name}.orders`,
  `read:main:${schema.name}.orders`,
];

function call(layers: Layers, input: unknown, tool = 'execute_write'): Promise<ToolCallResult> {
  return executeToolBoundary(
    {
      requestId: `r-${Math.random().toString(36).slice(2)}`,
      context: {
        sessionId: 'sess-writes',
        principalId: 'writer',
        capabilities: [...(layers.capabilities ?? ALL_GRANTS())],
        roles: [],
        transport: 'in-process',
        readOnly: layers.sessionReadOnly ?? false,
      },
      tool,
      input,
    },
    deps(layers),
  );
}

const codeOf = (result: ToolCallResult) =>
  result.isError ? (result.structuredContent as { error: { code: string } }).error.code : 'ok';

async function statuses(): Promise<string[]> {
  const { rows } = await schema.client.query('SELECT id, status FROM orders ORDER BY id');
  return rows.map((r: { id: number; status: string }) => `${r.id}:${r.status}`);
}

beforeAll(async () => {
  await loadSqlGuard();
  schema = await createTestSchema(
    'sqlwarden_writes',
    () => `CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL);
           INSERT INTO orders SELECT g, 'pending' FROM generate_series(1, 8) g;
           CREATE TABLE customers (id int PRIMARY KEY, name text);
           INSERT INTO customers VALUES (1, 'Ada');`,
  );
  const make = (allowWrites: boolean) =>
    createPostgresAdapter({
      source: allowWrites ? 'main' : 'frozen',
      connection: { connectionString: postgresTestUrl() },
      defaultSchema: schema.name,
      statementTimeoutMs: 5000,
      allowWrites,
    });
  writer = make(true);
  readOnlyAdapter = make(false);
});

afterAll(async () => {
  await writer?.close();
  await readOnlyAdapter?.close();
  await schema?.drop();
});

const UPDATE = { sql: 'UPDATE orders SET status = $1 WHERE id = $2', params: ['paid', 1] };

describe('execute_write: every layer must allow it', () => {
  it('writes when every layer allows it, and audits fp, rows and the commit, never values', async () => {
    const result = await call({}, UPDATE);
    expect(result.structuredContent).toEqual({ affectedRows: 1, committed: true, dryRun: false });
    expect(result.content[0]?.text).toBe('1 row changed (committed).');
    expect(await statuses()).toContain('1:paid');
    const line = audit.lines().at(-1);
    expect(line).toMatchObject({
      tool: 'execute_write',
      decision: 'allow',
      rows: 1,
      committed: true,
    });
    expect(line?.fp).toMatch(/^[0-9a-f]{12}$/);
    expect(audit.text).not.toContain('paid');
  });

  it.each([
    ['the server is read-only', { readOnly: true }, 'READ_ONLY'],
    ['the session is read-only', { sessionReadOnly: true }, 'READ_ONLY'],
    ['the deployment switch is off', { writesEnabled: false }, 'WRITES_DISABLED'],
    [
      'the principal lacks the write grant on the table',
      { capabilities: ['tool:execute_write', 'read:main:*'] },
      'FORBIDDEN',
    ],
    ['the principal lacks the tool grant', { capabilities: ['write:main:*'] }, 'FORBIDDEN'],
  ] as const)('refuses when %s, and nothing is written', async (_why, layers, code) => {
    const before = await statuses();
    const result = await call(layers, { ...UPDATE, params: ['refused', 2] });
    expect(codeOf(result)).toBe(code);
    expect(await statuses()).toEqual(before);
  });

  it('accepts one trailing semicolon on a write, and refuses two', async () => {
    const ended = await call({}, { ...UPDATE, sql: `${UPDATE.sql}; -- done`, params: ['paid', 2] });
    expect(ended.structuredContent).toEqual({ affectedRows: 1, committed: true, dryRun: false });
    expect(await statuses()).toContain('2:paid');
    expect(codeOf(await call({}, { ...UPDATE, sql: `${UPDATE.sql};;` }))).toBe('QUERY_REJECTED');
  });

  it('refuses a source that has no writable tables', async () => {
    const before = await statuses();
    const result = await call(
      { capabilities: ['tool:execute_write', 'write:frozen:*', 'read:frozen:*'] },
      { ...UPDATE, source: 'frozen', params: ['refused', 2] },
    );
    expect(codeOf(result)).toBe('READ_ONLY');
    expect(await statuses()).toEqual(before);
  });

  it('refuses a table outside the writable ones, even with a grant for it', async () => {
    const result = await call(
      { capabilities: [...ALL_GRANTS(), `write:main:${schema.name}.customers`] },
      { sql: 'UPDATE customers SET name = $1 WHERE id = $2', params: ['x', 1] },
    );
    expect(codeOf(result)).toBe('QUERY_REJECTED');
    const { rows } = await schema.client.query('SELECT name FROM customers');
    expect(rows).toEqual([{ name: 'Ada' }]);
  });

  it('refuses what is not one INSERT, UPDATE or DELETE', async () => {
    for (const sql of [
      'SELECT * FROM orders',
      'DELETE FROM orders',
      "UPDATE orders SET status = 'x' WHERE id = 1; DROP TABLE orders",
      "UPDATE orders SET status = 'x' WHERE id = 1 RETURNING *",
      'DROP TABLE orders',
    ]) {
      expect(codeOf(await call({}, { sql })), sql).toBe('QUERY_REJECTED');
    }
    expect(await statuses()).toHaveLength(8);
  });

  it('dry-runs: reports the count, changes nothing', async () => {
    const before = await statuses();
    const result = await call(
      {},
      {
        sql: "UPDATE orders SET status = 'shipped' WHERE id <= $1",
        params: [3],
        dryRun: true,
      },
    );
    expect(result.structuredContent).toEqual({ affectedRows: 3, committed: false, dryRun: true });
    expect(result.content[0]?.text).toBe(
      'Dry run: 3 rows would change; nothing was changed (rolled back).',
    );
    expect(await statuses()).toEqual(before);
    expect(audit.lines().at(-1)).toMatchObject({ rows: 3, committed: false });
  });

  it("rolls back over the source's affected-row ceiling", async () => {
    const before = await statuses();
    const result = await call(
      {},
      { sql: "UPDATE orders SET status = 'x' WHERE id > $1", params: [0] },
    );
    expect(codeOf(result)).toBe('WRITE_LIMIT_EXCEEDED');
    expect(result.content[0]?.text).toContain('more than the limit of 5');
    expect(await statuses()).toEqual(before);
  });
});

describe('declared tools', () => {
  const s = () => schema.name;
  const declare = (spec: Partial<DeclaredToolSpec>) => {
    const directory = createSourceDirectory(
      [
        binding('main', writer, [`${s()}.orders`], s()),
        binding('frozen', readOnlyAdapter, [], s()),
      ],
      'main',
    );
    return declareTool(
      {
        name: 'find_orders',
        description: 'Orders in a status',
        source: 'main',
        kind: 'read',
        sql: 'SELECT id FROM orders WHERE status = :status ORDER BY id LIMIT :max_rows',
        parameters: {
          status: { type: 'string', enum: ['pending', 'paid', 'shipped'] },
          max_rows: { type: 'integer', minimum: 1, maximum: 5, default: 3 },
        },
        ...spec,
      },
      directory,
    );
  };

  it('refuses at start-up a tool that calls a function the guard refuses, as calls would', () => {
    for (const sql of [
      "SELECT current_setting('app.jwt_secret') AS v FROM orders WHERE status = :status LIMIT :max_rows",
      'SELECT pid, query FROM pg_stat_get_activity(NULL) WHERE state = :status LIMIT :max_rows',
      "SELECT 'orders'::regclass::oid FROM orders WHERE status = :status LIMIT :max_rows",
    ]) {
      const result = declare({ sql });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.problems[0]).toMatch(
        /^tools\.find_orders\.sql: not accepted as a read: .*\[rule (FORBIDDEN_FUNCTION|CATALOG_QUERY)\]/,
      );
    }
    // The operator's allow list is the source's, at start-up as on every call.
    const directory = createSourceDirectory([
      {
        ...binding('main', writer, [], s()),
        functionPolicy: { allow: ['current_setting'], allowedBy: 'sources.main.functions.allow' },
      },
    ]);
    const allowed = declareTool(
      {
        name: 'setting',
        description: 'A setting',
        source: 'main',
        kind: 'read',
        sql: 'SELECT current_setting(:name) AS v',
        parameters: { name: { type: 'string' } },
      },
      directory,
    );
    expect(allowed.ok).toBe(true);
    const refused = declare({
      sql: 'SELECT version() AS v FROM orders WHERE status = :status LIMIT :max_rows',
    });
    expect(!refused.ok && refused.problems[0]).toContain(
      'version reads who and where the session is',
    );
  });

  it('refuses at start-up a read tool whose statement is not a read', () => {
    const result = declare({
      sql: "UPDATE orders SET status = 'x' WHERE id = :id",
      parameters: { id: { type: 'integer' } },
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems[0]).toMatch(
      /^tools\.find_orders\.sql: not accepted as a read: .*\[rule NOT_A_READ\]/,
    );
  });

  it('refuses undeclared and unused parameters, native placeholders and unknown sources', () => {
    const problems = (spec: Partial<DeclaredToolSpec>) => {
      const result = declare(spec);
      return result.ok ? [] : result.problems;
    };
    expect(problems({ parameters: { status: { type: 'string' } } })).toEqual([
      'tools.find_orders.sql: :max_rows is not declared under tools.find_orders.parameters',
    ]);
    expect(
      problems({
        parameters: {
          status: { type: 'string' },
          max_rows: { type: 'integer' },
          extra: { type: 'boolean' },
        },
      }),
    ).toEqual(['tools.find_orders.parameters.extra: not used in the statement']);
    expect(problems({ sql: 'SELECT id FROM orders WHERE id = $1' })[0]).toMatch(/:name/);
    expect(problems({ source: 'nope' })).toEqual([
      'tools.find_orders.source: there is no source nope',
    ]);
    expect(
      problems({
        kind: 'write',
        source: 'frozen',
        sql: 'UPDATE orders SET status = :status WHERE id = :max_rows',
      })[0],
    ).toMatch(/source frozen has no writable tables/);
  });

  it('runs a declared read with bound values, defaults and constraints, on the tool grant alone', async () => {
    const declared = declare({});
    if (!declared.ok) throw new Error(declared.problems.join('\n'));
    const layers: Layers = { tools: () => [declared.tool], capabilities: ['tool:find_orders'] };
    const result = await call(layers, { status: 'pending' }, 'find_orders');
    expect(codeOf(result)).toBe('ok');
    expect((result.structuredContent as { rowCount: number }).rowCount).toBe(3);
    // Constraints are the input schema: an unlisted status or too many rows is INVALID_INPUT.
    expect(codeOf(await call(layers, { status: "pending' OR 1=1 --" }, 'find_orders'))).toBe(
      'INVALID_INPUT',
    );
    expect(codeOf(await call(layers, { status: 'paid', max_rows: 500 }, 'find_orders'))).toBe(
      'INVALID_INPUT',
    );
    expect(codeOf(await call(layers, { status: 'paid', sql: 'x' }, 'find_orders'))).toBe(
      'INVALID_INPUT',
    );
    expect(declared.tool.kind).toBe('read');
  });

  it('runs a declared write only with its write grant, with dry run', async () => {
    const declared = declare({
      name: 'set_status',
      kind: 'write',
      sql: 'UPDATE orders SET status = :status WHERE id = :id',
      parameters: {
        status: { type: 'string', enum: ['paid', 'cancelled'] },
        id: { type: 'integer', minimum: 1 },
      },
    });
    if (!declared.ok) throw new Error(declared.problems.join('\n'));
    const tools = () => [declared.tool];
    const before = await statuses();
    expect(
      codeOf(
        await call(
          { tools, capabilities: ['tool:set_status'] },
          { status: 'paid', id: 4 },
          'set_status',
        ),
      ),
    ).toBe('FORBIDDEN');
    const grants = ['tool:set_status', `write:main:${s()}.orders`];
    const dry = await call(
      { tools, capabilities: grants },
      { status: 'cancelled', id: 4, dryRun: true },
      'set_status',
    );
    expect(dry.structuredContent).toEqual({ affectedRows: 1, committed: false, dryRun: true });
    expect(await statuses()).toEqual(before);
    const done = await call(
      { tools, capabilities: grants },
      { status: 'cancelled', id: 4 },
      'set_status',
    );
    expect(done.structuredContent).toEqual({ affectedRows: 1, committed: true, dryRun: false });
    expect(await statuses()).toContain('4:cancelled');
    expect(declared.tool.kind).toBe('write');
    // The boundary's gates hold for declared writes too.
    expect(
      codeOf(
        await call(
          { tools, capabilities: grants, writesEnabled: false },
          { status: 'paid', id: 5 },
          'set_status',
        ),
      ),
    ).toBe('WRITES_DISABLED');
  });
});
