/**
 * The second MySQL/MariaDB parser: sqlparser-rs (Apache DataFusion's
 * sqlparser, compiled to WASM by @guanmingchiu/sqlparser-ts) with its MySQL
 * dialect. node-sql-parser's MySQL grammar refuses valid reads that agents
 * write (NATURAL JOIN, parenthesised joins, index hints, STRAIGHT_JOIN as a
 * select option, JSON_TABLE, PERCENTILE_CONT ... WITHIN GROUP ... OVER,
 * EXPLAIN FORMAT=JSON, VALUES, RANGE frames with offsets); this grammar
 * reads them. It is asked only about a single read (first word SELECT,
 * WITH, VALUES, `(` or EXPLAIN) that node-sql-parser could not parse or
 * whose tree its walker did not understand. The evaluation that chose it
 * is in docs/sql-guard.md.
 *
 * It gets exactly the text node-sql-parser gets: our lexer (lexer.ts) has
 * already refused what it cannot be sure of, counted the statements,
 * blanked the comments and replaced every string literal by 's', so the two
 * parsers and the server cannot disagree about where a comment or a string
 * ends. The token-level second opinion (mysql.ts tokenFacts) runs in front
 * of this walker as it does in front of the other one.
 *
 * Every rule is enforced on this tree by this walker, which fails closed:
 * it visits every node of the tree (iteratively: depth is bounded by the
 * parser's recursion limit and by the lexer's nesting limit anyway) and
 * recognises
 *   - a table (`{ Table: { name: [...] } }`, and the TABLE set expression),
 *     with CTE scoping as in the other walkers; a table function, a
 *     three-part name, or a name part that is not a plain identifier is
 *     unsupported;
 *   - a function call (`{ Function: { name: [...] } }`), in expressions
 *     and in FROM;
 *   - a Query with a locking clause, a Select with INTO, an Insert, Update,
 *     Delete or Merge anywhere below the root, an `:=` assignment;
 *   - and refuses any Query clause MySQL does not have (FOR XML/JSON,
 *     SETTINGS, FORMAT, pipe operators).
 * Keys of the tree are the Rust enum variants and struct fields, never
 * names from the statement (those are string values), so a statement
 * cannot forge a key.
 *
 * The module is WASM and loads asynchronously (loadSqlGuard()). Until it
 * has loaded, the reads that need it are refused with GUARD_NOT_READY.
 */
import { init, parse } from '@guanmingchiu/sqlparser-ts';
import { Collector, inScope, type Scope, withNames } from './analysis.js';
import type { StatementKind } from './types.js';

let ready = false;
let loading: Promise<void> | undefined;

/** Loads the WASM module. Call once at start-up (loadSqlGuard() does); later calls are free. */
export function loadMysqlSqlparser(): Promise<void> {
  loading ??= init().then(() => {
    ready = true;
  });
  return loading;
}

export function isMysqlSqlparserReady(): boolean {
  return ready;
}

type Node = Record<string, unknown>;

/** What the walk found: the same facts the node-sql-parser walk reports. */
export interface SqlparserFacts {
  readonly kind: StatementKind;
  /** For EXPLAIN: the kind of the explained statement. */
  readonly explainTarget: StatementKind | null;
  readonly explainAnalyze: boolean;
  readonly collect: Collector;
  readonly into: boolean;
  readonly locking: boolean;
  readonly assignment: boolean;
  readonly dataModifyingCte: boolean;
  readonly unsupported: string | null;
}

export type SqlparserOutcome =
  | { readonly ok: true; readonly facts: SqlparserFacts }
  | {
      readonly ok: false;
      readonly reason: 'PARSE_ERROR' | 'NESTING_TOO_DEEP' | 'GUARD_NOT_READY';
      readonly detail: string;
    };

const STATEMENT_KIND: Record<string, StatementKind> = {
  Query: 'select',
  Insert: 'insert',
  Update: 'update',
  Delete: 'delete',
  Merge: 'merge',
  Explain: 'explain',
};

