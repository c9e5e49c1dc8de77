/**
 * The read and write checks. Both run the same pipeline and fail closed:
 *
 *   preflight  type, length, NUL and invalid Unicode, empty text
 *   analyse    the dialect's lexer and parser (postgres.ts, mysql.ts, and
 *              for ODBC the strict ANSI lexer then the PostgreSQL parser)
 *   rules      statement count, `;`, statement kind, nested statements,
 *              INTO, locking, assignments, functions, tables
 *
 * The first rule that fails decides. A rejection's message names the rule
 * and what to do, and may name a function or a table, but never quotes a
 * literal of the statement.
 */
import { createHash } from 'node:crypto';
import type { RawAnalysis } from './analysis.js';
import { canonicalize } from './canonical.js';
import { catalogStatement, isCatalogSchema } from './catalog.js';
import { checkFunction, checkVariable, type FunctionVerdict } from './functions.js';
import { type LexResult, lex, unquote } from './lexer.js';
import { analyzeMysqlText, neutralize, tokenFacts } from './mysql.js';
import { isMysqlSqlparserReady, loadMysqlSqlparser } from './mysql-sqlparser.js';
import {
  analyzePostgresText,
  analyzePostgresTree,
  isPostgresParserReady,
  loadPostgresParser,
  parsePostgres,
  postgresFingerprint,
} from './postgres.js';
import { REJECTION_REASONS, type RejectionReason } from './reasons.js';
import {
  compilePatterns,
  isAllowed,
  patternsNameCatalogs,
  resolveOdbcTable,
  resolveSchema,
  SKIPPED_SCHEMA,
} from './tables.js';
import {
  lexedSemicolons,
  NO_SEMICOLON,
  type SemicolonScan,
  scannedSemicolons,
} from './terminator.js';
import type {
  AnalyzeResult,
  CheckedAnalysis,
  Dialect,
  GuardOptions,
  GuardRejection,
  GuardResult,
  ResolvedTable,
  StatementKind,
  WriteGuardOptions,
} from './types.js';

export const DEFAULT_MAX_LENGTH = 100_000;
/** Deepest parenthesis nesting the MySQL and ODBC paths accept (real queries stay far below). */
export const MAX_NESTING = 200;

/**
 * Loads the WASM parsers: PostgreSQL's (the postgres and odbc dialects) and
 * sqlparser-rs (the MySQL reads node-sql-parser cannot read). Call once at
 * start-up; later calls are free.
 */
export async function loadSqlGuard(): Promise<void> {
  await Promise.all([loadPostgresParser(), loadMysqlSqlparser()]);
}

export function isSqlGuardReady(): boolean {
  return isPostgresParserReady() && isMysqlSqlparserReady();
}

function reject(reason: RejectionReason, detail?: string, fingerprint?: string): GuardRejection {
  const advice = REJECTION_REASONS[reason];
  const message = detail === undefined ? advice : `${advice} (${detail})`;
  return fingerprint === undefined
    ? { ok: false, code: 'QUERY_REJECTED', reason, message }
    : { ok: false, code: 'QUERY_REJECTED', reason, message, fingerprint };
}

/** A name safe to put in a message: an identifier the agent wrote, bounded and printable. */
export function shown(name: string): string {
  const clean = name.replace(/[^\p{L}\p{N}_$.@-]/gu, '?');
  return clean.length > 64 ? `${clean.slice(0, 63)}…` : clean;
}

