import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_FIXTURE, createTestDatabase, signal, type TestDatabase } from './test-support.js';

// Introspection and the function catalog against the real MariaDB, in a
// database of their own (the least-privilege report: grants.test.ts).

let db: TestDatabase;
let adapter: SourceAdapter;

beforeAll(async () => {
  db = await createTestDatabase();
  for (const statement of CATALOG_FIXTURE) await db.admin.query(statement);
  adapter = db.adapter();
});

afterAll(async () => {
  await db?.drop();
});

describe('introspection', () => {
  it('lists tables and views of the given schemas, with kind, estimate and comment', async () => {
    const tables = await adapter.listTables({ schemas: [db.name], signal: signal() });
    expect(tables.map((t) => `${t.name}:${t.kind}`)).toEqual([
      'Items:table',
      'cheap_items:view',
      'customers:table',
      'items:table',
      'numbers:table',
    ]);
    expect(tables.find((t) => t.name === 'customers')).toEqual({
      schema: db.name,
      name: 'customers',
      kind: 'table',
      estimatedRows: expect.any(Number),
      comment: 'People who buy',
    });
    expect(tables.find((t) => t.name === 'cheap_items')).toMatchObject({
      estimatedRows: null,
      comment: null,
    });
    expect(tables.find((t) => t.name === 'numbers')?.estimatedRows).toBeGreaterThan(500);
    expect(tables.find((t) => t.name === 'items')?.comment).toBeNull();
  });

  it('matches schema names exactly and lists nothing for no schemas', async () => {
    expect(
      await adapter.listTables({ schemas: [db.name.toUpperCase()], signal: signal() }),
    ).toEqual([]);
    expect(await adapter.listTables({ schemas: [], signal: signal() })).toEqual([]);
    const all = await adapter.listTables({ signal: signal() });
    expect(all.some((t) => t.schema === db.name && t.name === 'items')).toBe(true);
    expect(all.some((t) => ['mysql', 'information_schema', 'sys'].includes(t.schema))).toBe(false);
  });

  it('describes a table: columns, primary key, foreign keys, indexes', async () => {
    const table = await adapter.describeTable({
      table: { schema: db.name, name: 'items' },
      signal: signal(),
    });
    expect(table).toEqual({
      schema: db.name,
      name: 'items',
      kind: 'table',
      estimatedRows: expect.any(Number),
      comment: null,
      columns: [
        { name: 'id', type: 'int(11)', nullable: false, default: null, comment: null },
        { name: 'customer_id', type: 'int(11)', nullable: true, default: null, comment: null },
        { name: 'name', type: 'varchar(50)', nullable: false, default: "'unnamed'", comment: null },
        {
          name: 'price',
          type: 'decimal(12,2)',
          nullable: true,
          default: null,
          comment: 'Unit price in EUR',
        },
        { name: 'note', type: 'text', nullable: true, default: null, comment: null },
      ],
      primaryKey: ['id'],
      foreignKeys: [
        {
          name: 'items_customer',
          columns: ['customer_id'],
          references: { schema: db.name, name: 'customers', columns: ['id'] },
        },
      ],
      indexes: [
        { name: 'PRIMARY', columns: ['id'], unique: true, primary: true },
        { name: 'items_customer', columns: ['customer_id'], unique: false, primary: false },
        { name: 'items_name', columns: ['name', 'customer_id'], unique: true, primary: false },
        { name: 'items_price', columns: ['price'], unique: false, primary: false },
      ],
    });
  });

  it('tells Items from items, describes a view, and returns null for a table that does not exist', async () => {
    const upper = await adapter.describeTable({
      table: { schema: db.name, name: 'Items' },
      signal: signal(),
    });
    expect(upper?.columns.map((c) => c.name)).toEqual(['id']);
    const view = await adapter.describeTable({
      table: { schema: db.name, name: 'cheap_items' },
      signal: signal(),
    });
    expect(view).toMatchObject({ kind: 'view', primaryKey: [], indexes: [], foreignKeys: [] });
    expect(view?.columns.map((c) => c.name)).toEqual(['id', 'name']);
    expect(
      await adapter.describeTable({ table: { schema: db.name, name: 'nope' }, signal: signal() }),
    ).toBeNull();
    expect(
      await adapter.describeTable({
        table: { schema: 'no_such_db', name: 'items' },
        signal: signal(),
      }),
    ).toBeNull();
  });

  it('reads the function catalog: routines as user-defined, MODIFIES SQL DATA as volatile, no system list', async () => {
    const catalog = await adapter.functionCatalog();
    const schema = db.name.toLowerCase();
    expect(catalog.userDefined).toEqual(
      expect.arrayContaining([
        'my_writer',
        `${schema}.my_writer`,
        'my_reader',
        `${schema}.my_reader`,
        'my_proc',
        `${schema}.my_proc`,
      ]),
    );
    expect(catalog.volatile).toEqual(expect.arrayContaining(['my_writer', `${schema}.my_writer`]));
    expect(catalog.volatile).not.toContain('my_reader');
    expect(catalog.system).toBeUndefined();
    expect(await adapter.functionCatalog()).toBe(catalog);
  });
});
