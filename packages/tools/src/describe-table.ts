/**
 * describe_table: columns (type, nullability, default, comment), primary
 * key, foreign keys and indexes of one table the principal may read. The
 * capability is checked before the database is asked, so the answer never
 * tells an unauthorised principal whether the table exists. Foreign keys
 * pointing at tables the principal may not read are left out.
 */

import { type AnyTool, defineTool, deny, SqlwardenError } from '@sqlwarden/core';
import { tableCapability } from '@sqlwarden/security';
import { tableAllowed } from '@sqlwarden/sql-guard';
import { z } from 'zod';
import { formatTable } from './format.js';
import { BUILT_IN_TOOLS } from './names.js';
import { resolveSource, type SourceBinding, type SourceDirectory, SourceId } from './sources.js';

export const DescribeTableOutputSchema = z.strictObject({
  source: z.string(),
  schema: z.string(),
  name: z.string(),
  kind: z.string(),
  estimatedRows: z.number().nullable(),
  comment: z.string().nullable(),
  columns: z.array(
    z.strictObject({
      name: z.string(),
      type: z.string(),
      nullable: z.boolean(),
      default: z.string().nullable(),
      comment: z.string().nullable(),
    }),
  ),
  primaryKey: z.array(z.string()),
  foreignKeys: z.array(
    z.strictObject({
      name: z.string(),
      columns: z.array(z.string()),
      references: z.strictObject({
        schema: z.string(),
        name: z.string(),
        columns: z.array(z.string()),
      }),
    }),
  ),
  indexes: z.array(
    z.strictObject({
      name: z.string(),
      columns: z.array(z.string()),
      unique: z.boolean(),
      primary: z.boolean(),
    }),
  ),
});

interface Target {
  readonly source: SourceBinding;
  readonly schema: string;
  readonly name: string;
}

/** `schema` wins; otherwise `a.b` is schema a, table b; otherwise the default schema. */
function splitName(
  table: string,
  schema: string | undefined,
  source: SourceBinding,
): { schema: string; name: string } {
  if (schema !== undefined) return { schema, name: table };
  const dot = table.indexOf('.');
  return dot > 0
    ? { schema: table.slice(0, dot), name: table.slice(dot + 1) }
    : { schema: source.defaultSchema, name: table };
}

export function describeTableTool(directory: SourceDirectory): AnyTool {
  return defineTool({
    name: BUILT_IN_TOOLS.describeTable,
    title: 'Describe a table',
    description:
      'Describes one table or view: its columns with types, nullability, defaults and comments, the primary key, foreign keys and indexes. Use it before writing a query.',
    kind: 'introspect',
    inputSchema: z.strictObject({
      source: SourceId.optional(),
      table: z.string().min(1).max(256).describe('The table, as name or schema.name.'),
      schema: z
        .string()
        .min(1)
        .max(128)
        .optional()
        .describe('The schema, when not written in "table".'),
    }),
    outputSchema: DescribeTableOutputSchema,
    requires: (input) => {
      const resolved = resolveSource(directory, input.source);
      if (!resolved.ok) return resolved;
      const source = resolved.value;
      const { schema, name } = splitName(input.table, input.schema, source);
      const facts = { source: source.id };
      // Not served by this source: the same answer as a table that does not exist.
      if (!tableAllowed(source.readable, schema, name)) {
        return {
          ...deny(
            'NOT_FOUND',
            'No table of that name among the tables this source serves; call list_tables.',
          ),
          facts,
        };
      }
      const capability = tableCapability('read', source.id, schema, name);
      if (capability === undefined)
        return {
          ...deny('FORBIDDEN', 'That table name cannot be granted; it cannot be described.'),
          facts,
        };
      const prepared: Target = { source, schema, name };
      return { ok: true, capabilities: [capability], prepared, facts };
    },
    handler: async (_input, ctx) => {
      const { source, schema, name } = ctx.prepared;
      const table = await source.adapter.describeTable({
        table: { schema, name },
        signal: ctx.signal,
      });
      if (table === null)
        throw new SqlwardenError(
          'NOT_FOUND',
          'No table of that name among the tables this source serves; call list_tables.',
        );
      const foreignKeys = [];
      for (const fk of table.foreignKeys) {
        const target = fk.references;
        const capability = tableCapability('read', source.id, target.schema, target.name);
        if (
          tableAllowed(source.readable, target.schema, target.name) &&
          capability !== undefined &&
          (await ctx.isGranted(capability))
        ) {
          foreignKeys.push(fk);
        }
      }
      const visible = { ...table, foreignKeys };
      return {
        text: formatTable(visible),
        structuredContent: {
          source: source.id,
          schema: visible.schema,
          name: visible.name,
          kind: visible.kind,
          estimatedRows: visible.estimatedRows,
          comment: visible.comment,
          columns: visible.columns.map((c) => ({ ...c })),
          primaryKey: [...visible.primaryKey],
          foreignKeys: visible.foreignKeys.map((fk) => ({
            name: fk.name,
            columns: [...fk.columns],
            references: { ...fk.references, columns: [...fk.references.columns] },
          })),
          indexes: visible.indexes.map((i) => ({
            name: i.name,
            columns: [...i.columns],
            unique: i.unique,
            primary: i.primary,
          })),
        },
        rows: visible.columns.length,
      };
    },
  });
}
