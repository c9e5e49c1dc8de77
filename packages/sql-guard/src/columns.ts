/**
 * Column policies: whether a statement that already passed checkRead or
 * checkWrite may run for a principal with column rules on the source, and
 * which output columns the runtime must mask. A security check: it returns
 * a verdict, never throws, and refuses what it cannot decide (fail closed).
 *
 * How (the dialect walkers fill columns-facts.ts; this file judges it):
 *   1. Every table the statement names is resolved as the guard resolves
 *      it (tables.ts: default schema, ODBC catalogs), compared
 *      case-insensitively. An opaque relation anywhere: RELATION_GOVERNED.
 *      No protected table anywhere: accepted, nothing to do.
 *   2. Protected column names are matched by name, case-insensitively,
 *      against every column reference anywhere in the statement: a column
 *      named like a protected column of any protected table the statement
 *      names is that column (over-approximation), unless it is qualified
 *      with a qualifier that resolves only to relations that are not
 *      protected tables. Deny: refused wherever it appears. Mask: allowed
 *      only as a plain column of the outermost select list.
 *   3. What reaches whole rows or renames columns is refused over a
 *      protected table: `*` / `t.*` (mask: allowed in the outermost select
 *      list when the catalog can expand it), PostgreSQL whole-row values
 *      (`p`, `p.f` functional notation for a name that is not a known
 *      column), column alias lists, NATURAL joins, USING a protected column.
 *   4. Derived tables and CTEs cannot carry a protected value out: every
 *      way their body could select one is refused inside the body (it is
 *      never the outermost select). So `s.x` over a subquery `s` is safe,
 *      and so is `*` over it; a masked column cannot be passed through a
 *      subquery or CTE (refused, documented).
 *   5. When the outermost select outputs a masked column, `outputs` lists
 *      every output column in order (stars expanded through the catalog),
 *      and ORDER BY / GROUP BY by position or by alias of a masked output,
 *      and DISTINCT, are refused (each compares the masked values).
 * Write mode: every protected column is denied (masks included), an
 * INSERT into a protected table without a column list is refused.
 *
 * Messages name tables and columns (identifiers the operator configured)
 * and never quote a literal of the statement. Verdicts are not cached.
 */

import type { ColumnFacts, ColumnUse, FactsOutcome, Relation, TableName } from './columns-facts.js';
import { mysqlFacts } from './columns-mysql.js';
import { postgresFacts } from './columns-postgres.js';
import type {
  AppliedPolicy,
  ColumnAction,
  ColumnCheckOptions,
  ColumnVerdict,
  OutputColumn,
  ProtectedTable,
  RelationName,
} from './columns-types.js';
import { shown } from './guard.js';
import { REJECTION_REASONS, type RejectionReason } from './reasons.js';
import { resolveOdbcTable, resolveSchema } from './tables.js';
import type { GuardRejection } from './types.js';

function reject(reason: RejectionReason, detail: string): GuardRejection {
  return {
    ok: false,
    code: 'QUERY_REJECTED',
    reason,
    message: `${REJECTION_REASONS[reason]} (${detail})`,
  };
}

/** An identifier safe to put in a message: bounded and printable. */

const lower = (name: string) => name.toLowerCase();
const same = (a: string, b: string) => lower(a) === lower(b);

function label(relation: RelationName): string {
  const name =
    relation.catalog === undefined
      ? `${relation.schema}.${relation.name}`
      : `${relation.catalog}.${relation.schema}.${relation.name}`;
  return shown(name);
}

function list(names: readonly string[]): string {
  return names.map(shown).join(', ');
}

