/**
 * Tools an operator declares in the configuration: a name, a description, a
 * source, one parameterised statement with `:name` placeholders, and typed
 * parameters with constraints. The safer alternative to raw SQL: the model
 * fills in values, never text.
 *
 * At start-up (`declareTool`) the statement is read with the dialect's lexer
 * (placeholders become $n or ?; native placeholders are refused), every
 * placeholder must be a declared parameter and every parameter must be used,
 * and the SQL guard must accept it for the tool's kind against the source's
 * tables and function rules: a read tool whose statement is not a read, or
 * that calls a function the guard refuses (pg_stat_get_activity, @@datadir,
 * a user function not allowed by name), is a configuration error, and so is
 * a write tool on a source without writable tables.
 *
 * On every call the statement passes the source's guard again (with the
 * function policy of its catalog; a cache hit), values are bound by name,
 * never interpolated, and the input schema (generated from the parameters)
 * has already checked them. Grants: `tool:<name>` lets a principal call it;
 * a write tool also needs `write:<source>:<schema>.<table>` for the tables
 * it writes, like every write. A read tool needs no table grant: the
 * operator wrote the statement, which is the point of declaring it.
 */
import { type AnyTool, type CostCeiling, defineTool, ReadResultSchema } from '@sqlwarden/core';
import {
  bindNamedParameters,
  checkRead,
  checkWrite,
  DEFAULT_MAX_LENGTH,
} from '@sqlwarden/sql-guard';
import { z } from 'zod';
import { confirmedWrite, withCeiling } from './confirm.js';
import { WriteOutputSchema } from './execute-write.js';
import type { SourceDirectory } from './sources.js';
import { authorizeGoverned, DryRunArgument, runRead, runWrite, sourceLimits } from './statement.js';

export type DeclaredParameter =
  | {
      readonly type: 'string';
      readonly description?: string;
      readonly optional?: boolean;
      readonly default?: string;
      readonly minLength?: number;
      readonly maxLength?: number;
      readonly pattern?: string;
      readonly enum?: readonly string[];
    }
  | {
      readonly type: 'integer' | 'number';
      readonly description?: string;
      readonly optional?: boolean;
      readonly default?: number;
      readonly minimum?: number;
      readonly maximum?: number;
    }
  | {
      readonly type: 'boolean';
      readonly description?: string;
      readonly optional?: boolean;
      readonly default?: boolean;
    };

export interface DeclaredToolSpec {
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  readonly source: string;
  readonly kind: 'read' | 'write';
  /** One statement with `:name` placeholders. */
  readonly sql: string;
  readonly parameters: Readonly<Record<string, DeclaredParameter>>;
  /** Read tools: the cost gate of this tool's calls, instead of the source's and the principal's. */
  readonly costGate?: CostCeiling;
  /** Write tools: a human confirms each call before it runs (confirm.ts). */
  readonly confirm?: boolean;
}

export type DeclaredToolResult =
  | { readonly ok: true; readonly tool: AnyTool }
  | { readonly ok: false; readonly problems: readonly string[] };

/** The input a write tool adds to the declared parameters. */
const DRY_RUN = 'dryRun';
/** A string parameter without maxLength is capped at this. */
export const DEFAULT_MAX_STRING_LENGTH = 4096;

function parameterSchema(parameter: DeclaredParameter): z.ZodType {
  let schema: z.ZodType;
  switch (parameter.type) {
    case 'string': {
      if (parameter.enum !== undefined) {
        schema = z.enum(parameter.enum as [string, ...string[]]);
        break;
      }
      let text = z.string().max(parameter.maxLength ?? DEFAULT_MAX_STRING_LENGTH);
      if (parameter.minLength !== undefined) text = text.min(parameter.minLength);
      if (parameter.pattern !== undefined) text = text.regex(new RegExp(parameter.pattern, 'u'));
      schema = text;
      break;
    }
    case 'integer':
    case 'number': {
      let number = parameter.type === 'integer' ? z.number().int() : z.number();
      if (parameter.minimum !== undefined) number = number.min(parameter.minimum);
      if (parameter.maximum !== undefined) number = number.max(parameter.maximum);
      schema = number;
      break;
    }
    case 'boolean':
      schema = z.boolean();
      break;
  }
  if (parameter.description !== undefined) schema = schema.describe(parameter.description);
  if (parameter.default !== undefined) return schema.default(parameter.default as never);
  if (parameter.optional === true) return schema.optional();
  return schema;
}

