/**
 * What the kit tells OpenTelemetry (docs/observability.md): a CLIENT span
 * for each read and write a tool call runs, and two pool metrics. Through
 * the OpenTelemetry API only: the runtime (or an embedder) registers the SDK;
 * without one every call here is a no-op.
 *
 * The statement's span is a child of the span active when the kit is
 * called (the runtime runs the boundary inside its `tools/call` span), and
 * only exists under a span that records: with telemetry off, or for a call
 * its sampler dropped, a read costs one look-up of the active context and
 * nothing is allocated. Catalog queries, health checks and start-up reads
 * run outside a call and are not traced.
 *
 * Never exported, whatever the engine: the statement's text and its
 * values (no db.query.text, no db.operation.parameter.*), the driver's
 * messages (a failure is its sqlwarden code in error.type), connection
 * strings. Nothing is propagated to the database either: no trace ids in
 * SQL comments or session variables.
 */
import {
  type Attributes,
  context,
  type Histogram,
  metrics,
  type ObservableResult,
  type ObservableUpDownCounter,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import {
  type CostEstimate,
  type ReadAnswer,
  type SqlDialect,
  SqlwardenError,
  type WriteResult,
} from '@sqlwarden/core';

const SCOPE = '@sqlwarden/adapter-kit';

/** A proxy: it follows whatever tracer provider is registered, before or after this module loads. */
const tracer = trace.getTracer(SCOPE);

/** db.system.name (OpenTelemetry semantic conventions) per dialect; MariaDB answers as mysql. */
export const DB_SYSTEM_NAMES: Readonly<Record<SqlDialect, string>> = {
  postgres: 'postgresql',
  mysql: 'mysql',
  odbc: 'other_sql',
};

/** What an engine may know of where its source lives (server.address, server.port, db.namespace). */
export interface SourceEndpoint {
  /** The server's host name or address, as configured (never a connection string). */
  readonly address?: string;
  readonly port?: number;
  /** The database name (db.namespace). */
  readonly namespace?: string;
}

/**
 * A source's endpoint from its connection settings: host, port and
 * database as configured, or read from its URL (never the URL itself, its
 * user or its password). Empty when nothing is known.
 */
export function sourceEndpoint(connection: {
  readonly url?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly database?: string | undefined;
}): SourceEndpoint {
  let url: URL | undefined;
  try {
    if (connection.url !== undefined) url = new URL(connection.url);
  } catch {
    // not a URL the WHATWG parser reads: what the fields say is all we know
  }
  const address = connection.host ?? (url?.hostname || undefined);
  const port = connection.port ?? (url?.port ? Number(url.port) : undefined);
  const database =
    connection.database ??
    (url && url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined);
  return {
    ...(address !== undefined && { address }),
    ...(port !== undefined && { port }),
    ...(database !== undefined && { namespace: database }),
  };
}

export interface SourceTelemetryOptions {
  readonly dialect: SqlDialect;
  readonly source: string;
  readonly endpoint?: SourceEndpoint | undefined;
  /** Connections calls hold, and idle ones, read when metrics are collected. */
  readonly pool: { used(): number; idle(): number };
}

/** The statements the kit traces. */
export type StatementKind = 'read' | 'write';

/** Pool wait buckets, in seconds (the semantic conventions' db.client.connection.wait_time). */
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

/**
 * One source's telemetry: attributes computed once, instruments made once
 * (from the meter provider registered when the adapter is created: the
 * runtime registers its own before it creates adapters).
 */
export class SourceTelemetry {
  readonly #names: Readonly<Record<StatementKind, string>>;
  readonly #options: Readonly<Record<StatementKind, SpanOptions>>;
  readonly #poolAttributes: Attributes;
  readonly #waitTime: Histogram;
  readonly #connections: ObservableUpDownCounter;
  readonly #observe: (result: ObservableResult) => void;

  constructor(options: SourceTelemetryOptions) {
    const { endpoint, source } = options;
    const system = DB_SYSTEM_NAMES[options.dialect];
    // The span name follows the conventions' `{operation} {target}`: the
    // kind of statement (sqlwarden never derives db.operation.name from SQL
    // text) and the source.
    this.#names = { read: `read ${source}`, write: `write ${source}` };
    const attributes: Attributes = {
      'db.system.name': system,
      'sqlwarden.source': source,
      ...(endpoint?.namespace !== undefined && { 'db.namespace': endpoint.namespace }),
      ...(endpoint?.address !== undefined && { 'server.address': endpoint.address }),
      ...(endpoint?.address !== undefined &&
        endpoint.port !== undefined && { 'server.port': endpoint.port }),
    };
    const spanOptions = (kind: StatementKind): SpanOptions => ({
      kind: SpanKind.CLIENT,
      attributes: { ...attributes, 'sqlwarden.db.operation': kind },
    });
    this.#options = { read: spanOptions('read'), write: spanOptions('write') };
    this.#poolAttributes = { 'db.system.name': system, 'db.client.connection.pool.name': source };
    const meter = metrics.getMeter(SCOPE);
    this.#waitTime = meter.createHistogram('sqlwarden.db.client.connection.wait_time', {
      unit: 's',
      description: 'How long a statement waited for a connection of its source’s pool.',
      advice: { explicitBucketBoundaries: WAIT_BUCKETS },
    });
    this.#connections = meter.createObservableUpDownCounter(
      'sqlwarden.db.client.connection.count',
      {
        unit: '{connection}',
        description: 'Connections of the source’s pool, by state (used: held by a call).',
      },
    );
    const used = { ...this.#poolAttributes, 'db.client.connection.state': 'used' };
    const idle = { ...this.#poolAttributes, 'db.client.connection.state': 'idle' };
    this.#observe = (result) => {
      result.observe(options.pool.used(), used);
      result.observe(options.pool.idle(), idle);
    };
    this.#connections.addCallback(this.#observe);
  }

  /**
   * A CLIENT span for one statement, child of the active span, or undefined
   * when no span that records is active (telemetry off, a call not sampled,
   * work outside a call): then nothing is allocated.
   */
  start(kind: StatementKind): Span | undefined {
    const active = context.active();
    const parent = trace.getSpan(active);
    if (parent === undefined || !parent.isRecording()) return undefined;
    return tracer.startSpan(this.#names[kind], this.#options[kind], active);
  }

  /** The time a statement waited for its connection (successful or not). */
  waited(seconds: number, span: Span | undefined): void {
    this.#waitTime.record(seconds, this.#poolAttributes);
    span?.addEvent('sqlwarden.db.connection.acquired', {
      'sqlwarden.db.client.connection.wait_time': seconds,
    });
  }

  /** Stops reporting the pool (the adapter closed). */
  close(): void {
    this.#connections.removeCallback(this.#observe);
  }
}

