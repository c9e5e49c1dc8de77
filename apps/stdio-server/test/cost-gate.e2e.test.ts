import { randomBytes } from 'node:crypto';
import { mysqlTestUrl, postgresTestUrl } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditLineAfter,
  call,
  failure,
  ok,
  onTestMysql,
  onTestPostgres,
  type RunningServer,
  runCli,
  startServer,
  type ToolResult,
  tempDir,
  urlWithDatabase,
} from './harness.js';

// The cost gate end to end: the built sqlwarden-stdio on the real PostgreSQL
// and MariaDB. The estimates the ceilings are set from are the server's own,
// read from the audit of a first server whose ceiling refuses everything
// (nothing runs there); the second server is gated between them.

const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
const DB = `sqlwarden_cost_${tag}`;
const ROWS = 50_000;
const dir = tempDir();

const SQL = {
  point: 'SELECT id, v FROM big WHERE id = 7',
  count: 'SELECT count(*) AS n FROM big',
  cross: 'SELECT count(*) AS n FROM big a, big b, big c',
  union: 'SELECT id FROM small UNION SELECT id FROM small',
} as const;
type Query = keyof typeof SQL;

interface Estimate {
  readonly cost: number | undefined;
  readonly rows: number;
}

const engines = [
  {
    kind: 'postgres' as const,
    url: () => urlWithDatabase(postgresTestUrl(), DB),
    tables: 'public.*',
    defaultSchema: 'public',
    async setUp() {
      await onTestPostgres(`CREATE DATABASE ${DB}`);
      await onTestPostgres(
        `
          CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL);
          INSERT INTO big SELECT g, g % 100 FROM generate_series(1, ${ROWS}) g;
          CREATE TABLE small (id int PRIMARY KEY);
          INSERT INTO small SELECT g FROM generate_series(1, 10) g;
          ANALYZE big; ANALYZE small;`,
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
    tables: `${DB}.*`,
    defaultSchema: DB,
    async setUp() {
      await onTestMysql(
        `CREATE DATABASE ${DB} CHARACTER SET utf8mb4`,
        `
          CREATE TABLE ${DB}.big (id int PRIMARY KEY, v int NOT NULL);
          INSERT INTO ${DB}.big SELECT seq, seq % 100 FROM seq_1_to_${ROWS};
          CREATE TABLE ${DB}.small (id int PRIMARY KEY);
          INSERT INTO ${DB}.small SELECT seq FROM seq_1_to_10;
          ANALYZE TABLE ${DB}.big, ${DB}.small;`,
      );
    },
    async tearDown() {
      await onTestMysql(`DROP DATABASE IF EXISTS ${DB}`);
    },
  },
];

type Engine = (typeof engines)[number];

interface Gates {
  readonly source: string;
  readonly principals?: string;
  readonly tools?: string;
}

function configFile(engine: Engine, name: string, gates: Gates): string {
  const grants = [
    'tool:query_read',
    'tool:count_at_ceiling',
    'tool:count_below_ceiling',
    'tool:ids_above',
    `read:main:${engine.tables}`,
  ];
  return dir.write(
    `${engine.kind}-${name}.yaml`,
    `sources:
  main:
    kind: ${engine.kind}
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${engine.defaultSchema}
    tables: ["${engine.tables}"]
    costGate: ${gates.source}
roles:
  analyst: ${JSON.stringify(grants)}
principals:
  alice: { roles: [analyst] }
  bob:
    roles: [analyst]
${gates.principals ?? ''}
transports:
  stdio: { principal: alice }
${gates.tools ?? ''}`,
  );
}

async function auditOf(server: RunningServer, before: number, tool: string) {
  return (await auditLineAfter(server, before, (line) => line.tool === tool)) as {
    decision: string;
    code?: string;
    tool?: string;
    estimatedCost?: number;
    estimatedRows?: number;
  };
}

/** A call and its audit line. */
async function audited(server: RunningServer, tool: string, args: Record<string, unknown>) {
  const before = server.auditLines().length;
  const result: ToolResult = await call(server, tool, args);
  return { result, audit: await auditOf(server, before, tool) };
}

afterAll(() => dir.cleanup());

describe.each(engines)('the cost gate on $kind', (engine) => {
  const estimates = new Map<Query, Estimate>();
  let gated: RunningServer | undefined;
  let asBob: RunningServer | undefined;
  const env = () => ({ E2E_DATABASE_URL: engine.url() });

  beforeAll(async () => {
    await engine.setUp();
    // A ceiling nothing passes (MariaDB's cost 0 for a primary-key look-up
    // aside): every estimate is audited, and nothing expensive runs.
    const measuring = await startServer(
      ['--config', configFile(engine, 'measure', { source: '{ maxCost: 0.0001 }' })],
      env(),
    );
    try {
      for (const query of Object.keys(SQL) as Query[]) {
        const { audit } = await audited(measuring, 'query_read', { sql: SQL[query] });
        expect(audit.estimatedRows, query).toBeTypeOf('number');
        estimates.set(query, { cost: audit.estimatedCost, rows: audit.estimatedRows as number });
      }
    } finally {
      await measuring.close();
    }
    const cost = (query: Query) => estimates.get(query)?.cost as number;
    // Between the point look-up and the count: the count is refused to alice.
    const sourceCeiling = (cost('point') + cost('count')) / 2;
    const gates: Gates = {
      source: `{ maxCost: ${sourceCeiling} }`,
      principals: `    costGate:\n      main: { maxCost: ${cost('count') * 2} }`,
      tools: `tools:
  count_at_ceiling:
    description: Counts big, with a ceiling at its own estimate.
    source: main
    kind: read
    sql: ${SQL.count}
    costGate: { maxCost: ${JSON.stringify(cost('count'))} }
  count_below_ceiling:
    description: Counts big, with a ceiling just below its estimate.
    source: main
    kind: read
    sql: ${SQL.count}
    costGate: { maxCost: ${JSON.stringify(cost('count') * 0.999)} }
  ids_above:
    description: The ids above a value.
    source: main
    kind: read
    sql: SELECT id FROM big WHERE id > :min
    parameters:
      min: { type: integer }
    costGate: { maxRows: 1000 }
`,
    };
    const file = configFile(engine, 'gated', gates);
    gated = await startServer(['--config', file], env());
    asBob = await startServer(['--config', file, '--principal', 'bob'], env());
  }, 120_000);

  afterAll(async () => {
    await gated?.close();
    await asBob?.close();
    await engine.tearDown();
  }, 60_000);

  it('estimates without running: a triple cross join of 50,000 rows is hopeless before its first row', () => {
    const cross = estimates.get('cross') as Estimate;
    const count = estimates.get('count') as Estimate;
    // PostgreSQL's rows are what the plan returns (one count); MySQL's are rows examined.
    if (engine.kind === 'mysql') expect(cross.rows).toBeGreaterThan(count.rows * 1000);
    expect(cross.cost).toBeGreaterThan((count.cost as number) * 1000);
  });

  it('refuses a read over the source ceiling before it runs, saying which estimate and what to do, and audits the estimate', async () => {
    const server = gated as RunningServer;
    const { result, audit } = await audited(server, 'query_read', { sql: SQL.cross });
    const error = failure(result);
    expect(error.code).toBe('COST_LIMIT_EXCEEDED');
    expect(error.message).toMatch(
      /^The planner estimates this read at cost [\d,.e+]+ \(ceiling [\d,.e+]+\)/,
    );
    expect(error.message).toContain('a WHERE clause on an indexed column, a LIMIT, fewer tables');
    expect(audit).toMatchObject({
      decision: 'deny',
      code: 'COST_LIMIT_EXCEEDED',
      estimatedCost: estimates.get('cross')?.cost,
      estimatedRows: estimates.get('cross')?.rows,
    });
  });

  it('runs a read under the ceiling, and audits its estimate', async () => {
    const server = gated as RunningServer;
    const { result, audit } = await audited(server, 'query_read', { sql: SQL.point });
    expect(ok<{ rows: unknown[][] }>(result).rows).toEqual([[7, 7]]);
    // The agent gets the rows, not the estimate.
    expect(JSON.stringify(result.structuredContent)).not.toContain('estimate');
    expect(audit).toMatchObject({ decision: 'allow', estimatedRows: estimates.get('point')?.rows });
  });

  it("takes a principal's own ceiling for the source instead of the source's", async () => {
    const refused = failure(await call(gated as RunningServer, 'query_read', { sql: SQL.count }));
    expect(refused.code).toBe('COST_LIMIT_EXCEEDED');
    const bob = ok<{ rows: unknown[][] }>(
      await call(asBob as RunningServer, 'query_read', { sql: SQL.count }),
    );
    expect(bob.rows).toEqual([[String(ROWS)]]);
    const cross = failure(await call(asBob as RunningServer, 'query_read', { sql: SQL.cross }));
    expect(cross.code).toBe('COST_LIMIT_EXCEEDED');
  });

  it("takes a declared tool's ceiling instead of both: an estimate at the ceiling runs, just above it does not", async () => {
    const server = gated as RunningServer;
    const at = ok<{ rows: unknown[][] }>(await call(server, 'count_at_ceiling', {}));
    expect(at.rows).toEqual([[String(ROWS)]]);
    const below = failure(await call(server, 'count_below_ceiling', {}));
    expect(below.code).toBe('COST_LIMIT_EXCEEDED');
  });

  it('estimates with the values the statement runs with', async () => {
    const server = gated as RunningServer;
    const few = await audited(server, 'ids_above', { min: ROWS - 10 });
    expect(ok<{ rows: unknown[][] }>(few.result).rows).toHaveLength(10);
    expect(few.audit.estimatedRows).toBeLessThanOrEqual(1000);
    const many = await audited(server, 'ids_above', { min: 0 });
    const error = failure(many.result);
    expect(error.code).toBe('COST_LIMIT_EXCEEDED');
    expect(error.message).toMatch(/[\d,]+ rows \(ceiling 1,000\)/);
    expect(many.audit.estimatedRows).toBeGreaterThan(1000);
  });

  it('refuses the read when the planner fails, and never runs it unchecked', async () => {
    const server = gated as RunningServer;
    const { result, audit } = await audited(server, 'query_read', {
      sql: 'SELECT no_such_column FROM big',
    });
    expect(failure(result).code).toBe('QUERY_FAILED');
    expect(audit.estimatedRows).toBeUndefined();
    if (engine.kind === 'postgres') {
      // Constant folding fails while planning: EXPLAIN itself refuses it.
      const folded = failure(await call(server, 'query_read', { sql: 'SELECT 1/0 AS x' }));
      expect(folded.code).toBe('QUERY_FAILED');
      expect(folded.message).toContain('divides by zero');
    }
  });

  it(
    engine.kind === 'mysql'
      ? 'refuses a UNION under a cost ceiling: MariaDB gives it no cost, which is no estimate'
      : 'gates a UNION like any read',
    async () => {
      const server = gated as RunningServer;
      const { result, audit } = await audited(server, 'query_read', { sql: SQL.union });
      if (engine.kind === 'mysql') {
        const error = failure(result);
        expect(error.code).toBe('COST_LIMIT_EXCEEDED');
        expect(error.message).toContain('gives no cost for this statement');
        expect(audit.estimatedCost).toBeUndefined();
        expect(audit.estimatedRows).toBeGreaterThan(0);
      } else {
        expect(ok<{ rows: unknown[][] }>(result).rows).toHaveLength(10);
        expect(audit.estimatedCost).toBe(estimates.get('union')?.cost);
      }
    },
  );
});

describe('the cost gate in the configuration', () => {
  it('says at start-up what is wrong with a gate, and starts nothing', async () => {
    const file = dir.write(
      'cost-bad.yaml',
      `sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    tables: ["public.*"]
    costGate: {}
roles:
  analyst: [tool:query_read, "read:main:public.*"]
principals:
  alice:
    roles: [analyst]
    costGate:
      nowhere: { maxCost: 10 }
tools:
  fix_it:
    description: A write.
    source: main
    kind: write
    sql: UPDATE t SET a = 1
    costGate: { maxRows: 0 }
`,
    );
    const exit = await runCli(['--config', file], { env: { E2E_DATABASE_URL: postgresTestUrl() } });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('sources.main.costGate: give maxCost, maxRows or both');
    expect(exit.stderr).toContain(
      'principals.alice.costGate.nowhere: nowhere is not defined under sources',
    );
    expect(exit.stderr).toContain('tools.fix_it.costGate.maxRows: ');
  });
});
