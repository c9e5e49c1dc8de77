/**
 * MySQL/MariaDB analysis: our lexer first (lexer.ts), then node-sql-parser
 * (its MySQL grammar, the better of its two on real queries) on a text in
 * which comments are blanked and string contents neutralised, then a walk
 * of its AST. Token-level checks run beside the AST walk as a second
 * opinion that does not depend on how the parser shapes its tree: a denied
 * function name followed by `(`, a bare INTO outside INSERT, FOR UPDATE /
 * FOR SHARE / LOCK IN SHARE MODE, `:=`.
 *
 * The statement count comes from the lexer's `;` tokens, never from the
 * parser, so the parser's comment handling cannot merge two statements.
 */
import nodeSqlParser from 'node-sql-parser/build/mysql.js';
import {
  Collector,
  type Frame,
  inScope,
  type RawAnalysis,
  type Scope,
  withNames,
} from './analysis.js';
import { isDeniedName } from './functions.js';
import { type LexResult, type Token, unquote, wordOf } from './lexer.js';
import { analyzeWithSqlparser } from './mysql-sqlparser.js';
import { lexedSemicolons } from './terminator.js';
import type { StatementKind } from './types.js';

const parser = new nodeSqlParser.Parser();
const PARSE_OPTIONS = { database: 'MySQL' };

type Node = Record<string, unknown>;

/** The text the parser sees: comments blanked, string literals neutral, spans kept in place. */
export function neutralize(
  text: string,
  lexed: LexResult,
  options: { readonly params?: (index: number) => string; readonly blankSemicolons?: boolean } = {},
): string {
  const edits: Array<readonly [number, number, string]> = [];
  for (const [start, end] of lexed.comments) edits.push([start, end, ' ']);
  let param = 0;
  for (const token of lexed.tokens) {
    if (token.kind === 'string') edits.push([token.start, token.end, "'s'"]);
    else if (
      options.blankSemicolons === true &&
      token.kind === 'punct' &&
      text[token.start] === ';'
    ) {
      // Only for a text already known to hold one statement: the `;` is refused
      // on its own rule, and the parser still sees the statement.
      edits.push([token.start, token.end, ' ']);
    } else if (token.kind === 'param' && options.params !== undefined) {
      param += 1;
      edits.push([token.start, token.end, options.params(param)]);
    }
  }
  if (edits.length === 0) return text;
  edits.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [start, end, replacement] of edits) {
    out += text.slice(at, start) + replacement;
    at = end;
  }
  return out + text.slice(at);
}

/** Statement kind from the first word of a statement, as MySQL reads it. */
export function kindOfFirstWord(word: string): StatementKind {
  switch (word) {
    case 'select':
    case 'with':
    case 'values':
    case 'table':
    case '(':
      return 'select';
    case 'insert':
      return 'insert';
    case 'update':
      return 'update';
    case 'delete':
      return 'delete';
    case 'explain':
      return 'explain';
    case 'begin':
    case 'start':
    case 'commit':
    case 'rollback':
    case 'savepoint':
    case 'release':
    case 'xa':
      return 'transaction';
    case 'set':
    case 'reset':
    case 'show':
    case 'use':
      return 'session';
    case 'create':
    case 'alter':
    case 'drop':
    case 'truncate':
    case 'rename':
    case 'grant':
    case 'revoke':
    case 'flush':
    case 'optimize':
    case 'repair':
    case 'analyze':
    case 'install':
    case 'uninstall':
      return 'ddl';
    case 'call':
    case 'do':
    case 'execute':
    case 'prepare':
    case 'handler':
      return 'call';
    case 'load':
      return 'copy';
    default:
      return 'other';
  }
}

interface Segment {
  readonly tokens: readonly Token[];
}

/** Splits tokens at `;` into non-empty statements. */
export function segments(text: string, tokens: readonly Token[]): Segment[] {
  const out: Segment[] = [];
  let current: Token[] = [];
  for (const token of tokens) {
    if (token.kind === 'punct' && text[token.start] === ';') {
      if (current.length > 0) out.push({ tokens: current });
      current = [];
    } else current.push(token);
  }
  if (current.length > 0) out.push({ tokens: current });
  return out;
}

