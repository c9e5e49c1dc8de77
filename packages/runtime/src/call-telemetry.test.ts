import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import type { AuditEvent, SessionContext } from '@sqlwarden/core';
import { afterEach, describe, expect, it } from 'vitest';
import { CallTelemetry, type ToolCallFacts } from './call-telemetry.js';

// The tools/call span with the SDK's own tracer and in-memory exporter:
// which parent it takes, what it names and records. (The OTLP path end to
// end, with a real receiver: apps/*/test/telemetry.e2e.test.ts.)

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const calls = new CallTelemetry({
  tracer: provider.getTracer('test'),
  meter: undefined,
  propagator: new W3CTraceContextPropagator(),
});

afterEach(() => exporter.reset());

const session: SessionContext = Object.freeze({
  sessionId: 's',
  principalId: 'alice',
  capabilities: [],
  roles: [],
  transport: 'http',
  readOnly: true,
});

const AGENT = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
const HTTP = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
const parent = (p: { traceId: string; spanId: string }) => `00-${p.traceId}-${p.spanId}-01`;

function facts(overrides: Partial<ToolCallFacts> = {}): ToolCallFacts {
  return {
    tool: 'query_read',
    session,
    requestId: 'r1',
    id: 7,
    meta: undefined,
    headers: undefined,
    protocolVersion: '2026-07-28',
    ...overrides,
  };
}

function headers(values: Record<string, string>) {
  return { get: (name: string) => values[name] ?? null };
}

const OK = { content: [{ type: 'text', text: 'héllo' }] };
const EVENT: AuditEvent = {
  event: 'tool_call',
  requestId: 'r1',
  decision: 'allow',
  stage: 'execute',
  fp: '3a1c9f82a2d1',
  source: 'main',
  rows: 2,
  truncated: false,
  durationMs: 1,
};

async function run(f: ToolCallFacts, result: object = OK, event: AuditEvent = EVENT) {
  await calls.toolCall(f, async (observer) => {
    observer.stage('context');
    observer.stage('audit');
    observer.end(event);
    return result as typeof OK;
  });
  const [span] = exporter.getFinishedSpans();
  if (span === undefined) throw new Error('no span');
  return span;
}

describe('the tools/call span', () => {
  it('takes its parent from params._meta, and links the HTTP headers context when it differs', async () => {
    const span = await run(
      facts({
        meta: { traceparent: parent(AGENT), tracestate: 'a=1' },
        headers: headers({ traceparent: parent(HTTP) }),
      }),
    );
    expect(span.spanContext().traceId).toBe(AGENT.traceId);
    expect(span.parentSpanContext?.spanId).toBe(AGENT.spanId);
    expect(span.spanContext().traceState?.serialize()).toBe('a=1');
    expect(span.links.map((l) => l.context.spanId)).toEqual([HTTP.spanId]);
  });

  it('takes the HTTP headers context when _meta has none, or only one that does not parse', async () => {
    for (const meta of [undefined, { traceparent: 'garbage' }, { traceparent: 42 }]) {
      exporter.reset();
      const span = await run(facts({ meta, headers: headers({ traceparent: parent(HTTP) }) }));
      expect(span.parentSpanContext?.spanId).toBe(HTTP.spanId);
      expect(span.links).toEqual([]);
    }
  });

  it('starts a new trace when no context parses (never an error), nor one of absurd length', async () => {
    const long = `${parent(AGENT)}${'0'.repeat(600)}`;
    for (const traceparent of ['00-zz-yy-01', `01-${AGENT.traceId}`, long]) {
      exporter.reset();
      const span = await run(facts({ meta: { traceparent } }));
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.spanContext().traceId).not.toBe(AGENT.traceId);
    }
  });

  it('records the audit facts and stage events, never a message', async () => {
    const span = await run(facts());
    expect(span.name).toBe('tools/call query_read');
    expect(span.attributes).toMatchObject({
      'gen_ai.tool.name': 'query_read',
      'jsonrpc.request.id': '7',
      'mcp.protocol.version': '2026-07-28',
      'sqlwarden.principal.id': 'alice',
      'sqlwarden.outcome': 'ok',
      'sqlwarden.query.fingerprint': '3a1c9f82a2d1',
      'sqlwarden.rows': 2,
      'sqlwarden.result.size': 6,
    });
    expect(span.events.map((e) => e.name)).toEqual([
      'sqlwarden.stage.context',
      'sqlwarden.stage.audit',
    ]);
  });

  it('names no tool that is not registered, and ends a failed call with its code as status', async () => {
    const failed = {
      isError: true,
      content: [{ type: 'text', text: 'FORBIDDEN: SELECT secret FROM t' }],
      structuredContent: { error: { code: 'FORBIDDEN', message: 'SELECT secret FROM t' } },
    };
    const span = await run(facts({ tool: undefined }), failed, {
      ...EVENT,
      decision: 'deny',
      code: 'FORBIDDEN',
      stage: 'authorization',
    });
    expect(span.name).toBe('tools/call');
    expect(span.attributes['gen_ai.tool.name']).toBeUndefined();
    expect(span.status).toEqual({ code: 2, message: 'FORBIDDEN' });
    expect(span.attributes['error.type']).toBe('tool_error');
    expect(JSON.stringify(span.attributes)).not.toContain('SELECT');
  });

  it('ignores a protocol version that is not one (a header is client text)', async () => {
    const span = await run(
      facts({
        protocolVersion: undefined,
        headers: headers({ 'mcp-protocol-version': 'x'.repeat(40) }),
      }),
    );
    expect(span.attributes['mcp.protocol.version']).toBeUndefined();
  });

  it('ends the span as an error when the call rejects, and passes the rejection on', async () => {
    await expect(
      calls.toolCall(facts(), async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toEqual({ code: 2, message: '_OTHER' });
  });
});
