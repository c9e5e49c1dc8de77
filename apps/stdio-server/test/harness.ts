import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { e2eEnv, mysqlTestUrl, type RunExit, type RunOptions, runToEnd } from '@sqlwarden/testing';

export { onTestPostgres, tempDir, urlWithDatabase } from '@sqlwarden/testing';

import mysql from 'mysql2/promise';
import { expect } from 'vitest';

// The end-to-end tests start the built sqlwarden-stdio (dist/cli.js, as a
// client would) and talk to it with the SDK client over real pipes.

export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export interface RunningServer {
  readonly client: Client;
  readonly pid: number;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** The audit lines on stderr, parsed. */
  auditLines(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startServer(
  args: readonly string[],
  env: Record<string, string> = {},
  options: { readonly cwd?: string } = {},
): Promise<RunningServer> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, ...args],
    env: e2eEnv(env),
    cwd: options.cwd ?? tmpdir(),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'sqlwarden-e2e', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`sqlwarden-stdio did not start: ${String(error)}\n${stderr}`);
  }
  const pid = transport.pid;
  if (pid === null) throw new Error('no pid');
  return {
    client,
    pid,
    stderr: () => stderr,
    auditLines: () =>
      stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.kind === 'audit'),
    close: () => client.close(),
  };
}

/**
 * The first audit line written after the first `before` lines that
 * `matches`, waiting up to 5 s for it. Audit lines are written at the end
 * of the event-loop turn, after the answer: the line of an earlier call can
 * still land after `before` was read, so a call's line is found by what it
 * is, not by its position.
 */
export async function auditLineAfter(
  server: RunningServer,
  before: number,
  matches: (line: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown> | undefined> {
  const find = () => server.auditLines().slice(before).find(matches);
  const until = Date.now() + 5000;
  while (find() === undefined && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return find();
}

export type ToolResult = CallToolResult;

export async function call(
  server: RunningServer,
  name: string,
  args: Record<string, unknown>,
  options: { signal?: AbortSignal } = {},
): Promise<ToolResult> {
  return (await server.client.callTool(
    { name, arguments: args },
    undefined,
    options,
  )) as ToolResult;
}

/** The structured result of a successful call (fails the test on an error result). */
export function ok<T = Record<string, unknown>>(result: ToolResult): T {
  if (result.isError) {
    throw new Error(`expected success, got ${JSON.stringify(result.structuredContent)}`);
  }
  return result.structuredContent as T;
}

/** The error envelope of a failed call (fails the test on success). */
export function failure(result: ToolResult): {
  code: string;
  message: string;
  retryAfterMs?: number;
} {
  expect(result.isError, `expected an error, got ${textOf(result).slice(0, 200)}`).toBe(true);
  const envelope = result.structuredContent as {
    error: { code: string; message: string; retryAfterMs?: number };
  };
  // The model reads the same message in the text content.
  expect(textOf(result)).toContain(envelope.error.message);
  return envelope.error;
}

export function textOf(result: ToolResult): string {
  return result.content
    .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}

export type Exit = RunExit;

/** Runs the CLI as a plain child process (for exit codes), optionally acting on it once started. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<Exit> {
  return runToEnd(CLI, args, options);
}

/** A database URL like `base`, naming another database. */
/** Runs texts in order on the test MariaDB (statements may be separated by `;`), on a connection of their own. */
export async function onTestMysql(...texts: string[]): Promise<void> {
  const db = await mysql.createConnection({ uri: mysqlTestUrl(), multipleStatements: true });
  try {
    for (const text of texts) await db.query(text);
  } finally {
    await db.end();
  }
}
