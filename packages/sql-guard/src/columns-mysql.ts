/**
 * Column facts from a MySQL/MariaDB statement: node-sql-parser's tree (the
 * guard's first parser, given the same neutralised text the guard gives
 * it: comments blanked, strings replaced, integers kept). When
 * node-sql-parser cannot read the statement, sqlparser-rs (the guard's
 * second parser) is asked only which tables it names: a statement that
 * touches no protected or opaque relation needs no column analysis; one
 * that does is refused as unresolved (the column walk reads only
 * node-sql-parser's tree).
 *
 * As in columns-postgres.ts, every node is visited: every `column_ref`
 * anywhere is a use, every statement-shaped node is walked as one.
 */
import nodeSqlParser from 'node-sql-parser/build/mysql.js';
import {
  type Block,
  type FactsOutcome,
  FactWalker,
  type OutputTarget,
  type Relation,
  type TableName,
} from './columns-facts.js';
import { lex } from './lexer.js';
import { neutralize } from './mysql.js';
import { analyzeWithSqlparser } from './mysql-sqlparser.js';

const parser = new nodeSqlParser.Parser();

type Node = Record<string, unknown>;

const isObject = (value: unknown): value is Node =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const STATEMENTS = new Set(['select', 'insert', 'replace', 'update', 'delete']);

/** A name as node-sql-parser gives it: a string, `{ value }`, or `{ expr: { value } }`. */
function nameOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (isObject(value)) {
    if (typeof value.value === 'string') return value.value;
    if (isObject(value.expr) && typeof value.expr.value === 'string') return value.expr.value;
  }
  return null;
}

/** The parts of a column_ref (db, table, column), as written; null when not plain names. */
function refParts(ref: Node): string[] | null {
  const parts: string[] = [];
  for (const key of ['db', 'schema', 'table'] as const) {
    const value = ref[key];
    if (value === null || value === undefined) continue;
    const name = nameOf(value);
    if (name === null) return null;
    parts.push(name);
  }
  const column = nameOf(ref.column);
  if (column === null) return null;
  parts.push(column);
  return parts;
}

class Walker extends FactWalker {
  protected statement(node: unknown, outermost: boolean): void {
    if (!isObject(node)) {
      this.facts.unresolved ??= 'a statement the column check does not read';
      return;
    }
    if (isObject(node.ast) && node.type === undefined) {
      this.statement(node.ast, outermost);
      return;
    }
    const type = String(node.type);
    if (!STATEMENTS.has(type)) {
      if (type === 'values' || type === 'expr_list') this.pushExpr(node, null);
      else this.facts.unresolved ??= `a ${type} statement`;
      return;
    }
    this.withList(node.with);
    const block: Block = { relations: [] };
    const handled = new Set(['with', 'from', 'table', '_next', 'columns', 'set', 'values']);
    if (type === 'select') {
      // A set operation (`_next`): no operand is the outermost select.
      const chained = node._next !== null && node._next !== undefined;
      if (chained) this.pushStmt(node._next);
      this.tableList(node.from, block);
      this.selectList(node, block, outermost && !chained);
    } else {
      const targets = Array.isArray(node.table) && node.table.length > 0 ? node.table : node.from;
      const written = this.tableList(targets, block);
      if (targets !== node.from) this.tableList(node.from, block);
      if (type === 'insert' || type === 'replace') {
        const columns = Array.isArray(node.columns)
          ? node.columns.map((c) => nameOf(c) ?? '')
          : null;
        const set = Array.isArray(node.set) ? node.set : [];
        for (const relation of written) {
          if (relation.table !== undefined)
            this.facts.inserts.push({
              table: relation.table,
              columns: columns ?? (set.length > 0 ? [] : null),
            });
        }
        for (const column of columns ?? []) this.facts.columns.push({ parts: [column] });
        const values = node.values;
        if (isObject(values) && STATEMENTS.has(String(values.type))) this.pushStmt(values);
        else this.pushExpr(values, block);
      }
      this.setList(node.set, block);
      if (isObject(node.on_duplicate_update)) {
        handled.add('on_duplicate_update');
        this.setList(node.on_duplicate_update.set, block);
      }
    }
    for (const [key, value] of Object.entries(node)) {
      if (!handled.has(key)) this.pushExpr(value, block);
    }
  }

  private withList(list: unknown) {
    if (!Array.isArray(list)) return;
    for (const cte of list as Node[]) {
      const columns = cte.columns;
      this.facts.relations.push({
        kind: 'derived',
        alias: nameOf(cte.name),
        renames: Array.isArray(columns) && columns.length > 0,
        reads: tablesIn(cte.stmt),
        merged: false,
      });
      this.pushStmt(cte.stmt);
    }
  }