/** `{ Identifier: { value } }` name parts; null when a part is anything else. */
function nameParts(name: unknown): Array<{ value: string; quoted: boolean }> | null {
  if (!Array.isArray(name) || name.length === 0) return null;
  const parts: Array<{ value: string; quoted: boolean }> = [];
  for (const part of name) {
    const ident = (part as { Identifier?: { value?: unknown; quote_style?: unknown } } | null)
      ?.Identifier;
    if (ident === undefined || typeof ident.value !== 'string') return null;
    parts.push({ value: ident.value, quoted: ident.quote_style != null });
  }
  return parts;
}

interface Frame {
  readonly node: unknown;
  readonly scope: Scope | null;
  readonly root: boolean;
}

interface State {
  readonly collect: Collector;
  into: boolean;
  locking: boolean;
  assignment: boolean;
  dataModifyingCte: boolean;
  unsupported: string | null;
}

/** Query fields MySQL has no syntax for: present and non-empty means a construct we do not judge. */
const FOREIGN_QUERY_FIELDS = {
  for_clause: 'FOR XML / FOR JSON / FOR BROWSE',
  settings: 'a SETTINGS clause',
  format_clause: 'a FORMAT clause',
} as const;

function isQuery(node: Node): boolean {
  return 'body' in node && 'locks' in node;
}

/** Pushes frames so that they are visited in the given order (tables and functions are reported in text order). */
function pushInOrder(stack: Frame[], frames: readonly Frame[]) {
  for (let i = frames.length - 1; i >= 0; i -= 1) stack.push(frames[i] as Frame);
}

function visitQuery(node: Node, scope: Scope | null, stack: Frame[], state: State) {
  const frames: Frame[] = [];
  if (Array.isArray(node.locks) && node.locks.length > 0) state.locking = true;
  for (const [field, label] of Object.entries(FOREIGN_QUERY_FIELDS)) {
    if (node[field] !== undefined && node[field] !== null) state.unsupported ??= label;
  }
  if (Array.isArray(node.pipe_operators) && node.pipe_operators.length > 0)
    state.unsupported ??= 'pipe operators';
  let bodyScope = scope;
  const withClause = node.with as { recursive?: unknown; cte_tables?: unknown } | undefined;
  if (withClause !== undefined && withClause !== null) {
    const ctes = Array.isArray(withClause.cte_tables) ? (withClause.cte_tables as Node[]) : [];
    const names = ctes.map((cte) =>
      String((cte.alias as { name?: { value?: unknown } } | undefined)?.name?.value ?? ''),
    );
    bodyScope = withNames(scope, names);
    ctes.forEach((cte, i) => {
      // Without RECURSIVE a CTE sees only the CTEs before it; with it, all.
      const cteScope =
        withClause.recursive === true ? bodyScope : withNames(scope, names.slice(0, i));
      frames.push({ node: cte.query, scope: cteScope, root: false });
      if (cte.from !== undefined && cte.from !== null)
        frames.push({ node: cte.from, scope: cteScope, root: false });
    });
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'with') continue;
    frames.push({ node: value, scope: bodyScope, root: false });
  }
  pushInOrder(stack, frames);
}

function visitTable(table: Node, scope: Scope | null, state: State) {
  if (table.args !== undefined && table.args !== null) {
    state.unsupported ??= 'a table function (FROM f(...))';
    return;
  }
  const parts = nameParts(table.name);
  if (parts === null) {
    state.unsupported ??= 'a table name that is not plain identifiers';
    return;
  }
  if (parts.length > 2) {
    state.unsupported ??= 'a three-part name (catalog.schema.table)';
    return;
  }
  const name = parts.at(-1) as { value: string; quoted: boolean };
  const schema = parts.length === 2 ? (parts[0] as { value: string }).value : null;
  if (schema === null) {
    // FROM DUAL is a keyword (a quoted `dual` is a table), and a CTE in scope is not a table.
    if (!name.quoted && name.value.toLowerCase() === 'dual') return;
    if (inScope(scope, name.value)) return;
  }
  state.collect.table(schema, name.value, 'read');
}

