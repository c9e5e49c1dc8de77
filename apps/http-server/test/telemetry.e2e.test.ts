import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import {
  type OtlpReceiver,
  type OtlpSpan,
  postgresTestUrl,
  startOtlpReceiver,
} from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  onTestPostgres,
  post,
  type RunningHttp,
  startHttp,
  structured,
  tempDir,
} from './harness.js';

// OpenTelemetry end to end (docs/observability.md): the built sqlwarden-http
// with its telemetry pointed at a real OTLP/HTTP receiver started here, on
// the test PostgreSQL. Calls carry the caller's W3C trace context (HTTP
// headers; params._meta on 2026-07-28); the test reads what the receiver
// got: spans, their parents and attributes, metrics, and the raw bodies,
// in which no SQL text, parameter value or made-up tool name may appear.

const s = `otel_e2e_${randomBytes(4).toString('hex')}`;
const dir = tempDir();
const SQL_CANARY = `sqlcanary${randomBytes(4).toString('hex')}`;
const PARAM_CANARY = `paramcanary${randomBytes(4).toString('hex')}`;
const TOOL_CANARY = `toolcanary${randomBytes(4).toString('hex')}`;
const COLLECTOR_TOKEN = `collector-${randomBytes(12).toString('hex')}`;

let receiver: OtlpReceiver;
let server: RunningHttp;

