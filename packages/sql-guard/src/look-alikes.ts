/**
 * Look-alike statements, for the verdict cache's differential and fuzz
 * tests: texts that differ from a base statement only where a cache key
 * might be tempted to look away (a literal's contents, its quoting, its
 * prefix, the escape character of a Unicode identifier, a number that
 * decides a type). Test support only: never exported from index.ts.
 */
import type { Dialect } from './types.js';

/** Escape characters PostgreSQL accepts after UESCAPE (not a hex digit, +, quote or space). */
export const UESCAPE_CHARS = ['#', '!', '\\', '@', '%', '^', '~', '*', '=', '|', '?', ':', 'z'];

/** `name` written as U&"..." with every character escaped by `escape`. */
export function unicodeIdentifier(name: string, esc: string): string {
  const body = [...name]
    .map((c, i) => (i % 2 === 0 ? `${esc}${c.codePointAt(0)?.toString(16).padStart(4, '0')}` : c))
    .join('');
  return `U&"${body}"`;
}

/**
 * The UESCAPE family of the attack: a CTE named with one escape's spelling
 * of a name, read through U&"..." with another escape, so that only the
 * UESCAPE literal decides whether the reference is the CTE or a real table.
 */
export function uescapeFamily(table: string): string[] {
  const out: string[] = [];
  const spelled = unicodeIdentifier(table, '#');
  const decoy = spelled.slice(3, -1); // the escaped spelling, as a plain quoted name
  for (const esc of UESCAPE_CHARS) {
    const literal = esc.replaceAll("'", "''");
    out.push(
      `WITH "${decoy.replaceAll('"', '""')}" AS (SELECT 0 AS id, 'decoy' AS secret) SELECT * FROM ${spelled} UESCAPE '${literal}'`,
    );
    out.push(`SELECT * FROM ${unicodeIdentifier(table, esc)} UESCAPE '${literal}'`);
    out.push(`SELECT U&'${decoy}' UESCAPE '${literal}' AS v FROM orders`);
  }
  return out;
}

