import { createPostgresAdapter } from '@sqlwarden/adapter-postgres';
import {
  type BoundaryDeps,
  createToolRegistry,
  DEFAULT_LIMITS,
  executeToolBoundary,
  type ReadResult,
  type ToolCallResult,
} from '@sqlwarden/core';
import {
  CapabilityPolicy,
  type ColumnPolicy,
  createAuditSink,
  createMasker,
  createQuotaGate,
} from '@sqlwarden/security';
import { createGuard, DEFAULT_MAX_LENGTH, loadSqlGuard } from '@sqlwarden/sql-guard';
import { Capture, postgresTestUrl } from '@sqlwarden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  POSTGRES_COLUMN_ALLOWED,
  POSTGRES_COLUMN_ATTACKS,
} from '../../sql-guard/src/columns-attacks.js';
import {
  applyColumnPlan,
  type ColumnGovernance,
  createColumnGovernance,
  describeUnderPolicies,
} from './column-policies.js';
import { declareTool } from './declared.js';
import { describeEntitiesTool } from './describe-entities.js';
import { executeWriteTool } from './execute-write.js';
import { createReadTools } from './index.js';
import { createSourceDirectory, type SourceBinding } from './sources.js';

// Column policies through the real boundary, capability policy, guard and
// PostgreSQL adapter: what an analyst (ssn denied, email and salary
// masked) and a dpo (no policy) get from the tools.

const SCHEMA = `sqlwarden_cols_${process.pid}_${Date.now().toString(36)}`;
const SSN = '987-65-4321';
const EMAIL = 'ada.lovelace@example.org';
const SALARY = '73125.17';
const KEY = 'k'.repeat(40);
let admin: pg.Client;
const audit = new Capture();
let deps: BoundaryDeps;
let governance: ColumnGovernance;
let close: () => Promise<void>;

const session = (principalId: string, roles: string[]) => ({
  sessionId: `sess-${principalId}`,
  principalId,
  capabilities: [],
  roles,
  transport: 'in-process',
  readOnly: false,
});
const analyst = session('ana', ['analyst']);
const dpo = session('dora', ['dpo']);
const outsider = session('olaf', ['outsider']);

const policies: ColumnPolicy[] = [
  {
    source: 'main',
    table: { schema: SCHEMA, name: 'people' },
    columns: ['ssn'],
    action: 'deny',
    roles: ['analyst', 'outsider'],
  },
  {
    source: 'main',
    table: { schema: SCHEMA, name: 'people' },
    columns: ['email'],
    action: 'mask',
    mask: 'partial',
    roles: ['analyst'],
  },
  {
    source: 'main',
    table: { schema: SCHEMA, name: 'people' },
    columns: ['salary'],
    action: 'mask',
    mask: 'hash',
    roles: ['analyst'],
  },
];

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

function expectNoSecret(result: ToolCallResult) {
  const all = `${result.content.map((c) => c.text).join('\n')} ${JSON.stringify(result.structuredContent)}`;
  for (const secret of [SSN, EMAIL, SALARY, 'ada.lovelace']) expect(all).not.toContain(secret);
}

