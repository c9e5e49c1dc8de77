import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createTestSchema, postgresTestUrl, type TestSchema } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, call, failure, ok, startServer, tempDir } from './harness.js';

// What an attacker found end to end, over real pipes: the protocol edge
// (requests before the handshake, malformed and oversized messages), one
// wide value that used to end the process, and the quota of --dsn.

let schema: TestSchema;
const dir = tempDir();

beforeAll(async () => {
  schema = await createTestSchema(
    'e2e_hardening',
    () => `CREATE TABLE customers (id int PRIMARY KEY, name text);
           INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 10) g;`,
  );
});

afterAll(async () => {
  await schema?.drop();
  dir.cleanup();
});

/** The server over raw pipes: lines in, parsed lines out. */
class RawClient {
  readonly child: ChildProcessWithoutNullStreams;
  readonly #lines: Array<Record<string, unknown>> = [];
  #pending = '';
  #waiters: Array<() => void> = [];
  stderr = '';

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), ...env },
      cwd: tmpdir(),
    });
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.#pending += chunk.toString('utf8');
      let newline = this.#pending.indexOf('\n');
      while (newline >= 0) {
        this.#lines.push(JSON.parse(this.#pending.slice(0, newline)));
        this.#pending = this.#pending.slice(newline + 1);
        newline = this.#pending.indexOf('\n');
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
  }

  send(message: unknown | string): void {
    this.child.stdin.write(typeof message === 'string' ? message : `${JSON.stringify(message)}\n`);
  }

  /** The response with this id (waits for it). */
  async response(id: unknown, ms = 15_000): Promise<Record<string, unknown>> {
    const until = Date.now() + ms;
    for (;;) {
      const found = this.#lines.find((line) => line.id === id && !('method' in line));
      if (found !== undefined) return found;
      if (Date.now() > until) throw new Error(`no response ${String(id)}\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async initialize(): Promise<void> {
    this.send({
      jsonrpc: '2.0',
      id: 'init',
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'raw', version: '1' },
      },
    });
    await this.response('init');
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  async close(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    return exited;
  }
}

const dsnArgs = () => ['--dsn', postgresTestUrl(), '--allow', `${schema.name}.*`];
const readCall = (id: unknown, sql: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'query_read', arguments: { sql } },
});

describe('the protocol edge', () => {
  it('refuses a tools/call sent before initialize, and serves it after', async () => {
    const client = new RawClient(dsnArgs());
    try {
      client.send(readCall(1, 'SELECT name FROM customers'));
      const early = await client.response(1);
      expect(early.error).toMatchObject({ code: -32600 });
      expect(String((early.error as { message: string }).message)).toMatch(/initialize/);
      expect(early.result).toBeUndefined();
      await client.initialize();
      client.send(readCall(2, 'SELECT name FROM customers'));
      const later = await client.response(2);
      expect(
        (later.result as { structuredContent: { rowCount: number } }).structuredContent,
      ).toMatchObject({ rowCount: 10 });
    } finally {
      expect(await client.close()).toBe(0);
    }
  });

  it('answers arguments: null with -32602 naming the field, without a zod dump', async () => {
    const client = new RawClient(dsnArgs());
    try {
      await client.initialize();
      client.send({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'query_read', arguments: null },
      });
      const answer = await client.response(3);
      expect(answer.error).toMatchObject({ code: -32602 });
      const message = String((answer.error as { message: string }).message);
      expect(message).toContain(
        'Invalid tools/call request: params.arguments must be an object of named arguments (or left out).',
      );
      // No zod issue dump, no stack.
      expect(message).not.toMatch(/expected|invalid_type|\n|at /);
    } finally {
      await client.close();
    }
  });

  it('answers a message over 10 MiB with -32600 and its id, and goes on serving', async () => {
    const client = new RawClient(dsnArgs());
    try {
      await client.initialize();
      const huge = `{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"name":"query_read","arguments":{"sql":"SELECT '${'x'.repeat(11 * 1024 * 1024)}'"}}}\n`;
      client.send(huge);
      const answer = await client.response(77);
      expect(answer.error).toMatchObject({ code: -32600 });
      expect(String((answer.error as { message: string }).message)).toMatch(
        /over the limit of 10485760 bytes/,
      );
      client.send(readCall(78, 'SELECT count(*) AS n FROM customers'));
      expect((await client.response(78)).result).toBeDefined();
      expect(client.stderr).not.toContain('transport closed');
    } finally {
      expect(await client.close()).toBe(0);
    }
  });

  it('answers a line that is not JSON with -32700, and goes on serving', async () => {
    const client = new RawClient(dsnArgs());
    try {
      await client.initialize();
      client.send('{"jsonrpc": "2.0", "id": 5, "method": \n');
      expect(await client.response(null)).toMatchObject({ error: { code: -32700 } });
      client.send({ jsonrpc: '2.0', id: 6, method: 'tools/list' });
      expect((await client.response(6)).result).toBeDefined();
    } finally {
      await client.close();
    }
  });
});

describe('one wide value', () => {
  it('a 540 MB value answers the rows that fit (none), truncated, and the server goes on', async () => {
    // The default 1 MiB maxBytes; time enough for the server to build the value on a loaded machine.
    const file = dir.write(
      'wide-default.yaml',
      `server:
  limits: { timeoutMs: 60000 }
sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${schema.name}
    tables: ["${schema.name}.*"]
principals:
  local: { capabilities: [tool:query_read, "read:main:${schema.name}.*"] }
`,
    );
    const server = await startServer(['--config', file], { E2E_DATABASE_URL: postgresTestUrl() });
    try {
      const result = ok<{ rowCount: number; truncated: boolean; truncatedReason: string }>(
        await call(server, 'query_read', { sql: "SELECT repeat('x', 540000000) AS big" }),
      );
      expect(result).toMatchObject({ rowCount: 0, truncated: true, truncatedReason: 'maxBytes' });
      const next = ok<{ rowCount: number }>(
        await call(server, 'query_read', { sql: 'SELECT id FROM customers' }),
      );
      expect(next.rowCount).toBe(10);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('a value past what the driver can hold fails that call with INTERNAL, audited, and the server goes on', async () => {
    const file = dir.write(
      'wide.yaml',
      `server:
  limits: { maxBytes: 1073741824, timeoutMs: 60000 }
sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${schema.name}
    tables: ["${schema.name}.*"]
principals:
  local: { capabilities: [tool:query_read, "read:main:${schema.name}.*"] }
`,
    );
    const server = await startServer(['--config', file], { E2E_DATABASE_URL: postgresTestUrl() });
    try {
      const error = failure(
        await call(server, 'query_read', { sql: "SELECT repeat('x', 540000000) AS big" }),
      );
      expect(error.code).toBe('INTERNAL');
      const next = ok<{ rowCount: number }>(
        await call(server, 'query_read', { sql: 'SELECT id FROM customers' }),
      );
      expect(next.rowCount).toBe(10);
      const audit = server.auditLines();
      expect(audit.map((line) => line.code ?? 'ok')).toEqual(['INTERNAL', 'ok']);
    } finally {
      await server.close();
    }
  }, 90_000);
});

describe('values in messages, and a busy source', () => {
  it('never puts a parameter value in an error message', async () => {
    const server = await startServer(dsnArgs());
    try {
      const result = await call(server, 'query_read', {
        sql: 'SELECT $1::regclass AS r',
        params: ['PARAMCANARY_REGCLASS'],
      });
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result).toLowerCase()).not.toContain('paramcanary');
    } finally {
      await server.close();
    }
  });

  it('answers SOURCE_BUSY with retryAfterMs when every connection stays busy, not DB_UNAVAILABLE', async () => {
    const file = dir.write(
      'busy.yaml',
      `sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${schema.name}
    tables: ["${schema.name}.*"]
    pool: { max: 1, connectionTimeoutMs: 300 }
principals:
  local: { capabilities: [tool:query_read, "read:main:${schema.name}.*"] }
`,
    );
    const server = await startServer(['--config', file], { E2E_DATABASE_URL: postgresTestUrl() });
    try {
      const holding = call(server, 'query_read', {
        sql: 'SELECT count(*) FROM generate_series(1, 20000000) a',
      });
      // Let the heavy call take the one connection first.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const busy = failure(await call(server, 'query_read', { sql: 'SELECT id FROM customers' }));
      expect(busy.code).toBe('SOURCE_BUSY');
      expect(busy.retryAfterMs).toBeGreaterThan(0);
      ok(await holding);
      expect(server.stderr()).not.toContain('the database is unavailable');
    } finally {
      await server.close();
    }
  }, 30_000);
});

describe('the quota of --dsn', () => {
  it('holds a principal to 4 calls at once by default, and --concurrency changes it', async () => {
    const heavy = 'SELECT count(*) FROM generate_series(1, 3000000) a';
    const burst = async (args: string[]) => {
      const server = await startServer([...dsnArgs(), ...args]);
      try {
        const results = await Promise.all(
          Array.from({ length: 6 }, () => call(server, 'query_read', { sql: heavy })),
        );
        return results.map((r) =>
          r.isError ? (r.structuredContent as { error: { code: string } }).error.code : 'ok',
        );
      } finally {
        await server.close();
      }
    };
    const defaults = await burst([]);
    expect(defaults.filter((code) => code === 'ok')).toHaveLength(4);
    expect(defaults.filter((code) => code === 'CONCURRENCY_LIMITED')).toHaveLength(2);
    expect((await burst(['--concurrency', '6'])).every((code) => code === 'ok')).toBe(true);
  }, 60_000);

  it('--rate limits calls per second', async () => {
    const server = await startServer([...dsnArgs(), '--rate', '0.5']);
    try {
      ok(await call(server, 'query_read', { sql: 'SELECT 1 AS one' }));
      const limited = failure(await call(server, 'query_read', { sql: 'SELECT 1 AS one' }));
      expect(limited.code).toBe('RATE_LIMITED');
      expect(limited.retryAfterMs).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });
});