/** The checks that do not need a parser: type, length, characters, emptiness. */
export function preflight(
  sql: unknown,
  maxLength: number = DEFAULT_MAX_LENGTH,
): GuardRejection | null {
  if (typeof sql !== 'string') return reject('PARSE_ERROR', 'the statement is not text');
  if (sql.length > maxLength)
    return reject('TOO_LONG', `${sql.length} characters, at most ${maxLength}`);
  if (sql.includes('\u0000') || !(sql as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    return reject('INVALID_CHARACTER');
  }
  if (sql.trim().length === 0) return reject('EMPTY_STATEMENT');
  return null;
}

function lexOrReject(sql: string, dialect: 'mysql' | 'odbc'): LexResult | GuardRejection {
  const lexed = lex(sql, dialect);
  if (!lexed.ok) return reject(lexed.reason, lexed.detail);
  if (lexed.maxDepth > MAX_NESTING)
    return reject('NESTING_TOO_DEEP', `more than ${MAX_NESTING} levels`);
  if (lexed.tokens.length === 0) return reject('EMPTY_STATEMENT');
  return lexed;
}

type Analysed = { readonly ok: true; readonly raw: RawAnalysis } | GuardRejection;

/**
 * A statement read as far as its cache key: preflight, then the dialect's
 * parse (PostgreSQL, masked: postgres.ts `parsePostgres`) or lexer and
 * canonical form (MySQL and ODBC: canonical.ts). Everything the verdict
 * depends on is in what was read here, and the key serialises exactly that
 * (plus nothing of the literals' values), so equal keys mean equal verdicts
 * and equal fingerprints. The checks and the cache share this one path:
 * `checkRead(sql)` is `judge(stage(sql), 'read')`, and a cached guard only
 * adds a lookup between the two.
 */
export interface Staged {
  /** The cache key, or undefined when this text is not cached (refused early, or too large). */
  key(): string | undefined;
  /** The analysis (computed once). */
  analysed(): Analysed;
}

/** Keys longer than this are not cached (memory: the cache holds 1,000 of them). */
const MAX_KEY_LENGTH = 64 * 1024;

function settled(result: Analysed): Staged {
  return { key: () => undefined, analysed: () => result };
}

function memo<T>(compute: () => T): () => T {
  let value: T | undefined;
  let computed = false;
  return () => {
    if (!computed) {
      value = compute();
      computed = true;
    }
    return value as T;
  };
}

function boundedKey(key: string): string | undefined {
  return key.length > MAX_KEY_LENGTH ? undefined : key;
}

/** Reads a statement as far as its cache key (see `Staged`). Never throws. */
export function stage(
  sql: unknown,
  options: { readonly dialect: Dialect; readonly maxLength?: number },
): Staged {
  const early = preflight(sql, options.maxLength ?? DEFAULT_MAX_LENGTH);
  if (early !== null) return settled(early);
  const text = sql as string;
  switch (options.dialect) {
    case 'postgres': {
      const parsed = parsePostgres(text);
      if (!parsed.ok) return settled(reject(parsed.reason, undefined, fallbackFingerprint(text)));
      if (parsed.stmts.length === 0) return settled(reject('EMPTY_STATEMENT'));
      // Every `;` is found with the real PostgreSQL scanner (a leading one does not
      // show in the tree); one trailing `;` after the statement is accepted
      // (terminator.ts), any other is refused. It is part of the key.
      const semicolon = scannedSemicolons(text).stray;
      return {
        key: memo(() => boundedKey(`pg${semicolon ? ';' : ''}:${JSON.stringify(parsed.stmts)}`)),
        analysed: memo(() => {
          const raw = analyzePostgresTree(parsed.stmts, 'postgres', { semicolon });
          return done(raw, raw.fingerprint);
        }),
      };
    }
    case 'mysql': {
      const lexed = lexOrReject(text, 'mysql');
      if (!('tokens' in lexed)) return settled(lexed);
      const canonical = canonicalize(text, lexed, 'mysql');
      return {
        key: () => boundedKey(canonical.key),
        analysed: memo(() => {
          const fp = tokenFingerprint(canonical.text, canonical.lexed);
          const outcome = analyzeMysqlText(canonical.text, canonical.lexed);
          if (!outcome.ok) {
            const detail = outcome.reason === 'UNSUPPORTED_SYNTAX' ? outcome.detail : undefined;
            return reject(outcome.reason, detail, fp);
          }
          return done(outcome.analysis, fp);
        }),
      };
    }
    case 'odbc': {
      const lexed = lexOrReject(text, 'odbc');
      if (!('tokens' in lexed)) return settled(lexed);
      const canonical = canonicalize(text, lexed, 'odbc');
      return {
        key: () => boundedKey(canonical.key),
        analysed: memo(() => analyseOdbc(canonical.text, canonical.lexed)),
      };
    }
    default: {
      const never: never = options.dialect;
      return settled(reject('UNSUPPORTED_SYNTAX', `unknown dialect ${String(never)}`));
    }
  }
}

const isName = (token: LexResult['tokens'][number] | undefined) =>
  token?.kind === 'word' || token?.kind === 'quoted';

/**
 * `catalog..table` (a name whose schema is left out, as CONNX writes it) for
 * the PostgreSQL grammar, which has no such form: the skipped schema becomes
 * the quoted placeholder `SKIPPED_SCHEMA`, which the walker reads as no
 * schema. Only two dots between two names are rewritten; anything else with
 * `..` stays as it is and does not parse.
 */
export function skippedSchemas(text: string, lexed: LexResult): string {
  const { tokens } = lexed;
  const dot = (i: number) => {
    const token = tokens[i];
    return token?.kind === 'punct' && text[token.start] === '.';
  };
  let out = '';
  let at = 0;
  for (let i = 1; i + 2 < tokens.length; i += 1) {
    if (dot(i) && dot(i + 1) && isName(tokens[i - 1]) && isName(tokens[i + 2])) {
      const second = tokens[i + 1] as LexResult['tokens'][number];
      out += `${text.slice(at, second.start)}"${SKIPPED_SCHEMA}"`;
      at = second.start;
      i += 1;
    }
  }
  return at === 0 ? text : out + text.slice(at);
}

/** ODBC: the canonical text, read by the PostgreSQL grammar. */
function analyseOdbc(text: string, lexed: LexResult): Analysed {
  const fp = tokenFingerprint(text, lexed);
  // The placeholder of `catalog..table` is no name a statement may write.
  if (text.includes(SKIPPED_SCHEMA)) {
    return reject('UNSUPPORTED_SYNTAX', 'a name reserved by sqlwarden', fp);
  }
  const params = lexed.tokens.filter((t) => t.kind === 'param').length;
  // The PostgreSQL grammar reads ANSI SQL; ODBC's `?` parameters become $n for it.
  const rewritten = skippedSchemas(text, lexed);
  const relexed = rewritten === text ? lexed : lex(rewritten, 'odbc');
  if (!relexed.ok) return reject(relexed.reason, relexed.detail, fp);
  const parserText = neutralize(rewritten, relexed, { params: (n) => `$${n}` });
  const semicolon = lexed.tokens.some((t) => t.kind === 'punct' && text[t.start] === ';');
  const outcome = analyzePostgresText(parserText, 'odbc', {
    semicolon,
    parameterCount: params,
  });
  if (!outcome.ok) return reject(outcome.reason, undefined, fp);
  if (outcome.analysis.statementCount === 0) return reject('EMPTY_STATEMENT');
  const facts = tokenFacts(text, lexed.tokens, 'odbc');
  const functions = [
    ...outcome.analysis.functions,
    ...facts.denied.map(([schema, name]) => ({ schema, name })),
  ];
  return done({ ...outcome.analysis, functions, variables: facts.variables }, fp);
}

/** Runs the dialect's analysis; the fingerprint is filled in. */
function analyse(
  sql: unknown,
  options: { readonly dialect: Dialect; readonly maxLength?: number },
): Analysed {
  return stage(sql, options).analysed();
}

function done(raw: RawAnalysis, fingerprint: string): Analysed {
  return { ok: true, raw: { ...raw, fingerprint } };
}

const READ_KINDS: ReadonlySet<StatementKind> = new Set(['select']);
const WRITE_KINDS: ReadonlySet<StatementKind> = new Set(['insert', 'update', 'delete']);

function kindRejection(kind: StatementKind, wanted: 'read' | 'write'): RejectionReason {
  if (kind === 'transaction') return 'TRANSACTION_CONTROL';
  if (kind === 'session') return 'SESSION_STATE';
  return wanted === 'read' ? 'NOT_A_READ' : 'NOT_A_WRITE';
}

/** Why a function is refused, in words an agent and an operator can act on. */
function functionRefusal(
  name: string,
  verdict: Exclude<FunctionVerdict, { ok: true }>,
  allowedBy: string,
): string {
  const lift = `an operator can allow it by name: ${allowedBy}`;
  switch (verdict.why) {
    case 'side-effect':
      return `${name} has side effects or reaches outside the database (files, other connections, sleeps, locks, settings); it is never allowed`;
    case 'denied':
      return `${name} is a user-defined function, which can read any table; it is not allowed (${lift})`;
    case 'system':
      return verdict.exposes === undefined
        ? `${name} is not a function known to compute only on its arguments; it is not allowed (${lift})`
        : `${name} ${verdict.exposes}; it is not allowed (${lift})`;
    case 'unknown':
      return `${name} is not a known system function (created after sqlwarden read the catalog? restart it)`;
    case 'volatile':
      return `${name} is volatile (it can change state); it is not allowed (${lift})`;
    default: {
      const never: never = verdict.why;
      return String(never);
    }
  }
}

/** Rules shared by reads and writes, in order. */
function commonRules(
  raw: RawAnalysis,
  options: GuardOptions,
  wanted: 'read' | 'write',
): GuardRejection | null {
  const fp = raw.fingerprint;
  if (raw.statementCount === 0) return reject('EMPTY_STATEMENT', undefined, fp);
  if (raw.statementCount > 1)
    return reject('MULTI_STATEMENT', `${raw.statementCount} statements`, fp);
  if (raw.semicolon)
    return reject(
      'SEMICOLON',
      options.dialect === 'odbc' ? 'ODBC sources take no semicolon at all' : undefined,
      fp,
    );
  if (raw.unsupported !== null) return reject('UNSUPPORTED_SYNTAX', raw.unsupported, fp);
  if (raw.dataModifyingCte) return reject('DATA_MODIFYING_CTE', undefined, fp);
  if (raw.nestedStatement !== null)
    return reject(kindRejection(raw.nestedStatement, wanted), undefined, fp);
  if (raw.into) return reject('SELECT_INTO', undefined, fp);
  if (raw.locking) return reject('LOCKING_CLAUSE', undefined, fp);
  if (raw.variableAssignment) return reject('VARIABLE_ASSIGNMENT', undefined, fp);
  if (raw.catalogCast !== null) {
    return reject(
      'CATALOG_QUERY',
      `a cast to ${shown(raw.catalogCast)} looks a name up in the catalog`,
      fp,
    );
  }
  const allowedBy = options.functionPolicy?.allowedBy ?? "the source's function allow list";
  for (const fn of raw.functions) {
    const verdict = checkFunction(options.dialect, fn, options.functionPolicy);
    if (!verdict.ok) {
      const name = shown(fn.schema === null ? fn.name : `${fn.schema}.${fn.name}`);
      return reject('FORBIDDEN_FUNCTION', functionRefusal(name, verdict, allowedBy), fp);
    }
  }
  for (const variable of raw.variables) {
    if (!checkVariable(variable, options.functionPolicy)) {
      return reject(
        'FORBIDDEN_FUNCTION',
        `@@${shown(variable.replace(/^@@/, ''))} reads a server variable (settings, paths, host names, versions); system variables are not allowed (an operator can allow one by name, as @@name: ${allowedBy})`,
        fp,
      );
    }
  }
  for (const attribute of raw.attributes) {
    if (
      !checkFunction(options.dialect, attribute, options.functionPolicy, {
        builtin: false,
        call: false,
      }).ok
    ) {
      return reject(
        'FORBIDDEN_FUNCTION',
        `${shown(attribute.name)} is not allowed (field selection can call a function)`,
        fp,
      );
    }
  }
  return null;
}

/**
 * Whether an ODBC statement is judged with catalogs: the source names them
 * (a default catalog, or a three-part pattern) or the statement does. Then
 * every table resolves to a full (catalog, schema, table) or is refused.
 */
function withCatalogs(
  raw: RawAnalysis,
  options: WriteGuardOptions,
  patterns: ReadonlyArray<ReturnType<typeof compilePatterns> | undefined>,
): boolean {
  if (options.dialect !== 'odbc') return false;
  return (
    options.defaultCatalog !== undefined ||
    patterns.some(patternsNameCatalogs) ||
    raw.tables.some((t) => t.catalog !== undefined)
  );
}

/** The name of a reference as written, for a message (`cat..t` keeps its two dots). */
function writtenName(ref: RawAnalysis['tables'][number]): string {
  if (ref.catalog !== undefined) return `${ref.catalog}.${ref.schema ?? ''}.${ref.name}`;
  return ref.schema === null ? ref.name : `${ref.schema}.${ref.name}`;
}

function checkTables(
  raw: RawAnalysis,
  options: WriteGuardOptions,
  wanted: 'read' | 'write',
): { ok: true; tables: ResolvedTable[] } | GuardRejection {
  const odbc = options.dialect === 'odbc';
  const readable =
    options.allowedTables === undefined ? undefined : compilePatterns(options.allowedTables, odbc);
  const writablePatterns = options.writableTables ?? options.allowedTables;
  const writable =
    writablePatterns === undefined ? undefined : compilePatterns(writablePatterns, odbc);
  const catalogs = withCatalogs(raw, options, [readable, writable]);
  const tables: ResolvedTable[] = [];
  for (const ref of raw.tables) {
    const patterns = ref.access === 'write' ? writable : readable;
    let schema: string | null;
    let catalog: string | undefined;
    if (catalogs) {
      const resolved = resolveOdbcTable(ref, options);
      if (!resolved.ok) {
        const name = shown(writtenName(ref));
        const detail =
          resolved.missing === 'catalog'
            ? `${name} names no catalog and the source has no default catalog: write catalog.schema.table, or configure defaultCatalog`
            : `${name} names no schema and the source has no default schema: write catalog.schema.table, or configure defaultSchema`;
        return reject('AMBIGUOUS_TABLE', detail, raw.fingerprint);
      }
      catalog = resolved.catalog;
      schema = resolved.schema;
    } else {
      schema = resolveSchema(options.dialect, ref, options.defaultSchema);
    }
    if (patterns !== undefined) {
      if (schema === null) return reject('UNQUALIFIED_TABLE', shown(ref.name), raw.fingerprint);
      if (!isAllowed(patterns, schema, ref.name, catalog)) {
        const what = ref.access === 'write' && wanted === 'write' ? 'for writing' : 'for reading';
        const table = shown(
          catalog === undefined ? `${schema}.${ref.name}` : `${catalog}.${schema}.${ref.name}`,
        );
        // A system catalog lists other tables than the allowed ones: refused the same,
        // but the message points to the tools that show what the caller may see.
        if (isCatalogSchema(options.dialect, schema)) {
          return reject(
            'CATALOG_QUERY',
            `${table} is not allowed ${what}: it is a system catalog`,
            raw.fingerprint,
          );
        }
        return reject('TABLE_NOT_ALLOWED', `${table} is not allowed ${what}`, raw.fingerprint);
      }
    }
    tables.push(
      catalog === undefined
        ? { schema, name: ref.name, access: ref.access }
        : { catalog, schema, name: ref.name, access: ref.access },
    );
  }
  return { ok: true, tables };
}

/** The public part of a raw analysis (the rest is the guard's working state). */
function publicAnalysis(raw: RawAnalysis) {
  return {
    dialect: raw.dialect,
    statementCount: raw.statementCount,
    kinds: raw.kinds,
    kind: raw.kind,
    tables: raw.tables,
    functions: raw.functions,
    locking: raw.locking,
    into: raw.into,
    dataModifyingCte: raw.dataModifyingCte,
    parameterCount: raw.parameterCount,
    fingerprint: raw.fingerprint,
  };
}

function accept(raw: RawAnalysis, tables: ResolvedTable[]): GuardResult {
  const analysis: CheckedAnalysis = { ...publicAnalysis(raw), resolvedTables: tables };
  return { ok: true, analysis };
}

/**
 * Accepts exactly one plain read: SELECT, VALUES, TABLE, WITH ... SELECT, or
 * EXPLAIN (without ANALYZE) of one. See the header for the rules. A refused
 * catalog-browsing statement (SHOW TABLES, DESCRIBE t, MySQL's EXPLAIN t,
 * psql's \d) is refused as CATALOG_QUERY, which points to the tools.
 */
export function checkRead(sql: string, options: GuardOptions): GuardResult {
  return judge(stage(sql, options), 'read', sql, options);
}

/**
 * The verdict on a staged statement (`stage`): what `checkRead` and
 * `checkWrite` return, and what a cached guard computes on a miss. Depends
 * on `staged.analysed()` alone, except a refusal's relabelling as
 * CATALOG_QUERY, which reads the text (refusals are never cached).
 */
export function judge(
  staged: Staged,
  mode: 'read' | 'write',
  sql: string,
  options: WriteGuardOptions,
): GuardResult {
  if (mode === 'write') return writeRules(staged.analysed(), options);
  const result = readRules(staged.analysed(), options);
  if (result.ok || !RELABELLED.has(result.reason)) return result;
  const statement = catalogStatement(sql, options.dialect);
  return statement === null ? result : reject('CATALOG_QUERY', statement, result.fingerprint);
}

/** Refusals that a catalog-browsing statement gets from the rules, and only those, are relabelled. */
const RELABELLED: ReadonlySet<RejectionReason> = new Set([
  'PARSE_ERROR',
  'UNSUPPORTED_SYNTAX',
  'SESSION_STATE',
  'NOT_A_READ',
]);

function readRules(analysed: Analysed, options: GuardOptions): GuardResult {
  if (!analysed.ok) return analysed;
  const { raw } = analysed;
  const fp = raw.fingerprint;
  if (raw.statementCount === 1 && !READ_KINDS.has(raw.kind)) {
    if (raw.kind !== 'explain') return reject(kindRejection(raw.kind, 'read'), undefined, fp);
    if (raw.explainAnalyze) return reject('EXPLAIN_ANALYZE', undefined, fp);
    if (raw.explainTarget === null || !READ_KINDS.has(raw.explainTarget))
      return reject('NOT_A_READ', 'EXPLAIN of a statement that is not a read', fp);
  }
  const common = commonRules(raw, options, 'read');
  if (common !== null) return common;
  if (raw.tables.some((t) => t.access === 'write')) return reject('NOT_A_READ', undefined, fp);
  const tables = checkTables(raw, options, 'read');
  if (!tables.ok) return tables;
  return accept(raw, tables.tables);
}

/**
 * Accepts exactly one INSERT, UPDATE or DELETE: targets allowed for
 * writing, everything it reads (INSERT ... SELECT, subqueries, USING/FROM)
 * allowed for reading, RETURNING only of readable targets, and a WHERE that
 * refers to a column for UPDATE and DELETE unless `allowWriteWithoutWhere`.
 */
export function checkWrite(sql: string, options: WriteGuardOptions): GuardResult {
  return judge(stage(sql, options), 'write', sql, options);
}

function writeRules(analysed: Analysed, options: WriteGuardOptions): GuardResult {
  if (!analysed.ok) return analysed;
  const { raw } = analysed;
  const fp = raw.fingerprint;
  if (raw.statementCount === 1 && !WRITE_KINDS.has(raw.kind)) {
    return reject(kindRejection(raw.kind, 'write'), undefined, fp);
  }
  const common = commonRules(raw, options, 'write');
  if (common !== null) return common;
  if (
    (raw.kind === 'update' || raw.kind === 'delete') &&
    raw.whereRefersToColumn !== true &&
    options.allowWriteWithoutWhere !== true
  ) {
    return reject('WRITE_WITHOUT_WHERE', undefined, fp);
  }
  const tables = checkTables(raw, options, 'write');
  if (!tables.ok) return tables;
  if (raw.returning && options.allowReturning === false) {
    return reject('RETURNING_NOT_ALLOWED', 'this caller reports affected rows only', fp);
  }
  if (raw.returning && options.allowedTables !== undefined) {
    const readable = compilePatterns(options.allowedTables, options.dialect === 'odbc');
    for (const table of tables.tables) {
      if (
        table.access === 'write' &&
        (table.schema === null || !isAllowed(readable, table.schema, table.name, table.catalog))
      ) {
        return reject('RETURNING_NOT_ALLOWED', undefined, fp);
      }
    }
  }
  return accept(raw, tables.tables);
}

/** What a statement is and touches, without any allow-list judgement. */
export function analyze(
  sql: string,
  options: { readonly dialect: Dialect; readonly maxLength?: number },
): AnalyzeResult {
  const analysed = analyse(sql, options);
  if (!analysed.ok) return analysed;
  return { ok: true, analysis: publicAnalysis(analysed.raw) };
}

function sha12(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** For text nothing could lex or parse: whitespace and case folded, literals kept. */
function fallbackFingerprint(text: string): string {
  return sha12(`raw:${text.trim().replace(/\s+/g, ' ').toLowerCase()}`);
}

/**
 * The shape of a MySQL or ODBC statement from its tokens: literals and
 * parameters become `?`, runs of them in a list become one, words are
 * lower-cased, comments are gone.
 */
function tokenFingerprint(text: string, lexed: LexResult): string {
  const parts: string[] = [];
  for (const token of lexed.tokens) {
    switch (token.kind) {
      case 'string':
      case 'param':
        parts.push('?');
        break;
      case 'word': {
        const word = text.slice(token.start, token.end);
        parts.push(/^[0-9]/.test(word) ? '?' : word.toLowerCase());
        break;
      }
      case 'quoted':
        parts.push(`"${unquote(text, token)}"`);
        break;
      case 'variable':
        parts.push(text.slice(token.start, token.end).toLowerCase());
        break;
      case 'punct':
        parts.push(text.slice(token.start, token.end));
        break;
    }
  }
  // One trailing `;` is not part of the statement: `SELECT 1` and `SELECT 1;` share a fingerprint.
  if (parts.at(-1) === ';') parts.pop();
  const shape = parts.join(' ').replace(/\? (?:[.,] \? )*(?:[.,] \?)/g, '?');
  return sha12(`tok:${shape}`);
}

/** 12 hex characters; equal for statements that differ only in literal values. Never throws. */
export function fingerprint(sql: string, options: { readonly dialect: Dialect }): string {
  if (typeof sql !== 'string') return sha12('raw:');
  if (options.dialect === 'postgres') return postgresFingerprint(sql) ?? fallbackFingerprint(sql);
  const lexed = lex(sql, options.dialect);
  return lexed.ok ? tokenFingerprint(sql, lexed) : fallbackFingerprint(sql);
}

/**
 * The text to send to the server for a statement the guard accepted: the
 * statement without its one trailing `;` and whatever follows it
 * (whitespace and comments). A text without such a terminator is returned
 * as it is. Call it on every call, with that call's text. Never throws.
 */
export function statementText(sql: string, options: { readonly dialect: Dialect }): string {
  if (typeof sql !== 'string' || !sql.includes(';')) return sql;
  let scan: SemicolonScan = NO_SEMICOLON;
  switch (options.dialect) {
    case 'postgres':
      if (isPostgresParserReady()) scan = scannedSemicolons(sql);
      break;
    case 'mysql': {
      const lexed = lex(sql, 'mysql');
      if (lexed.ok) scan = lexedSemicolons(sql, lexed.tokens);
      break;
    }
    case 'odbc':
      // Every `;` is refused on ODBC sources: nothing to cut.
      break;
    default: {
      const never: never = options.dialect;
      return never;
    }
  }
  return scan.terminator === null ? sql : sql.slice(0, scan.terminator);
}
