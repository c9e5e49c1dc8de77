/**
 * PostgreSQL analysis on the real PostgreSQL parser (libpg-query, WASM).
 *
 * The parse tree is walked iteratively (no recursion: 8,000 nested
 * parentheses parse fine and must not overflow our stack), visiting every
 * node, so a function hidden in a FROM clause, a LATERAL subquery, a window
 * clause or a CTE is seen like one in the select list. Relation references
 * are recorded with CTE scoping: an unqualified name is a CTE only where
 * that CTE is visible (a CTE defined inside a subquery does not hide a real
 * table of the same name outside it).
 *
 * The statement count comes from the parser; every `;` (a leading one does
 * not show in the tree) is found with the real PostgreSQL scanner, run only
 * when the text holds a `;` at all.
 */
import { createHash } from 'node:crypto';
import { loadModule, parseSync } from 'libpg-query';
import {
  Collector,
  type Frame,
  inScope,
  type RawAnalysis,
  type Scope,
  withNames,
} from './analysis.js';
import { SKIPPED_SCHEMA } from './tables.js';
import { scannedSemicolons } from './terminator.js';
import type { Dialect, FunctionReference, StatementKind } from './types.js';

let ready = false;
let loading: Promise<void> | undefined;

/** Loads the PostgreSQL parser (WASM). Call once at start-up; later calls are free. */
export function loadPostgresParser(): Promise<void> {
  loading ??= loadModule().then(() => {
    ready = true;
  });
  return loading;
}

export function isPostgresParserReady(): boolean {
  return ready;
}

type Node = Record<string, unknown>;

const DML = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

const KIND_OF: Record<string, StatementKind> = {
  SelectStmt: 'select',
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
  ExplainStmt: 'explain',
  TransactionStmt: 'transaction',
  VariableSetStmt: 'session',
  VariableShowStmt: 'session',
  DiscardStmt: 'session',
  CallStmt: 'call',
  DoStmt: 'call',
  ExecuteStmt: 'call',
  CopyStmt: 'copy',
};

const DDL =
  /^(Create|Alter|Drop|Grant|Revoke|Truncate|Comment|Rename|Reindex|Vacuum|Cluster|Refresh|SecLabel|ImportForeign|ReassignOwned|Define|Index|View|Rule|Checkpoint|Load)/;

export function statementKind(nodeType: string): StatementKind {
  return KIND_OF[nodeType] ?? (DDL.test(nodeType) ? 'ddl' : 'other');
}

const isNodeKey = (key: string) => key.charCodeAt(0) >= 65 && key.charCodeAt(0) <= 90;

function names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map(
    (item) => ((item as { String?: { sval?: string } }).String?.sval ?? '') as string,
  );
}

interface WalkState {
  readonly dialect: Dialect;
  readonly collect: Collector;
  locking: boolean;
  into: boolean;
  dataModifyingCte: boolean;
  nestedStatement: StatementKind | null;
  maxParam: number;
  explainAnalyze: boolean;
  explainTarget: StatementKind | null;
  unsupported: string | null;
  /** Names read with field selection (`t.f`), which PostgreSQL may resolve to a call f(t). */
  readonly attributes: Map<string, FunctionReference>;
  /** The first cast (or other type use) to a reg* type, as written. */
  catalogCast: string | null;
}

/**
 * SQL value functions (keywords, not calls in the tree) that read the
 * session's identity, as the function each one is: CURRENT_USER reads the
 * role as current_user() does, and is judged as that function by the same
 * lists. The clocks (CURRENT_DATE, CURRENT_TIMESTAMP, LOCALTIME...) are not
 * recorded: they compute a value, a keyword cannot call a user's function,
 * and they are not rows of pg_proc, so a catalog's `known` list does not
 * have them.
 */
export const SQL_VALUE_FUNCTIONS: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_ROLE: 'current_role',
  SVFOP_CURRENT_USER: 'current_user',
  SVFOP_USER: 'user',
  SVFOP_SESSION_USER: 'session_user',
  SVFOP_CURRENT_CATALOG: 'current_catalog',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};

/** The clocks among the SQL value functions: not recorded (see above). */
const CLOCKS =
  /^SVFOP_(CURRENT_DATE|CURRENT_TIME|CURRENT_TIMESTAMP|LOCALTIME|LOCALTIMESTAMP)(_N)?$/;

