import { randomBytes } from 'node:crypto';
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client';
import { mysqlTestUrl, postgresTestUrl, urlWithDatabase } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callTool,
  onMysql,
  onTestPostgres,
  type RunningHttp,
  startHttp,
  tempDir,
} from './harness.js';

// Writes a person confirms over Streamable HTTP, end to end: the built
// sqlwarden-http on the real PostgreSQL and MariaDB. An SDK v2 client on
// MCP 2026-07-28 gets input_required, asks its user (the test's
// elicitation handler) and calls again on a request of its own; nothing
// is held between the two. A 2025-11-25 client over HTTP (stateless: the
// server cannot send it a question) is refused with CONFIRMATION_REQUIRED.

const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
const DB = `sqlwarden_confirm_http_${tag}`;
const dir = tempDir();

type Answer = { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, boolean> };

const engines = [
  {
    kind: 'postgres' as const,
    url: () => urlWithDatabase(postgresTestUrl(), DB),
    schema: 'public',
    update: 'UPDATE orders SET status = $1 WHERE id <= $2',
    change: (sql: string) => onTestPostgres(sql, DB),
    setUp: async () => {
      await onTestPostgres(`CREATE DATABASE ${DB}`);
    },
    reset: () =>
      onTestPostgres(
        `DROP TABLE IF EXISTS orders;
         CREATE TABLE orders (id int PRIMARY KEY, status varchar(20) NOT NULL);
         INSERT INTO orders SELECT g, 'pending' FROM generate_series(1, 10) g;`,
        DB,
      ),
    statuses: async () =>
      (
        (await onTestPostgres('SELECT id, status FROM orders ORDER BY id', DB)) as Array<{
          id: number;
          status: string;
        }>
      )
        .map((r) => `${r.id}:${r.status}`)
        .join(','),
    tearDown: () => onTestPostgres(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`),
  },
  {
    kind: 'mysql' as const,
    url: () => urlWithDatabase(mysqlTestUrl(), DB),
    schema: DB,
    update: 'UPDATE orders SET status = ? WHERE id <= ?',
    change: (sql: string) => onMysql(`USE ${DB}; ${sql}`),
    setUp: () => onMysql(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4`),
    reset: () =>
      onMysql(
        `USE ${DB};
         DROP TABLE IF EXISTS ${DB}.orders;
         CREATE TABLE ${DB}.orders (id int PRIMARY KEY, status varchar(20) NOT NULL);
         INSERT INTO ${DB}.orders SELECT seq, 'pending' FROM seq_1_to_10;`,
      ),
    statuses: async () =>
      (await onMysql(`SELECT id, status FROM ${DB}.orders ORDER BY id`))
        .trim()
        .split('\n')
        .map((line) => line.replace('\t', ':'))
        .join(','),
    tearDown: () => onMysql(`DROP DATABASE IF EXISTS ${DB}`),
  },
];

const PENDING = Array.from({ length: 10 }, (_, i) => `${i + 1}:pending`).join(',');