  /** SET lists (UPDATE, INSERT ... SET, ON DUPLICATE KEY UPDATE): each target is a reference. */
  private setList(list: unknown, block: Block) {
    if (!Array.isArray(list)) return;
    for (const item of list as Node[]) {
      const column = nameOf(item.column);
      if (column === null) this.facts.unresolved ??= 'a SET item';
      else {
        const table = nameOf(item.table);
        this.facts.columns.push({ parts: table === null ? [column] : [table, column] });
      }
      this.pushExpr(item.value, block);
    }
  }

  /** A FROM (or target) list: its relations join the block, in order. */
  private tableList(list: unknown, block: Block): Relation[] {
    if (list === null || list === undefined) return [];
    if (!Array.isArray(list)) {
      this.facts.unresolved ??= 'a FROM clause';
      return [];
    }
    const out: Relation[] = [];
    for (const item of list as unknown[]) {
      if (!isObject(item)) {
        this.facts.unresolved ??= 'a FROM item';
        continue;
      }
      if (item.type === 'dual') continue;
      const join = typeof item.join === 'string' ? item.join.toUpperCase() : '';
      const using = Array.isArray(item.using) ? item.using.map((u) => nameOf(u) ?? '') : [];
      let relation: Relation;
      if (isObject(item.expr)) {
        const body = isObject(item.expr.ast) ? item.expr.ast : item.expr;
        relation = {
          kind: 'derived',
          alias: nameOf(item.as),
          renames: Array.isArray(item.columns) && item.columns.length > 0,
          reads: tablesIn(body),
          ...outputsOf(body),
          merged: false,
        };
        if (STATEMENTS.has(String(body.type))) this.pushStmt(body);
        else this.pushExpr(body, block);
      } else {
        const name = nameOf(item.table);
        if (name === null) {
          this.facts.unresolved ??= 'a table reference';
          continue;
        }
        const table: TableName = { schema: nameOf(item.db), name };
        this.facts.tables.push(table);
        relation = { kind: 'table', table, alias: nameOf(item.as), renames: false, merged: false };
      }
      if (join.includes('NATURAL')) {
        this.facts.natural.push(
          [...out, relation].flatMap((r) => (r.table ? [r.table] : [...(r.reads ?? [])])),
        );
      }
      if (using.length > 0 || join.includes('NATURAL')) {
        relation.merged = true;
        for (const r of out) r.merged = true;
      }
      this.facts.using.push(...using);
      this.pushExpr(item.on, block);
      for (const [key, value] of Object.entries(item)) {
        // Index hints, partitions, TABLESAMPLE...: walked as expressions (a reference in them is a use).
        if (!['db', 'table', 'as', 'expr', 'join', 'on', 'using', 'columns'].includes(key))
          this.pushExpr(value, block);
      }
      this.facts.relations.push(relation);
      block.relations.push(relation);
      out.push(relation);
    }
    return out;
  }

  private selectList(node: Node, block: Block, outermost: boolean) {
    const list = node.columns;
    const targets: OutputTarget[] = [];
    const items: unknown[] = Array.isArray(list) ? list : [];
    if (list === '*') items.push({ expr: { type: 'column_ref', table: null, column: '*' } });
    else if (!Array.isArray(list)) this.facts.unresolved ??= 'a select list';
    items.forEach((item, index) => {
      const expr = isObject(item) ? item.expr : undefined;
      const alias = isObject(item) ? nameOf(item.as) : null;
      const output = outermost ? index : undefined;
      if (isObject(expr) && expr.type === 'column_ref') {
        const parts = refParts(expr);
        if (parts === null) {
          this.facts.unresolved ??= 'a column reference';
          return;
        }
        if (parts.at(-1) === '*') {
          const qualifier = parts.length > 1 ? parts.slice(0, -1) : null;
          this.facts.stars.push({ qualifier, block, output });
          targets.push({ kind: 'star', qualifier });
        } else {
          this.facts.columns.push(output === undefined ? { parts } : { parts, output });
          targets.push({ kind: 'column', parts, name: alias ?? (parts.at(-1) as string) });
        }
        return;
      }
      this.pushExpr(expr, block);
      // MySQL names an expression output by its text as written; only masked
      // outputs' names are checked, and those are always columns or aliases.
      targets.push({ kind: 'expr', name: alias ?? '?column?' });
    });
    if (!outermost) return;
    const positions: number[] = [];
    const groupby = node.groupby;
    const groupItems = Array.isArray(groupby)
      ? groupby
      : isObject(groupby) && Array.isArray(groupby.columns)
        ? groupby.columns
        : [];
    for (const item of groupItems) {
      if (isObject(item) && item.type === 'number') positions.push(Number(item.value));
    }
    for (const item of Array.isArray(node.orderby) ? node.orderby : []) {
      const expr = isObject(item) ? item.expr : undefined;
      if (isObject(expr) && expr.type === 'number') positions.push(Number(expr.value));
    }
    this.facts.outermost = {
      block,
      targets,
      distinct: node.distinct !== null && node.distinct !== undefined,
      positions,
    };
  }

