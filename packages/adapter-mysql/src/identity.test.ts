import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, errorOf, LIMITS, signal, type TestDatabase } from './test-support.js';

// A MySQL/MariaDB identity is a user with a pool of its own (the runtime
// picks the adapter); a per-call identity cannot be applied on this engine.
// The kit refuses such a call before it runs, never running it as the
// source's own user (fail closed).

let db: TestDatabase;
let adapter: SourceAdapter;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.admin.query('CREATE TABLE t (id int PRIMARY KEY)');
  adapter = db.adapter({ allowWrites: true });
});

afterAll(async () => {
  await adapter?.close();
  await db?.drop();
});

it('refuses a read, an estimate and a write that carry a per-call identity, before anything runs', async () => {
  const identity = { role: 'reader', subject: 'alice' };
  for (const attempt of [
    adapter.read({
      sql: 'SELECT id FROM t',
      params: [],
      limits: LIMITS,
      signal: signal(),
      identity,
    }),
    adapter.read({
      sql: 'SELECT id FROM t',
      params: [],
      limits: LIMITS,
      signal: signal(),
      costCeiling: { maxCost: 1e9 },
      identity,
    }),
    adapter.write({
      sql: 'INSERT INTO t VALUES (?)',
      params: [1],
      maxAffectedRows: 1,
      timeoutMs: LIMITS.timeoutMs,
      signal: signal(),
      dryRun: false,
      identity,
    }),
  ]) {
    const error = await errorOf(attempt);
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toMatch(/cannot run a call under a database identity/);
  }
  const [rows] = await db.admin.query('SELECT COUNT(*) AS n FROM t');
  expect(rows).toEqual([{ n: 0 }]);
});
