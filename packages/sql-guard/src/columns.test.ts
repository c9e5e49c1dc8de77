import { beforeAll, describe, expect, it } from 'vitest';
import { checkColumns } from './columns.js';
import {
  COLUMN_ATTACK_TABLES,
  type ColumnAllowed,
  type ColumnAttack,
  MYSQL_COLUMN_ALLOWED,
  MYSQL_COLUMN_ATTACKS,
  ODBC_COLUMN_ALLOWED,
  ODBC_COLUMN_ATTACKS,
  POSTGRES_COLUMN_ALLOWED,
  POSTGRES_COLUMN_ATTACKS,
} from './columns-attacks.js';
import type { ColumnCheckOptions, ColumnRules, RelationName } from './columns-types.js';
import { loadSqlGuard } from './guard.js';
import type { Dialect } from './types.js';

beforeAll(() => loadSqlGuard());

function rules(catalog?: string): ColumnRules {
  const at = catalog === undefined ? {} : { catalog };
  return {
    tables: [
      {
        ...at,
        schema: 'hr',
        name: 'people',
        columns: new Map([
          ['ssn', 'deny'],
          ['salary', 'mask'],
        ]),
      },
      { ...at, schema: 'hr', name: 'payroll', columns: new Map([['amount', 'mask']]) },
    ],
    opaque: [{ ...at, schema: 'hr', name: 'staff_directory', reason: 'it reads hr.people' }],
  };
}

const catalog = {
  columnsOf: (relation: RelationName) => COLUMN_ATTACK_TABLES[relation.name.toLowerCase()],
};

function optionsFor(dialect: Dialect, mode: 'read' | 'write' = 'read'): ColumnCheckOptions {
  if (dialect === 'odbc') {
    return {
      dialect,
      defaultSchema: 'hr',
      defaultCatalog: 'main',
      namesCatalogs: true,
      rules: rules('main'),
      catalog,
      mode,
    };
  }
  return { dialect, defaultSchema: 'hr', rules: rules(), catalog, mode };
}

const SUITES: ReadonlyArray<readonly [Dialect, readonly ColumnAttack[], readonly ColumnAllowed[]]> =
  [
    ['postgres', POSTGRES_COLUMN_ATTACKS, POSTGRES_COLUMN_ALLOWED],
    ['mysql', MYSQL_COLUMN_ATTACKS, MYSQL_COLUMN_ALLOWED],
    ['odbc', ODBC_COLUMN_ATTACKS, ODBC_COLUMN_ALLOWED],
  ];

const COLUMN_REASONS = ['COLUMN_DENIED', 'COLUMN_MASKED', 'COLUMN_UNRESOLVED', 'RELATION_GOVERNED'];

describe.each(SUITES)('column policies on %s', (dialect, attacks, allowed) => {
  it('has at least 60 distinct attacks', () => {
    expect(new Set(attacks.map((a) => a.sql)).size).toBe(attacks.length);
    expect(attacks.length).toBeGreaterThanOrEqual(60);
  });

  it.each(attacks.map((a) => [a.sql, a] as const))('refuses %s', (_sql, attack) => {
    const verdict = checkColumns(attack.sql, optionsFor(dialect, attack.mode));
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(COLUMN_REASONS).toContain(verdict.reason);
    expect(verdict.code).toBe('QUERY_REJECTED');
    // Messages never quote the statement's literals.
    expect(verdict.message).not.toMatch(/'1'|'1%'|'123'|\^1/);
  });

  it.each(allowed.map((a) => [a.sql, a] as const))('allows %s', (_sql, entry) => {
    const verdict = checkColumns(entry.sql, optionsFor(dialect, entry.mode));
    expect(verdict).toMatchObject({ ok: true });
    if (!verdict.ok) return;
    if (entry.outputs === undefined) {
      expect(verdict.outputs).toBeUndefined();
      expect(verdict.applied).toEqual([]);
      return;
    }
    expect(verdict.outputs?.map((o) => o.name)).toEqual(entry.outputs);
    const masked = (verdict.outputs ?? []).flatMap((o, i) => (o.masked === undefined ? [] : [i]));
    expect(masked).toEqual(entry.masked);
    expect(verdict.applied.length).toBeGreaterThan(0);
    for (const policy of verdict.applied) expect(policy.action).toBe('mask');
  });
});

