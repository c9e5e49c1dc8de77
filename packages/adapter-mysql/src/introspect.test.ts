import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MysqlAdapter } from './adapter.js';
import { parseGrant, schemaPatternMatches } from './introspect.js';
import { quoteIdent } from './session.js';
import { codeOf, createTestDatabase, LIMITS, signal, type TestDatabase } from './test-support.js';

// Introspection, the function catalog and the least-privilege report against
// the real MariaDB, in a database of their own (and an account created and
// dropped here).

let db: TestDatabase;
let adapter: MysqlAdapter;
const ACCOUNT = `swmy_${process.pid.toString(36)}_${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
const ROLE = `${ACCOUNT}_role`;
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}`;

beforeAll(async () => {
  db = await createTestDatabase();
  for (const statement of [
    "CREATE TABLE customers (id int PRIMARY KEY, name varchar(50) NOT NULL) COMMENT 'People who buy'",
    `CREATE TABLE items (
       id int PRIMARY KEY,
       customer_id int,
       name varchar(50) NOT NULL DEFAULT 'unnamed',
       price decimal(12, 2) COMMENT 'Unit price in EUR',
       note text,
       CONSTRAINT items_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
       UNIQUE KEY items_name (name, customer_id),
       KEY items_price (price)
     )`,
    'CREATE TABLE Items (id int)',
    'CREATE VIEW cheap_items AS SELECT id, name FROM items WHERE price < 10',
    'CREATE TABLE numbers (n int PRIMARY KEY)',
    'INSERT INTO numbers SELECT seq FROM seq_1_to_1000',
    'ANALYZE TABLE numbers',
    'CREATE FUNCTION my_writer() RETURNS int MODIFIES SQL DATA RETURN 1',
    'CREATE FUNCTION my_reader() RETURNS int READS SQL DATA RETURN 1',
    'CREATE PROCEDURE my_proc() SELECT 1',
  ]) {
    await db.admin.query(statement);
  }
  adapter = db.adapter();
});

