/**
 * Named placeholders (`:name`) in statements an operator writes in the
 * configuration, turned into the dialect's own: `$1`, `$2` in PostgreSQL
 * (a name used twice keeps its number), `?` in MySQL and ODBC (a name used
 * twice is bound twice). The text is read with the dialect's real lexer, so
 * a `:word` inside a string, a quoted identifier or a comment is left alone,
 * and PostgreSQL's `::type` casts are not placeholders. Native placeholders
 * in the same text are refused: mixing both would bind values in the wrong
 * places. Values are then always bound, never spliced into the text.
 */
import { scanSync } from 'libpg-query';
import { lex } from './lexer.js';
import { isPostgresParserReady } from './postgres.js';
import type { Dialect } from './types.js';

export interface NamedStatement {
  /** The text with the dialect's placeholders. */
  readonly sql: string;
  /** The name bound at each placeholder position ($1 is order[0]; each ? in turn). */
  readonly order: readonly string[];
  /** Every name used, once, in order of first use. */
  readonly names: readonly string[];
}

export type NamedResult =
  | { readonly ok: true; readonly value: NamedStatement }
  | { readonly ok: false; readonly message: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Span {
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

export function bindNamedParameters(sql: string, dialect: Dialect): NamedResult {
  const spans = dialect === 'postgres' ? postgresSpans(sql) : lexerSpans(sql, dialect);
  if (!spans.ok) return spans;
  const names: string[] = [];
  const order: string[] = [];
  let out = '';
  let at = 0;
  for (const span of spans.value) {
    let index = names.indexOf(span.name);
    if (index === -1) {
      names.push(span.name);
      index = names.length - 1;
    }
    out += sql.slice(at, span.start);
    if (dialect === 'postgres') {
      out += `$${index + 1}`;
    } else {
      out += '?';
      order.push(span.name);
    }
    at = span.end;
  }
  out += sql.slice(at);
  return {
    ok: true,
    value: { sql: out, order: dialect === 'postgres' ? names : order, names },
  };
}

type Spans =
  | { readonly ok: true; readonly value: Span[] }
  | { readonly ok: false; message: string };

const NATIVE =
  'Write parameters as :name in a declared statement, not as $1 or ?: each value is bound by its name.';

function postgresSpans(sql: string): Spans {
  if (!isPostgresParserReady()) {
    return { ok: false, message: 'The PostgreSQL parser is not loaded (call loadSqlGuard first).' };
  }
  let tokens: ReadonlyArray<{ text: string; start: number; end: number; tokenName: string }>;
  try {
    tokens = scanSync(sql).tokens;
  } catch {
    return {
      ok: false,
      message: 'The statement cannot be read (a quote or comment is not closed).',
    };
  }
  // Token offsets are UTF-8 byte offsets: map them to string indexes.
  const bytes = Buffer.from(sql, 'utf8');
  const index = (byte: number) => bytes.subarray(0, byte).toString('utf8').length;
  const spans: Span[] = [];
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i];
    if (token === undefined) continue;
    if (token.tokenName === 'PARAM') return { ok: false, message: NATIVE };
    const next = tokens[i + 1];
    if (
      token.text === ':' &&
      next !== undefined &&
      next.start === token.end &&
      NAME.test(next.text)
    ) {
      spans.push({ start: index(token.start), end: index(next.end), name: next.text });
      i += 1;
    }
  }
  return { ok: true, value: spans };
}

function lexerSpans(sql: string, dialect: 'mysql' | 'odbc'): Spans {
  const lexed = lex(sql, dialect);
  if (!lexed.ok) return { ok: false, message: `The statement cannot be read: ${lexed.detail}.` };
  const spans: Span[] = [];
  const { tokens } = lexed;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i];
    if (token === undefined) continue;
    if (token.kind === 'param') return { ok: false, message: NATIVE };
    const next = tokens[i + 1];
    if (
      token.kind === 'punct' &&
      sql.slice(token.start, token.end) === ':' &&
      next !== undefined &&
      next.kind === 'word' &&
      next.start === token.end &&
      NAME.test(sql.slice(next.start, next.end))
    ) {
      spans.push({ start: token.start, end: next.end, name: sql.slice(next.start, next.end) });
      i += 1;
    }
  }
  return { ok: true, value: spans };
}
