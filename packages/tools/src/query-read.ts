/**
 * query_read: one read-only statement, checked by the SQL guard against the
 * source's allow list and function policy, authorised per table
 * (read:<source>:<schema>.<table> for every table it reads), and run by the
 * adapter within the call's row, byte and time limits. The guard's analysis
 * happens once, in authorization, and is handed to the handler.
 *
 * Values go in `params` ($1, $2... in PostgreSQL; ? in MySQL and ODBC) and
 * are always bound, never spliced into the text.
 */

import { type AnyTool, defineTool, ReadResultSchema } from '@sqlwarden/core';
import { DEFAULT_MAX_LENGTH } from '@sqlwarden/sql-guard';
import { z } from 'zod';
import { BUILT_IN_TOOLS } from './names.js';
import { resolveSource, type SourceDirectory, SourceId } from './sources.js';
import { authorizeGoverned, ParamsArgument, runRead, sourceLimits } from './statement.js';

export function queryReadTool(directory: SourceDirectory): AnyTool {
  return defineTool({
    name: BUILT_IN_TOOLS.queryRead,
    title: 'Run a read-only query',
    description:
      'Runs one read-only SQL statement (SELECT, WITH ... SELECT, VALUES, TABLE) and returns the rows. Put values in "params" ($1, $2 in PostgreSQL; ? in MySQL) instead of writing them into the SQL. Results stop at the row and size limits and say when they are truncated.',
    kind: 'read',
    inputSchema: z.strictObject({
      source: SourceId.optional(),
      sql: z
        .string()
        .min(1)
        .max(DEFAULT_MAX_LENGTH)
        .describe(
          'One read-only statement. One trailing semicolon is fine, except on ODBC sources.',
        ),
      params: ParamsArgument,
      maxRows: z
        .number()
        .int()
        .positive()
        .max(100_000)
        .optional()
        .describe('Return at most this many rows (the server caps it too).'),
    }),
    outputSchema: ReadResultSchema,
    requires: (input, context) => {
      const resolved = resolveSource(directory, input.source);
      if (!resolved.ok) return resolved;
      const given = input.params?.length ?? 0;
      return authorizeGoverned(resolved.value, input.sql, given, 'read', context.session);
    },
    handler: (input, ctx) => {
      const { source, columns } = ctx.prepared;
      const limits = sourceLimits(
        ctx.limits,
        source,
        input.maxRows === undefined ? undefined : { maxRows: input.maxRows },
      );
      return runRead(source, input.sql, input.params ?? [], limits, ctx.signal, {
        session: ctx.session,
        ceiling: source.costCeiling?.(ctx.session.principalId),
        columns,
      });
    },
  });
}
