import type { WriteRequest } from '@sqlwarden/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MysqlAdapter } from './adapter.js';
import {
  codeOf,
  createTestDatabase,
  errorOf,
  eventually,
  LIMITS,
  signal,
  type TestDatabase,
} from './test-support.js';

// The write path against the real MariaDB, in a database of its own.

let db: TestDatabase;
let writer: MysqlAdapter;

const write = (
  sql: string,
  params: unknown[] = [],
  options: Partial<Omit<WriteRequest, 'sql' | 'params'>> = {},
  on: MysqlAdapter = writer,
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

describe('writes', () => {
  it('refuses every write on a source without allowWrites, before touching the database', async () => {
    const reader = db.adapter();
    const error = await errorOf(write("UPDATE items SET name = 'x' WHERE id = 1", [], {}, reader));
    expect(error).toMatchObject({
      code: 'READ_ONLY',
      message: 'This source is read-only; writes are not enabled for it.',
    });
    expect(await names()).toEqual(['a', 'b', 'c']);
  });

  it('commits one statement with bound values and reports the affected rows', async () => {
    expect(
      await write('INSERT INTO items VALUES (?, ?), (?, ?)', [
        4,
        'd',
        5,
        "e'; DROP TABLE items; --",
      ]),
    ).toEqual({
      affectedRows: 2,
      committed: true,
    });
    expect(await names()).toEqual(['a', 'b', 'c', 'd', "e'; DROP TABLE items; --"]);
  });

  it('counts the rows an UPDATE matched, also those it left unchanged', async () => {
    expect(await write("UPDATE items SET name = 'a' WHERE id <= ?", [2])).toEqual({
      affectedRows: 2,
      committed: true,
    });
    expect(await names()).toEqual(['a', 'a', 'c']);
  });

  it('runs a dry run, reports the count, and rolls it back', async () => {
    expect(await write('DELETE FROM items WHERE id >= ?', [2], { dryRun: true })).toEqual({
      affectedRows: 2,
      committed: false,
    });
    expect(await names()).toEqual(['a', 'b', 'c']);
  });

  it('rolls back a write over its ceiling and says the count and the ceiling', async () => {
    const error = await errorOf(
      write('DELETE FROM items WHERE id > ?', [0], { maxAffectedRows: 2 }),
    );
    expect(error.code).toBe('WRITE_LIMIT_EXCEEDED');
    expect(error.message).toBe(
      'The statement would change 3 rows, more than the limit of 2; nothing was changed. Narrow the WHERE clause.',
    );
    expect(await names()).toEqual(['a', 'b', 'c']);
    // At the ceiling exactly, the write goes through.
    expect(await write('DELETE FROM items WHERE id > ?', [1], { maxAffectedRows: 2 })).toEqual({
      affectedRows: 2,
      committed: true,
    });
  });

  it('counts the rows of a RETURNING clause (MariaDB) as the affected rows', async () => {
    expect(await write('DELETE FROM items WHERE id = ? RETURNING id', [3])).toEqual({
      affectedRows: 1,
      committed: true,
    });
    expect(await names()).toEqual(['a', 'b']);
  });

  it('leaves nothing half-applied when a statement fails (duplicate key), and the connection clean', async () => {
    const single = db.adapter({ allowWrites: true, pool: { max: 1 } });
    try {
      const error = await errorOf(
        write('INSERT INTO items VALUES (?, ?), (?, ?)', [10, 'new', 1, 'dup'], {}, single),
      );
      expect(error.code).toBe('QUERY_FAILED');
      expect(error.message).toBe(
        'The statement would duplicate a unique key (primary key): a row with that value exists already.',
      );
      expect(await names()).toEqual(['a', 'b', 'c']);
      // The next write on the same connection commits its own row only.
      expect(await write('INSERT INTO items VALUES (?, ?)', [11, 'ok'], {}, single)).toEqual({
        affectedRows: 1,
        committed: true,
      });
      expect(await names()).toEqual(['a', 'b', 'c', 'ok']);
    } finally {
      await single.close();
    }
  });

  it('leaves the session read-only for reads after a write on the same connection', async () => {
    const single = db.adapter({ allowWrites: true, pool: { max: 1 } });
    try {
      await write("UPDATE items SET name = 'z' WHERE id = 3", [], {}, single);
      expect(
        await codeOf(
          single.read({
            sql: "INSERT INTO items VALUES (20, 'sneaky')",
            params: [],
            limits: LIMITS,
            signal: signal(),
          }),
        ),
      ).toBe('READ_ONLY');
      expect(await names()).toEqual(['a', 'b', 'z']);
    } finally {
      await single.close();
    }
  });

  it('refuses parameters that are not scalars', async () => {
    expect(await codeOf(write('UPDATE items SET name = ? WHERE id = 1', [['x']]))).toBe(
      'INVALID_INPUT',
    );
  });
});

describe('writes that run too long', () => {
  /** Holds a lock on row 1 from another session while `run` goes. */
  async function whileLocked(run: () => Promise<void>) {
    await db.admin.query('START TRANSACTION');
    await db.admin.query('SELECT id FROM items WHERE id = 1 FOR UPDATE');
    try {
      await run();
    } finally {
      await db.admin.query('ROLLBACK');
    }
  }

  it('stops a write past its time, commits nothing, and leaves nothing running', async () => {
    await whileLocked(async () => {
      const error = await errorOf(
        write("UPDATE items SET name = 'late_timeout_marker' WHERE id >= 1", [], {
          timeoutMs: 300,
        }),
      );
      expect(error.code).toBe('QUERY_TIMEOUT');
      expect(await eventually(async () => (await db.running('late_timeout_marker')) === 0)).toBe(
        true,
      );
    });
    expect(await names()).toEqual(['a', 'b', 'c']);
  });

  it('kills a write when the call is aborted, and commits nothing', async () => {
    await whileLocked(async () => {
      const controller = new AbortController();
      const pending = codeOf(
        write("UPDATE items SET name = 'late_abort_marker' WHERE id >= 1", [], {
          signal: controller.signal,
        }),
      );
      expect(await eventually(async () => (await db.running('late_abort_marker')) === 1)).toBe(
        true,
      );
      controller.abort();
      expect(await pending).toBe('QUERY_CANCELLED');
      expect(await eventually(async () => (await db.running('late_abort_marker')) === 0)).toBe(
        true,
      );
    });
    expect(await names()).toEqual(['a', 'b', 'c']);
  });
});