/** Where a written table resolves: its schema (null: unknown) and, on ODBC, its catalog. */
function resolve(
  table: TableName,
  options: ColumnCheckOptions,
): { readonly schema: string | null; readonly catalog?: string } {
  const ref = { ...table, access: 'read' as const };
  if (options.dialect === 'odbc') {
    const catalogs =
      options.namesCatalogs === true ||
      options.defaultCatalog !== undefined ||
      table.catalog !== undefined;
    if (catalogs) {
      const resolved = resolveOdbcTable(ref, options);
      if (resolved.ok) return { catalog: resolved.catalog, schema: resolved.schema };
      // A default is missing (the guard refuses that with catalogs): match loosely.
      const schema = resolveSchema('odbc', ref, options.defaultSchema);
      return table.catalog === undefined ? { schema } : { schema, catalog: table.catalog };
    }
  }
  return { schema: resolveSchema(options.dialect, ref, options.defaultSchema) };
}

/**
 * Whether a written table may be the configured relation: same name, and
 * same schema and catalog where both are known; case-insensitive (an
 * over-approximation on case-sensitive names and quoted identifiers).
 */
function mayBe(relation: RelationName, table: TableName, options: ColumnCheckOptions): boolean {
  if (!same(relation.name, table.name)) return false;
  const where = resolve(table, options);
  if (where.schema !== null && !same(relation.schema, where.schema)) return false;
  if (where.catalog !== undefined && relation.catalog !== undefined)
    return same(relation.catalog, where.catalog);
  return true;
}

interface Policy {
  readonly table: ProtectedTable;
  readonly column: string;
  readonly action: ColumnAction;
}

/** The judge of one statement's facts: the rules resolved against what it names. */
class Judge {
  /** Protected tables the statement names. */
  readonly governed: ProtectedTable[] = [];
  /** Lower-cased protected column name → its policies on the governed tables. */
  readonly names = new Map<string, Policy[]>();
  private readonly protectedOf = new Map<Relation, ProtectedTable[]>();
  readonly applied: AppliedPolicy[] = [];
  /** Masked columns selected plainly, by output position. */
  readonly masked = new Map<number, NonNullable<OutputColumn['masked']>>();

  constructor(
    readonly facts: ColumnFacts,
    readonly options: ColumnCheckOptions,
  ) {
    for (const table of facts.tables) this.govern(table);
    for (const relation of facts.relations) {
      if (relation.table !== undefined)
        this.protectedOf.set(relation, this.matching(relation.table));
    }
  }

  matching(table: TableName): ProtectedTable[] {
    return this.options.rules.tables.filter((entry) => mayBe(entry, table, this.options));
  }

  private govern(table: TableName) {
    for (const entry of this.matching(table)) {
      if (this.governed.includes(entry)) continue;
      this.governed.push(entry);
      for (const [column, action] of entry.columns) {
        const policies = this.names.get(lower(column)) ?? [];
        policies.push({
          table: entry,
          column,
          action: this.options.mode === 'write' ? 'deny' : action,
        });
        this.names.set(lower(column), policies);
      }
    }
  }

  /** The protected tables a relation is (a join alias: those of its members). */
  protectedIn(relation: Relation): ProtectedTable[] {
    if (relation.kind === 'join')
      return (relation.members ?? []).flatMap((m) => this.protectedIn(m));
    return this.protectedOf.get(relation) ?? [];
  }

  /** The relations a qualifier may name (alias, or table name): an over-approximation. */
  qualified(qualifier: readonly string[]): Relation[] {
    const last = qualifier.at(-1) ?? '';
    return this.facts.relations.filter(
      (r) =>
        (r.alias !== null && same(r.alias, last)) ||
        (r.table !== undefined && same(r.table.name, last)),
    );
  }

  action(column: string, tables?: readonly ProtectedTable[]): ColumnAction | undefined {
    const policies = (this.names.get(lower(column)) ?? []).filter(
      (p) => tables === undefined || tables.includes(p.table),
    );
    if (policies.length === 0) return undefined;
    return policies.some((p) => p.action === 'deny') ? 'deny' : 'mask';
  }

  /** `hr.people.ssn` for messages: every governed table with a policy on that name. */
  where(column: string): string {
    const policies = this.names.get(lower(column)) ?? [];
    return [...new Set(policies.map((p) => `${label(p.table)}.${shown(p.column)}`))].join(', ');
  }

