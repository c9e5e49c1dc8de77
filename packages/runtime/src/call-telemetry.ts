/**
 * One `tools/call` as OpenTelemetry sees it (docs/observability.md), while
 * telemetry is on (telemetry.ts makes this only then; mcp.ts skips it
 * with one check otherwise).
 *
 * The span: SERVER, named `tools/call <tool>` (the semantic conventions for
 * MCP: `{mcp.method.name} {gen_ai.tool.name}`), its parent the caller's
 * W3C trace context: `params._meta.traceparent`/`tracestate` (the MCP
 * conventions' place, any protocol version) or else the HTTP request's
 * `traceparent`/`tracestate` headers; with both, `_meta` is the parent and
 * the headers' context a link (the conventions: "use context extracted from
 * params._meta as a parent ... and link current ambient context"). A
 * traceparent that does not parse is ignored: the call starts a new trace.
 * Each boundary stage is an event on it (child spans would be eight spans
 * per call of microseconds each; the statement, the slow part, is the
 * adapter's CLIENT span, a child through the active context).
 *
 * What is exported is what the audit record holds: names of registered
 * tools (a name the client made up is never exported), the principal id,
 * source, outcome code, stage, rows, the statement's fingerprint. Never SQL
 * text, parameter values, messages (a guard's refusal can quote the
 * statement), or the client's arguments. Metric attributes are bounded by
 * the configuration (tools, sources) and the code table: no principal, no
 * request ids.
 */

