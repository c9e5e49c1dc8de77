/**
 * list_tables: the tables and views of a source that this principal may
 * read, and nothing else. A table is listed only when the source serves it
 * (its allow list) and the principal holds read:<source>:<schema>.<table>
 * (read:<source>:<catalog>.<schema>.<table> on sources that name catalogs);
 * so the list is also the map of what query_read will accept.
 */

import { type AnyTool, defineTool } from '@sqlwarden/core';
import { tableCapability } from '@sqlwarden/security';
import { tableAllowed } from '@sqlwarden/sql-guard';
import { z } from 'zod';
import { formatTables } from './format.js';
import { BUILT_IN_TOOLS } from './names.js';
import {
  namesCatalogs,
  resolveSource,
  type SourceDirectory,
  SourceId,
  servedCatalogs,
  servedSchemas,
} from './sources.js';

/** Entries listed at most; a larger catalog is truncated (and says so). */
export const MAX_LISTED_TABLES = 2000;

const TableSummarySchema = z.strictObject({
  /** On sources that name tables `catalog.schema.table` only. */
  catalog: z.string().optional(),
  schema: z.string(),
  name: z.string(),
  kind: z.enum(['table', 'view', 'materialized_view', 'foreign_table', 'other']),
  estimatedRows: z.number().nullable(),
  comment: z.string().nullable(),
});

export const ListTablesOutputSchema = z.strictObject({
  source: z.string(),
  tables: z.array(TableSummarySchema),
  truncated: z.boolean(),
});

export function listTablesTool(directory: SourceDirectory): AnyTool {
  return defineTool({
    name: BUILT_IN_TOOLS.listTables,
    title: 'List tables',
    description:
      'Lists the tables and views you may query in a source, with their kind, estimated row count and comment. Start here to learn what exists.',
    kind: 'introspect',
    inputSchema: z.strictObject({
      source: SourceId.optional(),
      schema: z.string().min(1).max(128).optional().describe('Only this schema.'),
    }),
    outputSchema: ListTablesOutputSchema,
    requires: (input) => {
      const source = resolveSource(directory, input.source);
      if (!source.ok) return source;
      return {
        ok: true,
        capabilities: [],
        prepared: source.value,
        facts: { source: source.value.id },
      };
    },
    handler: async (input, ctx) => {
      const source = ctx.prepared;
      const schemas = servedSchemas(source).filter(
        (s) => input.schema === undefined || s === input.schema,
      );
      const catalogs = namesCatalogs(source) ? { catalogs: servedCatalogs(source) } : {};
      const all =
        schemas.length === 0
          ? []
          : await source.adapter.listTables({ schemas, ...catalogs, signal: ctx.signal });
      const visible = [];
      for (const table of all) {
        // A three-part pattern matches only a table reported with its catalog.
        if (!tableAllowed(source.readable, table.schema, table.name, table.catalog)) continue;
        const capability = tableCapability(
          'read',
          source.id,
          table.schema,
          table.name,
          table.catalog,
        );
        if (capability !== undefined && (await ctx.isGranted(capability))) visible.push(table);
      }
      const tables = visible.slice(0, MAX_LISTED_TABLES);
      const truncated = visible.length > tables.length;
      return {
        text:
          formatTables(source.id, tables, source.untrustedData) +
          (truncated ? `\n(${visible.length - tables.length} more not shown: pass "schema")` : ''),
        structuredContent: { source: source.id, tables, truncated },
        rows: tables.length,
        truncated,
      };
    },
  });
}
