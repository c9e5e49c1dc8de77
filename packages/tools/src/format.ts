/**
 * The compact text a model reads. Results are tab-separated with a header
 * line: far fewer bytes than JSON objects that repeat every column name on
 * every row. The exact values are in structuredContent; here tabs, line
 * breaks and backslashes in values are escaped so one row is one line.
 *
 * What came from the database (column names, values, table names,
 * comments, defaults) is framed as data (untrusted.ts); sqlwarden's own
 * words (counts, truncation notes) stay outside the frame.
 */
import type { ReadResult, TableDescription, TableRef, TableSummary } from '@sqlwarden/core';
import { frameUntrusted, type UntrustedDataMode } from './untrusted.js';

function cell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  return text.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

export function formatRows(result: ReadResult, mode: UntrustedDataMode = 'framed'): string {
  const count = `${result.rowCount} ${result.rowCount === 1 ? 'row' : 'rows'}`;
  const note =
    result.truncatedReason === 'maxRows'
      ? ' (truncated at the row limit: add a WHERE clause or a LIMIT to see the rest)'
      : result.truncatedReason === 'maxBytes'
        ? ' (truncated at the size limit: select fewer or narrower columns)'
        : '';
  const data: string[] = [];
  if (result.columns.length > 0) data.push(result.columns.map((c) => cell(c.name)).join('\t'));
  for (const row of result.rows) data.push(row.map(cell).join('\t'));
  return withData(`${count}${note}`, data, mode);
}

/** Our own first line, then the database's lines, framed (nothing after the line when there are none). */
function withData(head: string, data: readonly string[], mode: UntrustedDataMode): string {
  return data.length === 0 ? head : `${head}\n${frameUntrusted(data.join('\n'), mode)}`;
}

/** `schema.name`, or `catalog.schema.name` for a table reported with its catalog. */
export function qualified(table: TableRef): string {
  return `${table.catalog === undefined ? '' : `${table.catalog}.`}${table.schema}.${table.name}`;
}

export function formatTables(
  source: string,
  tables: readonly TableSummary[],
  mode: UntrustedDataMode = 'framed',
): string {
  if (tables.length === 0) return `No tables you can read in source ${source}.`;
  const lines = tables.map((t) => {
    const size = t.estimatedRows === null ? '' : `, ~${t.estimatedRows} rows`;
    return `${qualified(t)} (${t.kind}${size})${t.comment ? ` ${cell(t.comment)}` : ''}`;
  });
  return withData(
    `${tables.length} ${tables.length === 1 ? 'table' : 'tables'} in source ${source}:`,
    lines,
    mode,
  );
}

/** One table, all of it the database's words (names, types, defaults, comments): framed whole. */
export function formatTable(table: TableDescription, mode: UntrustedDataMode = 'framed'): string {
  const size = table.estimatedRows === null ? '' : `, ~${table.estimatedRows} rows`;
  const lines = [
    `${qualified(table)} (${table.kind}${size})${table.comment ? ` ${cell(table.comment)}` : ''}`,
    'columns:',
  ];
  for (const c of table.columns) {
    const extras = [
      c.nullable ? '' : 'not null',
      c.default === null ? '' : `default ${cell(c.default)}`,
    ]
      .filter(Boolean)
      .join(' ');
    lines.push(
      `  ${c.name} ${c.type}${extras ? ` ${extras}` : ''}${c.comment ? `  -- ${cell(c.comment)}` : ''}`,
    );
  }
  if (table.primaryKey.length > 0) lines.push(`primary key: (${table.primaryKey.join(', ')})`);
  for (const fk of table.foreignKeys) {
    lines.push(
      `foreign key ${fk.name}: (${fk.columns.join(', ')}) -> ${qualified(fk.references)} (${fk.references.columns.join(', ')})`,
    );
  }
  for (const index of table.indexes) {
    lines.push(
      `index ${index.name}${index.primary ? ' primary' : index.unique ? ' unique' : ''}: (${index.columns.join(', ')})`,
    );
  }
  return frameUntrusted(lines.join('\n'), mode);
}