export function declareTool(
  spec: DeclaredToolSpec,
  directory: SourceDirectory,
): DeclaredToolResult {
  const at = `tools.${spec.name}`;
  const problems: string[] = [];
  const source = directory.get(spec.source);
  if (source === undefined) {
    return { ok: false, problems: [`${at}.source: there is no source ${spec.source}`] };
  }
  if (spec.sql.length > DEFAULT_MAX_LENGTH)
    problems.push(`${at}.sql: longer than ${DEFAULT_MAX_LENGTH}`);
  const named = bindNamedParameters(spec.sql, source.dialect);
  if (!named.ok) return { ok: false, problems: [...problems, `${at}.sql: ${named.message}`] };
  const { sql, order, names } = named.value;
  for (const name of names) {
    if (spec.parameters[name] === undefined) {
      problems.push(`${at}.sql: :${name} is not declared under ${at}.parameters`);
    }
  }
  for (const name of Object.keys(spec.parameters)) {
    if (!names.includes(name)) problems.push(`${at}.parameters.${name}: not used in the statement`);
    if (spec.kind === 'write' && name === DRY_RUN) {
      problems.push(`${at}.parameters.${name}: the name is taken by write tools' dry run`);
    }
  }
  if (spec.kind === 'write' && source.writable.length === 0) {
    problems.push(
      `${at}.kind: source ${source.id} has no writable tables (sources.${source.id}.writable)`,
    );
  }
  if (spec.kind === 'read' && spec.confirm === true) {
    problems.push(
      `${at}.confirm: only write tools are confirmed; remove it or make the tool a write`,
    );
  }
  // The statement as the source's guard will judge it on every call: the same
  // tables and the same function rules (the built-in deny list, the default
  // deny of functions not known to compute only on their arguments, the
  // operator's allow list), minus the catalog's part of the policy, which
  // may not be known yet at start-up. So a tool that calls a refused
  // function stops start-up instead of failing on every call.
  const options = {
    dialect: source.dialect,
    defaultSchema: source.defaultSchema,
    ...(source.defaultCatalog !== undefined && { defaultCatalog: source.defaultCatalog }),
    allowedTables: source.readable,
    writableTables: source.writable,
    allowReturning: false,
    ...(source.functionPolicy !== undefined && { functionPolicy: source.functionPolicy }),
  };
  const verdict = spec.kind === 'read' ? checkRead(sql, options) : checkWrite(sql, options);
  if (!verdict.ok) {
    problems.push(
      `${at}.sql: not accepted as a ${spec.kind}: ${verdict.message} [rule ${verdict.reason}]`,
    );
  }
  if (problems.length > 0) return { ok: false, problems };

  const shape: Record<string, z.ZodType> = {};
  for (const [name, parameter] of Object.entries(spec.parameters)) {
    shape[name] = parameterSchema(parameter);
  }
  if (spec.kind === 'write') {
    shape[DRY_RUN] = DryRunArgument;
  }
  const values = (input: Record<string, unknown>) => order.map((name) => input[name] ?? null);
  const tool = defineTool({
    name: spec.name,
    title: spec.title ?? spec.name,
    description: spec.description,
    kind: spec.kind,
    inputSchema: z.strictObject(shape) as z.ZodType<Record<string, unknown>>,
    outputSchema: spec.kind === 'read' ? ReadResultSchema : WriteOutputSchema,
    requires: async (_input, context) => {
      const authorized = await authorizeGoverned(
        source,
        sql,
        order.length,
        spec.kind,
        context.session,
      );
      if (!authorized.ok) return authorized;
      return {
        ...authorized,
        // The tool grant covers what the statement reads; writes need their grant.
        capabilities: authorized.capabilities.filter((c) => c.startsWith('write:')),
      };
    },
    handler: (input, ctx) => {
      const limits = sourceLimits(ctx.limits, source);
      const { columns } = ctx.prepared;
      return spec.kind === 'read'
        ? runRead(source, sql, values(input), limits, ctx.signal, {
            session: ctx.session,
            ceiling: spec.costGate ?? source.costCeiling?.(ctx.session.principalId),
            columns,
          })
        : confirmedWrite(
            ctx,
            {
              source,
              sql,
              params: values(input),
              dryRun: input[DRY_RUN] === true,
              confirm: spec.confirm === true || source.confirmWrites === true,
            },
            (run) =>
              runWrite(
                source,
                sql,
                values(input),
                withCeiling(limits, run.maxAffectedRows),
                ctx.signal,
                run.dryRun,
                ctx.session,
                columns,
              ),
          );
    },
  });
  return { ok: true, tool };
}