function firstWord(text: string, segment: Segment): string {
  const first = segment.tokens[0];
  if (first === undefined) return '';
  return first.kind === 'word' ? wordOf(text, first) : text.slice(first.start, first.end);
}

const INSERT_PREFIXES = new Set([
  'insert',
  'replace',
  'ignore',
  'low_priority',
  'delayed',
  'high_priority',
]);

interface TokenFacts {
  into: boolean;
  locking: boolean;
  assignment: boolean;
  explainAnalyze: boolean;
  /** Denied functions seen at token level: [schema, name]. */
  denied: Array<readonly [string | null, string]>;
  /** Calls written as keywords, without parentheses (CURRENT_USER, CURRENT_ROLE). */
  keywordCalls: string[];
  /** System variables read (`@@x`): see `variableName`. */
  variables: string[];
}

/** Keywords that are calls without parentheses in MySQL and MariaDB, and read the session. */
const KEYWORD_CALLS = new Set(['current_user', 'current_role']);

/**
 * The name of a system variable token (`@@datadir`, `@@GLOBAL.hostname`,
 * `@@session.sql_mode`, ``@@`x` ``): without `@@` and its scope, unquoted,
 * lower-cased. What cannot be read plainly is returned as written, so it
 * is refused (no allow entry can name it).
 */
export function variableName(raw: string): string {
  let name = raw.slice(2);
  const scope = /^(global|session|local)\./i.exec(name);
  if (scope !== null) name = name.slice(scope[0].length);
  const quote = name[0];
  if ((quote === '`' || quote === "'" || quote === '"') && name.endsWith(quote) && name.length > 1)
    name = name.slice(1, -1).replaceAll(quote + quote, quote);
  return /^[\w$.]+$/.test(name) ? name.toLowerCase() : raw;
}

/** The token-level second opinion (see the header). */
export function tokenFacts(
  text: string,
  tokens: readonly Token[],
  dialect: 'mysql' | 'odbc',
): TokenFacts {
  const facts: TokenFacts = {
    into: false,
    locking: false,
    assignment: false,
    explainAnalyze: false,
    denied: [],
    keywordCalls: [],
    variables: [],
  };
  const word = (i: number) => {
    const t = tokens[i];
    return t?.kind === 'word' ? wordOf(text, t) : undefined;
  };
  const punct = (i: number) => {
    const t = tokens[i];
    return t?.kind === 'punct' ? text[t.start] : undefined;
  };
  const name = (i: number) => {
    const t = tokens[i];
    if (t?.kind === 'word') return wordOf(text, t);
    if (t?.kind === 'quoted') return unquote(text, t).toLowerCase();
    return undefined;
  };
  for (let i = 0; i < tokens.length; i += 1) {
    const w = word(i);
    if (w === 'into' && !INSERT_PREFIXES.has(word(i - 1) ?? '') && word(i - 1) !== 'merge')
      facts.into = true;
    if (w === 'for' && (word(i + 1) === 'update' || word(i + 1) === 'share')) facts.locking = true;
    if (w === 'lock' && word(i + 1) === 'in' && word(i + 2) === 'share' && word(i + 3) === 'mode')
      facts.locking = true;
    if (w === 'explain' && word(i + 1) === 'analyze') facts.explainAnalyze = true;
    // MariaDB sequences: NEXT VALUE FOR s advances s (like nextval).
    if (w === 'next' && word(i + 1) === 'value' && word(i + 2) === 'for')
      facts.denied.push([null, 'nextval']);
    if (
      punct(i) === ':' &&
      punct(i + 1) === '=' &&
      tokens[i + 1]?.start === (tokens[i]?.end ?? -1)
    ) {
      facts.assignment = true;
    }
    const t = tokens[i] as Token;
    if (dialect === 'mysql' && t.kind === 'variable' && text.startsWith('@@', t.start)) {
      facts.variables.push(variableName(text.slice(t.start, t.end)));
    }
    // ODBC: `@@x` is a system variable on SQL Server and MySQL back ends.
    if (
      dialect === 'odbc' &&
      punct(i) === '@' &&
      punct(i + 1) === '@' &&
      tokens[i + 1]?.start === t.end
    ) {
      const next = tokens[i + 2];
      const adjacent = next !== undefined && next.start === (tokens[i + 1] as Token).end;
      facts.variables.push(
        adjacent && next.kind === 'word' ? wordOf(text, next) : text.slice(t.start, t.end + 1),
      );
    }
    if (
      w !== undefined &&
      KEYWORD_CALLS.has(w) &&
      punct(i - 1) !== '.' &&
      punct(i + 1) !== '.' &&
      dialect === 'mysql'
    ) {
      facts.keywordCalls.push(w);
    }
    const n = name(i);
    if (n !== undefined && punct(i + 1) === '(' && isDeniedName(dialect, n)) {
      const schema = punct(i - 1) === '.' ? (name(i - 2) ?? null) : null;
      facts.denied.push([schema, n]);
    }
  }
  return facts;
}