/**
 * Types whose input looks a name up in the catalog: a cast of a string to
 * one (`'pg_authid'::regclass`) tells whether the object exists and gives
 * its OID to functions that read it; a cast of an OID to one names objects.
 * regconfig and regdictionary (text search configurations and
 * dictionaries, which are not data) are not among them: to_tsvector takes
 * a configuration name.
 */
const CATALOG_TYPES = new Set([
  'regclass',
  'regcollation',
  'regnamespace',
  'regoper',
  'regoperator',
  'regproc',
  'regprocedure',
  'regrole',
  'regtype',
]);

/** Records a use of a reg* type (a cast, a column definition, RETURNING of JSON_VALUE...). */
function checkTypeName(typeName: unknown, state: WalkState) {
  const parts = names((typeName as { names?: unknown } | null)?.names);
  const last = parts.at(-1);
  if (last === undefined) return;
  const base = last.startsWith('_') ? last.slice(1) : last;
  if (CATALOG_TYPES.has(base.toLowerCase())) state.catalogCast ??= parts.join('.');
}

/**
 * The frames of a WITH clause's CTE bodies, and the scope the statement body
 * sees. Without RECURSIVE a CTE sees only the CTEs before it; with it, all.
 */
function withFrames(
  withClause: unknown,
  scope: Scope | null,
): { frames: Frame[]; scope: Scope | null } {
  const clause = withClause as { ctes?: unknown[]; recursive?: boolean } | undefined;
  if (clause === undefined || !Array.isArray(clause.ctes)) return { frames: [], scope };
  const ctes = clause.ctes.map((c) => (c as { CommonTableExpr?: Node }).CommonTableExpr ?? {});
  const cteNames = ctes.map((c) => String(c.ctename ?? ''));
  const bodyScope = withNames(scope, cteNames);
  const frames: Frame[] = [];
  ctes.forEach((cte, i) => {
    const cteScope = clause.recursive === true ? bodyScope : withNames(scope, cteNames.slice(0, i));
    for (const [key, value] of Object.entries(cte)) {
      if (key !== 'ctename' && key !== 'aliascolnames')
        frames.push({ node: value, scope: cteScope, root: false });
    }
  });
  return { frames, scope: bodyScope };
}

/** Pushes frames so that they are visited in the given order. */
function pushInOrder(stack: Frame[], frames: readonly Frame[]) {
  for (let i = frames.length - 1; i >= 0; i -= 1) stack.push(frames[i] as Frame);
}

function recordRangeVar(
  node: Node,
  scope: Scope | null,
  access: 'read' | 'write',
  state: WalkState,
) {
  const relname = String(node.relname);
  const written = typeof node.schemaname === 'string' ? node.schemaname : null;
  // catalog.schema.table: PostgreSQL names only its own database so, and the
  // guard refuses it there. ODBC sources that name tables with a catalog
  // (CONNX) get it recorded, and `catalog..table` arrives with the skipped
  // schema's placeholder (guard.ts), which is no schema.
  if (typeof node.catalogname === 'string' && node.catalogname !== '') {
    if (state.dialect !== 'odbc') {
      state.unsupported ??= 'a three-part name (catalog.schema.table)';
      return;
    }
    const schema = written === SKIPPED_SCHEMA ? null : written;
    state.collect.table(schema, relname, access, node.catalogname);
    return;
  }
  if (state.dialect === 'odbc' && written === SKIPPED_SCHEMA) {
    state.unsupported ??= 'an empty schema name outside catalog..table';
    return;
  }
  const schemaname = written;
  if (schemaname === null && access === 'read' && inScope(scope, relname)) return; // a CTE
  state.collect.table(schemaname, relname, access);
}

