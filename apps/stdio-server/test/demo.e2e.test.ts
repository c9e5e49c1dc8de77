import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, failure, ok, type RunningServer, startServer, textOf } from './harness.js';

// --demo: the embedded PostgreSQL (PGlite behind pglite-socket) through the
// same adapter and boundary as a real server. Nothing to install.

let server: RunningServer;

beforeAll(async () => {
  server = await startServer(['--demo']);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('sqlwarden-stdio --demo', () => {
  it('lists the shop tables, not the internal one', async () => {
    const { tables } = ok<{ tables: Array<{ schema: string; name: string }> }>(
      await call(server, 'list_tables', {}),
    );
    const names = tables.map((t) => `${t.schema}.${t.name}`);
    expect(names).toEqual(
      expect.arrayContaining(['shop.customers', 'shop.orders', 'shop.products']),
    );
    expect(names.every((n) => n.startsWith('shop.'))).toBe(true);
  });

  it('describes a demo table', async () => {
    const result = await call(server, 'describe_table', { table: 'shop.orders' });
    const table = ok<{ primaryKey: string[]; foreignKeys: unknown[] }>(result);
    expect(table.primaryKey).toEqual(['id']);
    expect(table.foreignKeys.length).toBeGreaterThan(0);
    expect(textOf(result)).toContain('shop.orders');
  });

  it('answers a query with a bound parameter', async () => {
    const read = ok<{ rows: unknown[][]; rowCount: number }>(
      await call(server, 'query_read', {
        sql: 'SELECT count(*)::int FROM shop.orders WHERE status = $1',
        params: ['shipped'],
      }),
    );
    expect(read.rowCount).toBe(1);
    expect(read.rows[0]?.[0]).toBeGreaterThan(0);
  });

  it('refuses the table the demo principal is not granted', async () => {
    const error = failure(
      await call(server, 'query_read', { sql: 'SELECT * FROM internal.api_keys' }),
    );
    expect(error.code).toBe('FORBIDDEN');
  });

  it('refuses writes and stacked statements, and the data stays', async () => {
    for (const sql of [
      'DELETE FROM shop.orders',
      'SELECT 1; COMMIT; DROP TABLE shop.orders',
      "SELECT * FROM pg_read_file('/etc/passwd')",
    ]) {
      expect(failure(await call(server, 'query_read', { sql })).code, sql).toBe('QUERY_REJECTED');
    }
    const read = ok<{ rows: unknown[][] }>(
      await call(server, 'query_read', { sql: 'SELECT count(*)::int > 0 FROM shop.orders' }),
    );
    expect(read.rows).toEqual([[true]]);
  });
});

describe('pnpm demo', () => {
  it('prints the transcript: tools, a listing, a description, a query and three refusals', async () => {
    const script = fileURLToPath(new URL('../scripts/demo.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 60_000 });
    expect(stdout).toMatch(/^Connected to sqlwarden-demo /);
    for (const expected of [
      '> tools/list',
      '> list_tables',
      '> describe_table',
      '> query_read',
      'QUERY_REJECTED',
      'FORBIDDEN',
    ]) {
      expect(stdout).toContain(expected);
    }
    expect(stdout.match(/ERROR /g)?.length).toBeGreaterThanOrEqual(3);
    expect(stdout).not.toMatch(/\n\s+at .+:\d+/);
  }, 70_000);
});