const STATEMENT_TYPES: Record<string, StatementKind> = {
  select: 'select',
  insert: 'insert',
  replace: 'other',
  update: 'update',
  delete: 'delete',
  explain: 'explain',
};

/** `t``x` as node-sql-parser returns backtick names: unescape. */
const ident = (value: unknown) => (typeof value === 'string' ? value.replaceAll('``', '`') : null);

function functionName(node: Node): [string | null, string] | null {
  if (node.type === 'aggr_func') return typeof node.name === 'string' ? [null, node.name] : null;
  const name = node.name as
    | { name?: Array<{ value?: unknown }>; schema?: { value?: unknown } }
    | undefined;
  const parts = name?.name;
  if (!Array.isArray(parts) || parts.length === 0) return null;
  const last = parts.map((p) => String(p.value ?? '')).join('.');
  const schema = name?.schema?.value;
  return [typeof schema === 'string' ? schema : null, last];
}

interface WalkState {
  readonly collect: Collector;
  into: boolean;
  locking: boolean;
  assignment: boolean;
  dataModifyingCte: boolean;
  nestedStatement: StatementKind | null;
  unsupported: string | null;
  whereRefersToColumn: boolean | null;
  returning: boolean;
  /** Select nodes reached as set-operation operands (`_next`), not heads of a chain. */
  readonly chained: WeakSet<Node>;
}

function refersToColumn(tree: unknown): boolean {
  const stack: unknown[] = [tree];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (node !== null && typeof node === 'object') {
      if ((node as Node).type === 'column_ref') return true;
      stack.push(...Object.values(node));
    }
  }
  return false;
}

/** A FROM or target list: table references, derived tables, DUAL; anything else fails closed. */
function visitTableList(
  list: unknown,
  access: 'read' | 'write',
  frame: Frame,
  stack: Frame[],
  state: WalkState,
) {
  if (!Array.isArray(list)) {
    if (list !== null && list !== undefined) state.unsupported ??= 'table list';
    return;
  }
  for (const item of list as Node[]) {
    if (item === null || typeof item !== 'object') {
      state.unsupported ??= 'table reference';
      continue;
    }
    if (item.type === 'dual') continue;
    for (const key of ['on', 'using', 'expr']) {
      if (item[key] !== undefined && item[key] !== null)
        stack.push({ node: item[key], scope: frame.scope, root: false });
    }
    if (item.expr !== undefined && item.expr !== null) continue; // a derived table
    const table = ident(item.table);
    if (table === null) {
      state.unsupported ??= 'table reference';
      continue;
    }
    const db = item.db === null || item.db === undefined ? null : ident(item.db);
    if (db === null && access === 'read' && inScope(frame.scope, table)) continue; // a CTE
    state.collect.table(db, table, access);
  }
}

function pushWith(withList: unknown, scope: Scope | null, stack: Frame[]): Scope | null {
  if (!Array.isArray(withList)) return scope;
  const ctes = withList as Node[];
  const cteNames = ctes.map((c) =>
    String((c.name as { value?: unknown } | undefined)?.value ?? ''),
  );
  const recursive = ctes.some((c) => c.recursive === true);
  const bodyScope = withNames(scope, cteNames);
  ctes.forEach((cte, i) => {
    const cteScope = recursive ? bodyScope : withNames(scope, cteNames.slice(0, i));
    stack.push({ node: cte.stmt, scope: cteScope, root: false });
  });
  return bodyScope;
}

