import { type CostEstimate, type ReadRequest, SqlwardenError } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import { DialectAdapter } from './adapter.js';
import { normalizeSource } from './config.js';
import { costRefusal } from './cost.js';
import type { BoundStatement, Dialect, DriverConnection, ReadContext } from './dialect.js';

// The cost gate's order inside the kit, on a scripted engine: the estimate
// comes first, on the read's connection, and a refusal, a failing planner or
// a missing estimate each end the call before the read is sent. (The
// engines' own EXPLAIN is proved against the real servers by
// apps/stdio-server/test/cost-gate.e2e.test.ts.)

type Estimator = ((statement: BoundStatement) => Promise<CostEstimate | undefined>) | undefined;

class ScriptedConnection implements DriverConnection {
  readonly calls: string[];
  estimate?: (statement: BoundStatement) => Promise<CostEstimate | undefined>;

  constructor(calls: string[], estimator: Estimator) {
    this.calls = calls;
    if (estimator !== undefined) {
      this.estimate = (statement) => {
        this.calls.push(`estimate ${statement.sql} [${statement.values.join(',')}]`);
        return estimator(statement);
      };
    }
  }

  async setTimeLimit(timeoutMs: number) {
    this.calls.push(`time limit ${timeoutMs}`);
  }
  async read(statement: BoundStatement, context: ReadContext) {
    this.calls.push(`read ${statement.sql}`);
    context.budget.take([1]);
    return { columns: [{ name: 'x', type: 'int4' }], after: 'reuse' as const };
  }
  async begin() {}
  async execute() {
    return 0;
  }
  async commit() {}
  async rollback() {}
  async ping() {}
  async cancel() {
    return true;
  }
  destroy() {}
  async close() {}
}

function adapter(estimator: Estimator) {
  const calls: string[] = [];
  const problems: string[] = [];
  const dialect: Dialect<ScriptedConnection> = {
    name: 'postgres',
    driver: {
      framing: { protocol: { headerLength: 5, bodyLength: () => 0 } },
      bind: (value) => value,
      open: async () => new ScriptedConnection(calls, estimator),
    },
    errors: {
      isConnectionError: () => false,
      map: () => new SqlwardenError('QUERY_FAILED', 'The database refused the statement.'),
    },
    introspector: {
      listTables: async () => [],
      describeTable: async () => null,
      functionCatalog: async () => ({ volatile: [], userDefined: [] }),
      privilegeReport: async () => ({ warnings: [] }),
    },
  };
  const config = normalizeSource(
    { source: 'main', defaultSchema: 'public', statementTimeoutMs: 5000 },
    problems,
  );
  expect(problems).toEqual([]);
  return { calls, adapter: new DialectAdapter({ dialect, config }) };
}

const request = (costCeiling?: ReadRequest['costCeiling']): ReadRequest => ({
  sql: 'SELECT x FROM t WHERE a = $1',
  params: [42],
  limits: { maxRows: 10, maxBytes: 10_000, timeoutMs: 2000 },
  signal: new AbortController().signal,
  ...(costCeiling !== undefined && { costCeiling }),
});

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'ok';
  } catch (error) {
    return SqlwardenError.is(error) ? error.code : `not a SqlwardenError: ${String(error)}`;
  }
}

describe('the cost gate in the kit', () => {
  it('estimates with the same values on the read’s connection, under its time limit, then reads', async () => {
    const { calls, adapter: source } = adapter(async () => ({ cost: 10, rows: 1 }));
    const result = await source.read(request({ maxCost: 10 }));
    expect(result.estimate).toEqual({ cost: 10, rows: 1 });
    expect(result.rows).toEqual([[1]]);
    expect(calls).toEqual([
      'time limit 2000',
      'estimate SELECT x FROM t WHERE a = $1 [42]',
      'read SELECT x FROM t WHERE a = $1',
    ]);
    await source.close();
  });

  it('does not estimate when no ceiling applies', async () => {
    const { calls, adapter: source } = adapter(async () => ({ cost: 1e9, rows: 1e9 }));
    const result = await source.read(request());
    expect(result.estimate).toBeUndefined();
    expect(calls.filter((c) => c.startsWith('estimate'))).toEqual([]);
    await source.close();
  });

  it('never sends the read over a ceiling, when the planner fails, without an estimate, or on an engine that has none', async () => {
    const cases: Array<[string, Estimator, ReadRequest['costCeiling'], string]> = [
      [
        'over the cost',
        async () => ({ cost: 10.5, rows: 1 }),
        { maxCost: 10 },
        'COST_LIMIT_EXCEEDED',
      ],
      [
        'over the rows',
        async () => ({ cost: 1, rows: 11 }),
        { maxRows: 10 },
        'COST_LIMIT_EXCEEDED',
      ],
      ['no cost', async () => ({ cost: null, rows: 1 }), { maxCost: 10 }, 'COST_LIMIT_EXCEEDED'],
      [
        'the planner fails',
        () => Promise.reject(new Error('syntax error at or near')),
        { maxCost: 10 },
        'QUERY_FAILED',
      ],
      ['an unreadable plan', async () => undefined, { maxCost: 10 }, 'QUERY_FAILED'],
      ['no estimator', undefined, { maxRows: 10 }, 'QUERY_FAILED'],
    ];
    for (const [label, estimator, ceiling, code] of cases) {
      const { calls, adapter: source } = adapter(estimator);
      expect(await codeOf(source.read(request(ceiling))), label).toBe(code);
      expect(
        calls.filter((c) => c.startsWith('read')),
        label,
      ).toEqual([]);
      await source.close();
    }
  });

  it('holds a row ceiling without a cost (MariaDB’s UNION), and a cost ceiling at its value', async () => {
    for (const [estimate, ceiling] of [
      [{ cost: null, rows: 5 }, { maxRows: 5 }],
      [
        { cost: 10, rows: 5 },
        { maxCost: 10, maxRows: 5 },
      ],
    ] as const) {
      const { adapter: source } = adapter(async () => estimate);
      expect(await codeOf(source.read(request(ceiling)))).toBe('ok');
      await source.close();
    }
  });
});

describe('costRefusal', () => {
  it('names each estimate over its ceiling, and only those', () => {
    expect(costRefusal({ cost: 5, rows: 5 }, { maxCost: 5, maxRows: 5 })).toBeUndefined();
    const both = costRefusal({ cost: 123_456.7, rows: 2e15 }, { maxCost: 1000, maxRows: 10 });
    expect(both?.code).toBe('COST_LIMIT_EXCEEDED');
    expect(both?.message).toBe(
      'The planner estimates this read at cost 123,457 (ceiling 1,000) and 2.0e+15 rows (ceiling 10), so it was not run; narrow it: a WHERE clause on an indexed column, a LIMIT, fewer tables or joins.',
    );
    expect(both?.estimate).toEqual({ cost: 123_456.7, rows: 2e15 });
    const rows = costRefusal({ cost: 1, rows: 50 }, { maxCost: 1000, maxRows: 10 });
    expect(rows?.message).toContain('at 50 rows (ceiling 10)');
    expect(rows?.message).not.toContain('cost 1 ');
  });
});