function walk(ast: unknown, state: State) {
  const stack: Frame[] = [{ node: ast, scope: null, root: true }];
  while (stack.length > 0) {
    const { node, scope, root } = stack.pop() as Frame;
    if (Array.isArray(node)) {
      pushInOrder(
        stack,
        node.map((item) => ({ node: item, scope, root })),
      );
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    const object = node as Node;
    if (isQuery(object)) {
      visitQuery(object, scope, stack, state);
      continue;
    }
    if ('projection' in object && 'from' in object && object.into != null) state.into = true;
    const frames: Frame[] = [];
    for (const [key, value] of Object.entries(object)) {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const payload = value as Node;
        if (!root && (key === 'Insert' || key === 'Update' || key === 'Delete' || key === 'Merge'))
          state.dataModifyingCte = true;
        if (key === 'Table') {
          if ('name' in payload) visitTable(payload, scope, state);
          else if (typeof payload.table_name === 'string') {
            // The TABLE t set expression.
            const schema = typeof payload.schema_name === 'string' ? payload.schema_name : null;
            state.collect.table(schema, payload.table_name, 'read');
          } else state.unsupported ??= 'this form of table reference';
          // The rest of a table factor (FOR SYSTEM_TIME AS OF expressions, hints) is walked too.
        }
        if (key === 'Function') {
          const parts = nameParts(payload.name);
          if (parts === null) state.unsupported ??= 'a function name that is not plain identifiers';
          else
            state.collect.fn(
              parts.at(-2)?.value ?? null,
              (parts.at(-1) as { value: string }).value,
            );
        }
        if (key === 'BinaryOp' && payload.op === 'Assignment') state.assignment = true;
      }
      // Only the statement wrapper itself is the root: everything below it is nested.
      frames.push({ node: value, scope, root: false });
    }
    pushInOrder(stack, frames);
  }
}

/**
 * Parses text already vetted and neutralised by our lexer, as one
 * statement, and walks it. Never throws.
 */
export function analyzeWithSqlparser(text: string): SqlparserOutcome {
  if (!ready) return { ok: false, reason: 'GUARD_NOT_READY', detail: 'parser not loaded' };
  let ast: unknown;
  try {
    ast = parse(text, 'mysql');
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (/recursion limit/i.test(message))
      return { ok: false, reason: 'NESTING_TOO_DEEP', detail: 'parser limit' };
    return { ok: false, reason: 'PARSE_ERROR', detail: 'syntax' };
  }
  if (!Array.isArray(ast) || ast.length !== 1)
    return { ok: false, reason: 'PARSE_ERROR', detail: 'statement count' };
  const statement = ast[0] as Node;
  const [type, payload] = Object.entries(statement)[0] ?? [];
  const kind = (type !== undefined ? STATEMENT_KIND[type] : undefined) ?? 'other';
  const state: State = {
    collect: new Collector(),
    into: false,
    locking: false,
    assignment: false,
    dataModifyingCte: false,
    unsupported: null,
  };
  let explainTarget: StatementKind | null = null;
  let explainAnalyze = false;
  if (kind === 'explain') {
    const explain = payload as Node;
    explainAnalyze = explain.analyze === true;
    const inner = explain.statement as Node | undefined;
    const innerType = inner === undefined ? undefined : Object.keys(inner)[0];
    explainTarget = (innerType !== undefined ? STATEMENT_KIND[innerType] : undefined) ?? 'other';
    walk(inner, state);
  } else {
    walk(statement, state);
  }
  return {
    ok: true,
    facts: { kind, explainTarget, explainAnalyze, ...state },
  };
}
