/**
 * The contract of column policies in the guard (columns.ts): what the
 * runtime gives (the rules of one principal on one source, the catalog's
 * column lists) and what it gets back (a refusal, or the plan of which
 * output columns to mask). Types only.
 */
import type { Dialect, GuardRejection } from './types.js';

/** A relation as the guard resolves names (see `ResolvedTable`). */
export interface RelationName {
  /** ODBC sources that name catalogs only. */
  readonly catalog?: string;
  readonly schema: string;
  readonly name: string;
}

/** What a policy does to one column. */
export type ColumnAction = 'deny' | 'mask';

/** The protected columns of one table (columns spelled as the catalog spells them). */
export interface ProtectedTable extends RelationName {
  readonly columns: ReadonlyMap<string, ColumnAction>;
}

/** A relation any reference to which is refused: a view over protected columns the catalog cannot see through. */
export interface OpaqueRelation extends RelationName {
  /** Why, for the message (e.g. "it reads hr.people, which has column policies"). */
  readonly reason: string;
}

/** The column rules of one principal on one source. */
export interface ColumnRules {
  readonly tables: readonly ProtectedTable[];
  readonly opaque?: readonly OpaqueRelation[];
}

export interface ColumnCatalog {
  /** The columns of a relation, in order, or undefined when unknown. */
  columnsOf(relation: RelationName): readonly string[] | undefined;
}

export interface ColumnCheckOptions {
  readonly dialect: Dialect;
  readonly defaultSchema?: string;
  /** ODBC sources that name catalogs: as `GuardOptions.defaultCatalog`. */
  readonly defaultCatalog?: string;
  /** ODBC: whether names resolve with catalogs (as the source's guard does). */
  readonly namesCatalogs?: boolean;
  readonly rules: ColumnRules;
  readonly catalog: ColumnCatalog;
  /** write: a protected column may not be referenced at all (masked ones included). */
  readonly mode: 'read' | 'write';
}

/** One column of the result, in order, when the result carries a masked column. */
export interface OutputColumn {
  /** The name the driver reports for it (the alias, or the column as the dialect spells it). */
  readonly name: string;
  /** Set when this output is a masked column, passed through unchanged. */
  readonly masked?: RelationName & { readonly column: string };
}

/** A policy that shaped the verdict, for the audit record (never a value). */
export interface AppliedPolicy {
  /** `schema.table` (`catalog.schema.table`). */
  readonly table: string;
  readonly column: string;
  readonly action: ColumnAction;
}

export type ColumnVerdict =
  | {
      readonly ok: true;
      /**
       * Every output column, in order, when at least one is masked; absent
       * when nothing is masked. The caller checks the result's columns
       * against it (count and names) before masking, and fails closed on a
       * difference (the catalog changed under the statement).
       */
      readonly outputs?: readonly OutputColumn[];
      readonly applied: readonly AppliedPolicy[];
    }
  | GuardRejection;