function visitStatement(
  type: string,
  payload: Node,
  frame: Frame,
  stack: Frame[],
  state: WalkState,
) {
  if (!frame.root) {
    if (DML.has(type)) state.dataModifyingCte = true;
    else if (type !== 'SelectStmt') state.nestedStatement ??= statementKind(type);
  }
  if (type === 'ExplainStmt') {
    const options = Array.isArray(payload.options) ? payload.options : [];
    state.explainAnalyze = options.some(
      (o) =>
        String((o as { DefElem?: { defname?: string } }).DefElem?.defname).toLowerCase() ===
        'analyze',
    );
    const query = payload.query as Node | undefined;
    const target = query === undefined ? undefined : Object.keys(query)[0];
    state.explainTarget = target === undefined ? 'other' : statementKind(target);
    stack.push({ node: payload.query, scope: frame.scope, root: frame.root });
    return;
  }
  const withed = withFrames(payload.withClause, frame.scope);
  const scope = withed.scope;
  const frames: Frame[] = [...withed.frames];
  for (const [key, value] of Object.entries(payload)) {
    if (key === 'withClause') continue;
    if (type === 'SelectStmt' && key === 'intoClause') {
      state.into = true;
      const rel = (value as { rel?: Node }).rel;
      if (rel !== undefined) recordRangeVar(rel, scope, 'write', state);
      continue;
    }
    if (type === 'SelectStmt' && key === 'lockingClause') {
      // Its entries name aliases, not tables; the clause itself is what matters.
      if (Array.isArray(value) && value.length > 0) state.locking = true;
      continue;
    }
    if (DML.has(type) && key === 'relation') {
      recordRangeVar(value as Node, scope, 'write', state);
      continue;
    }
    if (type === 'SelectStmt' && (key === 'larg' || key === 'rarg')) {
      // The operands of a set operation are typed SelectStmt fields, so they arrive
      // unwrapped: without the wrapper they would not be visited as statements, and
      // their own WITH, INTO and locking clauses would go unseen (a WITH's names
      // would then never be in scope: over-recording, but INTO would be missed).
      frames.push({ node: { SelectStmt: value }, scope, root: false });
      continue;
    }
    frames.push({ node: value, scope, root: false });
  }
  pushInOrder(stack, frames);
}

function walk(root: Node, state: WalkState) {
  const stack: Frame[] = [{ node: root, scope: null, root: true }];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const { node, scope } = frame;
    if (Array.isArray(node)) {
      pushInOrder(
        stack,
        node.map((item) => ({ node: item, scope, root: false })),
      );
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    const object = node as Node;
    // Typed fields (a RangeVar as a DML target, in INTO) arrive unwrapped: recognise them by shape.
    if (typeof object.relname === 'string') {
      recordRangeVar(object, scope, 'read', state);
      continue;
    }
    const frames: Frame[] = [];
    for (const [key, value] of Object.entries(object)) {
      if (!isNodeKey(key)) {
        if (key === 'typeName') checkTypeName(value, state);
        frames.push({ node: value, scope, root: false });
        continue;
      }
      const payload = (value ?? {}) as Node;
      if (key.endsWith('Stmt')) {
        pushInOrder(stack, frames.splice(0));
        visitStatement(key, payload, frame, stack, state);
      } else if (key === 'RangeVar') {
        recordRangeVar(payload, scope, 'read', state);
      } else if (key === 'FuncCall') {
        const parts = names(payload.funcname);
        state.collect.fn(parts.length > 1 ? (parts.at(-2) ?? null) : null, parts.at(-1) ?? '');
        for (const [field, inner] of Object.entries(payload)) {
          if (field !== 'funcname') frames.push({ node: inner, scope, root: false });
        }
      } else if (key === 'ColumnRef' || key === 'A_Indirection') {
        // `t.f` and `(expr).f` are field selections, or calls f(t) when no such field exists.
        const fields = key === 'ColumnRef' ? payload.fields : payload.indirection;
        const parts = names(fields).filter((part) => part !== '');
        const last = parts.at(-1);
        if (last !== undefined && (key === 'A_Indirection' || parts.length > 1)) {
          state.attributes.set(last, { schema: null, name: last });
        }
        frames.push({ node: payload, scope, root: false });
      } else if (key === 'SQLValueFunction') {
        // An operation this table does not know (a newer grammar's) is recorded as
        // written, so it is refused: fail closed.
        const op = String(payload.op);
        if (!CLOCKS.test(op)) state.collect.fn(null, SQL_VALUE_FUNCTIONS[op] ?? op.toLowerCase());
      } else if (key === 'TypeName') {
        checkTypeName(payload, state);
        frames.push({ node: payload, scope, root: false });
      } else if (key === 'ParamRef') {
        const n = Number(payload.number);
        if (Number.isSafeInteger(n) && n > state.maxParam) state.maxParam = n;
      } else {
        frames.push({ node: payload, scope, root: false });
      }
    }
    pushInOrder(stack, frames);
  }
}

