/**
 * describe_table: columns (type, nullability, default, comment), primary
 * key, foreign keys and indexes of one table the principal may read. The
 * capability is checked before the database is asked, so the answer never
 * tells an unauthorised principal whether the table exists. Foreign keys
 * pointing at tables the principal may not read are left out. Under column
 * policies, a denied column is not listed, nor is any key, foreign key or
 * index that names it; a masked column is listed as `text (masked: <how>)`
 * (column-policies.ts); a view or partition that reads a protected column
 * (one object to the principal) is not described at all (FORBIDDEN).
 */

import { type AnyTool, defineTool, deny, SqlwardenError } from '@sqlwarden/core';
import { tableCapability } from '@sqlwarden/security';
import { tableAllowed } from '@sqlwarden/sql-guard';
import { z } from 'zod';
import { describeUnderPolicies } from './column-policies.js';
import { formatTable, qualified } from './format.js';
import { BUILT_IN_TOOLS } from './names.js';
import {
  namesCatalogs,
  resolveSource,
  type SourceBinding,
  type SourceDirectory,
  SourceId,
} from './sources.js';

export const DescribeTableOutputSchema = z.strictObject({
  source: z.string(),
  /** On sources that name tables `catalog.schema.table` only. */
  catalog: z.string().optional(),
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
        catalog: z.string().optional(),
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
  readonly catalog?: string;
  readonly schema: string;
  readonly name: string;
}

type Split = { ok: true; catalog?: string; schema: string; name: string } | { ok: false };

/** `schema` wins; otherwise `a.b` is schema a, table b; otherwise the default schema. */
function splitName(table: string, schema: string | undefined, source: SourceBinding): Split {
  if (namesCatalogs(source)) return splitCatalogName(table, schema, source);
  if (schema !== undefined) return { ok: true, schema, name: table };
  const dot = table.indexOf('.');
  return dot > 0
    ? { ok: true, schema: table.slice(0, dot), name: table.slice(dot + 1) }
    : { ok: true, schema: source.defaultSchema, name: table };
}

/**
 * On a source that names catalogs, as the guard resolves a name in a
 * statement: `catalog.schema.name`, `catalog..name` (the default schema),
 * `schema.name` (the default catalog), `name` (both defaults); `schema`
 * replaces the schema part. A default that is not configured is never
 * guessed: not ok.
 */
function splitCatalogName(table: string, schema: string | undefined, source: SourceBinding): Split {
  const parts = table.split('.');
  if (parts.length > 3 || parts.some((part, i) => part === '' && !(parts.length === 3 && i === 1)))
    return { ok: false };
  const name = parts.at(-1) as string;
  const catalog = parts.length === 3 ? parts[0] : source.defaultCatalog;
  const written = parts.length === 1 ? undefined : parts.at(-2) || undefined;
  const resolved = schema ?? written ?? source.defaultSchema;
  if (catalog === undefined || resolved === '') return { ok: false };
  return { ok: true, catalog, schema: resolved, name };
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
      table: z
        .string()
        .min(1)
        .max(256)
        .describe(
          'The table, as name or schema.name (catalog.schema.name on sources that name catalogs).',
        ),
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
      const facts = { source: source.id };
      const split = splitName(input.table, input.schema, source);
      if (!split.ok) {
        return {
          ...deny(
            'INVALID_INPUT',
            `Name the table as catalog.schema.table: source ${source.id} names tables with a catalog, and this name leaves out a part it has no default for.`,
          ),
          facts,
        };
      }
      const { catalog, schema, name } = split;
      // Not served by this source: the same answer as a table that does not exist.
      if (!tableAllowed(source.readable, schema, name, catalog)) {
        return {
          ...deny(
            'NOT_FOUND',
            'No table of that name among the tables this source serves; call list_tables.',
          ),
          facts,
        };
      }
      const capability = tableCapability('read', source.id, schema, name, catalog);
      if (capability === undefined)
        return {
          ...deny('FORBIDDEN', 'That table name cannot be granted; it cannot be described.'),
          facts,
        };
      const prepared: Target = { source, schema, name, ...(catalog !== undefined && { catalog }) };
      return { ok: true, capabilities: [capability], prepared, facts };
    },
    handler: async (_input, ctx) => {
      const { source, catalog, schema, name } = ctx.prepared;
      const table = await source.adapter.describeTable({
        table: { schema, name, ...(catalog !== undefined && { catalog }) },
        signal: ctx.signal,
      });
      if (table === null)
        throw new SqlwardenError(
          'NOT_FOUND',
          'No table of that name among the tables this source serves; call list_tables.',
        );
      // A view (or a partition) over a protected column is one object to this
      // principal: its statements are refused, and its column names (ssn...)
      // are not shown either.
      const governed = await source.columnPolicies
        ?.governedAsOneObject(ctx.session, table)
        .catch(() => {
          throw new SqlwardenError(
            'DB_UNAVAILABLE',
            `The column policies of source ${source.id} need its catalog, which could not be read; try again shortly.`,
          );
        });
      if (governed !== undefined) {
        throw new SqlwardenError(
          'FORBIDDEN',
          `${qualified(table)} is governed as one object for you: ${governed}. Describe and query the tables it reads instead.`,
        );
      }
      const foreignKeys = [];
      for (const fk of table.foreignKeys) {
        const target = fk.references;
        const capability = tableCapability(
          'read',
          source.id,
          target.schema,
          target.name,
          target.catalog,
        );
        if (
          tableAllowed(source.readable, target.schema, target.name, target.catalog) &&
          capability !== undefined &&
          (await ctx.isGranted(capability))
        ) {
          foreignKeys.push(fk);
        }
      }
      // Column policies: denied columns (and keys naming them) gone, masked ones marked.
      const visible = describeUnderPolicies(
        { ...table, foreignKeys },
        source.columnPolicies,
        ctx.session,
      );
      return {
        text: formatTable(visible, source.untrustedData),
        structuredContent: {
          source: source.id,
          ...(visible.catalog !== undefined && { catalog: visible.catalog }),
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