function estimateAttributes(span: Span, estimate: CostEstimate | undefined) {
  if (estimate === undefined) return;
  span.setAttribute('sqlwarden.estimate.rows', estimate.rows);
  if (estimate.cost !== null) span.setAttribute('sqlwarden.estimate.cost', estimate.cost);
}

/** A read's span: rows returned, whether the budget cut them, the cost gate's estimate. */
export function describeRead(span: Span, answer: ReadAnswer): void {
  span.setAttribute('db.response.returned_rows', answer.rowCount);
  span.setAttribute('sqlwarden.truncated', answer.truncated);
  estimateAttributes(span, answer.estimate);
}

/** A write's span: rows affected, and whether it was committed (a dry run is rolled back). */
export function describeWrite(span: Span, result: WriteResult): void {
  span.setAttribute('sqlwarden.db.affected_rows', result.affectedRows);
  span.setAttribute('sqlwarden.db.committed', result.committed);
}

/**
 * Ends `span` with what `work` came to. A failure is recorded by its
 * sqlwarden code alone: a driver's message can quote the statement or a
 * value, so neither the message nor the exception is recorded.
 */
export async function traced<T>(
  span: Span,
  work: Promise<T>,
  describe: (span: Span, value: T) => void,
): Promise<T> {
  try {
    const value = await work;
    describe(span, value);
    return value;
  } catch (error) {
    const code = SqlwardenError.is(error) ? error.code : '_OTHER';
    span.setAttribute('error.type', code);
    if (SqlwardenError.is(error)) estimateAttributes(span, error.estimate);
    span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    throw error;
  } finally {
    span.end();
  }
}
