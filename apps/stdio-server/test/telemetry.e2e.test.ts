import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { type OtlpReceiver, postgresTestUrl, startOtlpReceiver } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, onTestPostgres, type RunningServer, startServer } from './harness.js';

// OpenTelemetry over stdio (docs/observability.md): the built sqlwarden-stdio,
// switched on by the standard OTEL_* variables alone, exporting to a real
// OTLP/HTTP receiver started here. On stdio the caller's trace context comes
// from params._meta only (there are no headers), on both protocol versions.

const s = `otel_stdio_${randomBytes(4).toString('hex')}`;
const SQL_CANARY = `sqlcanary${randomBytes(4).toString('hex')}`;

let receiver: OtlpReceiver;
let legacy: RunningServer;

function otelEnv(): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_SERVICE_NAME: 'sqlwarden-stdio-e2e',
    // Only calls that join a sampled trace are recorded: the sampler variable is honoured.
    OTEL_TRACES_SAMPLER: 'parentbased_always_off',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
}

function caller(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

const args = () => ['--dsn', postgresTestUrl(), '--allow', `${s}.*`, '--rate', '1000'];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  await onTestPostgres(`
    CREATE SCHEMA ${s};
    CREATE TABLE ${s}.items (id int PRIMARY KEY, label text NOT NULL);
    INSERT INTO ${s}.items SELECT g, 'item ' || g FROM generate_series(1, 20) g;
  `);
  legacy = await startServer(args(), otelEnv());
}, 90_000);

afterAll(async () => {
  await legacy?.close();
  await receiver?.close();
  await onTestPostgres(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
});

describe('sqlwarden-stdio with telemetry from OTEL_* variables', () => {
  it('joins the trace named in params._meta (2025-11-25), with the database span beneath', async () => {
    const agent = caller();
    const result = await legacy.client.callTool({
      name: 'query_read',
      arguments: { sql: `SELECT id FROM ${s}.items WHERE id = 3 AND label <> '${SQL_CANARY}'` },
      _meta: { traceparent: agent.traceparent, tracestate: 'agent=stdio' },
    });
    expect(result.isError).toBeFalsy();
    const span = await receiver.waitFor(() =>
      receiver.spans().find((x) => x.traceId === agent.traceId && x.kind === 2),
    );
    expect(span).toMatchObject({
      name: 'tools/call query_read',
      parentSpanId: agent.spanId,
      traceState: 'agent=stdio',
    });
    expect(span.attributes).toMatchObject({
      'mcp.protocol.version': '2025-11-25',
      'network.transport': 'pipe',
      'sqlwarden.transport': 'stdio',
      'sqlwarden.principal.id': 'local',
      'sqlwarden.outcome': 'ok',
      'sqlwarden.rows': 1,
    });
    expect(span.resource['service.name']).toBe('sqlwarden-stdio-e2e');
    const database = await receiver.waitFor(() =>
      receiver.spans().find((x) => x.traceId === agent.traceId && x.kind === 3),
    );
    expect(database.parentSpanId).toBe(span.spanId);
    expect(receiver.rawText()).not.toContain(SQL_CANARY);
  });

  it('records no span for a call without a trace context under a parent-based always-off sampler', async () => {
    const before = receiver.spans().length;
    const result = await legacy.client.callTool({
      name: 'query_read',
      arguments: { sql: `SELECT id FROM ${s}.items WHERE id = 4` },
    });
    expect(result.isError).toBeFalsy();
    // A sampled call after it: once its span is in, the unsampled one would have been too.
    const agent = caller();
    await legacy.client.callTool({
      name: 'query_read',
      arguments: { sql: `SELECT id FROM ${s}.items WHERE id = 5` },
      _meta: { traceparent: agent.traceparent },
    });
    await receiver.waitFor(() =>
      receiver.spans().find((x) => x.traceId === agent.traceId && x.kind === 2),
    );
    const added = receiver.spans().slice(before);
    expect(added.every((x) => x.traceId === agent.traceId)).toBe(true);
    expect(receiver.requests.some((r) => r.path === '/v1/metrics')).toBe(false);
  });

  it('joins the trace named in params._meta on 2026-07-28, and flushes when stdin closes', async () => {
    const client = new Client(
      { name: 'sqlwarden-e2e-v2', version: '2.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, ...args()],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: tmpdir(),
        ...otelEnv(),
        // Nothing is sent on a timer within the test: only the flush at exit can deliver the span.
        OTEL_BSP_SCHEDULE_DELAY: '60000',
      },
      cwd: tmpdir(),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    await client.connect(transport).catch((error: unknown) => {
      throw new Error(`sqlwarden-stdio did not start: ${String(error)}\n${stderr}`);
    });
    const agent = caller();
    try {
      const result = await client.callTool({
        name: 'query_read',
        arguments: { sql: `SELECT id FROM ${s}.items WHERE id = 6` },
        _meta: { traceparent: agent.traceparent },
      });
      expect(result.isError).toBeFalsy();
    } finally {
      // Closing stdin ends the server, which sends what it holds before it exits.
      await client.close();
    }
    const span = await receiver.waitFor(() =>
      receiver.spans().find((x) => x.traceId === agent.traceId && x.kind === 2),
    );
    expect(span.parentSpanId).toBe(agent.spanId);
    expect(span.attributes['mcp.protocol.version']).toBe('2026-07-28');
  });
});
