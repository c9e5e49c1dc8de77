import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import type { WriteRequest } from '@sqlwarden/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, createTestDatabase, signal, type TestDatabase } from './test-support.js';

// The write path against the real MariaDB, in a database of its own.

let db: TestDatabase;
let writer: SourceAdapter;

const write = (
  sql: string,
  params: unknown[] = [],
  options: Partial<Omit<WriteRequest, 'sql' | 'params'>> = {},
  on: SourceAdapter = writer,
) =>
  on.write({
    sql,
    params,
    maxAffectedRows: 100,
    timeoutMs: 5000,
    signal: signal(),
    dryRun: false,
    ...options,
  });

async function names(): Promise<string[]> {
  const [rows] = await db.admin.query('SELECT name FROM items ORDER BY id');
  return (rows as Array<{ name: string }>).map((r) => r.name);
}

beforeAll(async () => {
  db = await createTestDatabase();
  await db.admin.query('CREATE TABLE items (id int PRIMARY KEY, name varchar(50) NOT NULL)');
  writer = db.adapter({ allowWrites: true });
});

beforeEach(async () => {
  await db.admin.query('DELETE FROM items');
  await db.admin.query("INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')");
});

afterAll(async () => {
  await db?.drop();
});

describe('writes (MySQL and MariaDB specifics; the rest is the conformance suite)', () => {
  it('counts the rows an UPDATE matched, also those it left unchanged', async () => {
    expect(await write("UPDATE items SET name = 'a' WHERE id <= ?", [2])).toEqual({
      affectedRows: 2,
      committed: true,
    });
    expect(await names()).toEqual(['a', 'a', 'c']);
  });

  it('counts the rows of a RETURNING clause (MariaDB) as the affected rows', async () => {
    expect(await write('DELETE FROM items WHERE id = ? RETURNING id', [3])).toEqual({
      affectedRows: 1,
      committed: true,
    });
    expect(await names()).toEqual(['a', 'b']);
  });

  it('refuses parameters that are not scalars', async () => {
    expect(await codeOf(write('UPDATE items SET name = ? WHERE id = 1', [['x']]))).toBe(
      'INVALID_INPUT',
    );
  });
});