describe('column verdicts', () => {
  it('marks a masked output with its table and column, and records the policy', () => {
    const verdict = checkColumns('SELECT id, salary FROM hr.people', optionsFor('postgres'));
    expect(verdict).toEqual({
      ok: true,
      outputs: [
        { name: 'id' },
        { name: 'salary', masked: { schema: 'hr', name: 'people', column: 'salary' } },
      ],
      applied: [{ table: 'hr.people', column: 'salary', action: 'mask' }],
    });
  });

  it('names the columns that may be selected instead of a * over a table with a denied column', () => {
    const verdict = checkColumns('SELECT * FROM people', optionsFor('mysql'));
    expect(verdict).toMatchObject({ ok: false, reason: 'COLUMN_DENIED' });
    if (verdict.ok) return;
    expect(verdict.message).toContain('hr.people');
    expect(verdict.message).toContain('id, name, dept, salary');
  });

  it('refuses a * beside a masked column when the catalog does not know a column list', () => {
    const options = { ...optionsFor('postgres'), catalog: { columnsOf: () => undefined } };
    expect(checkColumns('SELECT * FROM payroll', options)).toMatchObject({
      ok: false,
      reason: 'COLUMN_UNRESOLVED',
    });
  });

  it('refuses p.f in PostgreSQL when the catalog cannot tell that f is a column', () => {
    const options = { ...optionsFor('postgres'), catalog: { columnsOf: () => undefined } };
    expect(checkColumns('SELECT p.name FROM people p', options)).toMatchObject({
      ok: false,
      reason: 'COLUMN_UNRESOLVED',
    });
    expect(checkColumns('SELECT name FROM people p', options)).toEqual({ ok: true, applied: [] });
  });

  it('gives the opaque relation its reason', () => {
    const verdict = checkColumns('SELECT id FROM hr.staff_directory', optionsFor('postgres'));
    expect(verdict).toMatchObject({ ok: false, reason: 'RELATION_GOVERNED' });
    if (!verdict.ok) expect(verdict.message).toContain('it reads hr.people');
    // The server's sentence arrives whole: its punctuation, past 64 characters.
    const reason =
      'the catalog cannot show which columns it reads, and this source has column policies';
    const options = optionsFor('postgres');
    const long = checkColumns('SELECT id FROM hr.staff_directory', {
      ...options,
      rules: {
        ...options.rules,
        opaque: [{ schema: 'hr', name: 'staff_directory', reason: `${reason}\u0000` }],
      },
    });
    if (long.ok) throw new Error('expected a refusal');
    expect(long.message).toContain(reason);
    expect(long.message).not.toContain('\u0000');
  });

  it('accepts any statement that touches no protected relation, even one it cannot analyse', () => {
    expect(
      checkColumns('SELECT * FROM orders NATURAL JOIN contractors', optionsFor('mysql')),
    ).toEqual({ ok: true, applied: [] });
    expect(checkColumns('SELECT * FROM other.people', optionsFor('postgres'))).toEqual({
      ok: true,
      applied: [],
    });
  });

  it('recognises a protected table however it is written', () => {
    for (const sql of [
      'SELECT ssn FROM "hr"."people"',
      'SELECT ssn FROM HR.People',
      'SELECT ssn FROM people',
    ]) {
      expect(checkColumns(sql, optionsFor('postgres'))).toMatchObject({ reason: 'COLUMN_DENIED' });
    }
    for (const sql of ['SELECT ssn FROM main..people', 'SELECT ssn FROM MAIN.HR.PEOPLE']) {
      expect(checkColumns(sql, optionsFor('odbc'))).toMatchObject({ reason: 'COLUMN_DENIED' });
    }
    expect(checkColumns('SELECT ssn FROM other.hr.people', optionsFor('odbc'))).toEqual({
      ok: true,
      applied: [],
    });
  });

  it('treats a masked column as denied in write mode', () => {
    expect(
      checkColumns('UPDATE people SET name = salary WHERE id = 1', optionsFor('postgres', 'write')),
    ).toMatchObject({ reason: 'COLUMN_DENIED' });
  });

  it('refuses text that is not a statement without throwing', () => {
    expect(checkColumns(42 as unknown as string, optionsFor('postgres'))).toMatchObject({
      reason: 'COLUMN_UNRESOLVED',
    });
    expect(checkColumns('SELEC ssn FROM people', optionsFor('mysql'))).toMatchObject({
      reason: 'COLUMN_UNRESOLVED',
    });
  });
});