function visitStatement(node: Node, frame: Frame, stack: Frame[], state: WalkState) {
  const type = String(node.type);
  if (!frame.root && type !== 'select') {
    if (type === 'insert' || type === 'update' || type === 'delete' || type === 'replace')
      state.dataModifyingCte = true;
    else state.nestedStatement ??= STATEMENT_TYPES[type] ?? 'other';
  }
  const scope = pushWith(node.with, frame.scope, stack);
  const inner: Frame = { node, scope, root: false };
  if (type === 'select') {
    const into = node.into as Node | null | undefined;
    if (
      into !== null &&
      into !== undefined &&
      ((into.keyword !== undefined && into.keyword !== null) ||
        (into.expr !== undefined && into.expr !== null))
    ) {
      state.into = true;
    }
    if (node.locking_read !== null && node.locking_read !== undefined) state.locking = true;
    visitTableList(node.from, 'read', inner, stack, state);
  } else if (type === 'update' || type === 'delete' || type === 'insert' || type === 'replace') {
    const targets = Array.isArray(node.table) && node.table.length > 0 ? node.table : node.from;
    visitTableList(targets, 'write', inner, stack, state);
    if (targets !== node.from) visitTableList(node.from, 'read', inner, stack, state);
    if (frame.root && (type === 'update' || type === 'delete')) {
      state.whereRefersToColumn =
        node.where !== null && node.where !== undefined && refersToColumn(node.where);
    }
    if (node.returning !== null && node.returning !== undefined) state.returning = true;
  }
  // A WITH reaches along the set-operation chain (`_next`: UNION ..., and the
  // ORDER BY / LIMIT of the whole chain, which node-sql-parser puts on its last
  // node) only from the head of an unparenthesised chain: `WITH s AS (...)
  // SELECT ... UNION SELECT ... FROM s`. A CTE's scope ends with the
  // parenthesised query expression that defines it, so in `(WITH s AS (...)
  // SELECT ... FROM s) UNION ALL SELECT ... FROM s` the second `s` is the real
  // table (MySQL 8). The tree marks such an operand with `parentheses_symbol`;
  // a WITH on an operand reached through `_next` can only be that operand's own.
  const ownScopeOnly =
    node.with !== null &&
    node.with !== undefined &&
    (node.parentheses_symbol === true || node.parentheses === true || state.chained.has(node));
  for (const [key, value] of Object.entries(node)) {
    if (key === 'with' || key === 'from' || key === 'table' || key === 'into') continue;
    if (key === '_next') {
      if (value !== null && typeof value === 'object') state.chained.add(value as Node);
      stack.push({ node: value, scope: ownScopeOnly ? frame.scope : scope, root: false });
      continue;
    }
    // The set-operation chain (UNION ...) is the same statement: it keeps the root flag off.
    stack.push({ node: value, scope, root: false });
  }
}

function walk(ast: unknown, state: WalkState) {
  const stack: Frame[] = [{ node: ast, scope: null, root: true }];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const { node } = frame;
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i -= 1)
        stack.push({ node: node[i], scope: frame.scope, root: false });
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    const object = node as Node;
    const type = object.type;
    if (
      typeof type === 'string' &&
      (STATEMENT_TYPES[type] !== undefined ||
        (object.ast === undefined && isStatementShape(object)))
    ) {
      visitStatement(object, frame, stack, state);
      continue;
    }
    if (type === 'function' || type === 'aggr_func') {
      const name = functionName(object);
      if (name === null) state.unsupported ??= 'function name';
      else state.collect.fn(name[0], name[1]);
    }
    if (type === 'assign') state.assignment = true;
    const values = Object.values(object);
    for (let i = values.length - 1; i >= 0; i -= 1)
      stack.push({ node: values[i], scope: frame.scope, root: false });
  }
}

// Statements node-sql-parser returns that are not reads or writes (create, drop, set...).
function isStatementShape(node: Node): boolean {
  return (
    typeof node.type === 'string' &&
    [
      'create',
      'drop',
      'alter',
      'truncate',
      'rename',
      'set',
      'show',
      'use',
      'grant',
      'call',
      'lock',
      'unlock',
      'transaction',
      'load_data',
      'desc',
    ].includes(node.type)
  );
}