/** Whether a subtree refers to any column (ColumnRef), searched iteratively. */
function refersToColumn(tree: unknown): boolean {
  const stack: unknown[] = [tree];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'ColumnRef') return true;
        stack.push(value);
      }
    }
  }
  return false;
}

export type ParseOutcome = { readonly ok: true; readonly analysis: RawAnalysis } | ParseFailure;

type ParseFailure = {
  readonly ok: false;
  readonly reason: 'PARSE_ERROR' | 'GUARD_NOT_READY' | 'NESTING_TOO_DEEP';
  readonly detail: string;
};

/** The statements of a parse, masked (see `maskTree`): what every rule is judged on. */
export type ParsedStatements = ReadonlyArray<{ stmt?: Node; stmt_len?: number }>;

export type PostgresParse = { readonly ok: true; readonly stmts: ParsedStatements } | ParseFailure;

/**
 * Parses PostgreSQL text (or, for ODBC, text already vetted and canonicalised
 * by the ANSI lexer) and masks the tree: every position and the value of
 * every constant (A_Const) are removed. The guard judges only this masked
 * tree, so two texts whose masked trees are equal get equal verdicts and
 * fingerprints by construction: that is what makes the tree a sound cache
 * key (cache.ts). Nothing the rules look at is a constant's value or a
 * position; a literal whose value decides more than a value (the UESCAPE
 * string of U&"..." that decodes an identifier, a float(p) precision that
 * picks a type, an EXPLAIN option written as a string) does not end up as
 * an A_Const, so it stays in the tree.
 */
export function parsePostgres(text: string): PostgresParse {
  if (!ready) return { ok: false, reason: 'GUARD_NOT_READY', detail: 'parser not loaded' };
  let parsed: { stmts?: Array<{ stmt?: Node; stmt_len?: number }> };
  try {
    parsed = parseSync(text) as typeof parsed;
  } catch (error) {
    // The parser's own limits on nesting surface as these messages.
    const message = error instanceof Error ? error.message : '';
    if (/stack depth|memory exhausted/.test(message)) {
      return { ok: false, reason: 'NESTING_TOO_DEEP', detail: 'parser limit' };
    }
    return { ok: false, reason: 'PARSE_ERROR', detail: 'syntax' };
  }
  const stmts = parsed.stmts ?? [];
  maskTree(stmts);
  return { ok: true, stmts };
}

/**
 * Removes, in place and iteratively, every position (location, stmt_len,
 * list_start...) and the contents of every A_Const (its value and kind: a
 * constant is a constant). What remains is the statement's shape.
 */
export function maskTree(tree: unknown): void {
  const stack: unknown[] = [tree];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const item of node) if (item !== null && typeof item === 'object') stack.push(item);
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    const object = node as Node;
    for (const key of Object.keys(object)) {
      const value = object[key];
      if (typeof value === 'number' && POSITION_KEY.test(key)) {
        delete object[key];
      } else if (key === 'A_Const') {
        object[key] = {};
      } else if (value !== null && typeof value === 'object') {
        stack.push(value);
      }
    }
  }
}

/** Analyses PostgreSQL text: parse, mask, analyse the masked tree. */
export function analyzePostgresText(
  text: string,
  dialect: Dialect,
  extra: { semicolon?: boolean; parameterCount?: number } = {},
): ParseOutcome {
  const parsed = parsePostgres(text);
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    analysis: analyzePostgresTree(parsed.stmts, dialect, {
      // Every `;` is found with the real PostgreSQL scanner (a leading one does not
      // show in the tree); one trailing `;` after the statement is accepted
      // (terminator.ts), any other is refused.
      semicolon: extra.semicolon ?? scannedSemicolons(text).stray,
      ...(extra.parameterCount !== undefined && { parameterCount: extra.parameterCount }),
    }),
  };
}

