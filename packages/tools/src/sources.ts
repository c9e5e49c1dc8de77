/**
 * The sources the tools serve, as the runtime assembled them: an adapter,
 * the dialect, the default schema, the tables the source serves (guard
 * patterns), its limits, and its SQL guard once the source's function
 * policy is known.
 */
import type {
  CostCeiling,
  DatabaseAdapter,
  DatabaseIdentity,
  Denial,
  ExecutionLimits,
} from '@sqlwarden/core';
import { deny, parseTablePattern } from '@sqlwarden/core';
import type { Dialect, FunctionPolicy, Guard } from '@sqlwarden/sql-guard';
import { z } from 'zod';
import type { ColumnGovernance } from './column-policies.js';
import type { UntrustedDataMode } from './untrusted.js';

export type GuardState =
  | { readonly ready: true; readonly guard: Guard }
  | { readonly ready: false };

export interface SourceBinding {
  readonly id: string;
  readonly adapter: DatabaseAdapter;
  readonly dialect: Dialect;
  readonly defaultSchema: string;
  /**
   * ODBC sources that name tables `catalog.schema.table` (CONNX): the
   * catalog `schema.table` and unqualified names resolve to.
   */
  readonly defaultCatalog?: string;
  /** `schema.table` patterns the source serves for reading (`catalog.schema.table` on ODBC sources). */
  readonly readable: readonly string[];
  /**
   * `schema.table` patterns write tools may change (their guard's
   * writableTables). Empty: a read-only source, whatever else is enabled.
   */
  readonly writable: readonly string[];
  /**
   * Every table a statement names must be written catalog.schema.table: the
   * driver resolves shorter names itself (CONNX matches them across
   * catalogs), so the guard's resolution by the defaults would not be the
   * server's. Set for ODBC sources whose session sqlwarden cannot pin.
   */
  readonly qualifiedNamesOnly?: boolean;
  /** Limits of this source; they can only lower the server's. */
  readonly limits?: Partial<ExecutionLimits>;
  /**
   * Every write on this source needs a human to confirm it
   * (sources.<id>.confirmWrites; confirm.ts, docs/governance.md).
   */
  readonly confirmWrites?: boolean;
  /**
   * The cost gate of a principal's reads of this source (the principal's
   * own ceiling, or the source's), or undefined when none applies.
   */
  readonly costCeiling?: (principalId: string) => CostCeiling | undefined;
  /**
   * The part of the source's function policy known without its catalog:
   * the operator's allow list (sources.<id>.functions.allow) and where it
   * is configured, for messages. The guard's built-in rules (the deny list
   * of side effects, the default deny of every function not known to
   * compute only on its arguments) apply with or without it. Start-up
   * checks of declared tools use it; calls use the full policy, catalog
   * included, through `guard()`.
   */
  readonly functionPolicy?: FunctionPolicy;
  /**
   * Who a principal is to this source's database (principals.<id>.database,
   * docs/governance.md): the adapter its statements go through (MySQL and
   * MariaDB: a pool of the principal's own, as its own user) and the
   * identity each call carries (PostgreSQL: its role and the subject).
   * Absent, or undefined for a principal: `adapter`, no identity. Catalog
   * tools (list_tables, describe_table) use `adapter`: the source's own user.
   */
  readonly databaseAccess?: (principalId: string) => DatabaseAccess | undefined;
  /**
   * How text from this source's database reaches a model: framed as data
   * between a per-response random boundary (absent: framed), or off
   * (governance.untrustedData; untrusted.ts).
   */
  readonly untrustedData?: UntrustedDataMode;
  /**
   * The column policies naming this source (governance.columns;
   * column-policies.ts), absent when none does.
   */
  readonly columnPolicies?: ColumnGovernance;
  /**
   * The source's SQL guard (its dialect, default schema, tables and
   * function policy, with a verdict cache). Not ready while the source's
   * catalog is still unknown (the database was down at start-up): reads are
   * then refused rather than checked without the policy.
   */
  guard(): GuardState;
}

/** What a principal's statements on a source run through, and as whom (`SourceBinding.databaseAccess`). */
export interface DatabaseAccess {
  readonly adapter: DatabaseAdapter;
  readonly identity?: DatabaseIdentity;
}

/**
 * The adapter and identity of a principal's statements on a source (the
 * source's own when none is configured). `subject`: the verified person
 * behind the principal when the session knows one (OAuth's claim), which
 * the identity then carries instead of the principal id.
 */
export function accessOf(
  source: SourceBinding,
  principalId: string,
  subject?: string,
): DatabaseAccess {
  const access = source.databaseAccess?.(principalId) ?? { adapter: source.adapter };
  if (subject === undefined || access.identity === undefined) return access;
  return { ...access, identity: { ...access.identity, subject } };
}

export interface SourceDirectory {
  get(id: string): SourceBinding | undefined;
  list(): readonly SourceBinding[];
  /** The source used when a call names none. */
  readonly defaultId: string | undefined;
}

export function createSourceDirectory(
  sources: readonly SourceBinding[],
  defaultId?: string,
): SourceDirectory {
  const byId = new Map(sources.map((s) => [s.id, s]));
  const fallback = defaultId ?? (sources.length === 1 ? sources[0]?.id : undefined);
  return Object.freeze({
    get: (id: string) => byId.get(id),
    list: () => sources,
    defaultId: fallback,
  });
}

export const SourceId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'a source id: letters, digits, _ and -')
  .describe('The source to use; leave it out to use the default source.');

export function resolveSource(
  directory: SourceDirectory,
  id: string | undefined,
): { ok: true; value: SourceBinding } | Denial {
  const wanted = id ?? directory.defaultId;
  if (wanted === undefined) {
    return deny('INVALID_INPUT', 'Several sources are configured; name one in "source".');
  }
  const source = directory.get(wanted);
  if (source === undefined) return deny('NOT_FOUND', 'There is no source of that name.');
  return { ok: true, value: source };
}

/** The schemas named by a source's patterns (`public.*` and `sales.orders` give public and sales). */
export function servedSchemas(source: SourceBinding): string[] {
  const schemas = source.readable.map((text) => parseTablePattern(text, CATALOGS)?.schema);
  return [...new Set(schemas.filter((schema) => schema !== undefined))];
}

/** The catalogs named by a source's three-part patterns (`daea.dbo.*` gives daea). */
export function servedCatalogs(source: SourceBinding): string[] {
  const catalogs = source.readable.map((text) => parseTablePattern(text, CATALOGS)?.catalog);
  return [...new Set(catalogs.filter((catalog) => catalog !== undefined))];
}

const CATALOGS = { catalogs: true } as const;

/**
 * Whether a source names tables `catalog.schema.table`: an ODBC source with
 * a default catalog or a three-part pattern (the guard judges its
 * statements with catalogs, docs/connx-names.md).
 */
export function namesCatalogs(source: SourceBinding): boolean {
  return (
    source.dialect === 'odbc' &&
    (source.defaultCatalog !== undefined || servedCatalogs(source).length > 0)
  );
}
