import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

// A real OTLP/HTTP receiver for the telemetry tests (docs/observability.md):
// a node:http server on 127.0.0.1 that accepts POST /v1/traces and
// /v1/metrics in the JSON encoding (the OTLP exporters' default), answers
// 200 with an empty JSON object, and keeps every body as received, so a
// test can search the raw bytes as well as read the spans and metrics.

/** A request as it arrived. */
export interface OtlpRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body as text (gunzipped when sent with content-encoding: gzip). */
  readonly text: string;
}

export type OtlpAttributes = Record<string, unknown>;

/** A span, flattened from the OTLP JSON (ids in hex, attributes as plain values). */
export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  /** The W3C tracestate the span carries (its parent's). */
  readonly traceState: string;
  readonly name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes: OtlpAttributes;
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: OtlpAttributes }>;
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>;
  /** 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message?: string };
  readonly resource: OtlpAttributes;
  readonly scope: string;
}

/** One data point of a metric, flattened. */
export interface OtlpPoint {
  readonly metric: string;
  readonly unit: string;
  readonly kind: 'sum' | 'gauge' | 'histogram' | 'other';
  readonly attributes: OtlpAttributes;
  /** A sum's or gauge's value; a histogram's count. */
  readonly value: number;
  /** A histogram's sum. */
  readonly sum?: number;
  readonly resource: OtlpAttributes;
}

export interface OtlpReceiver {
  /** The base URL: http://127.0.0.1:<port> (an exporter adds /v1/traces, /v1/metrics). */
  readonly url: string;
  readonly requests: readonly OtlpRequest[];
  /** Every body received, joined: to search for what must never be exported. */
  rawText(): string;
  spans(): OtlpSpan[];
  points(): OtlpPoint[];
  /** Waits (up to `timeoutMs`, default 15 s) until `find` returns something. */
  waitFor<T>(find: () => T | undefined, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}

function plainValue(value: AnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(plainValue);
  return undefined;
}

function attributesOf(list: Array<{ key: string; value: AnyValue }> | undefined): OtlpAttributes {
  const out: OtlpAttributes = {};
  for (const { key, value } of list ?? []) out[key] = plainValue(value);
  return out;
}

// biome-ignore lint/suspicious/noExplicitAny: the OTLP JSON, read as found
type Json = any;

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const requests: OtlpRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      requests.push({ path: req.url ?? '', headers: req.headers, text: body.toString('utf8') });
      if (req.method !== 'POST' || (req.url !== '/v1/traces' && req.url !== '/v1/metrics')) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const parsed = (path: string): Json[] =>
    requests.filter((r) => r.path === path).map((r) => JSON.parse(r.text) as Json);
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    rawText: () => requests.map((r) => r.text).join('\n'),
    spans() {
      const out: OtlpSpan[] = [];
      for (const body of parsed('/v1/traces')) {
        for (const rs of body.resourceSpans ?? []) {
          const resource = attributesOf(rs.resource?.attributes);
          for (const ss of rs.scopeSpans ?? []) {
            for (const span of ss.spans ?? []) {
              out.push({
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId ?? '',
                traceState: span.traceState ?? '',
                name: span.name,
                kind: span.kind,
                attributes: attributesOf(span.attributes),
                events: (span.events ?? []).map((e: Json) => ({
                  name: e.name,
                  attributes: attributesOf(e.attributes),
                })),
                links: (span.links ?? []).map((l: Json) => ({
                  traceId: l.traceId,
                  spanId: l.spanId,
                })),
                status: { code: span.status?.code ?? 0, message: span.status?.message },
                resource,
                scope: ss.scope?.name ?? '',
              });
            }
          }
        }
      }
      return out;
    },
    points() {
      const out: OtlpPoint[] = [];
      for (const body of parsed('/v1/metrics')) {
        for (const rm of body.resourceMetrics ?? []) {
          const resource = attributesOf(rm.resource?.attributes);
          for (const sm of rm.scopeMetrics ?? []) {
            for (const metric of sm.metrics ?? []) {
              const kind = metric.sum
                ? 'sum'
                : metric.gauge
                  ? 'gauge'
                  : metric.histogram
                    ? 'histogram'
                    : 'other';
              const data = metric.sum ?? metric.gauge ?? metric.histogram;
              for (const point of data?.dataPoints ?? []) {
                out.push({
                  metric: metric.name,
                  unit: metric.unit ?? '',
                  kind,
                  attributes: attributesOf(point.attributes),
                  value: Number(
                    kind === 'histogram' ? point.count : (point.asInt ?? point.asDouble ?? 0),
                  ),
                  ...(kind === 'histogram' && { sum: Number(point.sum ?? 0) }),
                  resource,
                });
              }
            }
          }
        }
      }
      return out;
    },
    async waitFor<T>(find: () => T | undefined, timeoutMs = 15_000): Promise<T> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = find();
        if (found !== undefined) return found;
        if (Date.now() > until) throw new Error(`nothing arrived in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