/** Analyses a masked tree (`parsePostgres`). */
export function analyzePostgresTree(
  stmts: ParsedStatements,
  dialect: Dialect,
  extra: { readonly semicolon: boolean; readonly parameterCount?: number },
): RawAnalysis {
  const kinds = stmts.map((s) => statementKind(Object.keys(s.stmt ?? {})[0] ?? ''));
  const state: WalkState = {
    dialect,
    collect: new Collector(),
    locking: false,
    into: false,
    dataModifyingCte: false,
    nestedStatement: null,
    maxParam: 0,
    explainAnalyze: false,
    explainTarget: null,
    unsupported: null,
    attributes: new Map(),
    catalogCast: null,
  };
  let whereRefersToColumn: boolean | null = null;
  let returning = false;
  for (const s of stmts) {
    if (s.stmt === undefined) continue;
    walk(s.stmt, state);
    const [type, payload] = Object.entries(s.stmt)[0] ?? [];
    if (type === 'UpdateStmt' || type === 'DeleteStmt') {
      const where = (payload as Node).whereClause;
      whereRefersToColumn = where !== undefined && refersToColumn(where);
    }
    if (type !== undefined && DML.has(type)) {
      const p = payload as Node;
      returning ||=
        (Array.isArray(p.returningList) && p.returningList.length > 0) ||
        p.returningClause !== undefined;
    }
  }
  return {
    dialect,
    statementCount: stmts.length,
    kinds,
    kind: kinds[0] ?? 'other',
    tables: [...state.collect.tables.values()],
    functions: [...state.collect.functions.values()],
    locking: state.locking,
    into: state.into,
    dataModifyingCte: state.dataModifyingCte,
    parameterCount: extra.parameterCount ?? state.maxParam,
    fingerprint: dialect === 'postgres' ? treeFingerprint(stmts) : '',
    semicolon: extra.semicolon,
    explainAnalyze: state.explainAnalyze,
    explainTarget: state.explainTarget,
    nestedStatement: state.nestedStatement,
    variableAssignment: false,
    whereRefersToColumn,
    returning,
    unsupported: state.unsupported,
    attributes: [...state.attributes.values()],
    variables: [],
    catalogCast: state.catalogCast,
  };
}

// Constants, parameters, and the value nodes option lists hold (EXPLAIN (COSTS 1), sequence options).
const VALUE_NODES = new Set(['A_Const', 'ParamRef', 'Integer', 'Float', 'Boolean', 'BitString']);
// Every position the tree carries: location, stmt_len, list_start/list_end (ARRAY[...]), rexpr_list_start...
const POSITION_KEY = /(^|_)location$|^stmt_len$|(^|_)list_(start|end)$/;

function isValue(node: unknown): boolean {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return false;
  const keys = Object.keys(node);
  return keys.length === 1 && VALUE_NODES.has(keys[0] as string);
}

/**
 * The fingerprint of a parse tree: its JSON without locations, with every
 * constant and parameter replaced by "?" and lists made only of them
 * collapsed to one "?" (so IN (1, 2, 3) and IN (7) agree). Statements that
 * differ only in literal values share it; any other difference in the tree
 * changes it. Computed from the tree checkRead already has: no second
 * parse, no second call into the WASM module.
 */
export function treeFingerprint(stmts: unknown): string {
  const shape = JSON.stringify(stmts, (key, value: unknown) => {
    // Positions in the text move with the literals' lengths.
    if (typeof value === 'number' && POSITION_KEY.test(key)) return undefined;
    // FETCH n / MOVE n keep their count as a plain number, not a constant node.
    if (key === 'howMany' && typeof value === 'number') return '?';
    if (Array.isArray(value) && value.length > 0 && value.every(isValue)) return ['?'];
    if (isValue(value)) return '?';
    return value;
  });
  return createHash('sha256').update(`pg:${shape}`).digest('hex').slice(0, 12);
}

/** The fingerprint of PostgreSQL text, or null when it does not parse. */
export function postgresFingerprint(text: string): string | null {
  if (!ready || text.includes('\u0000')) return null;
  try {
    return treeFingerprint((parseSync(text) as { stmts?: unknown }).stmts ?? []);
  } catch {
    return null;
  }
}