/** The plain string literals of a statement: `'...'` not glued to a word (a rough find, for mutation only). */
function stringSpans(sql: string): Array<readonly [number, number]> {
  const spans: Array<readonly [number, number]> = [];
  const re = /(?<![\w$&'])'(?:[^'\\]|'')*'(?!')/g;
  for (let m = re.exec(sql); m !== null; m = re.exec(sql))
    spans.push([m.index, m.index + m[0].length]);
  return spans;
}

/** Ways to write a string literal in each dialect, some of which change how the text around reads. */
const REWRITES: Record<'postgres' | 'mysql', ReadonlyArray<(inner: string) => string>> = {
  postgres: [
    (s) => `'${s}'`,
    (s) => `'${s}x'`,
    (_s) => `'pg_authid'`,
    (_s) => `'internal.api_keys'`,
    (s) => `E'${s}'`,
    (s) => `E'${s}\\''`,
    (s) => `E'\\'${s}'`,
    (s) => `N'${s}'`,
    (s) => `U&'${s}'`,
    (s) => `$$${s}$$`,
    (s) => `$q$${s}$q$`,
    (s) => `'${s}'::regclass`,
    (s) => `'${s}'::text`,
    (s) => `'${s}'\n'${s}'`,
    (s) => `'${s}' '${s}'`,
    (s) => `'${s}''${s}'`,
    (s) => `'${s}' /* ' */`,
    (s) => `'${s}' -- '\n`,
    (_s) => `X'1F'`,
    (_s) => `B'101'`,
  ],
  mysql: [
    (s) => `'${s}'`,
    (s) => `'${s}x'`,
    (s) => `"${s}"`,
    (s) => `'${s}\\''`,
    (s) => `'\\'${s}'`,
    (s) => `'${s}\\\\'`,
    (s) => `_utf8mb4'${s}'`,
    (s) => `_binary '${s}'`,
    (s) => `N'${s}'`,
    (s) => `'${s}' COLLATE 'utf8mb4_bin'`,
    (s) => `'${s}' '${s}'`,
    (s) => `'${s}''${s}'`,
    (s) => `'${s}' /* ' */`,
    (s) => `'${s}' # '\n`,
    (_s) => `X'1F'`,
    (_s) => `0x1F`,
    (_s) => `b'101'`,
  ],
};

/** Number spellings, some of which decide a type or are not numbers at all. */
const NUMBERS = [
  '0',
  '1',
  '7',
  '24',
  '25',
  '53',
  '54',
  '2147483648',
  '1.5',
  '1e5',
  '0x1F',
  '-1',
  '1_000',
];

/** The catalog and schema ODBC name look-alikes are written with (default `shop` and `app`). */
export interface NameDefaults {
  readonly catalog: string;
  readonly schema: string;
}

/**
 * Ways to write a table name on an ODBC source that names catalogs (CONNX):
 * the same table by its defaults, quoting and `..`, and near misses that
 * name another table or nothing (another catalog, case, four parts, stray
 * dots, a system catalog). A cache key that looked away from one dot would
 * let one answer for another.
 */
const NAME_FORMS: ReadonlyArray<(c: string, s: string, t: string) => string> = [
  (c, s, t) => `${c}.${s}.${t}`,
  (c, _s, t) => `${c}..${t}`,
  (_c, s, t) => `${s}.${t}`,
  (_c, _s, t) => t,
  (c, s, t) => `"${c}"."${s}"."${t}"`,
  (c, _s, t) => `"${c}".."${t}"`,
  (c, _s, t) => `${c} . . ${t}`,
  (c, s, t) => `"${c.toUpperCase()}".${s}.${t}`,
  (c, s, t) => `${c}."${s.toUpperCase()}".${t}`,
  (_c, s, t) => `other.${s}.${t}`,
  (_c, _s, t) => `other..${t}`,
  (c, _s, t) => `${c}.${t}`,
  (c, s, t) => `x.${c}.${s}.${t}`,
  (c, _s, t) => `${c}...${t}`,
  (c, s, t) => `${c}.${s}..${t}`,
  (c, s, t) => `${c}..${s}..${t}`,
  (c, _s, t) => `${c}.information_schema.${t}`,
  (c, _s, t) => `${c}."sqlwarden:skipped-schema".${t}`,
];

const NAME_PART = String.raw`(?:"[^"]*"|[A-Za-z_][\w$]*)`;
/** The first table name after FROM, JOIN, UPDATE or INTO, with its qualifiers and dots. */
const TABLE_NAME = new RegExp(
  String.raw`\b(?:FROM|JOIN|UPDATE|INTO)\s+(${NAME_PART}(?:\s*\.(?:\s*\.)?\s*${NAME_PART})*)`,
  'i',
);

/**
 * ODBC look-alikes of a statement's first table name (`NAME_FORMS`): the
 * table is the name's last part, written with the given catalog and schema.
 */
export function nameLookAlikes(
  sql: string,
  names: NameDefaults = { catalog: 'shop', schema: 'app' },
): string[] {
  const found = TABLE_NAME.exec(sql);
  if (found === null || found[1] === undefined) return [];
  const written = found[1];
  const table = written.split('.').at(-1)?.trim() ?? written;
  if (table.length === 0 || /^(?:select|values|lateral)$/i.test(table)) return [];
  const at = (found.index ?? 0) + found[0].length - written.length;
  const out = new Set<string>();
  for (const form of NAME_FORMS) {
    out.add(
      sql.slice(0, at) + form(names.catalog, names.schema, table) + sql.slice(at + written.length),
    );
  }
  out.delete(sql);
  return [...out];
}

/**
 * Look-alikes of a statement: each string literal rewritten in every way of
 * the dialect, and each number respelled. ODBC uses the PostgreSQL rewrites
 * (its lexer refuses most of them, which is part of what is compared), and
 * adds the name look-alikes of its first table (`nameLookAlikes`, with
 * `names` or `shop`/`app`; none with `false`).
 */
export function lookAlikes(
  sql: string,
  dialect: Dialect,
  limit = 40,
  names?: NameDefaults | false,
): string[] {
  const rewrites = REWRITES[dialect === 'mysql' ? 'mysql' : 'postgres'];
  const out = new Set<string>();
  const spans = stringSpans(sql);
  for (const [start, end] of spans.slice(0, 3)) {
    const inner = sql.slice(start + 1, end - 1);
    for (const rewrite of rewrites) out.add(sql.slice(0, start) + rewrite(inner) + sql.slice(end));
  }
  const numbers = [...sql.matchAll(/(?<![\w$.'])\d+(?:\.\d+)?(?![\w.'])/g)].slice(0, 3);
  for (const m of numbers) {
    const at = m.index ?? 0;
    for (const n of NUMBERS) out.add(sql.slice(0, at) + n + sql.slice(at + m[0].length));
  }
  out.delete(sql);
  const literals = [...out].slice(0, limit);
  if (dialect !== 'odbc' || names === false) return literals;
  return [...new Set([...literals, ...nameLookAlikes(sql, names)])];
}

/** Statements whose literals decide more than a value, in each dialect, with their look-alikes. */
export const SEEDS: Record<Dialect, readonly string[]> = {
  postgres: [
    ...uescapeFamily('secrets'),
    ...uescapeFamily('pg_authid'),
    ...uescapeFamily('pg_file_settings'),
    "SELECT x::float(24) FROM orders WHERE note = 'a'",
    'SELECT 1::float(53), 2::float(54), 3::float(0)',
    "EXPLAIN (FORMAT 'json') SELECT * FROM orders WHERE id = 1",
    "EXPLAIN (FORMAT 'text') SELECT * FROM orders WHERE id = 1",
    "SELECT 'orders'::regclass",
    "SELECT regclass 'pg_authid'",
    "SELECT CAST('pg_authid' AS regclass)",
    "SELECT pg_total_relation_size('app.orders')",
    "SELECT current_setting('app.jwt_secret')",
    "SELECT to_regclass('internal.api_keys')",
    "SELECT * FROM orders WHERE note = 'a' AND id = 1 ORDER BY 1 LIMIT 10",
    "SELECT date '2024-01-01', interval '1' day, time '10:00'",
    'SELECT \'a\' COLLATE "C", \'b\' COLLATE "POSIX"',
    "SELECT format('%I', 'secrets'), quote_ident('pg_authid')",
    "SELECT * FROM xmltable('/a' PASSING '<a/>' COLUMNS x int PATH 'x')",
    "SELECT $1::text, 'a' || $2 FROM orders WHERE id = $3",
  ],
  mysql: [
    "SELECT * FROM orders WHERE note = 'a' AND id = 1 ORDER BY 1 LIMIT 10",
    "SELECT _utf8mb4'a', _binary 'b', N'c', X'41' FROM orders",
    "SELECT 'a' COLLATE 'utf8mb4_bin', CAST(1 AS CHAR(10) CHARACTER SET utf8mb4)",
    "SELECT * FROM orders WHERE note = \"a\" OR note = 'b\\'c'",
    'SELECT CAST(x AS DECIMAL(10, 2)), CAST(y AS FLOAT(24)), t.1 FROM orders t',
    'SELECT * FROM orders WHERE id IN (1, 2, 3) AND total > 1.5',
    "SELECT 1 AS 'alias', 'x' AS \"y\" FROM orders",
    "SELECT @@datadir, @x, @'y' FROM orders WHERE note = 'a'",
    'SELECT DATABASE(), USER(), VERSION() FROM orders WHERE id = 1',
    "(WITH secrets AS (SELECT 1 AS id, 'cte' AS secret) SELECT id, secret FROM secrets) UNION ALL SELECT id, secret FROM secrets",
  ],
  odbc: [
    "SELECT * FROM orders WHERE note = 'a' AND id = 1 ORDER BY 1 LIMIT 10",
    "SELECT * FROM orders WHERE created_at >= {d '2024-01-01'} AND total > 1.5",
    'SELECT CAST(x AS FLOAT(24)), CAST(y AS FLOAT(53)) FROM orders WHERE id = 7',
    'SELECT "Order Id", \'x\' FROM "public"."orders" WHERE id = ?',
    "SELECT * FROM shop.app.orders WHERE note = 'a' AND id = 1",
    'SELECT * FROM shop..customers c JOIN app.orders o ON o.customer_id = c.id WHERE o.id = 7',
    'SELECT * FROM "shop"."app"."orders" WHERE id = ?',
    "SELECT * FROM shop.app.orders WHERE id IN (SELECT id FROM shop..secrets WHERE note = 'x')",
  ],
};
