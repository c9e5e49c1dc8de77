/**
 * Column facts from the PostgreSQL parse tree (libpg-query), for the
 * postgres dialect and for ODBC (whose text the guard vets with the strict
 * ANSI lexer and reads with the PostgreSQL grammar: see guard.ts).
 *
 * The tree is parsed here again, unmasked: the guard's masked tree drops
 * constants, and `ORDER BY 2` needs its 2. The walk is iterative (deep
 * expressions must not overflow the stack) and visits every node: a
 * ColumnRef anywhere is recorded, a RangeVar anywhere is recorded as a
 * table, so nothing the walker does not understand can hide a reference;
 * what it cannot place (MERGE, an unknown statement) is unresolved.
 */
import { parseSync } from 'libpg-query';
import {
  type Block,
  type FactsOutcome,
  FactWalker,
  type OutputTarget,
  type Relation,
  type TableName,
} from './columns-facts.js';
import { skippedSchemas } from './guard.js';
import { lex } from './lexer.js';
import { neutralize } from './mysql.js';
import { isPostgresParserReady, SQL_VALUE_FUNCTIONS } from './postgres.js';
import { SKIPPED_SCHEMA } from './tables.js';

type Node = Record<string, unknown>;

const isObject = (value: unknown): value is Node =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function strings(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => String((item as { String?: { sval?: unknown } }).String?.sval ?? ''));
}

/** `{ Kind: payload }` → [Kind, payload]. */
function unwrap(node: unknown): [string, Node] | null {
  if (!isObject(node)) return null;
  const entries = Object.entries(node);
  if (entries.length !== 1) return null;
  const [key, value] = entries[0] as [string, unknown];
  return isObject(value) ? [key, value] : null;
}

class Walker extends FactWalker {
  /** RangeVars already recorded as relations of a block (the expression walk skips them). */
  private readonly recorded = new WeakSet<Node>();

  private tableName(rv: Node): TableName {
    const name = String(rv.relname);
    const written =
      typeof rv.schemaname === 'string' && rv.schemaname !== '' ? rv.schemaname : null;
    const schema = written === SKIPPED_SCHEMA ? null : written;
    if (typeof rv.catalogname === 'string' && rv.catalogname !== '') {
      return { catalog: rv.catalogname, schema, name };
    }
    return { schema, name };
  }

  private rangeVar(rv: Node, block: Block | null): Relation {
    const table = this.tableName(rv);
    const alias = rv.alias as { aliasname?: unknown; colnames?: unknown } | undefined;
    const relation: Relation = {
      kind: 'table',
      table,
      alias: typeof alias?.aliasname === 'string' ? alias.aliasname : null,
      renames: Array.isArray(alias?.colnames) && alias.colnames.length > 0,
      merged: false,
    };
    this.recorded.add(rv);
    this.facts.tables.push(table);
    this.facts.relations.push(relation);
    block?.relations.push(relation);
    return relation;
  }

  /** A statement node `{ SelectStmt: ... }` (or a bare SelectStmt payload from larg/rarg). */
  protected statement(node: unknown, outermost: boolean) {
    const unwrapped = unwrap(node);
    if (unwrapped === null) {
      this.facts.unresolved ??= 'a statement the column check does not read';
      return;
    }
    const [type, payload] = unwrapped;
    switch (type) {
      case 'SelectStmt':
        return this.select(payload, outermost);
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
        return this.dml(type, payload);
      case 'ExplainStmt':
        // EXPLAIN returns a plan, not the columns: nothing in it is an output.
        return this.pushStmt(payload.query);
      default:
        this.facts.unresolved ??= `a ${type.replace(/Stmt$/, '').toUpperCase()} statement`;
    }
  }

  private withClause(clause: unknown) {
    const ctes = (clause as { ctes?: unknown } | undefined)?.ctes;
    if (!Array.isArray(ctes)) return;
    for (const item of ctes) {
      const cte = (item as { CommonTableExpr?: Node }).CommonTableExpr;
      if (cte === undefined) {
        this.facts.unresolved ??= 'a WITH clause';
        continue;
      }
      this.facts.relations.push({
        kind: 'derived',
        alias: typeof cte.ctename === 'string' ? cte.ctename : null,
        renames: Array.isArray(cte.aliascolnames) && cte.aliascolnames.length > 0,
        reads: tablesIn(cte.ctequery),
        merged: false,
      });
      this.pushStmt(cte.ctequery);
      // SEARCH / CYCLE name the CTE's own output columns, which carry no protected value
      // (a CTE body cannot pass one through: see columns.ts); walked anyway.
      for (const [key, value] of Object.entries(cte)) {
        if (key !== 'ctequery' && key !== 'aliascolnames' && key !== 'ctename')
          this.pushExpr(value, null);
      }
    }
  }

