import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import {
  callToolOverHttp,
  e2eEnv,
  mysqlTestUrl,
  type RunExit,
  type RunOptions,
  runToEnd,
} from '@sqlwarden/testing';

export { onTestPostgres, tempDir } from '@sqlwarden/testing';

/**
 * Runs SQL on the test MariaDB with its command-line client (this app's
 * tests have no MySQL driver; CI installs mariadb-client): the rows,
 * tab-separated.
 */
export async function onMysql(sql: string): Promise<string> {
  const url = new URL(mysqlTestUrl());
  const { stdout } = await promisify(execFile)('mariadb', [
    `--host=${url.hostname}`,
    `--port=${url.port || '3306'}`,
    `--user=${decodeURIComponent(url.username) || 'root'}`,
    ...(url.password === '' ? [] : [`--password=${decodeURIComponent(url.password)}`]),
    '--batch',
    '--skip-column-names',
    '-e',
    sql,
  ]);
  return stdout;
}

// The end-to-end tests start the built sqlwarden-http (bin, as an operator
// would) and talk to it over real HTTP with the SDK's v1 client (MCP
// 2025-11-25) and v2 client (MCP 2026-07-28).

export const BIN = fileURLToPath(new URL('../bin/sqlwarden-http.js', import.meta.url));

export interface RunningHttp {
  /** The MCP endpoint. */
  readonly url: string;
  /** The generated token, when the server made one. */
  readonly token: string | undefined;
  readonly process: ChildProcess;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** The audit lines on stderr, parsed. */
  auditLines(): Record<string, unknown>[];
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs the bin to its end (a refused start, --hash-token): its exit code and output. */
export function runHttpCli(args: readonly string[], options: RunOptions = {}): Promise<RunExit> {
  return runToEnd(BIN, args, { timeoutMs: 60_000, ...options });
}

/** Starts sqlwarden-http and waits until it is ready (or fails with what it said). */
export async function startHttp(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<RunningHttp> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: e2eEnv(options.env),
    cwd: options.cwd ?? tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const ready = new Promise<{ url: string }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`sqlwarden-http did not start in 60 s:\n${stderr}`)),
      60_000,
    );
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      for (const line of stderr.split('\n')) {
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as { msg?: string; url?: string };
        if (parsed.msg === 'sqlwarden-http ready' && parsed.url !== undefined) {
          // The generated token's lines follow the ready line in the same write burst.
          setTimeout(() => {
            clearTimeout(timer);
            resolve({ url: parsed.url as string });
          }, 50);
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sqlwarden-http exited with ${code}:\n${stderr}`));
    });
  });
  const { url } = await ready;
  const token = /^token: (\S+)$/m.exec(stderr)?.[1];
  return {
    url,
    token,
    process: child,
    stderr: () => stderr,
    auditLines: () =>
      stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.kind === 'audit'),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** A client of the SDK v1 (MCP 2025-11-25: initialize, then stateless requests). */
export async function v1Client(url: string, token: string | undefined): Promise<V1Client> {
  const client = new V1Client({ name: 'sqlwarden-e2e-v1', version: '1.0.0' });
  await client.connect(
    new V1Transport(new URL(url), {
      requestInit: {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      },
    }),
  );
  return client;
}

/** A client of the SDK v2 speaking MCP 2026-07-28 (stateless, no initialize). */
export async function v2Client(url: string, token: string | undefined): Promise<V2Client> {
  const client = new V2Client(
    { name: 'sqlwarden-e2e-v2', version: '2.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(
    new V2Transport(new URL(url), {
      requestInit: {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      },
    }),
  );
  return client;
}

/** A raw JSON-RPC POST to the endpoint: status, headers and the parsed body (JSON or one SSE message). */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  const data = /^data: (.*)$/m.exec(text)?.[1];
  try {
    parsed = JSON.parse(data ?? text);
  } catch {
    // not JSON: the text itself
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** The structured content of a tool result, or what went wrong. */
export function structured(result: unknown): Record<string, unknown> {
  const r = result as { structuredContent?: Record<string, unknown>; isError?: boolean };
  if (r.structuredContent === undefined)
    throw new Error(`no structured content: ${JSON.stringify(result)}`);
  return r.structuredContent;
}

/**
 * One tools/call over raw HTTP (MCP 2025-11-25, stateless): `ok`, or the
 * error code of a refused call (an HTTP or JSON-RPC failure throws).
 */
export async function callTool(
  url: string,
  token: string,
  name: string,
  args: Record<string, unknown>,
  init: { signal?: AbortSignal } = {},
): Promise<{ code: string; result: Record<string, unknown> }> {
  const answer = await callToolOverHttp(url, token, name, args, init);
  if (answer.kind === 'http')
    throw new Error(`HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
  if (answer.kind === 'rpc-error') throw new Error(`JSON-RPC error: ${answer.message}`);
  return { code: answer.code, result: answer.result };
}