beforeAll(async () => {
  await loadSqlGuard();
  admin = new pg.Client({ connectionString: postgresTestUrl() });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${SCHEMA}; SET search_path = ${SCHEMA};
    CREATE TABLE people (id int PRIMARY KEY, name text, email text, ssn text UNIQUE, salary numeric(10,2));
    CREATE INDEX people_ssn_name ON people (ssn, name);
    CREATE TABLE orders (id int PRIMARY KEY, person_id int REFERENCES people (id), ssn_ref text REFERENCES people (ssn));
    INSERT INTO people VALUES (1, 'Ada', '${EMAIL}', '${SSN}', ${SALARY}), (2, 'Grace', NULL, NULL, ${SALARY});
    INSERT INTO orders VALUES (1, 1, NULL);
    CREATE VIEW staff AS SELECT id, name, ssn FROM people;
    CREATE VIEW directory AS SELECT id, name FROM people;
    CREATE VIEW over_staff AS SELECT id FROM staff;`);
  const adapter = createPostgresAdapter({
    source: 'main',
    connection: { connectionString: postgresTestUrl() },
    defaultSchema: SCHEMA,
    statementTimeoutMs: 5000,
    allowWrites: true,
  });
  governance = createColumnGovernance({
    source: 'main',
    dialect: 'postgres',
    adapter,
    policies,
    masker: createMasker(KEY),
    defaultSchema: SCHEMA,
    schemas: [SCHEMA],
    timeoutMs: 5000,
  });
  const source: SourceBinding = {
    id: 'main',
    adapter,
    dialect: 'postgres',
    defaultSchema: SCHEMA,
    readable: [`${SCHEMA}.*`],
    writable: [`${SCHEMA}.people`],
    columnPolicies: governance,
    guard: () => ({
      ready: true,
      guard: createGuard({
        dialect: 'postgres',
        defaultSchema: SCHEMA,
        allowedTables: [`${SCHEMA}.*`],
        writableTables: [`${SCHEMA}.people`],
        allowReturning: false,
        maxLength: DEFAULT_MAX_LENGTH,
      }),
    }),
  };
  const directory = createSourceDirectory([source]);
  const declared = declareTool(
    {
      name: 'person_by_id',
      description: 'One person',
      source: 'main',
      kind: 'read',
      sql: 'SELECT id, email, salary FROM people WHERE id = :id',
      parameters: { id: { type: 'integer' } },
    },
    directory,
  );
  if (!declared.ok) throw new Error(declared.problems.join('; '));
  const registry = createToolRegistry([
    ...createReadTools(directory),
    executeWriteTool(directory),
    declared.tool,
    describeEntitiesTool(
      [
        {
          name: 'staff',
          source: 'main',
          schema: SCHEMA,
          table: 'people',
          aliases: [],
          description: 'People on the payroll',
          columns: { name: 'Full name', email: 'Work address', ssn: 'Social security number' },
        },
      ],
      directory,
    ),
  ]);
  const grants = [
    'tool:describe_table',
    'tool:query_read',
    'tool:execute_write',
    'tool:person_by_id',
    'tool:describe_entities',
    `read:main:${SCHEMA}.*`,
    `write:main:${SCHEMA}.people`,
  ];
  deps = {
    registry,
    authorizer: new CapabilityPolicy({
      roles: { analyst: grants, dpo: grants, outsider: ['tool:query_read'] },
    }),
    quota: createQuotaGate({ policy: {} }),
    audit: createAuditSink({ destination: audit, tools: registry.list().map((t) => t.name) }),
    limits: { ...DEFAULT_LIMITS, maxRows: 20 },
    readOnly: false,
    writesEnabled: true,
  };
  close = () => adapter.close();
});

afterAll(async () => {
  await close?.();
  await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin?.end();
});

describe('query_read under column policies', () => {
  it('masks the marked columns of an analyst, as text, and leaves the rest', async () => {
    const result = await call('query_read', {
      sql: 'SELECT id, name, email, salary FROM people ORDER BY id',
    });
    expect(errorOf(result)).toBeUndefined();
    expectNoSecret(result);
    const content = result.structuredContent as ReadResult;
    expect(content.columns).toEqual([
      { name: 'id', type: 'int4' },
      { name: 'name', type: 'text' },
      { name: 'email', type: 'text' },
      { name: 'salary', type: 'text' },
    ]);
    const [ada, grace] = content.rows as unknown[][];
    expect(ada?.slice(0, 3)).toEqual([1, 'Ada', `${'*'.repeat(EMAIL.length - 4)}.org`]);
    expect(ada?.[3]).toMatch(/^h:[0-9a-f]{16}$/);
    // Null stays null; equal values give equal tokens (a model can still match them).
    expect(grace?.[2]).toBeNull();
    expect(grace?.[3]).toBe(ada?.[3]);
    expect(result.content[0]?.text).toContain('.org');
  });

  it('gives a dpo every value as it is', async () => {
    const result = await call(
      'query_read',
      { sql: 'SELECT ssn, email, salary FROM people WHERE id = 1' },
      dpo,
    );
    expect((result.structuredContent as ReadResult).rows).toEqual([[SSN, EMAIL, SALARY]]);
  });

  it('refuses a statement that reads a denied column, anywhere in it', async () => {
    for (const sql of [
      'SELECT ssn FROM people',
      "SELECT id FROM people WHERE ssn LIKE '9%'",
      'SELECT id FROM people ORDER BY ssn',
      'SELECT * FROM people',
    ]) {
      const result = await call('query_read', { sql });
      expect(errorOf(result)?.code, sql).toBe('QUERY_REJECTED');
      expectNoSecret(result);
    }
  });

  it('refuses a view over the denied column as one object, but not a view that passes none of it', async () => {
    for (const sql of ['SELECT id FROM staff', 'SELECT id FROM over_staff']) {
      const result = await call('query_read', { sql });
      expect(errorOf(result)?.code, sql).toBe('QUERY_REJECTED');
    }
    const plain = await call('query_read', { sql: 'SELECT * FROM directory ORDER BY id' });
    expect((plain.structuredContent as ReadResult).rows).toEqual([
      [1, 'Ada'],
      [2, 'Grace'],
    ]);
  });

  it('answers FORBIDDEN before any column refusal to a principal without the table grant', async () => {
    const result = await call('query_read', { sql: 'SELECT ssn FROM people' }, outsider);
    expect(errorOf(result)?.code).toBe('FORBIDDEN');
    expect(errorOf(result)?.message).not.toContain('ssn');
  });

  it('masks the result of a declared read tool too', async () => {
    const result = await call('person_by_id', { id: 1 });
    expectNoSecret(result);
    const row = (result.structuredContent as ReadResult).rows[0] as unknown[];
    expect(row[1]).toBe(`${'*'.repeat(EMAIL.length - 4)}.org`);
  });

  it('refuses a write that names a protected column, before it runs', async () => {
    const result = await call('execute_write', {
      sql: "UPDATE people SET name = 'x' WHERE ssn = $1",
      params: [SSN],
      dryRun: true,
    });
    expect(errorOf(result)?.code).toBe('QUERY_REJECTED');
    const allowed = await call('execute_write', {
      sql: "UPDATE people SET name = 'Ada' WHERE id = 1",
      dryRun: true,
    });
    expect(allowed.structuredContent).toEqual({ affectedRows: 1, committed: false, dryRun: true });
  });

  it('writes the policies that applied to the audit record, never a value', async () => {
    const before = audit.lines().length;
    await call('query_read', { sql: 'SELECT id, email FROM people' });
    const line = audit.lines().slice(before).at(-1) as Record<string, unknown>;
    expect(line.columnPolicies).toEqual([
      { table: `${SCHEMA}.people`, column: 'email', action: 'mask' },
    ]);
    expect(audit.text).not.toContain(SSN);
    expect(audit.text).not.toContain('ada.lovelace');
  });
});

describe('describe_table under column policies', () => {
  it('leaves out a denied column and every key and index that names it, and marks masked ones', async () => {
    const result = await call('describe_table', { table: 'people' });
    const table = result.structuredContent as {
      columns: Array<{ name: string; type: string }>;
      primaryKey: string[];
      indexes: Array<{ name: string; columns: string[] }>;
    };
    expect(table.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'integer'],
      ['name', 'text'],
      ['email', 'text (masked: partial)'],
      ['salary', 'text (masked: hash)'],
    ]);
    expect(table.primaryKey).toEqual(['id']);
    expect(table.indexes.map((i) => i.name)).toEqual(['people_pkey']);
    expect(JSON.stringify(result)).not.toContain('ssn');
  });

  it('leaves out a foreign key that points at a denied column of another table', async () => {
    const result = await call('describe_table', { table: 'orders' });
    const fks = (result.structuredContent as { foreignKeys: Array<{ columns: string[] }> })
      .foreignKeys;
    expect(fks.map((fk) => fk.columns)).toEqual([['person_id']]);
  });

  it('shows a dpo the whole table', async () => {
    const result = await call('describe_table', { table: 'people' }, dpo);
    const names = (result.structuredContent as { columns: Array<{ name: string }> }).columns.map(
      (c) => c.name,
    );
    expect(names).toEqual(['id', 'name', 'email', 'ssn', 'salary']);
  });
});

describe('describe_entities under column policies', () => {
  it("leaves out a denied column's note and marks a masked one", async () => {
    const notes = (principal: unknown) =>
      call('describe_entities', {}, principal).then(
        (r) =>
          (r.structuredContent as { entities: Array<{ columns: object }> }).entities[0]?.columns,
      );
    expect(await notes(analyst)).toEqual({
      name: 'Full name',
      email: 'Work address (masked: partial)',
    });
    expect(await notes(dpo)).toEqual({
      name: 'Full name',
      email: 'Work address',
      ssn: 'Social security number',
    });
  });
});

describe('the policies against the catalog', () => {
  it('finds no problem in policies whose tables and columns exist', async () => {
    expect(await governance.verify()).toEqual([]);
  });

  it('names a policy column that does not exist, and refuses the statements it would govern', async () => {
    const adapter = createPostgresAdapter({
      source: 'main',
      connection: { connectionString: postgresTestUrl() },
      defaultSchema: SCHEMA,
      statementTimeoutMs: 5000,
    });
    try {
      const problems: string[] = [];
      const typo = createColumnGovernance({
        source: 'main',
        dialect: 'postgres',
        adapter,
        policies: [{ ...(policies[0] as ColumnPolicy), columns: ['snn'] }],
        masker: createMasker(KEY),
        defaultSchema: SCHEMA,
        schemas: [SCHEMA],
        timeoutMs: 5000,
        onProblem: (problem) => problems.push(problem),
      });
      expect(await typo.verify()).toEqual([
        expect.stringContaining(`table ${SCHEMA}.people of source main has no column snn`),
      ]);
      const guard = createGuard({ dialect: 'postgres', defaultSchema: SCHEMA });
      const verdict = guard.checkRead('SELECT id FROM people');
      if (!verdict.ok) throw new Error(verdict.message);
      const plan = await typo.plan({
        sql: 'SELECT id FROM people',
        analysis: verdict.analysis,
        mode: 'read',
        subject: analyst,
      });
      expect(plan?.refusal?.code).toBe('QUERY_REJECTED');
      expect(problems).toEqual([expect.stringContaining('has no column snn')]);
    } finally {
      await adapter.close();
    }
  });
});

describe('applyColumnPlan', () => {
  const masker = createMasker(KEY);
  const result = (): ReadResult => ({
    columns: [
      { name: 'id', type: 'int4' },
      { name: 'Email', type: 'varchar' },
    ],
    rows: [
      [1, 'a@b.example'],
      [2, null],
    ],
    rowCount: 2,
    truncated: false,
  });
  const outputs = [{ name: 'id' }, { name: 'Email', mask: { mask: 'redact', keep: 4 } as const }];

  it('masks the planned positions in place', () => {
    const r = result();
    const rows = r.rows;
    applyColumnPlan(r, outputs, masker, 'postgres');
    expect(r.rows).toBe(rows);
    expect(r.rows).toEqual([
      [1, '[redacted]'],
      [2, null],
    ]);
    expect(r.columns[1]).toEqual({ name: 'Email', type: 'text' });
  });

  it('withholds a result whose columns are not the planned ones', () => {
    expect(() => applyColumnPlan(result(), outputs.slice(0, 1), masker, 'postgres')).toThrow(
      /not the ones the statement was checked for/,
    );
    const renamed = [{ name: 'id' }, { name: 'email', mask: { mask: 'null', keep: 4 } as const }];
    expect(() => applyColumnPlan(result(), renamed, masker, 'postgres')).toThrow();
    // MySQL and ODBC report names case-insensitively.
    const r = result();
    applyColumnPlan(r, renamed, masker, 'mysql');
    expect(r.rows[0]).toEqual([1, null]);
  });
});

describe('describeUnderPolicies', () => {
  it('returns the description untouched for a principal no policy applies to', () => {
    const table = {
      schema: SCHEMA,
      name: 'people',
      kind: 'table' as const,
      estimatedRows: null,
      comment: null,
      columns: [],
      primaryKey: [],
      foreignKeys: [],
      indexes: [],
    };
    expect(describeUnderPolicies(table, governance, dpo)).toBe(table);
    expect(describeUnderPolicies(table, undefined, analyst)).toBe(table);
  });
});

describe('the caches of the governance (column lists, views, rules per principal)', () => {
  it('plan exactly as an uncached governance, over the attack and allowed corpora in random orders', async () => {
    // The corpora name hr.people (id, name, dept, ssn, salary) and its
    // neighbours; here they run against this test's schema, whatever
    // exists of them (a missing table or column is a verdict too).
    const statements = [...POSTGRES_COLUMN_ATTACKS, ...POSTGRES_COLUMN_ALLOWED].map((a) => ({
      sql: a.sql.replaceAll('hr.', `${SCHEMA}.`),
      mode: a.mode ?? ('read' as const),
    }));
    const guard = createGuard({
      dialect: 'postgres',
      defaultSchema: SCHEMA,
      allowedTables: [`${SCHEMA}.*`],
      writableTables: [`${SCHEMA}.people`],
      allowReturning: false,
    });
    const adapter = createPostgresAdapter({
      source: 'main',
      connection: { connectionString: postgresTestUrl() },
      defaultSchema: SCHEMA,
      statementTimeoutMs: 5000,
    });
    const uncached = () =>
      createColumnGovernance({
        source: 'main',
        dialect: 'postgres',
        adapter,
        policies,
        masker: createMasker(KEY),
        defaultSchema: SCHEMA,
        schemas: [SCHEMA],
        timeoutMs: 5000,
        ttlMs: 0,
      });
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let compared = 0;
    let refused = 0;
    for (let round = 0; round < 3; round += 1) {
      const order = [...statements].sort(() => random() - 0.5);
      for (const { sql, mode } of order) {
        const checked = mode === 'write' ? guard.checkWrite(sql) : guard.checkRead(sql);
        if (!checked.ok) continue;
        for (const subject of [analyst, dpo, outsider]) {
          const request = { sql, analysis: checked.analysis, mode, subject };
          const fast = await governance.plan(request);
          const slow = await uncached().plan(request);
          expect(fast, `${subject.principalId}: ${sql}`).toEqual(slow);
          compared += 1;
          if (fast?.refusal !== undefined) refused += 1;
        }
      }
    }
    await adapter.close();
    // The comparison covered both outcomes, many times.
    expect(compared).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(100);
    expect(compared - refused).toBeGreaterThan(50);
  }, 120_000);
});
