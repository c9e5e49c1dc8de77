import { createHmac, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { e2eEnv, mysqlTestUrl, postgresTestUrl } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditLineAfter,
  CLI,
  call,
  failure,
  onTestMysql,
  onTestPostgres,
  type RunningServer,
  startServer,
  tempDir,
  urlWithDatabase,
} from './harness.js';

// Writes a person confirms, end to end: the built sqlwarden-stdio on the
// real PostgreSQL and MariaDB, a source with confirmWrites, and SDK
// clients as a user's would be. On MCP 2026-07-28 (SDK v2) the server
// answers input_required with an elicitation and a signed state, and the
// client asks its user (here: the test's elicitation handler) and calls
// again. On 2025-11-25 (SDK v1) without elicitation the write is refused;
// with elicitation over stdio the server asks with elicitation/create.

const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
const DB = `sqlwarden_confirm_${tag}`;
const KEY = randomBytes(32).toString('base64url');
const dir = tempDir();

type Answer = { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, boolean> };

const engines = [
  {
    kind: 'postgres' as const,
    url: () => urlWithDatabase(postgresTestUrl(), DB),
    schema: 'public',
    query: (sql: string) => onTestPostgres(sql, DB),
    async setUp() {
      await onTestPostgres(`CREATE DATABASE ${DB}`);
      await this.reset();
    },
    reset: () =>
      onTestPostgres(
        `DROP TABLE IF EXISTS orders;
         CREATE TABLE orders (id int PRIMARY KEY, status varchar(20) NOT NULL);
         INSERT INTO orders SELECT g, 'pending' FROM generate_series(1, 10) g;`,
        DB,
      ),
    tearDown: () => onTestPostgres(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`),
  },
  {
    kind: 'mysql' as const,
    url: () => urlWithDatabase(mysqlTestUrl(), DB),
    schema: DB,
    query: (sql: string) => onTestMysql(`USE ${DB}; ${sql}`),
    async setUp() {
      await onTestMysql(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4`);
      await this.reset();
    },
    reset: () =>
      onTestMysql(
        `DROP TABLE IF EXISTS ${DB}.orders;
         CREATE TABLE ${DB}.orders (id int PRIMARY KEY, status varchar(20) NOT NULL);
         INSERT INTO ${DB}.orders SELECT seq, 'pending' FROM seq_1_to_10;`,
      ),
    tearDown: () => onTestMysql(`DROP DATABASE IF EXISTS ${DB}`),
  },
];
type Engine = (typeof engines)[number];

