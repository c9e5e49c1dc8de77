/**
 * One guarded statement on a source: the part every SQL tool shares
 * (query_read, execute_write and the tools declared in the configuration).
 *
 * Authorization (`authorizeStatement`, called from a tool's `requires`):
 * the source's SQL guard judges the text (checkRead or checkWrite, with the
 * source's tables, writable tables and function policy), the number of
 * parameters must match, and the call needs `read:<source>:<schema>.<table>`
 * for every table the statement reads and `write:...` for every table it
 * writes (`read:<source>:<catalog>.<schema>.<table>` for a table the guard
 * resolved with a catalog, on ODBC sources that name catalogs). A write also needs a source that has writable tables at all. It
 * fails closed: a source whose catalog is still unknown refuses, a table
 * whose name cannot be granted refuses.
 *
 * Execution (`runRead`, `runWrite`, called from a handler): the adapter
 * runs it with the limits of the call, lowered by the source's, as the
 * session's principal is to the database (`accessOf`: its own pool on MySQL,
 * its role and subject on PostgreSQL; the source's user when none). The adapter
 * gets the statement without its one trailing `;` (and any comment after
 * it), cut from this call's own text by the guard's scanner
 * (`statementText`), never taken from a cached verdict.
 *
 * Column policies (`authorizeGoverned`, column-policies.ts): when the
 * session's principal has column rules on the source, the guard's column
 * analysis plans the statement in authorization (which policies apply;
 * for a read, which output columns are masked). Its refusal is given at
 * execution, before the adapter is asked anything, so the grants are
 * checked first (a principal without the table grant gets FORBIDDEN and
 * learns nothing about the table's policies). A read's result is checked
 * against the plan and masked in place before anything is formatted.
 */
import {
  type AuditFacts,
  type CostCeiling,
  type Denial,
  deny,
  type ExecutionLimits,
  type ReadResult,
  resolveLimits,
  type SessionContext,
  SqlwardenError,
  type ToolOutcome,
  type WriteResult,
} from '@sqlwarden/core';
import { tableCapability } from '@sqlwarden/security';
import { type CheckedAnalysis, fingerprint, statementText } from '@sqlwarden/sql-guard';
import { z } from 'zod';
import { applyColumnPlan, type ColumnPlan } from './column-policies.js';
import { formatRows } from './format.js';
import { accessOf, type SourceBinding } from './sources.js';

export type StatementMode = 'read' | 'write';

const Primitive = z.union([z.string().max(65_536), z.number(), z.boolean(), z.null()]);
/** One bound value: a primitive, or a list of them (a PostgreSQL array). */
export const Param = z.union([Primitive, z.array(Primitive).max(10_000)]);

/** The `params` argument of the SQL tools. */
export const ParamsArgument = z
  .array(Param)
  .max(100)
  .optional()
  .describe("Values for the statement's parameters, in order.");

/** The `dryRun` argument of every write tool. */
export const DryRunArgument = z
  .boolean()
  .optional()
  .describe('Count the rows it would change, then roll back (default false).');

export interface AuthorizedStatement {
  readonly ok: true;
  readonly capabilities: string[];
  readonly prepared: SourceBinding;
  readonly facts: AuditFacts;
  readonly analysis: CheckedAnalysis;
}

export function authorizeStatement(
  source: SourceBinding,
  sql: string,
  given: number,
  mode: StatementMode,
): AuthorizedStatement | (Denial & { readonly facts: AuditFacts }) {
  const state = source.guard();
  if (!state.ready) {
    const fp = fingerprint(sql, { dialect: source.dialect });
    const message =
      'The source is not ready yet (its catalog could not be read); try again shortly.';
    return { ...deny('DB_UNAVAILABLE', message), facts: { source: source.id, fp } };
  }
  if (mode === 'write' && source.writable.length === 0) {
    const fp = fingerprint(sql, { dialect: source.dialect });
    const message = `Source ${source.id} is read-only: it has no writable tables.`;
    return { ...deny('READ_ONLY', message), facts: { source: source.id, fp } };
  }
  const verdict = mode === 'read' ? state.guard.checkRead(sql) : state.guard.checkWrite(sql);
  if (!verdict.ok) {
    // The guard fingerprints what it got far enough to read; the rest is fingerprinted here.
    const fp = verdict.fingerprint ?? fingerprint(sql, { dialect: source.dialect });
    const message = `${verdict.message} [rule ${verdict.reason}]`;
    return { ...deny('QUERY_REJECTED', message), facts: { source: source.id, fp } };
  }
  const analysis = verdict.analysis;
  const facts = { source: source.id, fp: analysis.fingerprint };
  if (source.qualifiedNamesOnly === true) {
    const short = analysis.tables.find((t) => t.catalog === undefined || t.schema === null);
    if (short !== undefined) {
      const message = `Name every table as catalog.schema.table on source ${source.id} (${short.name} is not): its driver resolves shorter names itself, across catalogs, so sqlwarden cannot tell which table they mean. [rule AMBIGUOUS_TABLE]`;
      return { ...deny('QUERY_REJECTED', message), facts };
    }
  }
  if (given !== analysis.parameterCount) {
    const message = `The statement has ${analysis.parameterCount} parameters but ${given} values were given in "params".`;
    return { ...deny('INVALID_INPUT', message), facts };
  }
  const capabilities: string[] = [];
  for (const table of analysis.resolvedTables) {
    const capability =
      table.schema === null
        ? undefined
        : tableCapability(table.access, source.id, table.schema, table.name, table.catalog);
    if (capability === undefined) {
      return {
        ...deny('FORBIDDEN', 'The statement names a table whose name cannot be granted.'),
        facts,
      };
    }
    capabilities.push(capability);
  }
  return { ok: true, capabilities, prepared: source, facts, analysis };
}

