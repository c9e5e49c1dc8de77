import { connect, createServer, type Server } from 'node:net';
import type { SourceAdapter } from '@sqlwarden/adapter-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, LIMITS, signal, type TestDatabase } from './test-support.js';

// What the adapter sends, seen by a TCP proxy between it and the real
// MariaDB: one command packet (sequence id 0) per request the client makes.
// Every command here but COM_STMT_CLOSE waits for the server's answer, so
// commands are round trips. (docs/mysql.md, "Round trips".)

const COMMANDS: Record<number, string> = {
  1: 'QUIT',
  3: 'QUERY',
  14: 'PING',
  22: 'PREPARE',
  23: 'EXECUTE',
  25: 'CLOSE',
};

class CountingProxy {
  readonly seen: string[] = [];
  #server: Server | undefined;

  async start(target: { host: string; port: number }): Promise<number> {
    this.#server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      let pending = Buffer.alloc(0);
      client.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 4) {
          const length = pending.readUIntLE(0, 3);
          if (pending.length < 4 + length) break;
          const sequence = pending[3];
          const payload = pending.subarray(4, 4 + length);
          if (sequence === 0 && payload.length > 0) {
            const name =
              COMMANDS[payload[0] as number] ?? `0x${(payload[0] as number).toString(16)}`;
            this.seen.push(
              name === 'QUERY' || name === 'PREPARE'
                ? `${name} ${payload.subarray(1).toString('utf8').replace(/\s+/g, ' ').slice(0, 40)}`
                : name,
            );
          }
          pending = pending.subarray(4 + length);
        }
      });
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  }

  /** What was seen since the last call. */
  take(): string[] {
    return this.seen.splice(0);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}

let db: TestDatabase;
let proxy: CountingProxy;
let adapter: SourceAdapter;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.admin.query('CREATE TABLE t (id int PRIMARY KEY)');
  await db.admin.query('INSERT INTO t SELECT seq FROM seq_1_to_5000');
  proxy = new CountingProxy();
  const target = new URL(db.url());
  const port = await proxy.start({ host: target.hostname, port: Number(target.port || 3306) });
  const url = new URL(db.url());
  url.hostname = '127.0.0.1';
  url.port = String(port);
  adapter = db.adapter({ connection: { uri: url.toString() }, pool: { max: 1 } });
});

afterAll(async () => {
  await adapter?.close();
  await proxy?.stop();
  await db?.drop();
});

const read = (sql: string, params: unknown[], limits: Partial<typeof LIMITS> = {}) =>
  adapter.read({ sql, params, limits: { ...LIMITS, ...limits }, signal: signal() });

it('costs one round trip per read of a text the connection prepared before, two the first time', async () => {
  await read('SELECT id FROM t WHERE id = ?', [1]);
  // A new connection: the server version (once per source), the session (once
  // per connection), then PREPARE and EXECUTE (mysql2 waits for the first's answer).
  expect(proxy.take()).toEqual([
    'QUERY SELECT VERSION()',
    "QUERY SET SESSION sql_mode = 'ONLY_FULL_GROUP_",
    'PREPARE SELECT id FROM t WHERE id = ?',
    'EXECUTE',
  ]);
  await read('SELECT id FROM t WHERE id = ?', [2]);
  expect(proxy.take()).toEqual(['EXECUTE']);
  await read('SELECT id FROM t WHERE id BETWEEN ? AND ?', [2, 5]);
  expect(proxy.take()).toEqual(['PREPARE SELECT id FROM t WHERE id BETWEEN ? AND ', 'EXECUTE']);
  // A call with another time limit sets it first, once.
  await read('SELECT id FROM t WHERE id = ?', [3], { timeoutMs: 1000 });
  expect(proxy.take()).toEqual(['QUERY SET SESSION max_statement_time = 1.000', 'EXECUTE']);
  await read('SELECT id FROM t WHERE id = ?', [3], { timeoutMs: 1000 });
  expect(proxy.take()).toEqual(['EXECUTE']);
  await read('SELECT id FROM t WHERE id = ?', [3]);
  expect(proxy.take()).toEqual(['QUERY SET SESSION max_statement_time = 5.000', 'EXECUTE']);
});

it('closes a connection stopped mid-result, kills its statement from another, and opens a new one', async () => {
  const result = await read('SELECT id FROM t', [], { maxRows: 10 });
  expect(result).toMatchObject({ rowCount: 10, truncated: true });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const seen = proxy.take();
  expect(seen.slice(0, 2)).toEqual(['PREPARE SELECT id FROM t', 'EXECUTE']);
  expect(seen).toContainEqual(expect.stringMatching(/^QUERY KILL QUERY \d+$/));
  await read('SELECT id FROM t WHERE id = ?', [1]);
  // No second SELECT VERSION(): the flavor is known for the source.
  expect(proxy.take()).toEqual([
    "QUERY SET SESSION sql_mode = 'ONLY_FULL_GROUP_",
    'PREPARE SELECT id FROM t WHERE id = ?',
    'EXECUTE',
  ]);
});