  private select(payload: Node, outermost: boolean) {
    this.withClause(payload.withClause);
    const op = payload.op;
    if (op !== undefined && op !== 'SETOP_NONE') {
      // A set operation: its operands are no outermost select (UNION compares and dedups).
      this.pushStmt({ SelectStmt: payload.larg });
      this.pushStmt({ SelectStmt: payload.rarg });
      for (const [key, value] of Object.entries(payload)) {
        if (key !== 'larg' && key !== 'rarg' && key !== 'withClause' && key !== 'op')
          this.pushExpr(value, null);
      }
      return;
    }
    const block: Block = { relations: [] };
    const fromClause = Array.isArray(payload.fromClause) ? payload.fromClause : [];
    for (const item of fromClause) this.fromItem(item, block);
    const targets: OutputTarget[] = [];
    const targetList = Array.isArray(payload.targetList) ? payload.targetList : [];
    targetList.forEach((item, index) => {
      const target = (item as { ResTarget?: Node }).ResTarget;
      if (target === undefined) {
        this.facts.unresolved ??= 'a select list item';
        return;
      }
      const alias = typeof target.name === 'string' ? target.name : undefined;
      const ref = (target.val as { ColumnRef?: Node } | undefined)?.ColumnRef;
      const output = outermost ? index : undefined;
      if (ref !== undefined) {
        const fields = ref.fields as unknown[] | undefined;
        const star = Array.isArray(fields) && fields.some((f) => isObject(f) && 'A_Star' in f);
        const parts = strings(fields).filter((p) => p !== '');
        if (star) {
          if (
            alias !== undefined ||
            !isObject(fields?.at(-1)) ||
            !('A_Star' in (fields.at(-1) as Node))
          ) {
            this.facts.unresolved ??= 'a * in an unusual position';
            return;
          }
          this.facts.stars.push({ qualifier: parts.length === 0 ? null : parts, block, output });
          targets.push({ kind: 'star', qualifier: parts.length === 0 ? null : parts });
        } else {
          this.facts.columns.push(output === undefined ? { parts } : { parts, output });
          targets.push({ kind: 'column', parts, name: alias ?? parts.at(-1) ?? '?column?' });
        }
        if (ref.indirection !== undefined) this.pushExpr(ref.indirection, block);
        return;
      }
      this.pushExpr(target.val, block);
      this.pushExpr(target.indirection, block);
      targets.push({ kind: 'expr', name: alias ?? figureName(target.val) });
    });
    const positions: number[] = [];
    if (outermost) {
      for (const sort of Array.isArray(payload.sortClause) ? payload.sortClause : []) {
        const by = (sort as { SortBy?: Node }).SortBy;
        const position = integerConstant(by?.node);
        if (position !== null) positions.push(position);
      }
      for (const item of Array.isArray(payload.groupClause) ? payload.groupClause : []) {
        const position = integerConstant(item);
        if (position !== null) positions.push(position);
      }
      this.facts.outermost = {
        block,
        targets,
        distinct: Array.isArray(payload.distinctClause) && payload.distinctClause.length > 0,
        positions,
      };
    }
    for (const [key, value] of Object.entries(payload)) {
      if (['withClause', 'fromClause', 'targetList', 'op', 'larg', 'rarg'].includes(key)) continue;
      this.pushExpr(value, block);
    }
  }