/** An authorized statement as a handler gets it: its source, and its column plan if any. */
export interface PreparedStatement {
  readonly source: SourceBinding;
  readonly columns?: ColumnPlan;
}

export type GovernedStatement =
  | (Omit<AuthorizedStatement, 'prepared'> & { readonly prepared: PreparedStatement })
  | (Denial & { readonly facts: AuditFacts });

/**
 * `authorizeStatement`, then the column policies of the session's principal
 * on the source (none: no plan). The policies that applied go to the audit
 * record; a refusal waits in the plan for the handler (see above).
 */
export async function authorizeGoverned(
  source: SourceBinding,
  sql: string,
  given: number,
  mode: StatementMode,
  session: SessionContext,
): Promise<GovernedStatement> {
  const authorized = authorizeStatement(source, sql, given, mode);
  if (!authorized.ok) return authorized;
  const plan = await source.columnPolicies?.plan({
    sql,
    analysis: authorized.analysis,
    mode,
    subject: session,
  });
  if (plan === undefined) return { ...authorized, prepared: { source } };
  return {
    ...authorized,
    prepared: { source, columns: plan },
    facts: { ...authorized.facts, columnPolicies: plan.applied },
  };
}

/** A column policy's refusal, given now that the grants have passed. */
function refuseByPlan(plan: ColumnPlan | undefined): void {
  if (plan?.refusal !== undefined)
    throw new SqlwardenError(plan.refusal.code, plan.refusal.message);
}

/** The call's limits (the server's, lowered by the tool's), lowered again by the source's. */
export function sourceLimits(
  limits: ExecutionLimits,
  source: SourceBinding,
  call?: Partial<ExecutionLimits>,
): ExecutionLimits {
  return resolveLimits(limits, source.limits, call);
}

export async function runRead(
  source: SourceBinding,
  sql: string,
  params: readonly unknown[],
  limits: ExecutionLimits,
  signal: AbortSignal,
  options: {
    /** The session: whose database identity the read runs under, and its verified subject (`accessOf`). */
    readonly session: Pick<SessionContext, 'principalId' | 'subject'>;
    readonly ceiling?: CostCeiling | undefined;
    /** The statement's column plan (`authorizeGoverned`), when policies apply. */
    readonly columns?: ColumnPlan | undefined;
  },
): Promise<ToolOutcome & { readonly structuredContent: ReadResult }> {
  refuseByPlan(options.columns);
  const { adapter, identity } = accessOf(
    source,
    options.session.principalId,
    options.session.subject,
  );
  const { estimate, ...result } = await adapter.read({
    sql: statementText(sql, { dialect: source.dialect }),
    params,
    limits: { maxRows: limits.maxRows, maxBytes: limits.maxBytes, timeoutMs: limits.timeoutMs },
    signal,
    ...(options.ceiling !== undefined && { costCeiling: options.ceiling }),
    ...(identity !== undefined && { identity }),
  });
  const outputs = options.columns?.outputs;
  if (outputs !== undefined) {
    const masker = source.columnPolicies?.masker;
    // A plan that masks on a source without a masker cannot happen; if it did, nothing passes.
    if (masker === undefined) throw new Error('a column plan masks on a source without a masker');
    applyColumnPlan(result, outputs, masker, source.dialect);
  }
  // The estimate is for the audit record; the agent gets the result only.
  return {
    text: formatRows(result, source.untrustedData),
    structuredContent: result,
    rows: result.rowCount,
    truncated: result.truncated,
    ...(estimate !== undefined && { estimate }),
  };
}

export async function runWrite(
  source: SourceBinding,
  sql: string,
  params: readonly unknown[],
  limits: ExecutionLimits,
  signal: AbortSignal,
  dryRun: boolean,
  /** The session: whose database identity the write runs under, and its verified subject (`accessOf`). */
  session: Pick<SessionContext, 'principalId' | 'subject'>,
  /** The statement's column plan (`authorizeGoverned`), when policies apply. */
  columns?: ColumnPlan,
): Promise<ToolOutcome & { readonly structuredContent: WriteResult & { dryRun: boolean } }> {
  refuseByPlan(columns);
  const { adapter, identity } = accessOf(source, session.principalId, session.subject);
  const result = await adapter.write({
    sql: statementText(sql, { dialect: source.dialect }),
    params,
    maxAffectedRows: limits.maxAffectedRows,
    timeoutMs: limits.timeoutMs,
    signal,
    dryRun,
    ...(identity !== undefined && { identity }),
  });
  const rows = `${result.affectedRows} ${result.affectedRows === 1 ? 'row' : 'rows'}`;
  return {
    text: dryRun
      ? `Dry run: ${rows} would change; nothing was changed (rolled back).`
      : `${rows} changed (committed).`,
    structuredContent: { ...result, dryRun },
    rows: result.affectedRows,
    committed: result.committed,
  };
}
