/**
 * What the column check reads from a statement, whatever the dialect: the
 * relations it names, every column reference, every `*`, and the shape of
 * the outermost select list. The dialect walkers (columns-postgres.ts,
 * columns-mysql.ts) fill it from their parser's tree; columns.ts judges it
 * against the rules. Internal: not exported from the package.
 *
 * The walkers record by construction, not by recognition: every node of
 * the tree is visited, every column reference anywhere is recorded (as an
 * "other" use unless it is provably a plain output of the outermost
 * select), and every table anywhere is recorded. What a walker cannot
 * place sets `unresolved`, which refuses the statement.
 */

/** A table as written (identifiers as the dialect's parser gives them). */
export interface TableName {
  readonly catalog?: string;
  readonly schema: string | null;
  readonly name: string;
}

/** A FROM item (or a CTE, or a join with an alias). */
export interface Relation {
  readonly kind: 'table' | 'derived' | 'join' | 'other';
  /** kind `table`. */
  readonly table?: TableName;
  readonly alias: string | null;
  /** A column alias list (`AS p(a, b)`, `WITH c(x, y)`): renames columns by position. */
  readonly renames: boolean;
  /** kind `derived` (and CTEs): the tables its body reads. */
  readonly reads?: readonly TableName[];
  /** kind `derived`: its output names, in order, when every one is known. */
  readonly outputs?: readonly string[];
  /** kind `join`: the relations under the aliased join. */
  readonly members?: readonly Relation[];
  /** Joined with USING or NATURAL: a `*` over it merges columns, so its expansion is not a plain list. */
  merged: boolean;
}

/** One SELECT (or DML statement): the relations a `*` in it expands over. */
export interface Block {
  readonly relations: Relation[];
}

/** A column reference: `ssn`, `p.ssn`, `hr.people.ssn` (parts as written, last is the column). */
export interface ColumnUse {
  readonly parts: readonly string[];
  /** Set only for a plain column of the outermost select list: its position (0-based). */
  readonly output?: number;
}

/** `*` or `q.*`, in a select list, RETURNING, or as an argument. */
export interface StarUse {
  readonly qualifier: readonly string[] | null;
  readonly block: Block | null;
  /** Set only for a `*` that is itself an item of the outermost select list. */
  readonly output?: number;
}

export type OutputTarget =
  | { readonly kind: 'column'; readonly parts: readonly string[]; readonly name: string }
  | { readonly kind: 'star'; readonly qualifier: readonly string[] | null }
  | { readonly kind: 'expr'; readonly name: string };

/** The outermost SELECT, when the statement is one plain SELECT (not a set operation). */
export interface Outermost {
  readonly block: Block;
  readonly targets: readonly OutputTarget[];
  /** DISTINCT or DISTINCT ON. */
  readonly distinct: boolean;
  /** ORDER BY / GROUP BY items that are integer constants (1-based positions; NaN when unreadable). */
  readonly positions: readonly number[];
}

export interface ColumnFacts {
  /** Every table named anywhere (read or written), CTE names included (over-approximation). */
  readonly tables: TableName[];
  /** Every relation anywhere, for resolving qualifiers. */
  readonly relations: Relation[];
  readonly columns: ColumnUse[];
  readonly stars: StarUse[];
  /** The tables under each NATURAL join. */
  readonly natural: TableName[][];
  /** Column names in USING lists. */
  readonly using: string[];
  /** INSERT targets with their column list (null: none written, every column is written). */
  readonly inserts: Array<{
    readonly table: TableName;
    readonly columns: readonly string[] | null;
  }>;
  outermost: Outermost | null;
  /** A construct the walker cannot place: the statement is refused (COLUMN_UNRESOLVED). */
  unresolved: string | null;
}

export function emptyFacts(): ColumnFacts {
  return {
    tables: [],
    relations: [],
    columns: [],
    stars: [],
    natural: [],
    using: [],
    inserts: [],
    outermost: null,
    unresolved: null,
  };
}

export type FactsOutcome =
  | { readonly ok: true; readonly facts: ColumnFacts }
  | {
      readonly ok: false;
      readonly detail: string;
      /**
       * Every table the statement names, when a parser could read that much
       * but not the columns: a statement that names no protected relation
       * needs no column analysis.
       */
      readonly tables?: readonly TableName[];
    };

/** One step of a walk: a statement to read, or an expression in a block. */
type WalkTask =
  | { readonly kind: 'expr'; readonly node: unknown; readonly block: Block | null }
  | { readonly kind: 'stmt'; readonly node: unknown; readonly outermost: boolean };

/**
 * What the dialects' walkers (columns-postgres.ts, columns-mysql.ts) share:
 * an explicit stack of statements and expressions still to read, so a
 * deeply nested statement cannot exhaust the call stack, and the facts
 * they fill. Each walker reads its own parser's tree.
 */
export abstract class FactWalker {
  readonly facts: ColumnFacts = emptyFacts();
  readonly #tasks: WalkTask[] = [];

  run(root: unknown, outermost: boolean): void {
    this.#tasks.push({ kind: 'stmt', node: root, outermost });
    while (this.#tasks.length > 0) {
      const task = this.#tasks.pop() as WalkTask;
      if (task.kind === 'stmt') this.statement(task.node, task.outermost);
      else this.expr(task.node, task.block);
    }
  }

  protected pushExpr(node: unknown, block: Block | null): void {
    if (node !== undefined && node !== null) this.#tasks.push({ kind: 'expr', node, block });
  }

  /** Anything but null: a statement a walker cannot read is marked unresolved by it (fail closed). */
  protected pushStmt(node: unknown): void {
    if (node !== undefined && node !== null)
      this.#tasks.push({ kind: 'stmt', node, outermost: false });
  }

  protected abstract statement(node: unknown, outermost: boolean): void;
  protected abstract expr(root: unknown, block: Block | null): void;
}
