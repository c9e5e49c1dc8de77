/**
 * The tools of the CONNX reference MCP server, under its names and with its
 * argument names, for a drop-in deployment (`server.toolset: connx`, the
 * `--connx` profile of sqlwarden-stdio): `query_connx { query }` and
 * `update_connx { operation, query }`. A client written for the reference
 * server works unchanged; underneath each is query_read or execute_write
 * on the default source: the same guard, grants (`tool:query_connx`,
 * `tool:update_connx`, and the table grants), limits, quotas, cost gate
 * and audit. The reference server takes no bound values: the statement is
 * the whole query (the guard still checks every literal's context).
 */

import { type AnyTool, defineTool, deny, ReadResultSchema } from '@sqlwarden/core';
import { DEFAULT_MAX_LENGTH } from '@sqlwarden/sql-guard';
import { z } from 'zod';
import { confirmedWrite, withCeiling } from './confirm.js';
import { WriteOutputSchema } from './execute-write.js';
import { resolveSource, type SourceDirectory } from './sources.js';
import { authorizeGoverned, runRead, runWrite, sourceLimits } from './statement.js';

/** The reference server's tool names. */
export const CONNX_TOOLS = {
  query: 'query_connx',
  update: 'update_connx',
} as const;

const OPERATIONS = ['INSERT', 'UPDATE', 'DELETE'] as const;

const Query = z.string().min(1).max(DEFAULT_MAX_LENGTH);

function queryConnxTool(directory: SourceDirectory): AnyTool {
  return defineTool({
    name: CONNX_TOOLS.query,
    title: 'Run a read-only CONNX query',
    description:
      'Runs one read-only SQL statement (SELECT) on the CONNX data source and returns the rows. Name tables as catalog.schema.table. No semicolons. Results stop at the row and size limits and say when they are truncated.',
    kind: 'read',
    inputSchema: z.strictObject({
      query: Query.describe('One SELECT statement, without a semicolon.'),
    }),
    outputSchema: ReadResultSchema,
    requires: (input, context) => {
      const resolved = resolveSource(directory, undefined);
      if (!resolved.ok) return resolved;
      return authorizeGoverned(resolved.value, input.query, 0, 'read', context.session);
    },
    handler: (input, ctx) => {
      const { source, columns } = ctx.prepared;
      return runRead(source, input.query, [], sourceLimits(ctx.limits, source), ctx.signal, {
        session: ctx.session,
        ceiling: source.costCeiling?.(ctx.session.principalId),
        columns,
      });
    },
  });
}

function updateConnxTool(directory: SourceDirectory): AnyTool {
  return defineTool({
    name: CONNX_TOOLS.update,
    title: 'Run one CONNX write',
    description:
      'Runs exactly one INSERT, UPDATE or DELETE on the CONNX data source, in a transaction of its own, and reports how many rows it changed. "operation" names the kind of statement. UPDATE and DELETE need a WHERE clause. No semicolons.',
    kind: 'write',
    inputSchema: z.strictObject({
      operation: z
        .string()
        .transform((text) => text.trim().toUpperCase())
        .pipe(z.enum(OPERATIONS))
        .describe('INSERT, UPDATE or DELETE: the kind of the statement in "query".'),
      query: Query.describe('One INSERT, UPDATE or DELETE, without a semicolon.'),
    }),
    outputSchema: WriteOutputSchema,
    requires: async (input, context) => {
      const resolved = resolveSource(directory, undefined);
      if (!resolved.ok) return resolved;
      const authorized = await authorizeGoverned(
        resolved.value,
        input.query,
        0,
        'write',
        context.session,
      );
      if (!authorized.ok) return authorized;
      const kind = authorized.analysis.kind.toUpperCase();
      if (kind !== input.operation) {
        return {
          ...deny(
            'INVALID_INPUT',
            `"operation" is ${input.operation} but the statement is ${kind === 'DELETE' ? 'a' : 'an'} ${kind}; send the operation the statement is.`,
          ),
          facts: authorized.facts,
        };
      }
      return authorized;
    },
    handler: (input, ctx) => {
      const { source, columns } = ctx.prepared;
      const write = { source, sql: input.query, params: [], dryRun: false };
      return confirmedWrite(ctx, { ...write, confirm: source.confirmWrites === true }, (run) =>
        runWrite(
          source,
          input.query,
          [],
          withCeiling(sourceLimits(ctx.limits, source), run.maxAffectedRows),
          ctx.signal,
          run.dryRun,
          ctx.session,
          columns,
        ),
      );
    },
  });
}

/** The reference server's tools: its query tool, and its write tool where writes could pass. */
export function connxTools(directory: SourceDirectory, options: { readonly writes: boolean }) {
  const tools = [queryConnxTool(directory)];
  if (options.writes) tools.push(updateConnxTool(directory));
  return tools;
}