describe.each(engines)('confirmed writes over HTTP on $kind', (engine) => {
  let server: RunningHttp;
  let client: V2Client;
  const person = {
    questions: [] as string[],
    answer: async (): Promise<Answer> => ({ action: 'accept', content: { confirm: true } }),
  };

  beforeAll(async () => {
    await engine.setUp();
    const config = dir.write(
      `${engine.kind}.yaml`,
      `server:
  readOnly: false
  limits: { maxAffectedRows: 50 }
sources:
  main:
    kind: ${engine.kind}
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${engine.schema}
    tables: ["${engine.schema}.*"]
    writable: ["${engine.schema}.orders"]
    confirmWrites: true
roles:
  clerk:
    - tool:execute_write
    - read:main:${engine.schema}.*
    - write:main:${engine.schema}.orders
principals:
  clerk: { roles: [clerk] }
`,
    );
    server = await startHttp(['--config', config, '--port', '0'], {
      env: { E2E_DATABASE_URL: engine.url(), SQLWARDEN_ALLOW_WRITES: 'true' },
    });
    client = new V2Client(
      { name: 'sqlwarden-e2e-confirm', version: '2.0.0' },
      {
        capabilities: { elicitation: { form: {} } },
        versionNegotiation: { mode: { pin: '2026-07-28' } },
      },
    );
    client.setRequestHandler('elicitation/create', async (request) => {
      person.questions.push((request.params as { message: string }).message);
      return person.answer();
    });
    await client.connect(
      new V2Transport(new URL(server.url), {
        requestInit: { headers: { authorization: `Bearer ${server.token}` } },
      }),
    );
  }, 90_000);

  afterAll(async () => {
    await client?.close();
    await server?.stop();
    await engine.tearDown();
  });

  const reset = async (answer?: () => Promise<Answer>) => {
    await engine.reset();
    person.questions.length = 0;
    person.answer = answer ?? (async () => ({ action: 'accept', content: { confirm: true } }));
  };
  const errorOf = (result: unknown) =>
    (result as { structuredContent?: { error?: { code: string; message: string } } })
      .structuredContent?.error;

  it('writes exactly the rows shown once the person accepts', async () => {
    await reset();
    const result = await client.callTool({
      name: 'execute_write',
      arguments: { sql: engine.update, params: ['paid', 2] },
    });
    expect(result.structuredContent).toEqual({ affectedRows: 2, committed: true, dryRun: false });
    expect(person.questions[0]).toContain(`UPDATE on ${engine.schema}.orders, changing 2 rows`);
    expect(await engine.statuses()).toMatch(/^1:paid,2:paid,3:pending,/);
    const audit = server.auditLines().filter((l) => l.tool === 'execute_write');
    expect(audit.map((l) => l.confirmation)).toEqual(
      expect.arrayContaining(['requested', 'accepted']),
    );
  });

  it('writes nothing when the person declines', async () => {
    await reset(async () => ({ action: 'decline' }));
    const result = await client.callTool({
      name: 'execute_write',
      arguments: { sql: engine.update, params: ['paid', 2] },
    });
    expect(errorOf(result)?.code).toBe('CONFIRMATION_DECLINED');
    expect(await engine.statuses()).toBe(PENDING);
  });

  it('refuses the write when more rows would change than the person was shown', async () => {
    await reset(async () => {
      await engine.change("INSERT INTO orders VALUES (0, 'pending')");
      return { action: 'accept', content: { confirm: true } };
    });
    const result = await client.callTool({
      name: 'execute_write',
      arguments: { sql: engine.update, params: ['paid', 3] },
    });
    expect(person.questions[0]).toContain('changing 3 rows');
    expect(errorOf(result)?.code).toBe('WRITE_LIMIT_EXCEEDED');
    expect(await engine.statuses()).not.toContain('paid');
  });

  it('refuses a tampered state', async () => {
    await reset();
    const args = { sql: engine.update, params: ['paid', 2] };
    const first = (await client.request(
      { method: 'tools/call', params: { name: 'execute_write', arguments: args } },
      { allowInputRequired: true },
    )) as { resultType?: string; requestState?: string };
    expect(first.resultType).toBe('input_required');
    const state = first.requestState as string;
    const tampered = `${state.slice(0, -3)}${state.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    const result = await client.request({
      method: 'tools/call',
      params: {
        name: 'execute_write',
        arguments: args,
        requestState: tampered,
        inputResponses: { confirm: { action: 'accept', content: { confirm: true } } },
      },
    });
    expect(errorOf(result)?.code).toBe('INVALID_INPUT');
    expect(errorOf(result)?.message).toContain('was not issued by this server or was changed');
    expect(await engine.statuses()).toBe(PENDING);
  });

  it('refuses a 2025-11-25 client, which the server cannot ask, with CONFIRMATION_REQUIRED', async () => {
    await reset();
    const answer = await callTool(server.url, server.token as string, 'execute_write', {
      sql: engine.update,
      params: ['paid', 2],
    });
    expect(answer.code).toBe('CONFIRMATION_REQUIRED');
    expect(JSON.stringify(answer.result)).toContain('over HTTP the server cannot send');
    expect(await engine.statuses()).toBe(PENDING);
  });
});