  private dml(type: string, payload: Node) {
    this.withClause(payload.withClause);
    const block: Block = { relations: [] };
    const target = payload.relation as Node | undefined;
    const relation = isObject(target) ? this.rangeVar(target, block) : null;
    if (relation === null) this.facts.unresolved ??= 'a write without a target';
    const handled = new Set(['withClause', 'relation']);
    if (type === 'InsertStmt') {
      handled.add('cols').add('selectStmt');
      const cols = Array.isArray(payload.cols) ? payload.cols : [];
      const names = cols.map((c) => String((c as { ResTarget?: Node }).ResTarget?.name ?? ''));
      if (relation?.table !== undefined)
        this.facts.inserts.push({
          table: relation.table,
          columns: cols.length === 0 ? null : names,
        });
      for (const name of names) this.facts.columns.push({ parts: [name] });
      for (const c of cols)
        this.pushExpr((c as { ResTarget?: Node }).ResTarget?.indirection, block);
      this.pushStmt(payload.selectStmt);
      const conflict = payload.onConflictClause as Node | undefined;
      if (conflict !== undefined) {
        handled.add('onConflictClause');
        this.conflict(conflict, block);
      }
    }
    if (type === 'UpdateStmt') {
      handled.add('targetList').add('fromClause');
      for (const item of Array.isArray(payload.fromClause) ? payload.fromClause : [])
        this.fromItem(item, block);
      this.setList(payload.targetList, block);
    }
    if (type === 'DeleteStmt') {
      handled.add('usingClause');
      for (const item of Array.isArray(payload.usingClause) ? payload.usingClause : [])
        this.fromItem(item, block);
    }
    for (const [key, value] of Object.entries(payload)) {
      if (!handled.has(key)) this.pushExpr(value, block);
    }
  }

  /** UPDATE SET and ON CONFLICT DO UPDATE SET: every target column is a reference. */
  private setList(list: unknown, block: Block) {
    for (const item of Array.isArray(list) ? list : []) {
      const target = (item as { ResTarget?: Node }).ResTarget;
      if (target === undefined) {
        this.facts.unresolved ??= 'a SET item';
        continue;
      }
      if (typeof target.name === 'string') this.facts.columns.push({ parts: [target.name] });
      this.pushExpr(target.val, block);
      this.pushExpr(target.indirection, block);
    }
  }

  private conflict(clause: Node, block: Block) {
    const infer = clause.infer as Node | undefined;
    for (const elem of Array.isArray(infer?.indexElems) ? infer.indexElems : []) {
      const index = (elem as { IndexElem?: Node }).IndexElem;
      if (typeof index?.name === 'string') this.facts.columns.push({ parts: [index.name] });
      this.pushExpr(index?.expr, block);
    }
    this.pushExpr(infer?.whereClause, block);
    this.setList(clause.targetList, block);
    this.pushExpr(clause.whereClause, block);
  }

  /** A FROM item: its relations join the block, in order (what `*` expands to). */
  private fromItem(item: unknown, block: Block): Relation[] {
    const unwrapped = unwrap(item);
    if (unwrapped === null) {
      this.facts.unresolved ??= 'a FROM item';
      return [];
    }
    const [type, node] = unwrapped;
    switch (type) {
      case 'RangeVar':
        return [this.rangeVar(node, block)];
      case 'RangeSubselect': {
        const alias = node.alias as { aliasname?: unknown; colnames?: unknown } | undefined;
        const relation: Relation = {
          kind: 'derived',
          alias: typeof alias?.aliasname === 'string' ? alias.aliasname : null,
          renames: Array.isArray(alias?.colnames) && alias.colnames.length > 0,
          reads: tablesIn(node.subquery),
          ...outputsOf(node.subquery),
          merged: false,
        };
        this.facts.relations.push(relation);
        block.relations.push(relation);
        this.pushStmt(node.subquery);
        return [relation];
      }
      case 'JoinExpr': {
        const left = this.fromItem(node.larg, block);
        const right = this.fromItem(node.rarg, block);
        const members = [...left, ...right];
        const usingClause = strings(node.usingClause);
        if (node.isNatural === true) this.facts.natural.push(tablesIn(item));
        if (node.isNatural === true || usingClause.length > 0) {
          for (const member of members) member.merged = true;
        }
        this.facts.using.push(...usingClause);
        this.pushExpr(node.quals, block);
        const aliases = [node.alias, node.join_using_alias] as Array<
          { aliasname?: unknown; colnames?: unknown } | undefined
        >;
        for (const alias of aliases) {
          if (typeof alias?.aliasname !== 'string') continue;
          const relation: Relation = {
            kind: 'join',
            alias: alias.aliasname,
            renames: Array.isArray(alias.colnames) && alias.colnames.length > 0,
            members,
            reads: tablesIn(item),
            merged: true,
          };
          this.facts.relations.push(relation);
        }
        return members;
      }
      default: {
        // A function, XMLTABLE, JSON_TABLE, TABLESAMPLE...: every table in it becomes a
        // relation of the block (a RangeVar under TABLESAMPLE is a plain table), and the
        // rest is walked as expressions (whole-row arguments are caught there).
        const tables: Relation[] = [];
        const stack: unknown[] = [node];
        while (stack.length > 0) {
          const current = stack.pop();
          if (Array.isArray(current)) stack.push(...current);
          else if (isObject(current)) {
            for (const [key, value] of Object.entries(current)) {
              if (key === 'RangeVar' && isObject(value)) tables.push(this.rangeVar(value, block));
              else if (key.endsWith('Stmt'))
                continue; // a subquery: its tables are its own
              else if (value !== null && typeof value === 'object') stack.push(value);
            }
          }
        }
        this.pushExpr(node, block);
        const alias = node.alias as { aliasname?: unknown; colnames?: unknown } | undefined;
        const relation: Relation = {
          kind: 'other',
          alias: typeof alias?.aliasname === 'string' ? alias.aliasname : null,
          renames: false,
          merged: false,
        };
        this.facts.relations.push(relation);
        block.relations.push(relation);
        return [...tables, relation];
      }
    }
  }

