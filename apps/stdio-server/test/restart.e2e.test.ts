import { createThrowawayPostgres, type ThrowawayPostgres } from '@sqlwarden/testing';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, failure, ok, type RunningServer, startServer } from './harness.js';

// PostgreSQL goes away under a running sqlwarden-stdio and comes back: calls
// fail with DB_UNAVAILABLE (retryable) meanwhile, then work again without
// restarting the server. A cluster of the test's own is stopped and started
// (the shared server on 5432 is never restarted).

let cluster: ThrowawayPostgres;
let server: RunningServer;

beforeAll(async () => {
  cluster = await createThrowawayPostgres();
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(
    'CREATE TABLE items (id int PRIMARY KEY, label text); INSERT INTO items VALUES (1, $$one$$), (2, $$two$$)',
  );
  await admin.end();
  server = await startServer(['--dsn', cluster.url, '--allow', 'public.items']);
}, 60_000);

afterAll(async () => {
  await server?.close();
  cluster?.destroy();
});

const count = async () =>
  call(server, 'query_read', { sql: 'SELECT count(*)::int AS n FROM items' });

async function expectUnavailable() {
  const error = failure(await count());
  expect(error.code).toBe('DB_UNAVAILABLE');
  expect(error.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres:\/\//);
  expect(error.message).not.toMatch(/\n\s+at /);
}

it('fails with DB_UNAVAILABLE while PostgreSQL is down and recovers when it is back', async () => {
  expect(ok<{ rows: unknown[][] }>(await count()).rows).toEqual([[2]]);

  cluster.stop('fast');
  await expectUnavailable();
  await expectUnavailable();
  const list = failure(await call(server, 'list_tables', {}));
  expect(list.code).toBe('DB_UNAVAILABLE');

  cluster.start();
  expect(ok<{ rows: unknown[][] }>(await count()).rows).toEqual([[2]]);
  expect(ok<{ tables: unknown[] }>(await call(server, 'list_tables', {})).tables).toHaveLength(1);
}, 60_000);

it('recovers from a crash (immediate shutdown) the same way', async () => {
  expect(ok<{ rows: unknown[][] }>(await count()).rows).toEqual([[2]]);
  cluster.stop('immediate');
  await expectUnavailable();
  cluster.start();
  expect(ok<{ rows: unknown[][] }>(await count()).rows).toEqual([[2]]);
}, 60_000);

it('audits the failed calls with their code', () => {
  const codes = server.auditLines().map((line) => line.code);
  expect(codes.filter((code) => code === 'DB_UNAVAILABLE').length).toBeGreaterThanOrEqual(4);
});

it('tells the operator once per outage that the database went away and came back', () => {
  const stderr = server.stderr();
  expect(stderr.match(/the database is unavailable/g)).toHaveLength(2);
  expect(stderr.match(/the database answers again/g)).toHaveLength(2);
});