import { TRACEPARENT_META_KEY, TRACESTATE_META_KEY } from '@modelcontextprotocol/server';
import {
  type Attributes,
  type Context,
  type Counter,
  context,
  defaultTextMapGetter,
  type Histogram,
  type Link,
  type Meter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { AuditEvent, BoundaryObserver, SessionContext, Stage } from '@sqlwarden/core';

/** What a tools/call tells telemetry (mcp.ts), read only while telemetry is on. */
export interface ToolCallFacts {
  /** The tool, when the name the client sent is a registered tool's (a name it made up is never exported). */
  readonly tool: string | undefined;
  readonly session: SessionContext;
  /** The boundary's request id (also in the audit record). */
  readonly requestId: string;
  /** The JSON-RPC id. */
  readonly id: string | number;
  /** The request's `params._meta` (trace context: `traceparent`, `tracestate`). */
  readonly meta: Readonly<Record<string, unknown>> | undefined;
  /** The HTTP request's headers, on HTTP. */
  readonly headers: { get(name: string): string | null } | undefined;
  /** The MCP version the request names (2026-07-28: its envelope) or the one negotiated. */
  readonly protocolVersion: string | undefined;
}

/** The result a call ends with, as far as telemetry reads it. */
export interface CallResult {
  readonly isError?: boolean;
  readonly content: ReadonlyArray<{ readonly type: string; readonly text?: string }>;
  readonly structuredContent?: Record<string, unknown>;
}

/** What mcp.ts hands a call to while telemetry is on. */
export interface ToolCallTelemetry {
  toolCall<R extends CallResult>(
    facts: ToolCallFacts,
    run: (observer: BoundaryObserver) => Promise<R>,
  ): Promise<R>;
}

const STAGE_EVENTS: Readonly<Record<Stage, string>> = {
  context: 'sqlwarden.stage.context',
  lookup: 'sqlwarden.stage.lookup',
  input: 'sqlwarden.stage.input',
  readOnly: 'sqlwarden.stage.readOnly',
  authorization: 'sqlwarden.stage.authorization',
  quota: 'sqlwarden.stage.quota',
  execute: 'sqlwarden.stage.execute',
  audit: 'sqlwarden.stage.audit',
};

/** JSON-RPC error codes a tools/call ends with instead of a result (mcp.ts). */
const PROTOCOL_ERRORS: Readonly<Record<string, string>> = { UNKNOWN_TOOL: '-32602' };

const SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];
const ROWS = [0, 1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
const BYTES = [0, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216];

/** W3C trace context is a few dozen characters; anything longer is not read. */
const MAX_CONTEXT_LENGTH = 512;
const PROTOCOL_VERSION = /^\d{4}-\d{2}-\d{2}$/;

/** Watches one call through the boundary: stage events on the span, and the audit event kept. */
class CallWatcher implements BoundaryObserver {
  event: AuditEvent | undefined;
  readonly #span: Span | undefined;

  constructor(span: Span | undefined) {
    this.#span = span;
  }

  stage(stage: Stage): void {
    this.#span?.addEvent(STAGE_EVENTS[stage]);
  }

  end(event: AuditEvent): void {
    this.event = event;
  }
}

interface Instruments {
  readonly calls: Counter;
  readonly duration: Histogram;
  readonly rows: Histogram;
  readonly size: Histogram;
  readonly quota: Counter;
}

function instruments(meter: Meter): Instruments {
  return {
    calls: meter.createCounter('sqlwarden.tool.calls', {
      unit: '{call}',
      description:
        'tools/call requests, by tool, source, outcome (ok or the error code) and transport.',
    }),
    duration: meter.createHistogram('sqlwarden.tool.call.duration', {
      unit: 's',
      description: 'How long a tools/call took in the server, boundary and database included.',
      advice: { explicitBucketBoundaries: SECONDS },
    }),
    rows: meter.createHistogram('sqlwarden.tool.call.rows', {
      unit: '{row}',
      description: 'Rows a call returned (reads) or changed (writes).',
      advice: { explicitBucketBoundaries: ROWS },
    }),
    size: meter.createHistogram('sqlwarden.tool.call.result.size', {
      unit: 'By',
      description: "UTF-8 bytes of a call result's text content (what a model reads).",
      advice: { explicitBucketBoundaries: BYTES },
    }),
    quota: meter.createCounter('sqlwarden.quota.rejections', {
      unit: '{call}',
      description:
        'Calls the quota stage refused, by tool and code (RATE_LIMITED, CONCURRENCY_LIMITED, QUOTA_UNAVAILABLE).',
    }),
  };
}

export interface CallTelemetryOptions {
  /** Absent: traces are off. */
  readonly tracer: Tracer | undefined;
  /** Absent: metrics are off. */
  readonly meter: Meter | undefined;
  readonly propagator: TextMapPropagator;
}

export class CallTelemetry implements ToolCallTelemetry {
  readonly #tracer: Tracer | undefined;
  readonly #instruments: Instruments | undefined;
  readonly #propagator: TextMapPropagator;
  /**
   * Metric attributes per tool, source, outcome and transport, made once:
   * bounded by the configuration and the code table.
   */
  readonly #attributes = new Map<string, Attributes>();

  constructor(options: CallTelemetryOptions) {
    this.#tracer = options.tracer;
    this.#instruments = options.meter === undefined ? undefined : instruments(options.meter);
    this.#propagator = options.propagator;
  }

  async toolCall<R extends CallResult>(
    facts: ToolCallFacts,
    run: (observer: BoundaryObserver) => Promise<R>,
  ): Promise<R> {
    const started = performance.now();
    const { tool } = facts;
    const created = this.#startSpan(facts, tool);
    // A span the sampler dropped records nothing: no events, no active
    // context (the adapters then make no database span either).
    const span = created?.isRecording() === true ? created : undefined;
    const watcher = new CallWatcher(span);
    let result: R;
    try {
      result =
        span === undefined
          ? await run(watcher)
          : await context.with(trace.setSpan(context.active(), span), run, undefined, watcher);
    } catch (error) {
      // The boundary never rejects; whatever did is the server's own failure.
      span?.setAttribute('error.type', '_OTHER');
      span?.setStatus({ code: SpanStatusCode.ERROR, message: '_OTHER' });
      created?.end();
      throw error;
    }
    const code = errorCode(result);
    const outcome = code ?? 'ok';
    const event = watcher.event;
    const bytes = textBytes(result);
    if (span !== undefined) finishSpan(span, { outcome, code, event, bytes });
    else created?.end();
    this.#record({
      facts,
      tool,
      outcome,
      event,
      bytes,
      seconds: (performance.now() - started) / 1000,
    });
    return result;
  }

  #startSpan(facts: ToolCallFacts, tool: string | undefined): Span | undefined {
    if (this.#tracer === undefined) return undefined;
    const { parent, links } = this.#parentOf(facts);
    const http = facts.session.transport === 'http';
    const version =
      facts.protocolVersion ?? facts.headers?.get('mcp-protocol-version') ?? undefined;
    const attributes: Attributes = {
      'mcp.method.name': 'tools/call',
      'gen_ai.operation.name': 'execute_tool',
      ...(tool !== undefined && { 'gen_ai.tool.name': tool }),
      ...(version !== undefined &&
        PROTOCOL_VERSION.test(version) && { 'mcp.protocol.version': version }),
      'jsonrpc.request.id': String(facts.id).slice(0, 128),
      'network.transport': http ? 'tcp' : 'pipe',
      ...(http && { 'network.protocol.name': 'http' }),
      'sqlwarden.transport': facts.session.transport,
      'sqlwarden.principal.id': facts.session.principalId,
      'sqlwarden.request.id': facts.requestId,
    };
    return (this.#tracer as Tracer).startSpan(
      tool === undefined ? 'tools/call' : `tools/call ${tool}`,
      { kind: SpanKind.SERVER, attributes, ...(links.length > 0 && { links }) },
      parent,
    );
  }

  /**
   * The caller's trace context: `_meta` first, the HTTP headers second (a
   * link when both are there and differ). What does not parse is ignored.
   */
  #parentOf(facts: ToolCallFacts): { parent: Context; links: Link[] } {
    const fromMeta = this.#extract(
      stringOf(facts.meta?.[TRACEPARENT_META_KEY]),
      stringOf(facts.meta?.[TRACESTATE_META_KEY]),
    );
    const fromHeaders =
      facts.headers === undefined
        ? undefined
        : this.#extract(
            stringOf(facts.headers.get('traceparent')),
            stringOf(facts.headers.get('tracestate')),
          );
    const metaSpan = fromMeta === undefined ? undefined : trace.getSpanContext(fromMeta);
    const headerSpan = fromHeaders === undefined ? undefined : trace.getSpanContext(fromHeaders);
    if (fromMeta !== undefined && metaSpan !== undefined) {
      const links =
        headerSpan !== undefined &&
        (headerSpan.traceId !== metaSpan.traceId || headerSpan.spanId !== metaSpan.spanId)
          ? [{ context: headerSpan }]
          : [];
      return { parent: fromMeta, links };
    }
    if (fromHeaders !== undefined && headerSpan !== undefined)
      return { parent: fromHeaders, links: [] };
    return { parent: ROOT_CONTEXT, links: [] };
  }

  #extract(traceparent: string | undefined, tracestate: string | undefined): Context | undefined {
    if (traceparent === undefined) return undefined;
    const carrier: Record<string, string> = { traceparent };
    if (tracestate !== undefined) carrier.tracestate = tracestate;
    const extracted = this.#propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    return trace.getSpanContext(extracted) === undefined ? undefined : extracted;
  }

  #record(call: {
    facts: ToolCallFacts;
    tool: string | undefined;
    outcome: string;
    event: AuditEvent | undefined;
    bytes: number;
    seconds: number;
  }): void {
    const metrics = this.#instruments;
    if (metrics === undefined) return;
    const { event } = call;
    const attributes = this.#metricAttributes(
      call.tool,
      event?.source,
      call.outcome,
      call.facts.session.transport,
    );
    metrics.calls.add(1, attributes);
    metrics.duration.record(call.seconds, attributes);
    metrics.size.record(call.bytes, attributes);
    if (event?.rows !== undefined) metrics.rows.record(event.rows, attributes);
    if (event?.stage === 'quota' && event.code !== undefined) {
      metrics.quota.add(
        1,
        this.#metricAttributes(call.tool, undefined, event.code, call.facts.session.transport),
      );
    }
  }

  #metricAttributes(
    tool: string | undefined,
    source: string | undefined,
    outcome: string,
    transport: string,
  ): Attributes {
    const key = `${tool ?? ''}\u0000${source ?? ''}\u0000${outcome}\u0000${transport}`;
    let attributes = this.#attributes.get(key);
    if (attributes === undefined) {
      attributes = Object.freeze({
        ...(tool !== undefined && { 'gen_ai.tool.name': tool }),
        ...(source !== undefined && { 'sqlwarden.source': source }),
        'sqlwarden.outcome': outcome,
        'sqlwarden.transport': transport,
      });
      this.#attributes.set(key, attributes);
    }
    return attributes;
  }
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= MAX_CONTEXT_LENGTH ? value : undefined;
}

