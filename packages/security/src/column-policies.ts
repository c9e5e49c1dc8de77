import type { TableRef } from '@sqlwarden/core';

/**
 * Column policies (governance.columns): which columns of which table a
 * principal may not reference at all (deny) or sees only masked (mask),
 * resolved for one session.
 *
 * A policy applies to a principal when it lists the principal or one of
 * its roles, or lists neither roles nor principals (everyone); `except`
 * takes a principal or a role out whatever else the policy lists. Roles are
 * the session's (the configuration's roles of the principal plus, over
 * HTTP, those its token's scopes grant), so a token that adds a role adds
 * the policies of that role too.
 *
 * Several policies on one column: the strictest wins, so adding a policy
 * can only take away. deny beats mask; among masks, null (nothing shown)
 * beats redact (a marker), redact beats hash (a token that still matches
 * equal values), hash beats partial (the last characters).
 *
 * Names are kept as the configuration spells them; matching them to the
 * catalog's spelling (exact on PostgreSQL, case-insensitive on MySQL and
 * ODBC) is the caller's, which knows the catalog.
 */

export const MASK_KINDS = ['null', 'redact', 'hash', 'partial'] as const;
/** How a masked value is shown; the list above is strictest first. */
export type MaskKind = (typeof MASK_KINDS)[number];

/** The trailing characters a partial mask keeps when the policy says nothing. */
export const DEFAULT_PARTIAL_KEEP = 4;

/** A column policy as the runtime checked it at start-up. */
export interface ColumnPolicy {
  readonly source: string;
  readonly table: TableRef;
  readonly columns: readonly string[];
  readonly action: 'deny' | 'mask';
  /** For mask: how (default redact). */
  readonly mask?: MaskKind;
  /** For a partial mask: how many trailing characters stay (default 4). */
  readonly keep?: number;
  readonly roles?: readonly string[];
  readonly principals?: readonly string[];
  readonly except?: {
    readonly roles?: readonly string[];
    readonly principals?: readonly string[];
  };
}

/** What happens to one column for one principal. */
export type ColumnTreatment =
  | { readonly action: 'deny' }
  | { readonly action: 'mask'; readonly mask: MaskKind; readonly keep: number };

/** The protected columns of one table for one principal (names as the policies spell them). */
export interface TableColumnRules extends TableRef {
  readonly columns: ReadonlyMap<string, ColumnTreatment>;
}

/** Who a policy is judged for: the session's principal and roles. */
export interface PolicySubject {
  readonly principalId: string;
  readonly roles: readonly string[];
}

/** Whether a policy applies to this principal: listed (or nobody listed), and not excepted. */
export function policyApplies(policy: ColumnPolicy, subject: PolicySubject): boolean {
  const except = policy.except;
  if (except?.principals?.includes(subject.principalId) === true) return false;
  if (except?.roles?.some((role) => subject.roles.includes(role)) === true) return false;
  const roles = policy.roles ?? [];
  const principals = policy.principals ?? [];
  if (roles.length === 0 && principals.length === 0) return true;
  return (
    principals.includes(subject.principalId) || roles.some((role) => subject.roles.includes(role))
  );
}

/** A policy's treatment of its columns. */
export function treatmentOf(policy: ColumnPolicy): ColumnTreatment {
  if (policy.action === 'deny') return { action: 'deny' };
  return {
    action: 'mask',
    mask: policy.mask ?? 'redact',
    keep: policy.keep ?? DEFAULT_PARTIAL_KEEP,
  };
}

/**
 * The stricter of two treatments: deny over mask, then null, redact, hash,
 * partial; of two partial masks, the one that keeps fewer characters.
 */
export function strictestTreatment(a: ColumnTreatment, b: ColumnTreatment): ColumnTreatment {
  if (a.action === 'deny') return a;
  if (b.action === 'deny') return b;
  const rankA = MASK_KINDS.indexOf(a.mask);
  const rankB = MASK_KINDS.indexOf(b.mask);
  if (rankA !== rankB) return rankA < rankB ? a : b;
  return a.keep <= b.keep ? a : b;
}

function tableKey(table: TableRef): string {
  return JSON.stringify([table.catalog ?? null, table.schema, table.name]);
}

/**
 * The column rules of one principal, per source id: the tables with at
 * least one protected column, each column with its strictest treatment.
 * A source without any is absent from the map.
 */
export function resolveColumnRules(
  policies: readonly ColumnPolicy[],
  subject: PolicySubject,
): ReadonlyMap<string, readonly TableColumnRules[]> {
  const bySource = new Map<
    string,
    Map<string, { table: TableRef; columns: Map<string, ColumnTreatment> }>
  >();
  for (const policy of policies) {
    if (!policyApplies(policy, subject)) continue;
    let tables = bySource.get(policy.source);
    if (tables === undefined) {
      tables = new Map();
      bySource.set(policy.source, tables);
    }
    const key = tableKey(policy.table);
    let entry = tables.get(key);
    if (entry === undefined) {
      entry = { table: policy.table, columns: new Map() };
      tables.set(key, entry);
    }
    const treatment = treatmentOf(policy);
    for (const column of policy.columns) {
      const before = entry.columns.get(column);
      entry.columns.set(
        column,
        before === undefined ? treatment : strictestTreatment(before, treatment),
      );
    }
  }
  const out = new Map<string, readonly TableColumnRules[]>();
  for (const [source, tables] of bySource) {
    out.set(
      source,
      [...tables.values()].map(({ table, columns }) => ({
        ...(table.catalog !== undefined && { catalog: table.catalog }),
        schema: table.schema,
        name: table.name,
        columns,
      })),
    );
  }
  return out;
}
