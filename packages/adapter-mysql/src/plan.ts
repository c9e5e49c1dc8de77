/**
 * Reading MySQL's and MariaDB's EXPLAIN FORMAT=JSON for the cost gate.
 *
 * Rows examined: for every query block (an object with a `select_id`: the
 * statement, each part of a UNION, each subquery and derived table), the
 * product of the rows of the tables it joins (`rows` on MariaDB,
 * `rows_examined_per_scan` on MySQL), summed over the blocks. A LIMIT is not
 * in these numbers: the plan says what the joins may read, not what the
 * statement returns.
 */

type Node = Record<string, unknown>;

const isNode = (value: unknown): value is Node =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The plan document of EXPLAIN FORMAT=JSON's one cell, or undefined. */
export function parsePlan(cell: unknown): Node | undefined {
  const text = Buffer.isBuffer(cell) ? cell.toString('utf8') : cell;
  if (typeof text !== 'string') return undefined;
  try {
    const plan: unknown = JSON.parse(text);
    return isNode(plan) && isNode(plan.query_block) ? plan : undefined;
  } catch {
    return undefined;
  }
}

/** MySQL's query_cost of the whole statement; undefined where the plan has none (MariaDB). */
export function planCost(plan: Node): number | undefined {
  const block = plan.query_block as Node;
  const info = block.cost_info;
  const cost = isNode(info) ? Number(info.query_cost) : Number.NaN;
  return Number.isFinite(cost) && cost >= 0 ? cost : undefined;
}

/** Every query block of the plan. */
function blocks(node: unknown, found: Node[]): Node[] {
  if (Array.isArray(node)) {
    for (const item of node) blocks(item, found);
  } else if (isNode(node)) {
    if ('select_id' in node) found.push(node);
    for (const value of Object.values(node)) blocks(value, found);
  }
  return found;
}

export function selectBlocks(plan: Node): number {
  return blocks(plan, []).length;
}

/** The rows of each table a block reads itself (not those of the blocks inside it). */
function tableRows(node: unknown, rows: number[], top: boolean): number[] {
  if (Array.isArray(node)) {
    for (const item of node) tableRows(item, rows, false);
  } else if (isNode(node)) {
    if (!top && 'select_id' in node) return rows;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'table' && isNode(value)) {
        const count = Number(value.rows ?? value.rows_examined_per_scan);
        if (Number.isFinite(count) && count >= 0) rows.push(count);
      }
      tableRows(value, rows, false);
    }
  }
  return rows;
}

export function rowsExamined(plan: Node): number {
  let total = 0;
  for (const block of blocks(plan, [])) {
    const rows = tableRows(block, [], true);
    if (rows.length > 0) total += rows.reduce((product, count) => product * Math.max(count, 1), 1);
  }
  return total;
}
