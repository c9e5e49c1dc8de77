/**
 * Catalog browsing: the statements and tables agents reach for to see what
 * a database holds (SHOW TABLES, SHOW COLUMNS FROM t, DESCRIBE t, MySQL's
 * EXPLAIN t, psql's \d, information_schema, pg_catalog). They stay refused:
 * a catalog lists every table of the server, not only the allowed ones. But
 * a refusal that names a session rule or an allow list sends the agent the
 * wrong way, so they are refused as CATALOG_QUERY, whose advice names the
 * tools that answer the question (list_tables, describe_table).
 *
 * Nothing here accepts anything: catalogStatement() only renames the reason
 * of a statement the rules have already refused, and isCatalogSchema() only
 * the reason of a table the allow list has already refused. An operator who
 * allow-lists a catalog table explicitly (information_schema.columns) gets
 * it, as with any table.
 */
import { scanSync } from 'libpg-query';
import { lex, type Token, unquote, wordOf } from './lexer.js';
import { isPostgresParserReady } from './postgres.js';
import type { Dialect } from './types.js';

const CATALOG_SCHEMAS: Record<Dialect, ReadonlySet<string>> = {
  postgres: new Set(['information_schema', 'pg_catalog', 'pg_toast']),
  mysql: new Set(['information_schema', 'mysql', 'performance_schema', 'sys']),
  // ODBC back ends: the ANSI catalog plus the common system schemas.
  odbc: new Set(['information_schema', 'pg_catalog', 'sys', 'sysibm', 'syscat', 'mysql']),
};

/** Whether a (resolved) schema is one of the dialect's system catalogs. */
export function isCatalogSchema(dialect: Dialect, schema: string): boolean {
  return CATALOG_SCHEMAS[dialect].has(schema.toLowerCase());
}

// SHOW <what> that lists or describes tables (other SHOW forms are session state).
const SHOW_CATALOG = new Set([
  'tables',
  'full',
  'columns',
  'fields',
  'index',
  'indexes',
  'keys',
  'databases',
  'schemas',
  'create',
  'table',
  'open',
  'triggers',
]);

// What may follow EXPLAIN when it explains a statement rather than describing a table.
const EXPLAIN_CONTINUATIONS = new Set([
  'select',
  'with',
  'values',
  'table',
  'insert',
  'update',
  'delete',
  'replace',
  'merge',
  'analyze',
  'verbose',
  'format',
  'extended',
  'partitions',
  'for',
  'query',
  'plan',
]);

/** The first words of a text, lower-cased (quoted identifiers unquoted), by the dialect's scanner. */
function leadingWords(text: string, dialect: Dialect, count: number): string[] | null {
  if (dialect === 'postgres') {
    if (!isPostgresParserReady()) return null;
    try {
      return scanSync(text)
        .tokens.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT')
        .slice(0, count)
        .map((t) => (t.text.startsWith('"') ? t.text.slice(1, -1) : t.text.toLowerCase()));
    } catch {
      return null;
    }
  }
  const lexed = lex(text, dialect);
  if (!lexed.ok) return null;
  return lexed.tokens.slice(0, count).map((t: Token) => {
    if (t.kind === 'word') return wordOf(text, t);
    if (t.kind === 'quoted') return unquote(text, t);
    return text.slice(t.start, t.end);
  });
}

/**
 * What catalog-browsing statement a text is (for the message), or null.
 * Only called on text the rules refused.
 */
export function catalogStatement(text: string, dialect: Dialect): string | null {
  if (typeof text !== 'string') return null;
  if (/^\s*\\d/.test(text)) return 'psql meta-commands such as \\d are not SQL';
  const words = leadingWords(text, dialect, 3);
  if (words === null || words.length === 0) return null;
  const [first, second, third] = words as [string, string | undefined, string | undefined];
  if (first === 'describe' || first === 'desc') return 'DESCRIBE';
  if (first === 'show' && second !== undefined && SHOW_CATALOG.has(second)) {
    // Two words where the first does not say it alone (SHOW FULL TABLES, SHOW CREATE TABLE).
    const more = ['full', 'create', 'table', 'open'].includes(second) && third !== undefined;
    return `SHOW ${second.toUpperCase()}${more ? ` ${(third as string).toUpperCase()}` : ''}`;
  }
  if (
    first === 'explain' &&
    second !== undefined &&
    /^[\p{L}_$]/u.test(second) &&
    !EXPLAIN_CONTINUATIONS.has(second)
  ) {
    return 'EXPLAIN of a table (DESCRIBE)';
  }
  return null;
}
