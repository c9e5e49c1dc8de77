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

/** What one tools/call over HTTP came back with. */
export type HttpToolAnswer =
  | { readonly kind: 'http'; readonly status: number; readonly text: string }
  | { readonly kind: 'rpc-error'; readonly message: string }
  | {
      readonly kind: 'result';
      /** `ok`, or the error code of a refused call (`ERROR` when it carries none). */
      readonly code: string;
      readonly message?: string;
      readonly result: Record<string, unknown>;
    };

/**
 * One tools/call over Streamable HTTP, stateless (MCP 2025-11-25, with a
 * bearer token), as the end-to-end tests and the soak send it: the answer
 * classified. A failure to connect or an abort rejects, as fetch does.
 */
export async function callToolOverHttp(
  url: string,
  token: string,
  name: string,
  args: Record<string, unknown>,
  init: { readonly signal?: AbortSignal } = {},
): Promise<HttpToolAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    ...(init.signal !== undefined && { signal: init.signal }),
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name, arguments: args },
    }),
  });
  const text = await response.text();
  if (response.status !== 200) return { kind: 'http', status: response.status, text };
  const body = JSON.parse(/^data: (.*)$/m.exec(text)?.[1] ?? text) as {
    result?: {
      isError?: boolean;
      structuredContent?: { error?: { code?: string; message?: string } };
    };
    error?: { message: string };
  };
  if (body.result === undefined) return { kind: 'rpc-error', message: String(body.error?.message) };
  const error = body.result.isError ? body.result.structuredContent?.error : undefined;
  return {
    kind: 'result',
    code: body.result.isError ? (error?.code ?? 'ERROR') : 'ok',
    ...(error?.message !== undefined && { message: error.message }),
    result: body.result as Record<string, unknown>,
  };
}
