/** Introspection: tables, descriptions, names bound (never interpolated). (conformance suite, docs/conformance.md) */
import type { TableDescription } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import {
  APOSTROPHE_TABLE,
  ATTACKS,
  type ConformanceContext,
  FIXTURE_TABLES,
  SPACE_TABLE,
  signal,
} from './context.js';

export function describeIntrospection(ctx: ConformanceContext): void {
  const { target, adminCount, can } = ctx;
  describe('introspection', () => {
    const oddTables = () => [target.fixture.quoteTable, APOSTROPHE_TABLE, SPACE_TABLE];
    /** A comment as the target reports it: without comments (target.ts), none (never another's). */
    const comment = (text: string) => (can.comments ? text : null);

    it('lists exactly the tables and views of the requested schema, with kinds, estimates and comments', async () => {
      const tables = await ctx.adapter.listTables({ schemas: [ctx.ns.name], signal: signal() });
      expect(tables.map((t) => t.name).sort()).toEqual([...FIXTURE_TABLES, ...oddTables()].sort());
      for (const table of tables) {
        expect(table.schema).toBe(ctx.ns.name);
        expect(table.kind).toBe(table.name === 'cf_parent_view' ? 'view' : 'table');
        if (table.estimatedRows !== null) {
          expect(Number.isInteger(table.estimatedRows)).toBe(true);
          expect(table.estimatedRows).toBeGreaterThanOrEqual(0);
        }
      }
      const byName = new Map(tables.map((t) => [t.name, t]));
      expect(byName.get('cf_parent')?.comment).toBe(comment('Parent rows'));
      expect(byName.get('cf_child')?.comment, 'no comment is null, not empty').toBeNull();
      expect(byName.get('cf_parent_view')?.comment, 'a view without comment').toBeNull();
    });

    it('lists only the schemas it is asked for, each of them', async () => {
      const otherOnly = await ctx.adapter.listTables({
        schemas: [ctx.other.name],
        signal: signal(),
      });
      expect(otherOnly.map((t) => [t.schema, t.name])).toEqual([[ctx.other.name, 'cf_other']]);
      const both = await ctx.adapter.listTables({
        schemas: [ctx.ns.name, ctx.other.name],
        signal: signal(),
      });
      expect(new Set(both.map((t) => t.schema))).toEqual(new Set([ctx.ns.name, ctx.other.name]));
      expect(both).toHaveLength(FIXTURE_TABLES.length + oddTables().length + 1);
    });

    it('lists every user schema when none is requested', async () => {
      const all = await ctx.adapter.listTables({ signal: signal() });
      const names = new Set(all.map((t) => `${t.schema}.${t.name}`));
      expect(names.has(`${ctx.ns.name}.cf_parent`)).toBe(true);
      expect(names.has(`${ctx.other.name}.cf_other`)).toBe(true);
    });

    it('binds schema names: a schema name that is an injection lists nothing', async () => {
      for (const attack of [...ATTACKS, `${ctx.ns.name}' OR '1'='1`]) {
        expect(await ctx.adapter.listTables({ schemas: [attack], signal: signal() })).toEqual([]);
      }
      expect(await adminCount('cf_victim')).toBe(1);
    });

    it('describes a table: columns with type, nullability, default and comment, primary key, unique index', async () => {
      const table = await ctx.adapter.describeTable({
        table: { schema: ctx.ns.name, name: 'cf_parent' },
        signal: signal(),
      });
      const types = target.expected.columnTypes.cf_parent;
      expect(table).toMatchObject({
        schema: ctx.ns.name,
        name: 'cf_parent',
        kind: 'table',
        comment: comment('Parent rows'),
        primaryKey: ['id'],
        foreignKeys: [],
      });
      expect(table?.columns).toEqual([
        { name: 'id', type: types.id, nullable: false, default: null, comment: null },
        { name: 'code', type: types.code, nullable: false, default: null, comment: null },
        {
          name: 'name',
          type: types.name,
          nullable: true,
          default: target.expected.nameDefault,
          comment: comment('Display name'),
        },
      ]);
      const indexes = table?.indexes ?? [];
      if (!can.indexes) {
        // Without an index catalog: none reported, never a guess.
        expect(table?.indexes).toEqual([]);
        return;
      }
      expect(indexes).toHaveLength(2);
      expect(indexes.find((i) => i.primary)).toMatchObject({
        columns: ['id'],
        unique: true,
        primary: true,
      });
      expect(indexes.find((i) => !i.primary)).toEqual({
        name: 'cf_parent_code_key',
        columns: ['code'],
        unique: true,
        primary: false,
      });
    });

    it('describes foreign keys with the referenced table and columns, and multi-column indexes in order', async () => {
      const table = await ctx.adapter.describeTable({
        table: { schema: ctx.ns.name, name: 'cf_child' },
        signal: signal(),
      });
      const types = target.expected.columnTypes.cf_child;
      expect(table).toMatchObject({
        schema: ctx.ns.name,
        name: 'cf_child',
        kind: 'table',
        comment: null,
        primaryKey: ['id'],
      });
      expect(table?.columns).toEqual([
        { name: 'id', type: types.id, nullable: false, default: null, comment: null },
        {
          name: 'parent_id',
          type: types.parent_id,
          nullable: false,
          default: null,
          comment: null,
        },
        {
          name: 'note',
          type: types.note,
          nullable: true,
          default: null,
          comment: comment('Free text'),
        },
      ]);
      expect(table?.foreignKeys).toEqual([
        {
          name: 'cf_child_parent_fk',
          columns: ['parent_id'],
          references: { schema: ctx.ns.name, name: 'cf_parent', columns: ['id'] },
        },
      ]);
      if (!can.indexes) {
        // Without an index catalog: none reported, never a guess.
        expect(table?.indexes).toEqual([]);
        return;
      }
      const secondary = (table?.indexes ?? [])
        .filter((i) => !i.primary)
        .sort((a, b) => a.name.localeCompare(b.name));
      expect(secondary).toEqual([
        {
          name: 'cf_child_note_parent_idx',
          columns: ['note', 'parent_id'],
          unique: false,
          primary: false,
        },
        { name: 'cf_child_parent_idx', columns: ['parent_id'], unique: false, primary: false },
      ]);
      expect((table?.indexes ?? []).filter((i) => i.primary)).toHaveLength(1);
    });

    it('describes a view: its columns, no keys', async () => {
      const view = await ctx.adapter.describeTable({
        table: { schema: ctx.ns.name, name: 'cf_parent_view' },
        signal: signal(),
      });
      expect(view).toMatchObject({
        name: 'cf_parent_view',
        kind: 'view',
        primaryKey: [],
        foreignKeys: [],
        indexes: [],
      });
      expect(view?.columns.map((c) => [c.name, c.type])).toEqual([
        ['id', target.expected.columnTypes.cf_parent.id],
        ['code', target.expected.columnTypes.cf_parent.code],
      ]);
    });

    it('returns null for a table that does not exist, in this or a missing schema', async () => {
      const missing = async (schema: string, name: string) =>
        ctx.adapter.describeTable({ table: { schema, name }, signal: signal() });
      expect(await missing(ctx.ns.name, 'cf_nope')).toBeNull();
      expect(await missing(`${ctx.ns.name}_nope`, 'cf_parent')).toBeNull();
      expect(await missing(ctx.other.name, 'cf_parent'), 'a table of another schema').toBeNull();
    });

    it('binds names: tables named with a quote, an apostrophe and a space are described', async () => {
      for (const name of oddTables()) {
        const table = await ctx.adapter.describeTable({
          table: { schema: ctx.ns.name, name },
          signal: signal(),
        });
        expect(table, name).not.toBeNull();
        const described = table as TableDescription;
        expect([described.schema, described.name, described.kind]).toEqual([
          ctx.ns.name,
          name,
          'table',
        ]);
        expect(described.columns.map((c) => c.name)).toEqual(['id', 'label']);
        expect(described.primaryKey).toEqual(['id']);
      }
    });

    it('binds names: a table name that is an injection is not found and changes nothing', async () => {
      for (const attack of [...ATTACKS, "cf_parent' OR '1'='1", 'cf_parent" OR "1"="1']) {
        expect(
          await ctx.adapter.describeTable({
            table: { schema: ctx.ns.name, name: attack },
            signal: signal(),
          }),
          attack,
        ).toBeNull();
        expect(
          await ctx.adapter.describeTable({
            table: { schema: attack, name: 'cf_parent' },
            signal: signal(),
          }),
          attack,
        ).toBeNull();
      }
      expect(await adminCount('cf_victim')).toBe(1);
    });
  });
}