  /** Any expression subtree: every ColumnRef is a use, every statement is walked as one. */
  protected expr(root: unknown, block: Block | null) {
    const stack: unknown[] = [root];
    while (stack.length > 0) {
      const node = stack.pop();
      if (Array.isArray(node)) {
        for (const item of node) stack.push(item);
        continue;
      }
      if (!isObject(node)) continue;
      for (const [key, value] of Object.entries(node)) {
        if (key.endsWith('Stmt') && isObject(value)) {
          this.pushStmt({ [key]: value });
        } else if (key === 'ColumnRef' && isObject(value)) {
          const fields = value.fields as unknown[] | undefined;
          const parts = strings(fields).filter((p) => p !== '');
          if (Array.isArray(fields) && fields.some((f) => isObject(f) && 'A_Star' in f)) {
            this.facts.stars.push({ qualifier: parts.length === 0 ? null : parts, block });
          } else {
            this.facts.columns.push({ parts });
          }
        } else if (key === 'RangeVar' && isObject(value)) {
          if (!this.recorded.has(value)) this.rangeVar(value, null);
        } else if (typeof node.relname === 'string' && key === 'relname') {
          // A bare RangeVar (typed fields arrive unwrapped).
          if (!this.recorded.has(node)) this.rangeVar(node, null);
        } else if (value !== null && typeof value === 'object') {
          stack.push(value);
        }
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
      if (typeof node.relname === 'string') {
        const schema =
          typeof node.schemaname === 'string' && node.schemaname !== SKIPPED_SCHEMA
            ? node.schemaname
            : null;
        const catalog =
          typeof node.catalogname === 'string' && node.catalogname !== ''
            ? node.catalogname
            : undefined;
        out.push(
          catalog === undefined
            ? { schema, name: node.relname }
            : { catalog, schema, name: node.relname },
        );
      }
      for (const value of Object.values(node))
        if (value !== null && typeof value === 'object') stack.push(value);
    }
  }
  return out;
}

/** The output names of a plain subquery (no `*`), for expanding a `*` over it. */
function outputsOf(subquery: unknown): { outputs?: readonly string[] } {
  const select = (subquery as { SelectStmt?: Node } | undefined)?.SelectStmt;
  if (select === undefined || (select.op !== undefined && select.op !== 'SETOP_NONE')) return {};
  const list = Array.isArray(select.targetList) ? select.targetList : [];
  const names: string[] = [];
  for (const item of list) {
    const target = (item as { ResTarget?: Node }).ResTarget;
    const fields = (target?.val as { ColumnRef?: { fields?: unknown[] } } | undefined)?.ColumnRef
      ?.fields;
    if (
      target === undefined ||
      (Array.isArray(fields) && fields.some((f) => isObject(f) && 'A_Star' in f))
    )
      return {};
    names.push(typeof target.name === 'string' ? target.name : figureName(target.val));
  }
  return { outputs: names };
}

/** An ORDER BY / GROUP BY item that is an integer constant: its value (a position). */
function integerConstant(node: unknown): number | null {
  const constant = (node as { A_Const?: Node } | undefined)?.A_Const;
  if (constant === undefined) return null;
  if (!('ival' in constant)) return null;
  const ival = (constant.ival as { ival?: unknown }).ival;
  // libpg-query leaves out a zero value.
  return ival === undefined ? 0 : typeof ival === 'number' ? ival : Number.NaN;
}

const SQL_VALUE_NAMES: Record<string, string> = {
  SVFOP_CURRENT_DATE: 'current_date',
  SVFOP_CURRENT_TIME: 'current_time',
  SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
  SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
  SVFOP_LOCALTIME: 'localtime',
  SVFOP_LOCALTIME_N: 'localtime',
  SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
  // The ones that read the session: the guard's own table (postgres.ts).
  ...SQL_VALUE_FUNCTIONS,
};

/**
 * The name PostgreSQL gives an output without an alias (FigureColname in
 * parse_target.c), for the common cases: a column its name, a call its
 * function's name, a cast its operand's name or its type's, CASE "case",
 * anything else "?column?". Only masked positions' names are checked by
 * the runtime, and those are always plain columns or aliases; the others
 * are best effort.
 */
export function figureName(node: unknown): string {
  const unwrapped = unwrap(node);
  if (unwrapped === null) return '?column?';
  const [type, payload] = unwrapped;
  switch (type) {
    case 'ColumnRef': {
      const last = strings(payload.fields).at(-1);
      return last === undefined || last === '' ? '?column?' : last;
    }
    case 'A_Indirection': {
      const last = strings(payload.indirection)
        .filter((p) => p !== '')
        .at(-1);
      return last ?? figureName(payload.arg);
    }
    case 'FuncCall':
      return strings(payload.funcname).at(-1) ?? '?column?';
    case 'TypeCast': {
      const inner = figureName(payload.arg);
      if (inner !== '?column?') return inner;
      return strings((payload.typeName as Node | undefined)?.names).at(-1) ?? '?column?';
    }
    case 'CollateClause':
      return figureName(payload.arg);
    case 'CaseExpr':
      return 'case';
    case 'A_ArrayExpr':
      return 'array';
    case 'RowExpr':
      return 'row';
    case 'CoalesceExpr':
      return 'coalesce';
    case 'MinMaxExpr':
      return payload.op === 'IS_LEAST' ? 'least' : 'greatest';
    case 'NullIfExpr':
      return 'nullif';
    case 'GroupingFunc':
      return 'grouping';
    case 'SQLValueFunction':
      return SQL_VALUE_NAMES[String(payload.op)] ?? '?column?';
    case 'SubLink':
      if (payload.subLinkType === 'EXISTS_SUBLINK') return 'exists';
      if (payload.subLinkType === 'ARRAY_SUBLINK') return 'array';
      if (payload.subLinkType === 'EXPR_SUBLINK') {
        const names = outputsOf(payload.subselect).outputs;
        return names?.[0] ?? '?column?';
      }
      return '?column?';
    case 'A_Expr':
      return payload.kind === 'AEXPR_NULLIF' ? 'nullif' : '?column?';
    default:
      return '?column?';
  }
}

/** The text the PostgreSQL grammar reads for an ODBC statement (as guard.ts analyseOdbc). */
function odbcParserText(sql: string): string | null {
  if (sql.includes(SKIPPED_SCHEMA)) return null;
  const lexed = lex(sql, 'odbc');
  if (!lexed.ok) return null;
  const rewritten = skippedSchemas(sql, lexed);
  const relexed = rewritten === sql ? lexed : lex(rewritten, 'odbc');
  if (!relexed.ok) return null;
  return neutralize(rewritten, relexed, { params: (n) => `$${n}` });
}

/** Reads the facts of one PostgreSQL (or ODBC) statement. Never throws. */
export function postgresFacts(sql: string, dialect: 'postgres' | 'odbc'): FactsOutcome {
  if (!isPostgresParserReady()) return { ok: false, detail: 'the PostgreSQL parser is not loaded' };
  const text = dialect === 'odbc' ? odbcParserText(sql) : sql;
  if (text === null) return { ok: false, detail: 'the statement could not be read' };
  let stmts: Array<{ stmt?: Node }>;
  try {
    stmts = (parseSync(text) as { stmts?: Array<{ stmt?: Node }> }).stmts ?? [];
  } catch {
    return { ok: false, detail: 'the statement could not be parsed' };
  }
  const root = stmts.length === 1 ? stmts[0]?.stmt : undefined;
  if (root === undefined) return { ok: false, detail: 'not exactly one statement' };
  const walker = new Walker();
  walker.run(root, true);
  return { ok: true, facts: walker.facts };
}