  hasDenied(entry: ProtectedTable): boolean {
    return [...entry.columns.values()].some((a) => this.options.mode === 'write' || a === 'deny');
  }

  deniedOf(entry: ProtectedTable): string[] {
    return [...entry.columns]
      .filter(([, a]) => this.options.mode === 'write' || a === 'deny')
      .map(([c]) => c);
  }

  record(policy: AppliedPolicy) {
    if (!this.applied.some((a) => a.table === policy.table && a.column === policy.column))
      this.applied.push(policy);
  }
}

/**
 * Checks a statement against a principal's column rules (see the header).
 * Call it only with a statement the guard's checkRead (mode `read`) or
 * checkWrite (mode `write`) accepted. Never throws.
 */
export function checkColumns(sql: string, options: ColumnCheckOptions): ColumnVerdict {
  try {
    return judge(sql, options);
  } catch {
    return reject('COLUMN_UNRESOLVED', 'the column analysis failed on this statement');
  }
}

function factsOf(sql: string, options: ColumnCheckOptions): FactsOutcome {
  switch (options.dialect) {
    case 'postgres':
    case 'odbc':
      return postgresFacts(sql, options.dialect);
    case 'mysql':
      return mysqlFacts(sql);
    default: {
      const never: never = options.dialect;
      return { ok: false, detail: `unknown dialect ${String(never)}` };
    }
  }
}

/**
 * An opaque relation's reason as a message shows it: the server's own
 * sentence (names from the configuration and the catalog), printable,
 * bounded; never the statement's text.
 */
function reasonText(reason: string): string {
  const clean = reason.replace(/[^\p{L}\p{N}\p{P}\p{Zs}]/gu, ' ').trim();
  return clean.length > 240 ? `${clean.slice(0, 239)}…` : clean;
}

function opaqueRefusal(tables: readonly TableName[], options: ColumnCheckOptions) {
  for (const opaque of options.rules.opaque ?? []) {
    if (tables.some((t) => mayBe(opaque, t, options))) {
      return reject(
        'RELATION_GOVERNED',
        `${label(opaque)} may not be queried: ${reasonText(opaque.reason)}`,
      );
    }
  }
  return null;
}

function judge(sql: string, options: ColumnCheckOptions): ColumnVerdict {
  if (typeof sql !== 'string') return reject('COLUMN_UNRESOLVED', 'the statement is not text');
  const outcome = factsOf(sql, options);
  if (!outcome.ok) {
    if (outcome.tables === undefined) return reject('COLUMN_UNRESOLVED', outcome.detail);
    const opaque = opaqueRefusal(outcome.tables, options);
    if (opaque !== null) return opaque;
    const touched = options.rules.tables.filter((entry) =>
      outcome.tables?.some((t) => mayBe(entry, t, options)),
    );
    if (touched.length === 0) return { ok: true, applied: [] };
    return reject(
      'COLUMN_UNRESOLVED',
      `${outcome.detail}, and it reads ${touched.map(label).join(', ')}, which has column policies; rewrite it with plain joins and named columns`,
    );
  }
  const { facts } = outcome;
  const opaque = opaqueRefusal(facts.tables, options);
  if (opaque !== null) return opaque;
  const state = new Judge(facts, options);
  if (state.governed.length === 0) return { ok: true, applied: [] };
  if (facts.unresolved !== null) {
    return reject(
      'COLUMN_UNRESOLVED',
      `the column check does not read ${facts.unresolved} in a statement that reads ${state.governed.map(label).join(', ')}`,
    );
  }
  return (
    structureRefusal(state) ?? columnRefusal(state) ?? starRefusal(state) ?? outputsVerdict(state)
  );
}

