/**
 * describe_entities: the business names of the served tables, as the
 * operator wrote them under `entities` (a logical name, aliases, the table,
 * a description, notes per column), so a model asked about "clients" finds
 * CUSTOMERS_VSAM. Only entities whose table the principal may read are
 * answered (read:<source>:<schema>.<table>, asked of the authorizer per
 * entity, default deny): the list never tells a principal about a table it
 * could not query, nor that one exists. Under column policies, the note of
 * a column denied to the principal is left out, and the note of a masked
 * one says so (`(masked: partial)`).
 */

import { type AnyTool, defineTool } from '@sqlwarden/core';
import { type PolicySubject, tableCapability } from '@sqlwarden/security';
import { z } from 'zod';
import { BUILT_IN_TOOLS } from './names.js';
import type { SourceDirectory } from './sources.js';

/** One entity, as the runtime checked it at start-up. */
export interface EntityDefinition {
  /** The logical name (the key under `entities`). */
  readonly name: string;
  readonly source: string;
  /** On ODBC sources with catalogs: the table's catalog. */
  readonly catalog?: string;
  readonly schema: string;
  readonly table: string;
  readonly aliases: readonly string[];
  readonly description: string;
  /** Column name to the operator's note about it. */
  readonly columns: Readonly<Record<string, string>>;
}

const EntitySchema = z.strictObject({
  name: z.string(),
  source: z.string(),
  table: z.string().describe('schema.table, as describe_table and query_read take it'),
  aliases: z.array(z.string()),
  description: z.string(),
  columns: z.record(z.string(), z.string()),
});

export const DescribeEntitiesOutputSchema = z.strictObject({
  entities: z.array(EntitySchema),
});

/** The words of a query, lower-cased; every one must occur in the entity's name, aliases or description. */
function words(query: string | undefined): string[] {
  return (query ?? '')
    .toLowerCase()
    .split(/\s+/)
    .filter((word) => word !== '');
}

function matches(entity: EntityDefinition, wanted: readonly string[]): boolean {
  if (wanted.length === 0) return true;
  const text = [entity.name, ...entity.aliases, entity.description].join('\n').toLowerCase();
  return wanted.every((word) => text.includes(word));
}

/** The entity's column notes as this principal may see them (column policies). */
function columnNotes(
  entity: EntityDefinition,
  directory: SourceDirectory | undefined,
  subject: PolicySubject,
): Record<string, string> {
  const governance = directory?.get(entity.source)?.columnPolicies;
  if (governance?.rulesFor(subject) === undefined) return { ...entity.columns };
  const treat = governance.treatments(subject, {
    ...(entity.catalog !== undefined && { catalog: entity.catalog }),
    schema: entity.schema,
    name: entity.table,
  });
  const notes: Record<string, string> = {};
  for (const [column, note] of Object.entries(entity.columns)) {
    const treatment = treat(column);
    if (treatment?.action === 'deny') continue;
    notes[column] = treatment?.action === 'mask' ? `${note} (masked: ${treatment.mask})` : note;
  }
  return notes;
}

function formatEntities(entities: readonly z.output<typeof EntitySchema>[]): string {
  if (entities.length === 0) return 'No entity you can read matches.';
  return entities
    .map((e) => {
      const lines = [`${e.name}: ${e.source} ${e.table}`];
      if (e.aliases.length > 0) lines.push(`  also: ${e.aliases.join(', ')}`);
      lines.push(`  ${e.description}`);
      for (const [column, note] of Object.entries(e.columns)) lines.push(`  ${column}: ${note}`);
      return lines.join('\n');
    })
    .join('\n');
}

export function describeEntitiesTool(
  entities: readonly EntityDefinition[],
  /** The sources, for their column policies (without: every note is shown). */
  directory?: SourceDirectory,
): AnyTool {
  const all = Object.freeze([...entities]);
  return defineTool({
    name: BUILT_IN_TOOLS.describeEntities,
    title: 'Describe entities',
    description:
      'Finds the tables behind business names: each entity has a name, aliases, the table it lives in, a description and notes on its columns. Pass "query" (words such as "clients") to search names, aliases and descriptions; leave it out to list every entity you can read.',
    kind: 'introspect',
    inputSchema: z.strictObject({
      query: z
        .string()
        .max(200)
        .optional()
        .describe(
          'Words to look for (case-insensitive); every word must occur in the name, an alias or the description.',
        ),
    }),
    outputSchema: DescribeEntitiesOutputSchema,
    // Nothing is needed beyond tool:describe_entities: each entity is
    // filtered by the principal's read grant on its table in the handler.
    requires: () => ({ ok: true, capabilities: [], prepared: undefined }),
    handler: async (input, ctx) => {
      const wanted = words(input.query);
      const found = [];
      for (const entity of all) {
        if (!matches(entity, wanted)) continue;
        const capability = tableCapability(
          'read',
          entity.source,
          entity.schema,
          entity.table,
          entity.catalog,
        );
        if (capability === undefined || !(await ctx.isGranted(capability))) continue;
        found.push({
          name: entity.name,
          source: entity.source,
          table: [entity.catalog, entity.schema, entity.table]
            .filter((part) => part !== undefined)
            .join('.'),
          aliases: [...entity.aliases],
          description: entity.description,
          columns: columnNotes(entity, directory, ctx.session),
        });
      }
      return {
        text: formatEntities(found),
        structuredContent: { entities: found },
        rows: found.length,
      };
    },
  });
}