/** The code a failed result carries (structuredContent.error.code), or undefined. */
function errorCode(result: CallResult): string | undefined {
  if (result.isError !== true) return undefined;
  const error = (result.structuredContent as { error?: { code?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string' ? error.code : '_OTHER';
}

function textBytes(result: CallResult): number {
  let bytes = 0;
  for (const item of result.content) {
    if (typeof item.text === 'string') bytes += Buffer.byteLength(item.text, 'utf8');
  }
  return bytes;
}

/** The call's outcome on its span, from the audit event (never a message: they can quote SQL). */
function finishSpan(
  span: Span,
  call: { outcome: string; code: string | undefined; event: AuditEvent | undefined; bytes: number },
): void {
  const { event, code } = call;
  const attributes: Attributes = {
    'sqlwarden.outcome': call.outcome,
    'sqlwarden.result.size': call.bytes,
  };
  if (event !== undefined) {
    attributes['sqlwarden.decision'] = event.decision;
    attributes['sqlwarden.stage'] = event.stage;
    if (event.source !== undefined) attributes['sqlwarden.source'] = event.source;
    if (event.fp !== undefined) attributes['sqlwarden.query.fingerprint'] = event.fp;
    if (event.rows !== undefined) attributes['sqlwarden.rows'] = event.rows;
    if (event.truncated !== undefined) attributes['sqlwarden.truncated'] = event.truncated;
    if (event.committed !== undefined) attributes['sqlwarden.committed'] = event.committed;
    if (event.estimatedRows !== undefined)
      attributes['sqlwarden.estimate.rows'] = event.estimatedRows;
    if (event.estimatedCost !== undefined)
      attributes['sqlwarden.estimate.cost'] = event.estimatedCost;
  }
  if (code !== undefined) {
    // MCP conventions: error.type is the JSON-RPC error code when the call
    // ends with one, `tool_error` for a result with isError.
    const rpc = PROTOCOL_ERRORS[code];
    attributes['error.type'] = rpc ?? 'tool_error';
    if (rpc !== undefined) attributes['rpc.response.status_code'] = rpc;
    span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  }
  span.setAttributes(attributes);
  span.end();
}
