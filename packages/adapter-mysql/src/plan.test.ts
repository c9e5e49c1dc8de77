import { describe, expect, it } from 'vitest';
import { parsePlan, planCost, rowsExamined, selectBlocks } from './plan.js';

// EXPLAIN FORMAT=JSON as MariaDB 10.11 and MySQL 8 print it (abridged to
// the keys the cost gate reads). The gate's own numbers on a real MariaDB
// are in apps/stdio-server/test/cost-gate.e2e.test.ts.

const MARIADB_JOIN = JSON.stringify({
  query_block: {
    select_id: 1,
    nested_loop: [
      { table: { table_name: 'a', access_type: 'ALL', rows: 10000, filtered: 100 } },
      {
        'block-nl-join': {
          table: { table_name: 'b', access_type: 'ALL', rows: 10000, filtered: 100 },
          join_type: 'BNL',
        },
      },
    ],
  },
});

const MARIADB_UNION = JSON.stringify({
  query_block: {
    union_result: {
      table_name: '<union1,2>',
      access_type: 'ALL',
      query_specifications: [
        {
          query_block: { select_id: 1, table: { table_name: 's', access_type: 'index', rows: 10 } },
        },
        {
          query_block: {
            select_id: 2,
            nested_loop: [
              { table: { table_name: 's', rows: 10 } },
              {
                table: {
                  table_name: 't',
                  rows: 3,
                  attached_subqueries: [
                    { query_block: { select_id: 3, table: { table_name: 'u', rows: 7 } } },
                  ],
                },
              },
            ],
          },
        },
      ],
    },
  },
});

const MYSQL_8 = JSON.stringify({
  query_block: {
    select_id: 1,
    cost_info: { query_cost: '1015.25' },
    nested_loop: [
      { table: { table_name: 'c', rows_examined_per_scan: 100, cost_info: { read_cost: '1' } } },
      { table: { table_name: 'o', rows_examined_per_scan: 10 } },
    ],
  },
});

describe('reading EXPLAIN FORMAT=JSON', () => {
  it('multiplies the rows a block joins: MariaDB', () => {
    const plan = parsePlan(MARIADB_JOIN);
    expect(plan).toBeDefined();
    if (plan === undefined) return;
    expect(rowsExamined(plan)).toBe(100_000_000);
    expect(planCost(plan)).toBeUndefined();
    expect(selectBlocks(plan)).toBe(1);
  });

  it('adds the blocks of a UNION and of a subquery, each counted once', () => {
    const plan = parsePlan(Buffer.from(MARIADB_UNION));
    if (plan === undefined) throw new Error('no plan');
    // 10 (block 1) + 10 * 3 (block 2) + 7 (the subquery, block 3)
    expect(rowsExamined(plan)).toBe(47);
    expect(selectBlocks(plan)).toBe(3);
  });

  it("takes MySQL 8's query_cost and rows_examined_per_scan", () => {
    const plan = parsePlan(MYSQL_8);
    if (plan === undefined) throw new Error('no plan');
    expect(planCost(plan)).toBe(1015.25);
    expect(rowsExamined(plan)).toBe(1000);
  });

  it('gives no plan for what is not one', () => {
    for (const cell of [undefined, null, 42, 'not json', '[]', '{"a":1}', '{"query_block":3}']) {
      expect(parsePlan(cell), String(cell)).toBeUndefined();
    }
  });
});
