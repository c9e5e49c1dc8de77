import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { expect, it } from 'vitest';

// Runs the example as a user would and checks every layer it shows: the
// switch, the missing execute_write grant, dry run, the commit, a value
// outside the enum, the row ceiling, the audit lines without values, the
// database user's own limits; and that it cleans up after itself.

const adminUrl = process.env.SQLWARDEN_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

it('walks every layer of a controlled write and leaves nothing behind', async () => {
  const run = spawnSync(
    process.execPath,
    [fileURLToPath(new URL('./index.mjs', import.meta.url))],
    {
      encoding: 'utf8',
      timeout: 90_000,
      env: { ...process.env, EXAMPLE_ADMIN_URL: adminUrl },
    },
  );
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const out = run.stdout;
  const sessions = out.split('\n== ');
  // 1. Switch off: only the read tool is listed, the write refused.
  expect(sessions[0]).toContain('tools/list: find_orders\n');
  expect(sessions[0]).toContain('ERROR WRITES_DISABLED:');
  // 2. Switch on: the declared write tools, never execute_write.
  const second = sessions[1] ?? '';
  expect(second).toContain('tools/list: update_order_status, cancel_pending_orders, find_orders\n');
  expect(second).toMatch(/> execute_write .*\n {2}ERROR FORBIDDEN:/);
  expect(second).toContain('Dry run: 1 row would change; nothing was changed (rolled back).');
  expect(second).toContain('1 row changed (committed).');
  expect(second).toMatch(/"refunded"\}\n {2}ERROR INVALID_INPUT: .*status/);
  expect(second).toContain(
    'ERROR WRITE_LIMIT_EXCEEDED: The statement would change 5 rows, more than the limit of 3; nothing was changed.',
  );
  // The rolled-back write changed nothing; the committed ones did.
  expect(second).toContain('1001\tpaid\t49.90');
  expect(second).toContain('1002\tcancelled\t199.00');
  expect(second).toContain('2005\tpending\t22.00');
  // 3. Audit: outcomes and fingerprints, never a value.
  const audit = sessions[2] ?? '';
  expect(audit.trim().split('\n').slice(1)).toEqual([
    '  Denied FORBIDDEN tool=execute_write stage=authorization',
    expect.stringMatching(/^ {2}Write dry run, rolled back fp=[0-9a-f]{12} rows=1$/),
    expect.stringMatching(/^ {2}Write committed fp=[0-9a-f]{12} rows=1$/),
    '  Denied INVALID_INPUT tool=update_order_status stage=input',
    expect.stringMatching(
      /^ {2}Denied WRITE_LIMIT_EXCEEDED tool=cancel_pending_orders fp=[0-9a-f]{12} stage=execute$/,
    ),
    expect.stringMatching(/^ {2}Write committed fp=[0-9a-f]{12} rows=1$/),
    expect.stringMatching(/^ {2}Query OK fp=[0-9a-f]{12} rows=3$/),
    expect.stringMatching(/^ {2}Query OK fp=[0-9a-f]{12} rows=5$/),
  ]);
  expect(audit).not.toMatch(/paid|refunded|1001/);
  // 4. Beneath sqlwarden, the database user can change orders.status only.
  expect(sessions[3]).toContain(
    'UPDATE orders SET total = 0 WHERE id = 1003: refused by the database (errno 1143)',
  );
  expect(sessions[3]).toContain(
    'DELETE FROM orders WHERE id = 1003: refused by the database (errno 1142)',
  );

  const admin = await mysql.createConnection(adminUrl);
  try {
    const [dbs] = await admin.query("SHOW DATABASES LIKE 'sqlwarden_ex_shop_%'");
    const [users] = await admin.query(
      "SELECT user FROM mysql.user WHERE user LIKE 'sqlwarden_ex_%'",
    );
    expect([dbs, users]).toEqual([[], []]);
  } finally {
    await admin.end();
  }
}, 120_000);
