import { tmpdir } from 'node:os';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type RunningServer, startServer } from './harness.js';

// Both protocol versions over stdio: the harness's SDK v1 client speaks MCP
// 2025-11-25 (initialize first); an SDK v2 client pinned to 2026-07-28 sends
// no initialize, each request carrying its version and client in _meta.

let legacy: RunningServer;
let modern: Client;

beforeAll(async () => {
  legacy = await startServer(['--demo']);
  modern = new Client(
    { name: 'sqlwarden-e2e-v2', version: '2.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await modern.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, '--demo'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() },
      cwd: tmpdir(),
      stderr: 'pipe',
    }),
  );
}, 90_000);

afterAll(async () => {
  await legacy?.close();
  await modern?.close();
});

describe('sqlwarden-stdio speaks MCP 2025-11-25 and 2026-07-28', () => {
  it('negotiates each version with its client', () => {
    expect(modern.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect(legacy.client.getServerVersion()?.name).toBe('sqlwarden-demo');
  });

  it('lists the same tools in the same order on both, and answers the same rows', async () => {
    const names = (await legacy.client.listTools()).tools.map((t) => t.name);
    expect((await modern.listTools()).tools.map((t) => t.name)).toEqual(names);
    const sql = 'SELECT id, name FROM shop.customers WHERE id = 7';
    const old = await legacy.client.callTool({ name: 'query_read', arguments: { sql } });
    const now = await modern.callTool({ name: 'query_read', arguments: { sql } });
    expect(now.isError).toBeFalsy();
    expect(now.structuredContent).toEqual(old.structuredContent);
    expect((now.structuredContent as { rows: unknown[][] }).rows).toHaveLength(1);
  });

  it('refuses through the same boundary on both (a write on a read-only server)', async () => {
    const sql = 'DELETE FROM shop.customers';
    for (const result of [
      await legacy.client.callTool({ name: 'query_read', arguments: { sql } }),
      await modern.callTool({ name: 'query_read', arguments: { sql } }),
    ]) {
      expect(result.isError).toBe(true);
      expect((result.structuredContent as { error: { code: string } }).error.code).toMatch(
        /^QUERY_REJECTED$/,
      );
    }
  });
});
