/**
 * execute_write: exactly one INSERT, UPDATE or DELETE, with bound values.
 * Off unless every layer allows it, each refusing with the code that names
 * it: the boundary's read-only gate (server or session read-only:
 * READ_ONLY; the deployment switch SQLWARDEN_ALLOW_WRITES off:
 * WRITES_DISABLED) runs before any grant is looked at; then the source must
 * have writable tables (READ_ONLY), the guard's checkWrite must accept the
 * statement against them (QUERY_REJECTED), and the principal needs
 * `write:<source>:<schema>.<table>` for what it writes and `read:...` for
 * what it reads (FORBIDDEN). The adapter runs it in a transaction of its own
 * with the affected-row ceiling (over it: rolled back,
 * WRITE_LIMIT_EXCEEDED); `dryRun` reports the count and rolls back. On a
 * source with confirmWrites, a human confirms the write first (confirm.ts).
 * Annotated destructive (kind write).
 */

import { type AnyTool, defineTool } from '@sqlwarden/core';
import { DEFAULT_MAX_LENGTH } from '@sqlwarden/sql-guard';
import { z } from 'zod';
import { confirmedWrite, withCeiling } from './confirm.js';
import { BUILT_IN_TOOLS } from './names.js';
import { resolveSource, type SourceDirectory, SourceId } from './sources.js';
import {
  authorizeGoverned,
  DryRunArgument,
  ParamsArgument,
  runWrite,
  sourceLimits,
} from './statement.js';

export const WriteOutputSchema = z.strictObject({
  affectedRows: z.number().int().nonnegative(),
  committed: z.boolean(),
  dryRun: z.boolean(),
});

export function executeWriteTool(directory: SourceDirectory): AnyTool {
  return defineTool({
    name: BUILT_IN_TOOLS.executeWrite,
    title: 'Run one write statement',
    description:
      'Runs exactly one INSERT, UPDATE or DELETE on a table you may write, in a transaction of its own, and reports how many rows it changed. UPDATE and DELETE need a WHERE clause. Put values in "params" ($1, $2 in PostgreSQL; ? in MySQL). Set "dryRun" to see how many rows would change without changing them. Over the row limit nothing is changed.',
    kind: 'write',
    inputSchema: z.strictObject({
      source: SourceId.optional(),
      sql: z
        .string()
        .min(1)
        .max(DEFAULT_MAX_LENGTH)
        .describe(
          'One INSERT, UPDATE or DELETE. One trailing semicolon is fine, except on ODBC sources.',
        ),
      params: ParamsArgument,
      dryRun: DryRunArgument,
    }),
    outputSchema: WriteOutputSchema,
    requires: (input, context) => {
      const resolved = resolveSource(directory, input.source);
      if (!resolved.ok) return resolved;
      const given = input.params?.length ?? 0;
      return authorizeGoverned(resolved.value, input.sql, given, 'write', context.session);
    },
    handler: (input, ctx) => {
      const { source, columns } = ctx.prepared;
      const params = input.params ?? [];
      const write = { source, sql: input.sql, params, dryRun: input.dryRun ?? false };
      return confirmedWrite(ctx, { ...write, confirm: source.confirmWrites === true }, (run) =>
        runWrite(
          source,
          input.sql,
          params,
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
