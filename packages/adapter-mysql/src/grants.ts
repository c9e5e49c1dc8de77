/**
 * The least-privilege report of a MySQL or MariaDB source: what the
 * account it connects as may do, from `SHOW GRANTS` (a fixed text without
 * values; MariaDB's includes the privileges of the enabled roles, which
 * information_schema's privilege tables do not), read by a small parser
 * that keeps privileges and targets only (never the account's password
 * hash of old servers).
 */
import type { PrivilegeReport, PrivilegeReportRequest } from '@sqlwarden/core';
import { type CatalogClient, SYSTEM_SCHEMAS, str } from './introspect.js';

/** One line of SHOW GRANTS, as far as the report needs it. */
export interface Grant {
  /** Upper case, column lists removed: `SELECT`, `INSERT`, `ALL PRIVILEGES`... */
  readonly privileges: readonly string[];
  readonly target:
    | { readonly level: 'global' }
    | { readonly level: 'schema'; readonly pattern: string }
    | { readonly level: 'table'; readonly schema: string; readonly table: string };
}

/** Splits at `separator` outside backticks, quotes and parentheses. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote !== null) {
      if (ch === quote) {
        if (text[i + 1] === quote) i++;
        else quote = null;
      }
      continue;
    }
    if (ch === '`' || ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
      i += separator.length - 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(identifier: string): string {
  const trimmed = identifier.trim();
  for (const q of ['`', '"', "'"]) {
    if (trimmed.length >= 2 && trimmed.startsWith(q) && trimmed.endsWith(q))
      return trimmed.slice(1, -1).replaceAll(q + q, q);
  }
  return trimmed;
}

/**
 * Reads one SHOW GRANTS line: `GRANT <privileges> ON <target> TO ...`.
 * Lines granting roles, PROXY, or privileges on routines are not table
 * grants and give null. The rest of the line (the account, a password
 * hash on old servers) is never kept.
 */
export function parseGrant(line: string): Grant | null {
  if (!line.startsWith('GRANT ')) return null;
  const [privilegeText, rest] = splitTopLevel(line.slice('GRANT '.length), ' ON ');
  if (privilegeText === undefined || rest === undefined) return null;
  const [targetText] = splitTopLevel(rest, ' TO ');
  if (targetText === undefined || /^(FUNCTION|PROCEDURE|PACKAGE)\b/i.test(targetText)) return null;
  const privileges = splitTopLevel(privilegeText, ',')
    .map((p) =>
      p
        .replace(/\(.*\)\s*$/s, '')
        .trim()
        .toUpperCase(),
    )
    .filter((p) => p !== '');
  if (privileges.includes('PROXY')) return null;
  const target = targetText.replace(/^TABLE\s+/i, '').trim();
  if (target === '*.*' || target === '*') return { privileges, target: { level: 'global' } };
  const [schemaPart, tablePart] = splitTopLevel(target, '.');
  if (schemaPart === undefined || tablePart === undefined) return null;
  if (tablePart.trim() === '*')
    return { privileges, target: { level: 'schema', pattern: unquote(schemaPart) } };
  return {
    privileges,
    target: { level: 'table', schema: unquote(schemaPart), table: unquote(tablePart) },
  };
}

/** Whether a schema-level grant's name (LIKE-style: `_` and `%` wildcards, `\` escapes) covers a schema. */
export function schemaPatternMatches(pattern: string, schema: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\' && i + 1 < pattern.length) {
      source += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (ch === '%') source += '.*';
    else if (ch === '_') source += '.';
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su').test(schema);
}

const WRITE_PRIVILEGES = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'ALTER',
  'ALL',
  'ALL PRIVILEGES',
]);
const writes = (grant: Grant) => grant.privileges.some((p) => WRITE_PRIVILEGES.has(p));

/** What is wrong with the account a source connects as, and how to fix it. */
export async function privilegeReport(
  client: CatalogClient,
  options: { readonly source: string; readonly defaultSchema: string },
  request: PrivilegeReportRequest,
): Promise<PrivilegeReport> {
  const [[account] = []] = await client.rows('SELECT CURRENT_USER()', []);
  const who = str(account) ?? 'its account';
  // MariaDB's SHOW GRANTS includes the privileges of the enabled roles;
  // information_schema's privilege tables do not.
  const grants = (await client.text('SHOW GRANTS'))
    .map(([line]) => parseGrant(str(line) ?? ''))
    .filter((grant): grant is Grant => grant !== null);
  const global = new Set(
    grants.filter((g) => g.target.level === 'global').flatMap((g) => g.privileges),
  );
  const { source, defaultSchema } = options;
  const fix = `see docs/mysql.md#least-privilege: CREATE USER 'sqlwarden_ro'@'%' IDENTIFIED BY '...'; GRANT SELECT ON \`${defaultSchema.replaceAll('`', '``')}\`.* TO 'sqlwarden_ro'@'%'`;
  const warnings: string[] = [];
  if (global.has('ALL PRIVILEGES') || global.has('ALL')) {
    warnings.push(
      `Source ${source} connects as ${who}, which has ALL PRIVILEGES on *.*: it can read every table and server file, write anything and lift any setting; connect as a dedicated read-only account instead (${fix}).`,
    );
    return { warnings };
  }
  if (global.has('SUPER')) {
    warnings.push(
      `Source ${source} connects as ${who}, which has SUPER: it can change global settings, stop other sessions and write on a read-only server; revoke it (${fix}).`,
    );
  }
  if (global.has('FILE')) {
    warnings.push(
      `Source ${source} connects as ${who}, which has FILE: it can read and write files on the database server; revoke it (${fix}).`,
    );
  }
  if (request.readOnly) {
    const tables = await client.rows(
      `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
        WHERE TABLE_SCHEMA NOT IN ${SYSTEM_SCHEMAS}`,
      [],
    );
    const writeGrants = grants.filter(writes);
    const served = tables
      .map(([schema, table]) => [str(schema) ?? '', str(table) ?? ''] as const)
      .filter(([schema, table]) => request.serves(schema, table))
      .filter(([schema, table]) =>
        writeGrants.some((grant) => {
          const target = grant.target;
          if (target.level === 'global') return true;
          if (target.level === 'schema') return schemaPatternMatches(target.pattern, schema);
          return target.schema === schema && target.table === table;
        }),
      )
      .map(([schema, table]) => `${schema}.${table}`)
      .sort();
    if (served.length > 0) {
      const shown =
        served.slice(0, 5).join(', ') + (served.length > 5 ? ` and ${served.length - 5} more` : '');
      warnings.push(
        `Source ${source} is read-only but its account ${who} can write ${served.length} of the tables it serves (${shown}): grant it SELECT only (${fix}).`,
      );
    }
  }
  return { warnings };
}
