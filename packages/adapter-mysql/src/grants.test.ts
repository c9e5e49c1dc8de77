import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGrant, schemaPatternMatches } from './grants.js';
import { quoteIdent } from './session.js';
import {
  CATALOG_FIXTURE,
  codeOf,
  createTestDatabase,
  LIMITS,
  signal,
  type TestDatabase,
} from './test-support.js';

// The least-privilege report against the real MariaDB, in a database of its
// own (and an account and a role created and dropped here), and the SHOW
// GRANTS parser.

let db: TestDatabase;
let adapter: SourceAdapter;
const ACCOUNT = `swmy_${process.pid.toString(36)}_${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
const ROLE = `${ACCOUNT}_role`;
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}`;

beforeAll(async () => {
  db = await createTestDatabase();
  for (const statement of CATALOG_FIXTURE) await db.admin.query(statement);
  adapter = db.adapter();
});

afterAll(async () => {
  await db?.admin.query(`DROP USER IF EXISTS ${quoteIdent(ACCOUNT)}@'%'`);
  await db?.admin.query(`DROP ROLE IF EXISTS ${quoteIdent(ROLE)}`);
  await db?.drop();
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