/** Alias lists, NATURAL and USING, INSERT without a column list. */
function structureRefusal(state: Judge): GuardRejection | null {
  const { facts } = state;
  for (const relation of facts.relations) {
    if (!relation.renames) continue;
    const tables =
      relation.kind === 'table'
        ? state.protectedIn(relation)
        : state.governed.filter((g) =>
            (relation.reads ?? []).some((t) => mayBe(g, t, state.options)),
          );
    const first = tables[0];
    if (first !== undefined) {
      return reject(
        state.hasDenied(first) ? 'COLUMN_DENIED' : 'COLUMN_MASKED',
        `a column alias list renames the columns of ${label(first)} by position, which hides its protected columns; remove the alias list and alias the columns you select instead`,
      );
    }
  }
  for (const tables of facts.natural) {
    const hit = state.governed.find((g) => tables.some((t) => mayBe(g, t, state.options)));
    if (hit !== undefined) {
      return reject(
        state.hasDenied(hit) ? 'COLUMN_DENIED' : 'COLUMN_MASKED',
        `a NATURAL join with ${label(hit)} compares every same-named column, protected ones included; join with ON and named columns`,
      );
    }
  }
  for (const column of facts.using) {
    const action = state.action(column);
    if (action !== undefined) {
      return reject(
        action === 'deny' ? 'COLUMN_DENIED' : 'COLUMN_MASKED',
        `USING (${shown(column)}) compares ${state.where(column)}, which has a column policy; join on other columns`,
      );
    }
  }
  for (const insert of facts.inserts) {
    if (insert.columns !== null) continue;
    const hit = state.matching(insert.table)[0];
    if (hit !== undefined) {
      return reject(
        'COLUMN_DENIED',
        `an INSERT into ${label(hit)} without a column list writes its protected columns (${list([...hit.columns.keys()])}); list the columns you write`,
      );
    }
  }
  return null;
}

/** Every column reference (see the header, 2 and 3). */
function columnRefusal(state: Judge): GuardRejection | null {
  const pg = state.options.dialect !== 'mysql';
  for (const use of state.facts.columns) {
    const column = use.parts.at(-1) ?? '';
    const qualifier = use.parts.slice(0, -1);
    if (qualifier.length === 0 && pg) {
      // PostgreSQL reads a name that is no column as the whole row of the relation of that name.
      const whole = state.facts.relations.find(
        (r) =>
          state.protectedIn(r).length > 0 &&
          ((r.alias !== null && same(r.alias, column)) ||
            (r.table !== undefined && same(r.table.name, column))),
      );
      if (whole !== undefined) {
        const entry = state.protectedIn(whole)[0] as ProtectedTable;
        return reject(
          state.hasDenied(entry) ? 'COLUMN_DENIED' : 'COLUMN_MASKED',
          `${shown(column)} used as a value is the whole row of ${label(entry)}, protected columns included; select named columns instead`,
        );
      }
    }
    let tables: ProtectedTable[] | undefined;
    if (qualifier.length > 0) {
      const relations = state.qualified(qualifier);
      const governed = [...new Set(relations.flatMap((r) => state.protectedIn(r)))];
      if (relations.length > 0 && governed.length === 0) continue; // provably another relation's column
      if (governed.length > 0) tables = governed;
      if (pg && governed.length > 0 && state.action(column, governed) === undefined) {
        // `p.f` where f is no column of p is the call f(p) on the whole row (row_to_json, concat...).
        for (const entry of governed) {
          const known = state.options.catalog.columnsOf(entry);
          if (known === undefined || !known.some((c) => same(c, column))) {
            return reject(
              'COLUMN_UNRESOLVED',
              `${shown(use.parts.join('.'))}: ${shown(column)} is not a known column of ${label(entry)}, and in PostgreSQL ${shown(qualifier.join('.'))}.${shown(column)} can call a function on the whole row; name a column of the table`,
            );
          }
        }
      }
    }
    const action = state.action(column, tables);
    if (action === undefined) continue;
    if (action === 'deny') {
      return reject(
        'COLUMN_DENIED',
        `${state.where(column)} is denied: a column named ${shown(column)} may not appear anywhere in a statement that reads ${state.governed.map(label).join(', ')} (if you meant another table's column, qualify it with that table's alias)`,
      );
    }
    const refusal = maskedOutput(state, use, column, tables);
    if (refusal !== null) return refusal;
  }
  return null;
}