export type MysqlOutcome =
  | { readonly ok: true; readonly analysis: RawAnalysis }
  | {
      readonly ok: false;
      readonly reason:
        | 'PARSE_ERROR'
        | 'NESTING_TOO_DEEP'
        | 'GUARD_NOT_READY'
        | 'UNSUPPORTED_SYNTAX';
      /** Shown to the client for UNSUPPORTED_SYNTAX: the construct, and what to write instead. */
      readonly detail: string;
    };

/**
 * Valid MySQL or MariaDB that neither parser reads, recognised from the
 * tokens, so the refusal says what is unsupported instead of "check its
 * syntax". Null when nothing is recognised.
 */
export function unsupportedConstruct(text: string, tokens: readonly Token[]): string | null {
  const words = tokens.map((t) => (t.kind === 'word' ? wordOf(text, t) : ''));
  if (words[0] === 'table') {
    return "the guard's parsers do not support the TABLE statement (MySQL 8); write SELECT * FROM the table instead";
  }
  for (const [marks, advice] of UNSUPPORTED_CONSTRUCTS) {
    if (marks(words)) return `the guard's parsers do not support ${advice}`;
  }
  return null;
}

/** Whether `sequence` appears in `words` as consecutive words. */
const has = (words: readonly string[], ...sequence: string[]) =>
  words.some((_, i) => sequence.every((word, k) => words[i + k] === word));

/** Valid MariaDB that neither parser reads, by the words that mark it, with what to write instead. */
const UNSUPPORTED_CONSTRUCTS: ReadonlyArray<
  readonly [(words: readonly string[]) => boolean, string]
> = [
  [
    (w) => has(w, 'for', 'system_time'),
    'FOR SYSTEM_TIME (system-versioned tables); remove it to read the current rows',
  ],
  [
    (w) => has(w, 'rows', 'examined'),
    'LIMIT ... ROWS EXAMINED; remove it (the server time limit bounds the query)',
  ],
  [
    (w) => w.indexOf('cycle') >= 0 && w.indexOf('restrict') > w.indexOf('cycle'),
    'CYCLE ... RESTRICT in a recursive CTE; use UNION instead of UNION ALL to stop at repeated rows',
  ],
  [(w) => has(w, 'sounds', 'like'), 'SOUNDS LIKE; write SOUNDEX(a) = SOUNDEX(b)'],
];

/** A fresh walk state seeded with the token-level facts (denied functions first). */
function newState(facts: TokenFacts): WalkState {
  const collect = new Collector();
  for (const [schema, name] of facts.denied) collect.fn(schema, name);
  for (const name of facts.keywordCalls) collect.fn(null, name);
  return {
    collect,
    into: facts.into,
    locking: facts.locking,
    assignment: facts.assignment,
    dataModifyingCte: false,
    nestedStatement: null,
    unsupported: null,
    whereRefersToColumn: null,
    returning: false,
    chained: new WeakSet(),
  };
}

