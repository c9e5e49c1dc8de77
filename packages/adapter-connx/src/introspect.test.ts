import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOTH_DRIVERS, type OdbcTarget } from './test-support.js';

describe.each(BOTH_DRIVERS)('the catalog over %s', (_name, makeTarget) => {
  let target: OdbcTarget;
  beforeAll(async () => {
    target = await makeTarget();
    await target.admin(
      'CREATE TABLE orders (id INTEGER NOT NULL, line INTEGER NOT NULL, note VARCHAR(20), PRIMARY KEY (line, id))',
    );
    await target.admin('CREATE VIEW open_orders AS SELECT id FROM orders');
    await target.admin(
      'CREATE TABLE order_notes (id INTEGER PRIMARY KEY, order_line INTEGER NOT NULL, order_id INTEGER NOT NULL, CONSTRAINT order_notes_order_fk FOREIGN KEY (order_line, order_id) REFERENCES orders (line, id))',
    );
  });
  afterAll(async () => target.drop());

  it('lists the tables and views of a schema (on MariaDB, the database)', async () => {
    const { adapter } = target.adapter();
    const tables = await adapter.listTables({
      schemas: [target.name],
      signal: new AbortController().signal,
    });
    expect(tables.map((t) => [t.schema, t.name, t.kind])).toEqual([
      [target.name, 'open_orders', 'view'],
      [target.name, 'order_notes', 'table'],
      [target.name, 'orders', 'table'],
    ]);
  });

  it('describes a table: columns in order, nullability, the primary key in key order', async () => {
    const { adapter } = target.adapter();
    const table = await adapter.describeTable({
      table: { schema: target.name, name: 'orders' },
      signal: new AbortController().signal,
    });
    expect(table?.columns.map((c) => [c.name, c.nullable])).toEqual([
      ['id', false],
      ['line', false],
      ['note', true],
    ]);
    // In key order (KEY_SEQ). MariaDB ODBC 3.1 numbers KEY_SEQ in the table's
    // column order instead (docs/connx.md, Catalog): what it says is reported.
    expect(table?.primaryKey).toEqual(
      target.profile === 'postgres' ? ['line', 'id'] : ['id', 'line'],
    );
    expect(table?.columns[2]?.type).toMatch(/varchar/);
  });

  it('describes foreign keys (SQLForeignKeys): name, columns in key order, the referenced table and columns', async () => {
    const { adapter } = target.adapter();
    const notes = await adapter.describeTable({
      table: { schema: target.name, name: 'order_notes' },
      signal: new AbortController().signal,
    });
    expect(notes?.foreignKeys).toEqual([
      {
        name: 'order_notes_order_fk',
        columns: ['order_line', 'order_id'],
        references: { schema: target.name, name: 'orders', columns: ['line', 'id'] },
      },
    ]);
    // The referenced table holds no key of its own: the keys pointing at it are not its.
    const orders = await adapter.describeTable({
      table: { schema: target.name, name: 'orders' },
      signal: new AbortController().signal,
    });
    expect(orders?.foreignKeys).toEqual([]);
  });

  it('answers null for a table that does not exist', async () => {
    const { adapter } = target.adapter();
    expect(
      await adapter.describeTable({
        table: { schema: target.name, name: 'nope' },
        signal: new AbortController().signal,
      }),
    ).toBeNull();
  });

  it('reports healthy through a catalog call', async () => {
    const { adapter } = target.adapter();
    const health = await adapter.health();
    expect(health.ok).toBe(true);
  });
});