/** A W3C traceparent of a sampled caller span. */
function caller(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

const LEGACY = { 'mcp-protocol-version': '2025-11-25' };
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'otel-e2e', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

let nextId = 1;

/** tools/call over raw HTTP: 2025-11-25 (headers only) or 2026-07-28 (_meta envelope). */
async function callTool(
  name: string,
  args: Record<string, unknown>,
  options: {
    headers?: Record<string, string>;
    modern?: boolean;
    meta?: Record<string, unknown>;
  } = {},
) {
  const auth = { authorization: `Bearer ${server.token}` };
  const params = options.modern
    ? { name, arguments: args, _meta: { ...MODERN_META, ...options.meta } }
    : { name, arguments: args, ...(options.meta !== undefined && { _meta: options.meta }) };
  const headers = options.modern
    ? {
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': name,
        ...auth,
        ...options.headers,
      }
    : { ...LEGACY, ...auth, ...options.headers };
  const response = await post(
    server.url,
    { jsonrpc: '2.0', id: nextId++, method: 'tools/call', params },
    headers,
  );
  expect(response.status).toBe(200);
  return response.body as { result?: Record<string, unknown>; error?: { code: number } };
}

/** The call span of a trace: the SERVER span named tools/call. */
function callSpanOf(traceId: string): OtlpSpan | undefined {
  return receiver
    .spans()
    .find(
      (span) => span.traceId === traceId && span.kind === 2 && span.name.startsWith('tools/call'),
    );
}

const STAGES = [
  'sqlwarden.stage.context',
  'sqlwarden.stage.lookup',
  'sqlwarden.stage.input',
  'sqlwarden.stage.readOnly',
  'sqlwarden.stage.authorization',
  'sqlwarden.stage.quota',
  'sqlwarden.stage.execute',
  'sqlwarden.stage.audit',
];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  await onTestPostgres(`
    CREATE SCHEMA ${s};
    CREATE TABLE ${s}.items (id int PRIMARY KEY, label text NOT NULL);
    INSERT INTO ${s}.items SELECT g, 'item ' || g FROM generate_series(1, 50) g;
    CREATE TABLE ${s}.secrets (id int PRIMARY KEY, value text);
  `);
  const config = dir.write(
    'sqlwarden.yaml',
    `sources:
  main:
    kind: postgres
    url: \${E2E_DATABASE_URL}
    defaultSchema: ${s}
    tables: ["${s}.*"]
roles:
  analyst:
    - tool:list_tables
    - tool:describe_table
    - tool:query_read
    - read:main:${s}.items
principals:
  alice: { roles: [analyst] }
quotas:
  tools:
    describe_table: { rate: { burst: 1, perSecond: 0.001 } }
telemetry:
  endpoint: ${receiver.url}
  serviceName: sqlwarden-e2e
  metricsIntervalMs: 200
  headers:
    x-collector-token: \${OTLP_TOKEN}
`,
  );
  server = await startHttp(['--config', config, '--port', '0'], {
    env: {
      E2E_DATABASE_URL: postgresTestUrl(),
      OTLP_TOKEN: COLLECTOR_TOKEN,
      // Spans are sent 100 ms after they end (the default is 5 s).
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
  await onTestPostgres(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  dir.cleanup();
});

describe('sqlwarden-http with telemetry on', () => {
  it('joins the caller trace from the traceparent header, with the call attributes and a database span beneath', async () => {
    const agent = caller();
    const answer = await callTool(
      'query_read',
      {
        sql: `SELECT id, label FROM ${s}.items WHERE id = 42 AND label <> '${SQL_CANARY}' AND label <> $1`,
        params: [PARAM_CANARY],
      },
      { headers: { traceparent: agent.traceparent, tracestate: 'agent=1' } },
    );
    expect(structured(answer.result).rows).toEqual([[42, 'item 42']]);

    const span = await receiver.waitFor(() => callSpanOf(agent.traceId));
    expect(span.parentSpanId).toBe(agent.spanId);
    expect(span.traceState).toBe('agent=1');
    expect(span.name).toBe('tools/call query_read');
    const audit = server.auditLines().find((line) => line.tool === 'query_read' && line.rows === 1);
    expect(audit?.fp).toMatch(/^[0-9a-f]{12}$/);
    expect(span.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'query_read',
      'gen_ai.operation.name': 'execute_tool',
      'mcp.protocol.version': '2025-11-25',
      'network.transport': 'tcp',
      'network.protocol.name': 'http',
      'sqlwarden.principal.id': 'alice',
      'sqlwarden.source': 'main',
      'sqlwarden.outcome': 'ok',
      'sqlwarden.decision': 'allow',
      'sqlwarden.rows': 1,
      'sqlwarden.truncated': false,
      'sqlwarden.query.fingerprint': audit?.fp,
      'sqlwarden.request.id': audit?.requestId,
    });
    expect(span.attributes['error.type']).toBeUndefined();
    expect(span.status.code).not.toBe(2);
    expect(span.events.map((e) => e.name)).toEqual(STAGES);
    expect(span.resource['service.name']).toBe('sqlwarden-e2e');

    const database = await receiver.waitFor(() =>
      receiver.spans().find((d) => d.traceId === agent.traceId && d.kind === 3),
    );
    expect(database.parentSpanId).toBe(span.spanId);
    expect(database.name).toBe('read main');
    expect(database.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'sqlwarden.source': 'main',
      'sqlwarden.db.operation': 'read',
      'db.response.returned_rows': 1,
    });
    expect(database.attributes['db.query.text']).toBeUndefined();
    expect(database.events.map((e) => e.name)).toContain('sqlwarden.db.connection.acquired');
  });

  it('takes the parent from params._meta on 2026-07-28 and links the header context; a denial is an error with its code', async () => {
    const agent = caller();
    const transport = caller();
    const answer = await callTool(
      'query_read',
      { sql: `SELECT value FROM ${s}.secrets WHERE value = '${SQL_CANARY}'` },
      {
        modern: true,
        meta: { traceparent: agent.traceparent },
        headers: { traceparent: transport.traceparent },
      },
    );
    expect((structured(answer.result).error as { code: string }).code).toBe('FORBIDDEN');

    const span = await receiver.waitFor(() => callSpanOf(agent.traceId));
    expect(span.parentSpanId).toBe(agent.spanId);
    expect(span.links).toEqual([{ traceId: transport.traceId, spanId: transport.spanId }]);
    expect(span.status).toMatchObject({ code: 2, message: 'FORBIDDEN' });
    expect(span.attributes).toMatchObject({
      'mcp.protocol.version': '2026-07-28',
      'sqlwarden.outcome': 'FORBIDDEN',
      'sqlwarden.decision': 'deny',
      'sqlwarden.stage': 'authorization',
      'error.type': 'tool_error',
    });
    // Denied before the quota stage: no stage after authorization but the audit.
    expect(span.events.map((e) => e.name)).toEqual([...STAGES.slice(0, 5), STAGES[7]]);
    // Nothing reached the database.
    expect(receiver.spans().filter((d) => d.traceId === agent.traceId && d.kind === 3)).toEqual([]);
    expect(receiver.spans().some((x) => x.traceId === transport.traceId)).toBe(false);
  });

  it('ends a database span whose statement failed with the call code, never the database message', async () => {
    const agent = caller();
    const answer = await callTool(
      'query_read',
      { sql: `SELECT 1 / (id - id) AS ${SQL_CANARY} FROM ${s}.items WHERE id = 1` },
      { headers: { traceparent: agent.traceparent } },
    );
    const code = (structured(answer.result).error as { code: string }).code;
    const database = await receiver.waitFor(() =>
      receiver.spans().find((d) => d.traceId === agent.traceId && d.kind === 3),
    );
    expect(database.status).toEqual({ code: 2, message: code });
    expect(database.attributes['error.type']).toBe(code);
    expect(database.events.map((e) => e.name)).toEqual(['sqlwarden.db.connection.acquired']);
    const span = await receiver.waitFor(() => callSpanOf(agent.traceId));
    expect(span.attributes['sqlwarden.outcome']).toBe(code);
    expect(receiver.rawText()).not.toContain('division');
  });

  it('starts a new trace when the traceparent does not parse, and the call still succeeds', async () => {
    const before = new Set(receiver.spans().map((x) => x.spanId));
    const answer = await callTool(
      'query_read',
      { sql: `SELECT count(*) AS n FROM ${s}.items` },
      { headers: { traceparent: '00-not-a-trace-context-01' } },
    );
    expect(structured(answer.result).rows).toEqual([['50']]);
    const span = await receiver.waitFor(() =>
      receiver
        .spans()
        .find((x) => !before.has(x.spanId) && x.name === 'tools/call query_read' && x.kind === 2),
    );
    expect(span.parentSpanId).toBe('');
    expect(span.attributes['sqlwarden.rows']).toBe(1);
  });

  it('names no tool the client made up: a span named tools/call, with the JSON-RPC error', async () => {
    const agent = caller();
    const answer = await callTool(TOOL_CANARY, {}, { headers: { traceparent: agent.traceparent } });
    expect(answer.error?.code).toBe(-32602);
    const span = await receiver.waitFor(() => callSpanOf(agent.traceId));
    expect(span.name).toBe('tools/call');
    expect(span.attributes['gen_ai.tool.name']).toBeUndefined();
    expect(span.attributes).toMatchObject({
      'sqlwarden.outcome': 'UNKNOWN_TOOL',
      'error.type': '-32602',
      'rpc.response.status_code': '-32602',
    });
  });

  it('counts calls, durations, rows and a quota rejection in metrics, and the pool', async () => {
    const first = await callTool('describe_table', { table: `${s}.items` });
    expect(first.result?.isError).toBeFalsy();
    const second = await callTool('describe_table', { table: `${s}.items` });
    expect((structured(second.result).error as { code: string }).code).toBe('RATE_LIMITED');

    const point = (metric: string, match: Record<string, unknown> = {}) =>
      receiver
        .points()
        .reverse()
        .find(
          (p) =>
            p.metric === metric &&
            Object.entries(match).every(([key, value]) => p.attributes[key] === value),
        );
    const rejections = await receiver.waitFor(() =>
      point('sqlwarden.quota.rejections', {
        'gen_ai.tool.name': 'describe_table',
        'sqlwarden.outcome': 'RATE_LIMITED',
      }),
    );
    expect(rejections).toMatchObject({ kind: 'sum', unit: '{call}', value: 1 });
    const calls = point('sqlwarden.tool.calls', {
      'gen_ai.tool.name': 'query_read',
      'sqlwarden.source': 'main',
      'sqlwarden.outcome': 'ok',
      'sqlwarden.transport': 'http',
    });
    expect(calls?.value).toBeGreaterThanOrEqual(2);
    expect(
      point('sqlwarden.tool.calls', {
        'gen_ai.tool.name': 'query_read',
        'sqlwarden.outcome': 'FORBIDDEN',
      })?.value,
    ).toBe(1);
    // Attributes are bounded: no principal, no request id.
    expect(Object.keys(calls?.attributes ?? {}).sort()).toEqual([
      'gen_ai.tool.name',
      'sqlwarden.outcome',
      'sqlwarden.source',
      'sqlwarden.transport',
    ]);
    expect(
      point('sqlwarden.tool.call.duration', { 'gen_ai.tool.name': 'query_read' }),
    ).toMatchObject({
      kind: 'histogram',
      unit: 's',
    });
    expect(point('sqlwarden.tool.call.rows', { 'gen_ai.tool.name': 'query_read' })).toMatchObject({
      kind: 'histogram',
      unit: '{row}',
    });
    expect(
      point('sqlwarden.tool.call.result.size', { 'gen_ai.tool.name': 'query_read' })?.sum,
    ).toBeGreaterThan(0);
    expect(
      point('sqlwarden.db.client.connection.wait_time', {
        'db.client.connection.pool.name': 'main',
      }),
    ).toMatchObject({ kind: 'histogram', unit: 's' });
    expect(
      point('sqlwarden.db.client.connection.count', { 'db.client.connection.state': 'idle' }),
    ).toMatchObject({ unit: '{connection}' });
  });

  it('sends the configured header, and never exports SQL text, a parameter value, a made-up tool name or the header', async () => {
    await receiver.waitFor(() => (receiver.requests.length > 0 ? true : undefined));
    for (const request of receiver.requests) {
      expect(request.headers['x-collector-token']).toBe(COLLECTOR_TOKEN);
      expect(request.headers['content-type']).toBe('application/json');
    }
    const raw = receiver.rawText();
    expect(raw).toContain('tools/call query_read');
    for (const canary of [SQL_CANARY, PARAM_CANARY, TOOL_CANARY, COLLECTOR_TOKEN, 'SELECT']) {
      expect(raw).not.toContain(canary);
    }
    // Nor does the operator log hold the collector's credential.
    expect(server.stderr()).not.toContain(COLLECTOR_TOKEN);
  });

  it('flushes what is left when it stops (SIGTERM)', async () => {
    const agent = caller();
    await callTool(
      'query_read',
      { sql: `SELECT id FROM ${s}.items WHERE id = 7` },
      { headers: { traceparent: agent.traceparent } },
    );
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(callSpanOf(agent.traceId)).toBeDefined();
  });
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('sqlwarden-http with an unreachable collector', () => {
  it('answers every call, and says so to the operator once, without the credential', async () => {
    const port = await closedPort();
    const unreachable = await startHttp(
      ['--dsn', postgresTestUrl(), '--allow', `${s}.*`, '--port', '0', '--rate', '1000'],
      {
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
          OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${COLLECTOR_TOKEN}`,
          OTEL_BSP_SCHEDULE_DELAY: '50',
          OTEL_METRIC_EXPORT_INTERVAL: '100',
        },
      },
    );
    try {
      for (let i = 1; i <= 20; i++) {
        const response = await post(
          unreachable.url,
          {
            jsonrpc: '2.0',
            id: i,
            method: 'tools/call',
            params: {
              name: 'query_read',
              arguments: { sql: `SELECT id FROM ${s}.items WHERE id = ${i}` },
            },
          },
          { ...LEGACY, authorization: `Bearer ${unreachable.token}` },
        );
        expect(response.status).toBe(200);
        const result = (response.body as { result: Record<string, unknown> }).result;
        expect(structured(result).rows).toEqual([[i]]);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const telemetryLines = () =>
        unreachable
          .stderr()
          .split('\n')
          .filter((line) => line.includes('telemetry: an export or the SDK failed'));
      const until = Date.now() + 10_000;
      while (telemetryLines().length === 0 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // The first failure at once; the others are counted for the next minute.
      expect(telemetryLines()).toHaveLength(1);
      expect(unreachable.stderr()).not.toContain(COLLECTOR_TOKEN);
    } finally {
      expect(await unreachable.stop('SIGTERM')).toBe(0);
    }
  });
});
