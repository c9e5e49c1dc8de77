/**
 * Test set-up (vitest globalSetup): a private ODBCSYSINI with the two
 * stand-in drivers and CommLog=0, so Debian's psqlODBC (CommLog=1 in
 * /etc/odbcinst.ini) writes no log files into /tmp. Set before any worker
 * forks: the workers inherit it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes the private ODBCSYSINI before the test workers start (they inherit it); removes it after them. */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-odbc-'));
  writeFileSync(
    join(dir, 'odbcinst.ini'),
    [
      '[PostgreSQL Unicode]',
      'Driver=psqlodbcw.so',
      'CommLog=0',
      'Debug=0',
      '',
      '[MariaDB Unicode]',
      'Driver=libmaodbc.so',
      'Threading=0',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'odbc.ini'), '');
  process.env.ODBCSYSINI = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
