import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresTestUrl } from './index.js';

// What the end-to-end suites of both apps share: a directory for the files a
// server is started with, and set-up and tear-down SQL on the test PostgreSQL.

/** A temporary directory for config files, removed by `cleanup`. */
export function tempDir(): {
  path: string;
  write(name: string, text: string): string;
  cleanup(): void;
} {
  const path = mkdtempSync(join(tmpdir(), 'sqlwarden-e2e-'));
  return {
    path,
    write(name, text) {
      const file = join(path, name);
      writeFileSync(file, text);
      return file;
    },
    cleanup: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** `base` with its database replaced by `database`. */
export function urlWithDatabase(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Runs one text (several statements may be separated by `;`) on the test
 * PostgreSQL, in `database` (default: the test URL's), on a connection of
 * its own: set-up and tear-down of a test's own database. Its rows.
 */
export async function onTestPostgres(
  sql: string,
  database?: string,
): Promise<Array<Record<string, unknown>>> {
  const url =
    database === undefined ? postgresTestUrl() : urlWithDatabase(postgresTestUrl(), database);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query(sql);
    return (Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows) as Array<
      Record<string, unknown>
    >;
  } finally {
    await client.end();
  }
}
