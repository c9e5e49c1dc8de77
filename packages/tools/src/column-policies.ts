/**
 * Column policies on one source (governance.columns): the principal's rules
 * as the guard takes them, the catalog the guard reads column lists from,
 * the plan of a statement (refused, or which output columns to mask), the
 * masking of a result, and what describe_table shows.
 *
 * The guard's analysis (`checkColumns`) is synchronous; the column lists it
 * needs come from the adapter (`describeTable`), so they are read before
 * it runs: every protected table, and every relation the statement names
 * (its resolved tables: a `*` or an unqualified column can only come from
 * one of them), each cached per source for a short time. A relation whose
 * columns are not known is `undefined` to the guard, which refuses what it
 * cannot resolve.
 *
 * Views: a view that reads a protected column is refused as one object
 * (the guard's `opaque` relations) for the principals the policy applies
 * to, unless the catalog shows it reads no protected column. PostgreSQL's
 * catalog says which columns a view reads (pg_depend); MySQL's which tables
 * (VIEW_TABLE_USAGE, MySQL 8.0.13+), or else only the definition, searched
 * for the protected table's name (over-approximation: a mention is enough);
 * a source whose adapter cannot tell (ODBC) makes every view opaque to a
 * principal with rules on it. A view over an opaque view is opaque.
 *
 * Fails closed: a catalog that cannot be read refuses the call
 * (DB_UNAVAILABLE); a policy naming a table or column the database does
 * not have (a typo, or a rename since start-up) refuses every statement of
 * the principals it applies to on that source until it is fixed; a result
 * whose columns differ from what the statement was checked for is withheld.
 */
import {
  type AppliedColumnPolicy,
  type DatabaseAdapter,
  type Denial,
  deny,
  type ReadResult,
  SqlwardenError,
  type TableDescription,
  type TableRef,
  unreadableViews,
  type ViewDependency,
} from '@sqlwarden/core';
import {
  type ColumnPolicy,
  type ColumnTreatment,
  type Masker,
  type MaskSpec,
  type PolicySubject,
  resolveColumnRules,
  strictestTreatment,
  type TableColumnRules,
} from '@sqlwarden/security';
import {
  type CheckedAnalysis,
  type ColumnRules,
  type ColumnVerdict,
  checkColumns,
  type Dialect,
  type OpaqueRelation,
  type ProtectedTable,
  type RelationName,
} from '@sqlwarden/sql-guard';
import { qualified } from './format.js';

/** How long a table's column list and a source's view dependencies are kept (ms). */
export const COLUMN_CATALOG_TTL_MS = 10_000;

export interface ColumnGovernanceOptions {
  readonly source: string;
  readonly dialect: Dialect;
  readonly adapter: DatabaseAdapter;
  /** The policies naming this source. */
  readonly policies: readonly ColumnPolicy[];
  readonly masker: Masker;
  readonly defaultSchema: string;
  readonly defaultCatalog?: string;
  /** ODBC sources that name catalogs (as the source's guard judges them). */
  readonly namesCatalogs?: boolean;
  /** The schemas (and catalogs) the source serves: where its views are looked for. */
  readonly schemas: readonly string[];
  readonly catalogs?: readonly string[];
  /** Catalog reads are bounded by this (the source's statement time limit). */
  readonly timeoutMs: number;
  readonly ttlMs?: number;
  /** Told each problem of the policies against the catalog, once (the runtime logs it). */
  readonly onProblem?: (problem: string) => void;
}

/** One output column of a planned read, with its mask when it is a masked column. */
export interface PlannedOutput {
  readonly name: string;
  readonly mask?: MaskSpec;
}

/** What the column policies made of one statement. */
export interface ColumnPlan {
  readonly applied: readonly AppliedColumnPolicy[];
  /** Every output column in order, when at least one is masked. */
  readonly outputs?: readonly PlannedOutput[];
  /**
   * A refusal, decided before the grants were asked and given only after
   * they pass: a principal without the table's grant is told FORBIDDEN,
   * and learns nothing about its column policies.
   */
  readonly refusal?: Denial;
}

export interface ColumnPlanRequest {
  readonly sql: string;
  readonly analysis: CheckedAnalysis;
  readonly mode: 'read' | 'write';
  readonly subject: PolicySubject;
}

