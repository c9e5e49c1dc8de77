import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { expect, it } from 'vitest';

// Runs the example as a user would and checks what it prints: the
// cataloguer sees the inventory's structure, not hr, and no rows; the
// server connected as the least-privilege role has nothing to warn about;
// the scratch database and role are gone afterwards.

const adminUrl = process.env.SQLWARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

it('shows structure without rows, hides hr, warns about nothing, and cleans up', async () => {
  const run = spawnSync(
    process.execPath,
    [fileURLToPath(new URL('./index.mjs', import.meta.url))],
    {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, EXAMPLE_ADMIN_URL: adminUrl },
    },
  );
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const out = run.stdout;
  expect(out).toMatch(/^tools\/list: list_tables, describe_table\n/);
  expect(out).toContain('4 tables in source main:');
  for (const table of ['inventory.low_stock (view)', 'inventory.stock (table, ~3 rows)']) {
    expect(out).toContain(table);
  }
  expect(out).toContain('primary key: (warehouse_id, sku)');
  expect(out).toContain('foreign key stock_sku_fkey: (sku) -> inventory.products (sku)');
  expect(out).toContain('index stock_by_sku: (sku)');
  expect(out).not.toMatch(/^hr\./m);
  expect(out.match(/^ERROR FORBIDDEN: /gm)).toHaveLength(2);
  // No row of any table was printed.
  expect(out).not.toContain('CH-001');
  expect(out).not.toContain('98000');
  expect(out).toMatch(/\nstart-up warnings: none\n$/);

  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const left = await client.query(
      "SELECT (SELECT count(*) FROM pg_database WHERE datname LIKE 'sqlwarden_ex_catalog_%')::int AS dbs, (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'sqlwarden_ex_reader_%')::int AS roles",
    );
    expect(left.rows[0]).toEqual({ dbs: 0, roles: 0 });
  } finally {
    await client.end();
  }
}, 90_000);