function configFile(engine: Engine): string {
  return dir.write(
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
    - tool:query_read
    - tool:update_order_status
    - read:main:${engine.schema}.*
    - write:main:${engine.schema}.orders
principals:
  clerk: { roles: [clerk] }
transports:
  stdio: { principal: clerk }
tools:
  update_order_status:
    description: Sets the status of one order.
    source: main
    kind: write
    confirm: true
    sql: UPDATE orders SET status = :status WHERE id = :order_id
    parameters:
      order_id: { type: integer, minimum: 1 }
      status: { type: string, enum: [paid, shipped, cancelled] }
`,
  );
}

const env = (engine: Engine) => ({
  E2E_DATABASE_URL: engine.url(),
  SQLWARDEN_ALLOW_WRITES: 'true',
  SQLWARDEN_CONFIRM_KEY: KEY,
});

/** An SDK v2 client on 2026-07-28 whose user answers with `answer` (and sees the question). */
async function modernClient(engine: Engine) {
  const person = {
    questions: [] as string[],
    answer: async (): Promise<Answer> => ({ action: 'accept', content: { confirm: true } }),
  };
  const client = new Client(
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
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, '--config', configFile(engine)],
    env: e2eEnv(env(engine)),
    cwd: tmpdir(),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  await client.connect(transport);
  const auditLines = () =>
    stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.kind === 'audit');
  /** The first audit line after the first `before` that matches (they land a moment after the answers). */
  const auditAfter = (before: number, matches: (line: Record<string, unknown>) => boolean) =>
    auditLineAfter({ auditLines } as RunningServer, before, matches);
  return { client, person, auditLines, auditAfter, stderr: () => stderr };
}

type Modern = Awaited<ReturnType<typeof modernClient>>;

/** The orders' statuses, `id:status` in id order, on either engine. */
async function current(engine: Engine): Promise<string> {
  const sql = 'SELECT id, status FROM orders ORDER BY id';
  let rows: Array<{ id: number; status: string }>;
  if (engine.kind === 'postgres') {
    rows = (await onTestPostgres(sql, DB)) as typeof rows;
  } else {
    const mysql = await import('mysql2/promise');
    const db = await mysql.createConnection({ uri: engine.url() });
    try {
      rows = (await db.query(sql))[0] as typeof rows;
    } finally {
      await db.end();
    }
  }
  return rows.map((r) => `${r.id}:${r.status}`).join(',');
}

const PENDING = Array.from({ length: 10 }, (_, i) => `${i + 1}:pending`).join(',');

/** The error envelope of a v2 result. */
function errorOf(result: unknown): { code: string; message: string } {
  const r = result as { isError?: boolean; structuredContent?: { error?: unknown } };
  expect(r.isError, JSON.stringify(result).slice(0, 300)).toBe(true);
  return r.structuredContent?.error as { code: string; message: string };
}

/** The tool call, in manual mode: the input_required result as the server sent it. */
async function ask(modern: Modern, name: string, args: Record<string, unknown>) {
  const answer = (await modern.client.request(
    { method: 'tools/call', params: { name, arguments: args } },
    { allowInputRequired: true },
  )) as { resultType?: string; requestState?: string; inputRequests?: Record<string, unknown> };
  expect(answer.resultType).toBe('input_required');
  return answer as { requestState: string; inputRequests: Record<string, unknown> };
}

/** The second call of the flow, sent by hand with the given state and answer. */
function answerWith(
  modern: Modern,
  name: string,
  args: Record<string, unknown>,
  requestState: string,
  response: Answer = { action: 'accept', content: { confirm: true } },
) {
  return modern.client.request({
    method: 'tools/call',
    params: { name, arguments: args, requestState, inputResponses: { confirm: response } },
  });
}

/** The state's payload changed and signed again with the shared key (what only a replica could do). */
function resigned(state: string, change: (payload: Record<string, unknown>) => void): string {
  const body = state.split('.')[1] as string;
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  change(payload);
  const next = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const mac = createHmac('sha256', KEY).update('sqlwarden.confirm.v1.').update(next).digest();
  return `v1.${next}.${mac.toString('base64url')}`;
}

describe.each(engines)('confirmed writes over stdio on $kind', (engine) => {
  let modern: Modern;
  const UPDATE =
    engine.kind === 'postgres'
      ? 'UPDATE orders SET status = $1 WHERE id <= $2'
      : 'UPDATE orders SET status = ? WHERE id <= ?';

  beforeAll(async () => {
    await engine.setUp();
    modern = await modernClient(engine);
  }, 90_000);

  afterAll(async () => {
    await modern?.client.close();
    await engine.tearDown();
  });

  const reset = async () => {
    await engine.reset();
    modern.person.questions.length = 0;
    modern.person.answer = async () => ({ action: 'accept', content: { confirm: true } });
  };

  it('asks the person with what the write does, and writes exactly the rows shown on accept', async () => {
    await reset();
    const before = modern.auditLines().length;
    const result = await modern.client.callTool({
      name: 'execute_write',
      arguments: { sql: UPDATE, params: ['paid', 3] },
    });
    expect(result.structuredContent).toEqual({ affectedRows: 3, committed: true, dryRun: false });
    expect(modern.person.questions).toHaveLength(1);
    const question = modern.person.questions[0] as string;
    expect(question).toContain(`UPDATE on ${engine.schema}.orders, changing 3 rows`);
    expect(question).toContain('source main');
    expect(question).toContain('Values: ["paid",3]');
    expect(await current(engine)).toBe(
      `1:paid,2:paid,3:paid,${PENDING.split(',').slice(3).join(',')}`,
    );
    // Two calls, both audited: the question (the dry run, nothing committed), then the write.
    const requested = await modern.auditAfter(before, (l) => l.confirmation === 'requested');
    const accepted = await modern.auditAfter(before, (l) => l.confirmation === 'accepted');
    expect(requested).toMatchObject({ decision: 'allow', rows: 3, committed: false });
    expect(accepted).toMatchObject({ decision: 'allow', rows: 3, committed: true });
    // Values and statement text stay out of the logs.
    expect(modern.stderr()).not.toContain('"paid"');
    expect(modern.stderr()).not.toContain(KEY);
  });

  it('confirms a declared write tool the same way', async () => {
    await reset();
    const result = await modern.client.callTool({
      name: 'update_order_status',
      arguments: { order_id: 7, status: 'shipped' },
    });
    expect(result.structuredContent).toEqual({ affectedRows: 1, committed: true, dryRun: false });
    expect(modern.person.questions[0]).toContain('changing 1 row ');
    expect(await current(engine)).toContain(',7:shipped,');
  });

  it('asks nothing for a dry run', async () => {
    await reset();
    const result = await modern.client.callTool({
      name: 'execute_write',
      arguments: { sql: UPDATE, params: ['paid', 4], dryRun: true },
    });
    expect(result.structuredContent).toEqual({ affectedRows: 4, committed: false, dryRun: true });
    expect(modern.person.questions).toEqual([]);
    expect(await current(engine)).toBe(PENDING);
  });

  it('writes nothing when the person declines, cancels, or accepts without ticking the box', async () => {
    for (const answer of [
      { action: 'decline' },
      { action: 'cancel' },
      { action: 'accept', content: { confirm: false } },
    ] as Answer[]) {
      await reset();
      modern.person.answer = async () => answer;
      const before = modern.auditLines().length;
      const result = await modern.client.callTool({
        name: 'execute_write',
        arguments: { sql: UPDATE, params: ['paid', 3] },
      });
      expect(errorOf(result).code).toBe('CONFIRMATION_DECLINED');
      expect(await current(engine)).toBe(PENDING);
      const line = await modern.auditAfter(before, (l) => l.confirmation === 'declined');
      expect(line).toMatchObject({ decision: 'deny', code: 'CONFIRMATION_DECLINED' });
    }
  });

  it('refuses the write when the data changed so that more rows would change than were shown', async () => {
    await reset();
    const sql =
      engine.kind === 'postgres'
        ? 'UPDATE orders SET status = $1 WHERE status = $2'
        : 'UPDATE orders SET status = ? WHERE status = ?';
    await engine.query("UPDATE orders SET status = 'hold' WHERE id IN (1, 2)");
    // The person takes a while; meanwhile another order goes on hold.
    modern.person.answer = async () => {
      await engine.query("UPDATE orders SET status = 'hold' WHERE id = 3");
      return { action: 'accept', content: { confirm: true } };
    };
    const result = await modern.client.callTool({
      name: 'execute_write',
      arguments: { sql, params: ['shipped', 'hold'] },
    });
    expect(modern.person.questions[0]).toContain('changing 2 rows');
    const error = errorOf(result);
    expect(error.code).toBe('WRITE_LIMIT_EXCEEDED');
    expect(error.message).toContain('the 2 rows the person accepted');
    expect(await current(engine)).not.toContain('shipped');
  });

  it('refuses a changed state, a state for another call, an expired one and a replayed one', async () => {
    await reset();
    const args = { sql: UPDATE, params: ['paid', 2] };
    const expectRefused = async (state: string, text: string, callArgs = args) => {
      const error = errorOf(await answerWith(modern, 'execute_write', callArgs, state));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toContain(text);
      expect(await current(engine)).toBe(PENDING);
    };

    const first = await ask(modern, 'execute_write', args);
    expect(Object.keys(first.inputRequests)).toEqual(['confirm']);
    const [v, body, mac] = first.requestState.split('.') as [string, string, string];
    const flipped = `${body.slice(0, 20)}${body[20] === 'A' ? 'B' : 'A'}${body.slice(21)}`;
    await expectRefused(`${v}.${flipped}.${mac}`, 'was not issued by this server or was changed');
    // More rows than shown, signed with another key.
    const forged = (() => {
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      payload.rows = 10;
      const next = Buffer.from(JSON.stringify(payload)).toString('base64url');
      const sig = createHmac('sha256', 'x'.repeat(32)).update('sqlwarden.confirm.v1.').update(next);
      return `v1.${next}.${sig.digest('base64url')}`;
    })();
    await expectRefused(forged, 'was not issued by this server or was changed');
    // The same state with other values: bound to the call it was issued for.
    await expectRefused(first.requestState, 'is for another call', {
      sql: UPDATE,
      params: ['paid', 9],
    });
    // Expired: the shared key's holder sets the expiry in the past (no clock is waited on).
    await expectRefused(
      resigned(first.requestState, (p) => {
        p.exp = Date.now() - 1;
      }),
      'has expired',
    );
    // The real answer works once; its replay is refused.
    const accepted = (await answerWith(modern, 'execute_write', args, first.requestState)) as {
      structuredContent?: unknown;
    };
    expect(accepted.structuredContent).toEqual({ affectedRows: 2, committed: true, dryRun: false });
    await engine.reset();
    await expectRefused(first.requestState, 'was answered already');
  });
});

describe('clients on MCP 2025-11-25 over stdio (postgres)', () => {
  const engine = engines[0] as Engine;

  beforeAll(async () => {
    await engine.setUp();
  }, 60_000);

  afterAll(async () => {
    await engine.tearDown();
  });

  it('refuses the write with CONFIRMATION_REQUIRED when the client cannot ask its user', async () => {
    await engine.reset();
    const server = await startServer(['--config', configFile(engine)], env(engine));
    try {
      const before = server.auditLines().length;
      const error = failure(
        await call(server, 'execute_write', {
          sql: 'UPDATE orders SET status = $1 WHERE id = $2',
          params: ['paid', 1],
        }),
      );
      expect(error.code).toBe('CONFIRMATION_REQUIRED');
      expect(error.message).toContain('did not declare the elicitation capability');
      expect(await current(engine)).toBe(PENDING);
      const line = await auditLineAfter(server, before, (l) => l.tool === 'execute_write');
      expect(line).toMatchObject({ decision: 'deny', confirmation: 'refused' });
      // Refused before any dry run: no database call was made for it.
      expect(line?.rows).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('asks with elicitation/create when the client declared elicitation', async () => {
    await engine.reset();
    const questions: string[] = [];
    const client = new V1Client(
      { name: 'sqlwarden-e2e-v1-elicit', version: '1.0.0' },
      { capabilities: { elicitation: {} } },
    );
    let answer: Answer = { action: 'accept', content: { confirm: true } };
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      questions.push(request.params.message);
      return answer;
    });
    await client.connect(
      new V1Transport({
        command: process.execPath,
        args: [CLI, '--config', configFile(engine)],
        env: e2eEnv(env(engine)),
        cwd: tmpdir(),
        stderr: 'pipe',
      }),
    );
    try {
      const sql = 'UPDATE orders SET status = $1 WHERE id <= $2';
      const done = await client.callTool({
        name: 'execute_write',
        arguments: { sql, params: ['paid', 2] },
      });
      expect(done.structuredContent).toEqual({ affectedRows: 2, committed: true, dryRun: false });
      expect(questions[0]).toContain('changing 2 rows');
      expect(await current(engine)).toMatch(/^1:paid,2:paid,3:pending,/);

      answer = { action: 'decline' };
      const declined = await client.callTool({
        name: 'execute_write',
        arguments: { sql, params: ['cancelled', 5] },
      });
      expect(errorOf(declined).code).toBe('CONFIRMATION_DECLINED');
      expect(await current(engine)).not.toContain('cancelled');
    } finally {
      await client.close();
    }
  });
});