export interface ColumnGovernance {
  readonly masker: Masker;
  /** The principal's rules on this source (the policies' spelling), or undefined when none apply. */
  rulesFor(subject: PolicySubject): readonly TableColumnRules[] | undefined;
  /** The plan of a statement, or undefined when no policy applies to this principal here. */
  plan(request: ColumnPlanRequest): Promise<ColumnPlan | undefined>;
  /**
   * The treatment of each column of a described table for this principal,
   * by the catalog's name; empty when none applies.
   */
  treatments(
    subject: PolicySubject,
    table: TableRef,
  ): (column: string) => ColumnTreatment | undefined;
  /**
   * Why `relation` is one object to this principal (a view, partition or
   * child that reads a protected column: queries of it are refused), or
   * undefined when it is not. Rejects when the catalog cannot be read.
   */
  governedAsOneObject(subject: PolicySubject, relation: TableRef): Promise<string | undefined>;
  /** The policies' tables and columns against the catalog: one sentence per one that does not exist. */
  verify(): Promise<string[]>;
}

interface Cached<T> {
  readonly at: number;
  readonly value: Promise<T>;
}

function relationKey(r: {
  readonly catalog?: string;
  readonly schema: string;
  readonly name: string;
}) {
  return JSON.stringify([r.catalog ?? null, r.schema, r.name]);
}

export function createColumnGovernance(options: ColumnGovernanceOptions): ColumnGovernance {
  return new SourceColumnGovernance(options);
}

class SourceColumnGovernance implements ColumnGovernance {
  readonly masker: Masker;
  readonly #o: ColumnGovernanceOptions;
  readonly #ttl: number;
  readonly #tables = new Map<string, Cached<TableDescription | null>>();
  #views: Cached<readonly ViewDependency[] | undefined> | undefined;
  readonly #subjects = new Map<string, readonly TableColumnRules[] | undefined>();
  readonly #reported = new Set<string>();
  /** PostgreSQL compares names exactly; MySQL and ODBC column names are case-insensitive. */
  readonly #same: (a: string, b: string) => boolean;

  constructor(options: ColumnGovernanceOptions) {
    this.#o = options;
    this.masker = options.masker;
    this.#ttl = options.ttlMs ?? COLUMN_CATALOG_TTL_MS;
    this.#same =
      options.dialect === 'postgres'
        ? (a, b) => a === b
        : (a, b) => a.toLowerCase() === b.toLowerCase();
  }