function maskedOutput(
  state: Judge,
  use: ColumnUse,
  column: string,
  tables: ProtectedTable[] | undefined,
): GuardRejection | null {
  const outermost = state.facts.outermost;
  const elsewhere = reject(
    'COLUMN_MASKED',
    `${state.where(column)} is masked: a column named ${shown(column)} may appear only as a plain column of the outermost select list, not in WHERE, JOIN, ORDER BY, GROUP BY, HAVING, DISTINCT, functions, expressions, subqueries, CTEs or set operations`,
  );
  if (use.output === undefined || outermost === null) return elsewhere;
  const qualifier = use.parts.slice(0, -1);
  const candidates = outermost.block.relations.filter(
    (r) =>
      qualifier.length === 0 ||
      (r.alias !== null && same(r.alias, qualifier.at(-1) ?? '')) ||
      (r.table !== undefined && same(r.table.name, qualifier.at(-1) ?? '')),
  );
  const owners = [
    ...new Set(
      candidates
        .flatMap((r) => state.protectedIn(r))
        .filter(
          (t) =>
            (tables === undefined || tables.includes(t)) && state.action(column, [t]) === 'mask',
        ),
    ),
  ];
  const owner = owners[0];
  if (owners.length !== 1 || owner === undefined) {
    return reject(
      'COLUMN_MASKED',
      owners.length === 0
        ? `a column named ${shown(column)} is masked on ${state.where(column)}, and this one is not selected from that table in the outermost FROM; select it from the table directly, or qualify another table's column with its alias`
        : `${shown(column)} could be the masked column of more than one table; qualify it with its table's alias`,
    );
  }
  const policyColumn = [...owner.columns.keys()].find((c) => same(c, column)) ?? column;
  state.masked.set(use.output, {
    ...(owner.catalog === undefined ? {} : { catalog: owner.catalog }),
    schema: owner.schema,
    name: owner.name,
    column: policyColumn,
  });
  return null;
}

/** The relations a `*` covers (join members flattened). */
function covered(state: Judge, star: ColumnFacts['stars'][number]): Relation[] | null {
  const relations =
    star.qualifier === null ? (star.block?.relations ?? null) : state.qualified(star.qualifier);
  if (relations === null) return null;
  return relations.flatMap((r) => (r.kind === 'join' ? [...(r.members ?? [])] : [r]));
}

/** Every `*` and `t.*` (see the header, 3). */
function starRefusal(state: Judge): GuardRejection | null {
  for (const star of state.facts.stars) {
    const relations = covered(state, star);
    if (relations === null || (star.qualifier !== null && relations.length === 0)) {
      return reject(
        'COLUMN_UNRESOLVED',
        'a * whose relation the column check cannot place; name the columns',
      );
    }
    for (const relation of relations) {
      for (const entry of state.protectedIn(relation)) {
        if (state.hasDenied(entry)) {
          const denied = state.deniedOf(entry);
          const known = state.options.catalog.columnsOf(entry);
          const allowed = known?.filter((c) => !denied.some((d) => same(d, c)));
          const instead =
            allowed === undefined
              ? `name the columns you need, without ${list(denied)}`
              : allowed.length === 0
                ? 'no column of it may be selected'
                : `name the columns you may select instead: ${list(allowed)}`;
          return reject(
            'COLUMN_DENIED',
            `* over ${label(entry)} would include its denied column(s) ${list(denied)}; ${instead}`,
          );
        }
        if (star.output === undefined) {
          return reject(
            'COLUMN_MASKED',
            `a * over ${label(entry)} outside the outermost select list (in a subquery, CTE, function or RETURNING) would pass its masked column(s) ${list([...entry.columns.keys()])} on unmasked; name the columns`,
          );
        }
      }
    }
  }
  return null;
}

