/**
 * What a dialect analyzer reports to the checks: the public Analysis plus
 * the facts the read and write rules need.
 */
import type { Analysis, FunctionReference, StatementKind, TableReference } from './types.js';

export interface RawAnalysis extends Analysis {
  /** A `;` outside literals and comments. */
  readonly semicolon: boolean;
  /** EXPLAIN with the ANALYZE option (it runs the statement). */
  readonly explainAnalyze: boolean;
  /** For EXPLAIN: the kind of the explained statement. */
  readonly explainTarget: StatementKind | null;
  /** A statement other than SELECT nested anywhere below the root (beyond DML in WITH). */
  readonly nestedStatement: StatementKind | null;
  /** MySQL `@x := ...`. */
  readonly variableAssignment: boolean;
  /** UPDATE/DELETE: whether the WHERE clause refers to a column (null for other statements). */
  readonly whereRefersToColumn: boolean | null;
  /** INSERT/UPDATE/DELETE with RETURNING. */
  readonly returning: boolean;
  /** A construct the analyzer does not understand: fail closed. */
  readonly unsupported: string | null;
  /**
   * PostgreSQL field selections (`t.f`), which call f(t) when t has no
   * field f. Checked against the source's function policy only: built-in
   * denied functions take no row argument, and columns named like them are
   * common (`SELECT pg_read_file FROM audit`).
   */
  readonly attributes: readonly FunctionReference[];
  /**
   * System variables read (MySQL `@@x`, `@@global.x`; `@@x` on ODBC
   * sources), as their name without `@@` and scope, lower-cased, or as
   * written when the name cannot be read plainly.
   */
  readonly variables: readonly string[];
  /**
   * PostgreSQL: casts to a reg* type (regclass, regproc, regtype...), which
   * look a name up in the catalog; the first one found, as written.
   */
  readonly catalogCast: string | null;
}

/** Collects tables and functions without duplicates. */
export class Collector {
  readonly tables = new Map<string, TableReference>();
  readonly functions = new Map<string, FunctionReference>();

  table(schema: string | null, name: string, access: 'read' | 'write', catalog?: string) {
    const key = `${catalog ?? ''}\u0000${schema ?? ''}\u0000${name}\u0000${access}`;
    if (this.tables.has(key)) return;
    this.tables.set(
      key,
      catalog === undefined ? { schema, name, access } : { catalog, schema, name, access },
    );
  }

  fn(schema: string | null, name: string) {
    const key = `${schema ?? ''}\u0000${name}`;
    if (!this.functions.has(key)) this.functions.set(key, { schema, name });
  }
}

/** A lexical scope of CTE names: a reference to one of them (unqualified) is not a table. */
/** A node waiting in an iterative walk, with the CTE names visible to it. */
export interface Frame {
  readonly node: unknown;
  readonly scope: Scope | null;
  /** The statement at the root of the call (or the one EXPLAIN explains). */
  readonly root: boolean;
}

export interface Scope {
  readonly names: ReadonlySet<string>;
  readonly parent: Scope | null;
}

export function inScope(scope: Scope | null, name: string): boolean {
  for (let s = scope; s !== null; s = s.parent) if (s.names.has(name)) return true;
  return false;
}

export function withNames(parent: Scope | null, names: readonly string[]): Scope | null {
  return names.length === 0 ? parent : { names: new Set(names), parent };
}