export function analyzeMysqlText(text: string, lexed: LexResult): MysqlOutcome {
  const segs = segments(text, lexed.tokens);
  const kinds = segs.map((segment) => kindOfFirstWord(firstWord(text, segment)));
  // One trailing `;` is accepted (terminator.ts); any other `;` is refused.
  const semicolon = lexedSemicolons(text, lexed.tokens).stray;
  const facts = tokenFacts(text, lexed.tokens, 'mysql');
  let state = newState(facts);
  let explainTarget: StatementKind | null = null;
  let explainAnalyze = facts.explainAnalyze;
  // When the tokens already show something that is always refused, a parse
  // failure is not reported as such: the statement is refused on that rule.
  const certain =
    facts.denied.length > 0 ||
    facts.into ||
    facts.locking ||
    facts.assignment ||
    facts.explainAnalyze;
  // Only a single statement whose first word makes it a read or a write is worth parsing;
  // anything else is refused on its kind alone.
  const worthParsing =
    segs.length === 1 &&
    ['select', 'insert', 'update', 'delete', 'explain'].includes(kinds[0] ?? '');
  if (worthParsing) {
    const parserText = neutralize(text, lexed, { blankSemicolons: true });
    let ast: unknown;
    let parsed = true;
    try {
      ast = parser.astify(parserText, PARSE_OPTIONS);
    } catch (error) {
      if (error instanceof RangeError)
        return { ok: false, reason: 'NESTING_TOO_DEEP', detail: 'parser stack' };
      parsed = false;
    }
    if (parsed) {
      const root = Array.isArray(ast) ? (ast.length === 1 ? ast[0] : undefined) : ast;
      const rootNode = root as Node | undefined;
      if (rootNode === undefined) {
        return { ok: false, reason: 'PARSE_ERROR', detail: 'statement count' };
      } else if (rootNode.type === 'explain') {
        const inner = rootNode.expr as Node | undefined;
        explainTarget = STATEMENT_TYPES[String(inner?.type)] ?? 'other';
        walk(inner, state);
      } else {
        const parsedKind = STATEMENT_TYPES[String(rootNode.type)] ?? 'other';
        // The first word and the parser must agree on what the statement is.
        if (parsedKind !== kinds[0]) kinds[0] = 'other';
        walk(rootNode, state);
      }
    }
    // A read that node-sql-parser could not parse, or whose tree its walker did
    // not understand, is read again by the second parser (mysql-sqlparser.ts).
    // Its tree replaces the first one entirely: every rule is judged on the tree
    // of the parser that understood the statement, never on a mix of the two.
    const readShaped = kinds[0] === 'select' || kinds[0] === 'explain';
    if (readShaped && (!parsed || state.unsupported !== null)) {
      const second = analyzeWithSqlparser(parserText);
      if (second.ok && second.facts.unsupported === null) {
        state = newState(facts);
        const f = second.facts;
        for (const ref of f.collect.tables.values())
          state.collect.table(ref.schema, ref.name, ref.access);
        for (const fn of f.collect.functions.values()) state.collect.fn(fn.schema, fn.name);
        state.into ||= f.into;
        state.locking ||= f.locking;
        state.assignment ||= f.assignment;
        state.dataModifyingCte = f.dataModifyingCte;
        explainAnalyze ||= f.explainAnalyze;
        explainTarget = f.explainTarget;
        if (f.kind !== kinds[0]) kinds[0] = 'other';
        parsed = true;
      } else if (!parsed && !certain) {
        if (second.ok) {
          // It parsed, but holds a construct the walker does not judge: fail closed, and say which.
          return {
            ok: false,
            reason: 'UNSUPPORTED_SYNTAX',
            detail: `the guard does not judge ${second.facts.unsupported}`,
          };
        }
        if (second.reason !== 'PARSE_ERROR')
          return { ok: false, reason: second.reason, detail: second.detail };
        const construct = unsupportedConstruct(text, lexed.tokens);
        if (construct !== null)
          return { ok: false, reason: 'UNSUPPORTED_SYNTAX', detail: construct };
        return { ok: false, reason: 'PARSE_ERROR', detail: 'syntax' };
      }
    } else if (!parsed && !certain) {
      const construct = unsupportedConstruct(text, lexed.tokens);
      if (construct !== null) return { ok: false, reason: 'UNSUPPORTED_SYNTAX', detail: construct };
      return { ok: false, reason: 'PARSE_ERROR', detail: 'syntax' };
    }
  }
  return {
    ok: true,
    analysis: {
      dialect: 'mysql',
      statementCount: segs.length,
      kinds,
      kind: kinds[0] ?? 'other',
      tables: [...state.collect.tables.values()],
      functions: [...state.collect.functions.values()],
      locking: state.locking,
      into: state.into,
      dataModifyingCte: state.dataModifyingCte,
      parameterCount: lexed.tokens.filter((t) => t.kind === 'param').length,
      fingerprint: '',
      semicolon,
      explainAnalyze,
      explainTarget,
      nestedStatement: state.nestedStatement,
      variableAssignment: state.assignment,
      whereRefersToColumn: state.whereRefersToColumn,
      returning: state.returning,
      unsupported: state.unsupported,
      attributes: [],
      variables: facts.variables,
      catalogCast: null,
    },
  };
}