  protected expr(root: unknown, block: Block | null) {
    const stack: unknown[] = [root];
    while (stack.length > 0) {
      const node = stack.pop();
      if (Array.isArray(node)) {
        for (const item of node) stack.push(item);
        continue;
      }
      if (!isObject(node)) continue;
      if (node.type === 'column_ref') {
        const parts = refParts(node);
        if (parts === null) this.facts.unresolved ??= 'a column reference';
        else if (parts.at(-1) === '*')
          this.facts.stars.push({ qualifier: parts.length > 1 ? parts.slice(0, -1) : null, block });
        else this.facts.columns.push({ parts });
        continue;
      }
      if (STATEMENTS.has(String(node.type)) || (isObject(node.ast) && node.type === undefined)) {
        this.pushStmt(node);
        continue;
      }
      for (const value of Object.values(node)) {
        if (value !== null && typeof value === 'object') stack.push(value);
      }
    }
  }
}

/** Every table named in a subtree (CTE names included). */
function tablesIn(tree: unknown): TableName[] {
  const out: TableName[] = [];
  const stack: unknown[] = [tree];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (isObject(node)) {
      if (typeof node.table === 'string' && node.type !== 'column_ref' && 'as' in node)
        out.push({ schema: nameOf(node.db), name: node.table });
      for (const value of Object.values(node))
        if (value !== null && typeof value === 'object') stack.push(value);
    }
  }
  return out;
}

function outputsOf(select: Node): { outputs?: readonly string[] } {
  if (select.type !== 'select' || (select._next !== null && select._next !== undefined)) return {};
  if (!Array.isArray(select.columns)) return {};
  const names: string[] = [];
  for (const item of select.columns as Node[]) {
    const alias = nameOf(item.as);
    const expr = item.expr as Node | undefined;
    const parts = isObject(expr) && expr.type === 'column_ref' ? refParts(expr) : null;
    if (parts?.at(-1) === '*') return {};
    const name = alias ?? parts?.at(-1);
    if (name === undefined) return {};
    names.push(name);
  }
  return { outputs: names };
}

/** Reads the facts of one MySQL statement. Never throws. */
export function mysqlFacts(sql: string): FactsOutcome {
  const lexed = lex(sql, 'mysql');
  if (!lexed.ok) return { ok: false, detail: 'the statement could not be read' };
  const text = neutralize(sql, lexed, { blankSemicolons: true });
  let ast: unknown;
  try {
    ast = parser.astify(text, { database: 'MySQL' });
  } catch {
    return fallback(text);
  }
  const root = Array.isArray(ast) ? (ast.length === 1 ? ast[0] : undefined) : ast;
  if (!isObject(root)) return { ok: false, detail: 'not exactly one statement' };
  const walker = new Walker();
  walker.run(root, true);
  if (walker.facts.unresolved !== null) {
    // What this walker cannot place may still touch no protected table: ask the
    // other parser which tables the statement names (never this walk's partial list).
    const other = fallback(text);
    return other.ok ? other : { ...other, detail: walker.facts.unresolved };
  }
  return { ok: true, facts: walker.facts };
}

/** sqlparser-rs: only the tables (see the header). */
function fallback(text: string): FactsOutcome {
  const second = analyzeWithSqlparser(text);
  // Its walker is complete for reads only (the guard asks it about reads only).
  if (
    !second.ok ||
    second.facts.unsupported !== null ||
    (second.facts.kind !== 'select' && second.facts.kind !== 'explain')
  )
    return { ok: false, detail: 'the statement could not be read for column analysis' };
  const tables = [...second.facts.collect.tables.values()].map((t) => ({
    schema: t.schema,
    name: t.name,
  }));
  return {
    ok: false,
    detail:
      'the statement uses syntax the column analysis does not read (only its tables could be read)',
    tables,
  };
}