/** The verdict once nothing is refused: `outputs` when a masked column is selected. */
function outputsVerdict(state: Judge): ColumnVerdict {
  const masked = state.masked;
  const outermost = state.facts.outermost;
  const maskStars =
    outermost !== null &&
    state.facts.stars.some(
      (s) =>
        s.output !== undefined &&
        (covered(state, s) ?? []).some((r) => state.protectedIn(r).length > 0),
    );
  if (outermost === null || (masked.size === 0 && !maskStars)) return { ok: true, applied: [] };
  if (outermost.distinct) {
    return reject(
      'COLUMN_MASKED',
      'DISTINCT compares the masked values of the selected masked column(s); remove DISTINCT or the masked column',
    );
  }
  const outputs: OutputColumn[] = [];
  for (const [index, target] of outermost.targets.entries()) {
    if (target.kind !== 'star') {
      const mask = target.kind === 'column' ? masked.get(index) : undefined;
      outputs.push(
        mask === undefined ? { name: target.name } : { name: target.name, masked: mask },
      );
      continue;
    }
    const relations = covered(state, { qualifier: target.qualifier, block: outermost.block }) ?? [];
    for (const relation of relations) {
      const expanded = expand(state, relation);
      if (typeof expanded === 'string') return reject('COLUMN_UNRESOLVED', expanded);
      outputs.push(...expanded);
    }
  }
  for (const position of outermost.positions) {
    if (!Number.isInteger(position) || outputs[position - 1]?.masked !== undefined) {
      return reject(
        'COLUMN_MASKED',
        `ORDER BY or GROUP BY position ${Number.isInteger(position) ? position : '?'} is a masked column (sorting and grouping compare the real values); order or group by other columns`,
      );
    }
  }
  const maskedNames = new Set(
    outputs.filter((o) => o.masked !== undefined).map((o) => lower(o.name)),
  );
  for (const use of state.facts.columns) {
    if (
      use.output === undefined &&
      use.parts.length === 1 &&
      maskedNames.has(lower(use.parts[0] ?? ''))
    ) {
      return reject(
        'COLUMN_MASKED',
        `${shown(use.parts[0] ?? '')} names a masked output column; ORDER BY, GROUP BY or HAVING by it would compare the real values: use another column or alias`,
      );
    }
  }
  for (const output of outputs) {
    if (output.masked === undefined) continue;
    state.record({ table: label(output.masked), column: output.masked.column, action: 'mask' });
  }
  return { ok: true, outputs, applied: state.applied };
}

/** The output columns a `*` gives over one relation, or why they are unknown. */
function expand(state: Judge, relation: Relation): OutputColumn[] | string {
  if (relation.merged) {
    return 'a * over a USING or NATURAL join does not list its columns plainly; name the columns to select a masked column';
  }
  if (relation.kind === 'derived') {
    if (relation.outputs === undefined)
      return `the columns of the subquery ${shown(relation.alias ?? '')} are not plain names; name the columns to select a masked column`;
    return relation.outputs.map((name) => ({ name }));
  }
  if (relation.kind !== 'table' || relation.table === undefined)
    return 'a * over a function or VALUES cannot be expanded; name the columns to select a masked column';
  const entry = state.protectedIn(relation)[0];
  const where = resolve(relation.table, state.options);
  const name: RelationName | null =
    entry ??
    (where.schema === null
      ? null
      : {
          ...(where.catalog === undefined ? {} : { catalog: where.catalog }),
          schema: where.schema,
          name: relation.table.name,
        });
  const columns = name === null ? undefined : state.options.catalog.columnsOf(name);
  if (name === null || columns === undefined) {
    return `the column list of ${shown(relation.table.name)} is not known, so a * beside a masked column cannot be masked position by position; name the columns`;
  }
  return columns.map((column) => {
    if (entry === undefined || state.action(column, [entry]) !== 'mask') return { name: column };
    const policyColumn = [...entry.columns.keys()].find((c) => same(c, column)) ?? column;
    return {
      name: column,
      masked: {
        ...(entry.catalog === undefined ? {} : { catalog: entry.catalog }),
        schema: entry.schema,
        name: entry.name,
        column: policyColumn,
      },
    };
  });
}
