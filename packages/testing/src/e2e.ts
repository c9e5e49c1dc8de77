import { type ChildProcess, spawn } from 'node:child_process';
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

/** A minimal environment for a server under test: it must not depend on the test runner's. */
export function e2eEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), ...extra };
}

export interface RunExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Added to the minimal environment (e2eEnv). */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Written to stdin, which is then closed (unless `act` is given: then it stays open). */
  readonly stdin?: string;
  /** Called once, when the program's stderr first says "ready". */
  readonly act?: (child: ChildProcess) => void;
  /** How long it may run before it is killed and the promise rejects (default 20 s). */
  readonly timeoutMs?: number;
}

/**
 * Runs a Node script (a bin) to its end as a plain child process: its exit
 * code or signal and everything it wrote. For the runs a test expects to end
 * (a refused start, a printed hash, a shutdown it causes with `act`).
 */
export function runToEnd(
  script: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunExit> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: e2eEnv(options.env),
      cwd: options.cwd ?? tmpdir(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let acted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (!acted && options.act && stderr.includes('ready')) {
        acted = true;
        options.act(child);
      }
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (!options.act) child.stdin.end(options.stdin ?? '');
  });
}