afterAll(async () => {
  await db?.admin.query(`DROP USER IF EXISTS ${quoteIdent(ACCOUNT)}@'%'`);
  await db?.admin.query(`DROP ROLE IF EXISTS ${quoteIdent(ROLE)}`);
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

describe('least-privilege report', () => {
  const serves = (schema: string) => schema === db.name;
  const account = () => `${quoteIdent(ACCOUNT)}@'%'`;
  const limitedAdapter = () =>
    db.adapter({
      connection: { uri: db.url({ user: ACCOUNT }), password: () => PASSWORD },
    });

  it('warns when a read-only source connects as an account with ALL PRIVILEGES, with the fix', async () => {
    const report = await adapter.privilegeReport({ readOnly: true, serves });
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/ALL PRIVILEGES on \*\.\*/);
    expect(report.warnings[0]).toContain(
      `docs/mysql.md#least-privilege: CREATE USER 'sqlwarden_ro'@'%' IDENTIFIED BY '...'; GRANT SELECT ON \`${db.name}\`.* TO 'sqlwarden_ro'@'%'`,
    );
  });

  it('is quiet for the documented SELECT-only account, which reads and cannot write', async () => {
    // The recipe of docs/mysql.md#least-privilege.
    await db.admin.query(`CREATE USER ${account()} IDENTIFIED BY '${PASSWORD}'`);
    await db.admin.query(`GRANT SELECT ON ${quoteIdent(db.name)}.* TO ${account()}`);
    const limited = limitedAdapter();
    try {
      expect(await limited.privilegeReport({ readOnly: true, serves })).toEqual({ warnings: [] });
      const read = (sql: string) =>
        limited.read({ sql, params: [], limits: LIMITS, signal: signal() });
      expect((await read('SELECT COUNT(*) FROM numbers')).rows).toEqual([['1000']]);
      // Two layers refuse a write: the grants first, then the read-only session.
      expect(await codeOf(read('INSERT INTO numbers VALUES (5000)'))).toBe('FORBIDDEN');
      expect(await codeOf(read('SELECT * FROM mysql.user'))).toBe('FORBIDDEN');
      // Without FILE, LOAD_FILE reads nothing.
      expect((await read("SELECT LOAD_FILE('/etc/passwd') IS NULL")).rows).toEqual([[1]]);
      expect(await limited.functionCatalog()).toMatchObject({ userDefined: expect.any(Array) });
    } finally {
      await limited.close();
    }
  });

  it('warns about write grants on served tables, at table, schema and role level, and about FILE', async () => {
    const limited = limitedAdapter();
    try {
      await db.admin.query(`GRANT INSERT ON ${quoteIdent(db.name)}.items TO ${account()}`);
      let report = await limited.privilegeReport({ readOnly: true, serves });
      expect(report.warnings).toEqual([
        expect.stringMatching(
          new RegExp(
            `is read-only but its account ${ACCOUNT}@% can write 1 of the tables it serves \\(${db.name}\\.items\\): grant it SELECT only`,
          ),
        ),
      ]);
      // A writable source may hold write grants.
      expect((await limited.privilegeReport({ readOnly: false, serves })).warnings).toEqual([]);
      await db.admin.query(`REVOKE INSERT ON ${quoteIdent(db.name)}.items FROM ${account()}`);

      await db.admin.query(`CREATE ROLE ${quoteIdent(ROLE)}`);
      await db.admin.query(`GRANT UPDATE ON ${quoteIdent(db.name)}.* TO ${quoteIdent(ROLE)}`);
      await db.admin.query(`GRANT ${quoteIdent(ROLE)} TO ${account()}`);
      await db.admin.query(`SET DEFAULT ROLE ${quoteIdent(ROLE)} FOR ${account()}`);
      const fresh = limitedAdapter();
      try {
        report = await fresh.privilegeReport({ readOnly: true, serves });
        expect(report.warnings).toEqual([
          expect.stringMatching(/can write 5 of the tables it serves/),
        ]);
      } finally {
        await fresh.close();
      }
      await db.admin.query(`REVOKE ${quoteIdent(ROLE)} FROM ${account()}`);

      await db.admin.query(`GRANT FILE ON *.* TO ${account()}`);
      const withFile = limitedAdapter();
      try {
        report = await withFile.privilegeReport({ readOnly: true, serves });
        expect(report.warnings).toEqual([
          expect.stringMatching(
            /which has FILE: it can read and write files on the database server/,
          ),
        ]);
      } finally {
        await withFile.close();
      }
    } finally {
      await limited.close();
    }
  });
});

describe('SHOW GRANTS lines', () => {
  it('reads privileges and targets, and ignores roles, proxies and routines', () => {
    expect(
      parseGrant('GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION'),
    ).toEqual({ privileges: ['ALL PRIVILEGES'], target: { level: 'global' } });
    expect(
      parseGrant("GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*0123456789ABCDEF'"),
    ).toEqual({ privileges: ['USAGE'], target: { level: 'global' } });
    expect(parseGrant('GRANT SELECT, INSERT ON `shop\\_%`.* TO `u`@`%`')).toEqual({
      privileges: ['SELECT', 'INSERT'],
      target: { level: 'schema', pattern: 'shop\\_%' },
    });
    expect(
      parseGrant('GRANT SELECT (`a`, `b`), UPDATE (`a`) ON `db`.`we``ird` TO `u`@`%`'),
    ).toEqual({
      privileges: ['SELECT', 'UPDATE'],
      target: { level: 'table', schema: 'db', table: 'we`ird' },
    });
    expect(parseGrant('GRANT BACKUP_ADMIN,BINLOG_ADMIN ON *.* TO `root`@`localhost`')).toEqual({
      privileges: ['BACKUP_ADMIN', 'BINLOG_ADMIN'],
      target: { level: 'global' },
    });
    expect(parseGrant('GRANT `reader` TO `u`@`%`')).toBeNull();
    expect(parseGrant("GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION")).toBeNull();
    expect(parseGrant('GRANT EXECUTE ON FUNCTION `db`.`f` TO `u`@`%`')).toBeNull();
  });

  it('matches schema-level grant patterns as the server does (_ and % wildcards, \\ escapes)', () => {
    expect(schemaPatternMatches('shop\\_%', 'shop_eu')).toBe(true);
    expect(schemaPatternMatches('shop\\_%', 'shopXeu')).toBe(false);
    expect(schemaPatternMatches('shop_eu', 'shopXeu')).toBe(true);
    expect(schemaPatternMatches('shop', 'shop')).toBe(true);
    expect(schemaPatternMatches('shop', 'shop2')).toBe(false);
    expect(schemaPatternMatches('a.b', 'axb')).toBe(false);
  });
});