  rulesFor(subject: PolicySubject): readonly TableColumnRules[] | undefined {
    const key = JSON.stringify([subject.principalId, [...subject.roles].sort()]);
    if (this.#subjects.has(key)) return this.#subjects.get(key);
    const rules = resolveColumnRules(this.#o.policies, subject).get(this.#o.source);
    // Bounded: principals and their role sets are few (the configuration's, and token scopes).
    if (this.#subjects.size > 1000) this.#subjects.clear();
    this.#subjects.set(key, rules);
    return rules;
  }

  #sameRelation(a: RelationName, b: RelationName): boolean {
    return (
      this.#same(a.schema, b.schema) &&
      this.#same(a.name, b.name) &&
      (a.catalog === undefined || b.catalog === undefined || this.#same(a.catalog, b.catalog))
    );
  }

  treatments(subject: PolicySubject, table: TableRef) {
    const rules = this.rulesFor(subject)?.filter((t) => this.#sameRelation(t, table)) ?? [];
    return (column: string): ColumnTreatment | undefined => {
      let found: ColumnTreatment | undefined;
      for (const rule of rules) {
        for (const [name, treatment] of rule.columns) {
          if (!this.#same(name, column)) continue;
          found = found === undefined ? treatment : strictestTreatment(found, treatment);
        }
      }
      return found;
    };
  }

  #signal(): AbortSignal {
    return AbortSignal.timeout(this.#o.timeoutMs);
  }

  /** A relation's description, cached for the TTL; null when it does not exist. */
  #describe(relation: RelationName): Promise<TableDescription | null> {
    const key = relationKey(relation);
    const now = Date.now();
    const hit = this.#tables.get(key);
    if (hit !== undefined && now - hit.at < this.#ttl) return hit.value;
    const table: TableRef = {
      ...(relation.catalog !== undefined && { catalog: relation.catalog }),
      schema: relation.schema,
      name: relation.name,
    };
    const value = this.#o.adapter.describeTable({ table, signal: this.#signal() });
    // A failed read is not kept: the next call asks again.
    value.catch(() => {
      if (this.#tables.get(key)?.value === value) this.#tables.delete(key);
    });
    if (this.#tables.size > 5000) this.#tables.clear();
    this.#tables.set(key, { at: now, value });
    return value;
  }

  /** What the source's views read, cached for the TTL; undefined when the adapter cannot tell. */
  #viewDependencies(): Promise<readonly ViewDependency[] | undefined> {
    const now = Date.now();
    if (this.#views !== undefined && now - this.#views.at < this.#ttl) return this.#views.value;
    const value = this.#readViews();
    value.catch(() => {
      if (this.#views?.value === value) this.#views = undefined;
    });
    this.#views = { at: now, value };
    return value;
  }

  async #readViews(): Promise<readonly ViewDependency[] | undefined> {
    const { adapter, schemas, catalogs } = this.#o;
    // ODBC: no catalog says what a view reads (every view is opaque here).
    if (adapter.viewDependencies !== undefined && this.#o.dialect !== 'odbc') {
      return adapter.viewDependencies({ schemas, signal: this.#signal() });
    }
    // The catalog cannot say what a view reads: every view is opaque.
    const tables = await adapter.listTables({
      schemas,
      ...(catalogs !== undefined && catalogs.length > 0 && { catalogs }),
      signal: this.#signal(),
    });
    return unreadableViews(tables);
  }

  #report(problem: string) {
    if (this.#reported.has(problem)) return;
    this.#reported.add(problem);
    this.#o.onProblem?.(problem);
  }

  /**
   * The rules as the guard takes them, each column in the catalog's
   * spelling; a string naming what the catalog does not have, when a
   * policy's column is missing.
   */
  async #protectedTables(
    rules: readonly TableColumnRules[],
  ): Promise<{ tables: ProtectedTable[]; treatments: Map<string, ColumnTreatment> } | string> {
    const tables: ProtectedTable[] = [];
    // relationKey + column (catalog spelling) -> treatment, for the masks.
    const treatments = new Map<string, ColumnTreatment>();
    for (const rule of rules) {
      const described = await this.#describe(rule);
      if (described === null) {
        // A typo in the table's name would protect nothing (and the table
        // meant goes unprotected): refused as a missing column is.
        const problem = `governance.columns: source ${this.#o.source} has no table ${qualified(rule)}`;
        this.#report(problem);
        return problem;
      }
      const columns = new Map<string, 'deny' | 'mask'>();
      const relation = {
        ...(described.catalog !== undefined
          ? { catalog: described.catalog }
          : rule.catalog !== undefined && { catalog: rule.catalog }),
        schema: described.schema,
        name: described.name,
      };
      for (const [name, treatment] of rule.columns) {
        const matches = described.columns.filter((c) => this.#same(c.name, name));
        if (matches.length === 0) {
          const problem = `governance.columns: table ${qualified(rule)} of source ${this.#o.source} has no column ${name}`;
          this.#report(problem);
          return problem;
        }
        for (const column of matches) {
          const key = `${relationKey(relation)}\u0000${column.name}`;
          const before = treatments.get(key);
          const merged = before === undefined ? treatment : strictestTreatment(before, treatment);
          treatments.set(key, merged);
          columns.set(column.name, merged.action);
        }
      }
      if (columns.size > 0) tables.push({ ...relation, columns });
    }
    return { tables, treatments };
  }

  /** The views that read a protected column (directly, or through another such view). */
  #opaque(
    views: readonly ViewDependency[] | undefined,
    tables: readonly ProtectedTable[],
  ): OpaqueRelation[] {
    if (views === undefined || tables.length === 0) return [];
    const opaque = new Map<string, OpaqueRelation>();
    const protectedBy = (read: TableRef & { readonly columns: readonly string[] | null }) => {
      const table = tables.find((t) => this.#sameRelation(t, read));
      if (table === undefined) return undefined;
      if (read.columns === null) return table;
      return read.columns.some((c) => [...table.columns.keys()].some((p) => this.#same(p, c)))
        ? table
        : undefined;
    };
    const mentions = (definition: string, table: RelationName) => {
      // A mention of the table's name anywhere is enough (over-approximation).
      const escaped = table.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      return new RegExp(`(^|[^A-Za-z0-9_$])${escaped}($|[^A-Za-z0-9_$])`, 'iu').test(definition);
    };
    const reasonOf = (view: ViewDependency): string | undefined => {
      if (view.reads !== undefined) {
        for (const read of view.reads) {
          const table = protectedBy(read);
          if (table !== undefined) return `it reads ${qualified(table)}, which has column policies`;
          const inner = opaque.get(relationKey(read));
          if (inner !== undefined) return `it reads the view ${qualified(inner)}, ${inner.reason}`;
        }
        return undefined;
      }
      if (view.definition === null || view.definition === undefined) {
        return 'the catalog cannot show which columns it reads, and this source has column policies';
      }
      for (const table of tables) {
        if (mentions(view.definition, table))
          return `it reads ${qualified(table)}, which has column policies`;
      }
      for (const inner of opaque.values()) {
        if (mentions(view.definition, inner))
          return `it reads the view ${qualified(inner)}, ${inner.reason}`;
      }
      return undefined;
    };
    // To a fixed point: a view over an opaque view is opaque.
    for (let changed = true; changed; ) {
      changed = false;
      for (const dependency of views) {
        const key = relationKey(dependency.view);
        if (opaque.has(key)) continue;
        const reason = reasonOf(dependency);
        if (reason === undefined) continue;
        opaque.set(key, { ...dependency.view, reason });
        changed = true;
      }
    }
    return [...opaque.values()];
  }

  async governedAsOneObject(
    subject: PolicySubject,
    relation: TableRef,
  ): Promise<string | undefined> {
    const rules = this.rulesFor(subject);
    if (rules === undefined || rules.length === 0) return undefined;
    const found = await this.#protectedTables(rules);
    // A policy naming what the catalog lacks refuses every statement here; describing stays.
    if (typeof found === 'string') return undefined;
    const views = await this.#viewDependencies();
    return this.#opaque(views, found.tables).find((o) => this.#sameRelation(o, relation))?.reason;
  }

  async plan(request: ColumnPlanRequest): Promise<ColumnPlan | undefined> {
    const rules = this.rulesFor(request.subject);
    if (rules === undefined || rules.length === 0) return undefined;
    let guardRules: ColumnRules;
    let treatments: Map<string, ColumnTreatment>;
    const relations = new Map<string, readonly string[] | undefined>();
    try {
      const found = await this.#protectedTables(rules);
      if (typeof found === 'string') {
        return {
          applied: [],
          refusal: deny(
            'QUERY_REJECTED',
            `A column policy of source ${this.#o.source} names a table or column the database does not have, so your statements on this source are refused until an operator fixes governance.columns (the server log names it).`,
          ),
        };
      }
      treatments = found.treatments;
      const views = await this.#viewDependencies();
      guardRules = { tables: found.tables, opaque: this.#opaque(views, found.tables) };
      // Every relation the statement names, read before the synchronous analysis.
      await Promise.all(
        request.analysis.resolvedTables.map(async (t) => {
          if (t.schema === null) return;
          const relation = {
            ...(t.catalog !== undefined && { catalog: t.catalog }),
            schema: t.schema,
            name: t.name,
          };
          const described = await this.#describe(relation);
          relations.set(
            relationKey(relation),
            described?.columns.map((c) => c.name),
          );
        }),
      );
    } catch {
      return {
        applied: [],
        refusal: deny(
          'DB_UNAVAILABLE',
          `The column policies of source ${this.#o.source} need its catalog, which could not be read; try again shortly.`,
        ),
      };
    }
    const catalog = {
      columnsOf: (relation: RelationName): readonly string[] | undefined => {
        const exact = relations.get(relationKey(relation));
        if (exact !== undefined || this.#o.dialect === 'postgres') return exact;
        for (const [key, columns] of relations) {
          const [catalogName, schema, name] = JSON.parse(key) as [string | null, string, string];
          const candidate = {
            ...(catalogName !== null && { catalog: catalogName }),
            schema,
            name,
          };
          if (this.#sameRelation(candidate, relation)) return columns;
        }
        return undefined;
      },
    };
    const verdict: ColumnVerdict = checkColumns(request.sql, {
      dialect: this.#o.dialect,
      defaultSchema: this.#o.defaultSchema,
      ...(this.#o.defaultCatalog !== undefined && { defaultCatalog: this.#o.defaultCatalog }),
      ...(this.#o.namesCatalogs === true && { namesCatalogs: true }),
      rules: guardRules,
      catalog,
      mode: request.mode,
    });
    if (!verdict.ok) {
      return {
        applied: [],
        refusal: deny('QUERY_REJECTED', `${verdict.message} [rule ${verdict.reason}]`),
      };
    }
    if (verdict.outputs === undefined) return { applied: verdict.applied };
    const outputs: PlannedOutput[] = [];
    for (const output of verdict.outputs) {
      if (output.masked === undefined) {
        outputs.push({ name: output.name });
        continue;
      }
      const treatment = this.#treatmentOf(treatments, output.masked);
      if (treatment?.action !== 'mask') {
        // The guard marked a column this plan cannot tell how to mask: never pass it through.
        return {
          applied: verdict.applied,
          refusal: deny(
            'QUERY_REJECTED',
            'A column of this result is under a column policy that could not be applied, so the statement is refused.',
          ),
        };
      }
      outputs.push({ name: output.name, mask: { mask: treatment.mask, keep: treatment.keep } });
    }
    return { applied: verdict.applied, outputs };
  }

  #treatmentOf(
    treatments: ReadonlyMap<string, ColumnTreatment>,
    masked: RelationName & { readonly column: string },
  ): ColumnTreatment | undefined {
    const exact = treatments.get(`${relationKey(masked)}\u0000${masked.column}`);
    if (exact !== undefined) return exact;
    let found: ColumnTreatment | undefined;
    for (const [key, treatment] of treatments) {
      const [relation, column] = key.split('\u0000') as [string, string];
      const [catalogName, schema, name] = JSON.parse(relation) as [string | null, string, string];
      const candidate = { ...(catalogName !== null && { catalog: catalogName }), schema, name };
      if (!this.#sameRelation(candidate, masked) || !this.#same(column, masked.column)) continue;
      found = found === undefined ? treatment : strictestTreatment(found, treatment);
    }
    return found;
  }

  async verify(): Promise<string[]> {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const policy of this.#o.policies) {
      const described = await this.#describe(policy.table);
      if (described === null) {
        const problem = `governance.columns: source ${this.#o.source} has no table ${qualified(policy.table)}; a policy on a table that does not exist protects nothing (check its spelling)`;
        if (!seen.has(problem)) problems.push(problem);
        seen.add(problem);
        continue;
      }
      for (const column of policy.columns) {
        if (described.columns.some((c) => this.#same(c.name, column))) continue;
        const problem = `governance.columns: table ${qualified(policy.table)} of source ${this.#o.source} has no column ${column}; a policy on a column that does not exist protects nothing (check its spelling)`;
        if (!seen.has(problem)) problems.push(problem);
        seen.add(problem);
      }
    }
    return problems;
  }
}

/**
 * Masks a read's result as planned, in place (no copy of the rows): first
 * the result's columns must be the planned ones (count, and names: exactly
 * on PostgreSQL, case-insensitively on MySQL and ODBC), or nothing is
 * returned; then the masked positions of every row, and their type
 * becomes text.
 */
export function applyColumnPlan(
  result: ReadResult,
  outputs: readonly PlannedOutput[],
  masker: Masker,
  dialect: Dialect,
): void {
  const same =
    dialect === 'postgres'
      ? (a: string, b: string) => a === b
      : (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const differs =
    result.columns.length !== outputs.length ||
    outputs.some((output, i) => !same(output.name, result.columns[i]?.name ?? ''));
  if (differs) {
    throw new SqlwardenError(
      'QUERY_REJECTED',
      "The result's columns are not the ones the statement was checked for (the table may have changed), so nothing is returned; try again, and name the columns you need.",
    );
  }
  const masked: Array<[number, MaskSpec]> = [];
  outputs.forEach((output, i) => {
    if (output.mask !== undefined) masked.push([i, output.mask]);
  });
  for (const [i] of masked) {
    const column = result.columns[i];
    if (column !== undefined) result.columns[i] = { name: column.name, type: 'text' };
  }
  for (const row of result.rows) {
    for (const [i, spec] of masked) row[i] = masker.mask(row[i], spec);
  }
}

/** The type describe_table shows for a masked column. */
export function maskedType(treatment: ColumnTreatment & { readonly action: 'mask' }): string {
  return `text (masked: ${treatment.mask})`;
}

/**
 * A table's description as a principal under column policies sees it:
 * denied columns are gone, and so is every key, foreign key (this table's,
 * or one pointing at a denied column elsewhere) and index that names one,
 * so no part of the description lists them; a masked column is listed
 * with the type its values have in results, `text (masked: <how>)`.
 */
export function describeUnderPolicies(
  table: TableDescription,
  governance: ColumnGovernance | undefined,
  subject: PolicySubject,
): TableDescription {
  if (governance?.rulesFor(subject) === undefined) return table;
  const own = governance.treatments(subject, table);
  const denied = (treat: (c: string) => ColumnTreatment | undefined, columns: readonly string[]) =>
    columns.some((c) => treat(c)?.action === 'deny');
  const columns = [];
  for (const column of table.columns) {
    const treatment = own(column.name);
    if (treatment?.action === 'deny') continue;
    columns.push(
      treatment?.action === 'mask' ? { ...column, type: maskedType(treatment) } : column,
    );
  }
  return {
    ...table,
    columns,
    primaryKey: denied(own, table.primaryKey) ? [] : table.primaryKey,
    foreignKeys: table.foreignKeys.filter(
      (fk) =>
        !denied(own, fk.columns) &&
        !denied(governance.treatments(subject, fk.references), fk.references.columns),
    ),
    indexes: table.indexes.filter((index) => !denied(own, index.columns)),
  };
}
