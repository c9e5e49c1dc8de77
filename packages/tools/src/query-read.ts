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
import { type AnyTool, defineTool, deny, ReadResultSchema, resolveLimits } from '@sqlwarden/core';
import { tableCapability } from '@sqlwarden/security';
import { fingerprint } from '@sqlwarden/sql-guard';
import { z } from 'zod';
import { formatRows } from './format.js';
import { resolveSource, type SourceBinding, type SourceDirectory, SourceId } from './sources.js';

const Primitive = z.union([z.string().max(65_536), z.number(), z.boolean(), z.null()]);
export const Param = z.union([Primitive, z.array(Primitive).max(10_000)]);

/** The longest statement the tool accepts (the guard's own default). */
export const MAX_SQL_LENGTH = 100_000;

export function queryReadTool(directory: SourceDirectory): AnyTool {
  return defineTool({
    name: 'query_read',
    title: 'Run a read-only query',
    description:
      'Runs one read-only SQL statement (SELECT, WITH ... SELECT, VALUES, TABLE) and returns the rows. Put values in "params" ($1, $2 in PostgreSQL; ? in MySQL) instead of writing them into the SQL. Results stop at the row and size limits and say when they are truncated.',
    kind: 'read',
    inputSchema: z.strictObject({
      source: SourceId.optional(),
      sql: z
        .string()
        .min(1)
        .max(MAX_SQL_LENGTH)
        .describe('One read-only statement, without a trailing semicolon.'),
      params: z
        .array(Param)
        .max(100)
        .optional()
        .describe("Values for the statement's parameters, in order."),
      maxRows: z
        .number()
        .int()
        .positive()
        .max(100_000)
        .optional()
        .describe('Return at most this many rows (the server caps it too).'),
    }),
    outputSchema: ReadResultSchema,
    requires: (input) => {
      const resolved = resolveSource(directory, input.source);
      if (!resolved.ok) return resolved;
      const source: SourceBinding = resolved.value;
      const state = source.guard();
      if (!state.ready) {
        const fp = fingerprint(input.sql, { dialect: source.dialect });
        const message =
          'The source is not ready yet (its catalog could not be read); try again shortly.';
        return { ...deny('DB_UNAVAILABLE', message), facts: { source: source.id, fp } };
      }
      const verdict = state.guard.checkRead(input.sql);
      if (!verdict.ok) {
        // The guard fingerprints what it got far enough to read; the rest is fingerprinted here.
        const fp = verdict.fingerprint ?? fingerprint(input.sql, { dialect: source.dialect });
        const message = `${verdict.message} [rule ${verdict.reason}]`;
        return { ...deny('QUERY_REJECTED', message), facts: { source: source.id, fp } };
      }
      const analysis = verdict.analysis;
      const facts = { source: source.id, fp: analysis.fingerprint };
      const given = input.params?.length ?? 0;
      if (given !== analysis.parameterCount) {
        const message = `The statement has ${analysis.parameterCount} parameters but ${given} values were given in "params".`;
        return { ...deny('INVALID_INPUT', message), facts };
      }
      const capabilities: string[] = [];
      for (const table of analysis.resolvedTables) {
        const capability =
          table.schema === null
            ? undefined
            : tableCapability('read', source.id, table.schema, table.name);
        if (capability === undefined) {
          return {
            ...deny('FORBIDDEN', 'The statement reads a table whose name cannot be granted.'),
            facts,
          };
        }
        capabilities.push(capability);
      }
      return {
        ok: true,
        capabilities,
        prepared: source,
        facts,
      };
    },
    handler: async (input, ctx) => {
      const source = ctx.prepared;
      // The server's limits (ctx.limits), lowered by the source's and by the call's maxRows.
      const limits = resolveLimits(
        ctx.limits,
        source.limits,
        input.maxRows === undefined ? undefined : { maxRows: input.maxRows },
      );
      const result = await source.adapter.read({
        sql: input.sql,
        params: input.params ?? [],
        limits: { maxRows: limits.maxRows, maxBytes: limits.maxBytes, timeoutMs: limits.timeoutMs },
        signal: ctx.signal,
      });
      return {
        text: formatRows(result),
        structuredContent: result,
        rows: result.rowCount,
        truncated: result.truncated,
      };
    },
  });
}
