/**
 * OpenTelemetry (docs/observability.md): traces and metrics exported over
 * OTLP/HTTP with JSON, switched on by the configuration's `telemetry` key or
 * by the standard OTEL_* variables.
 *
 * Three parts:
 *  - the settings (`resolveTelemetry`): the key and the variables resolved
 *    into what is exported where, plus warnings for variables that cannot
 *    be honoured; pure, so every rule of precedence has a test;
 *  - the set-up (`startTelemetry`): the SDK is imported only here, with
 *    `import()`, only when a signal is on; a server without telemetry loads
 *    none of it (only @opentelemetry/api, whose calls are no-ops);
 *  - per call (call-telemetry.ts): the `tools/call` span and the metrics.
 *
 * Failure modes: a collector that is down, slow or refusing never slows or
 * fails a call. Spans wait in a bounded queue (the SDK's BatchSpanProcessor:
 * 2048 spans, dropped past it) and are sent in the background; metrics are
 * read on a timer. Export errors reach the operator log at most once a
 * minute (with a count), never with the headers' values (registered as
 * secrets: every log line is scrubbed of them) nor URL credentials (refused
 * in endpoints). Shutting down flushes for at most SHUTDOWN_TIMEOUT_MS.
 */
import {
  context,
  type DiagLogger,
  DiagLogLevel,
  diag,
  metrics,
  type ProxyTracerProvider,
  trace,
} from '@opentelemetry/api';
import { registerSecretValue, Secret, scrubSecrets } from '@sqlwarden/security';
import manifest from '../package.json' with { type: 'json' };
import { CallTelemetry, type ToolCallTelemetry } from './call-telemetry.js';
import type { ParsedConfig, TelemetryConfig } from './config/schema.js';

/** The `telemetry` key, normalized: the headers' values are Secrets (never printed with the configuration). */
export type NormalizedTelemetry = Omit<TelemetryConfig, 'headers'> & {
  readonly headers?: Readonly<Record<string, Secret>>;
};

/** The key as load.ts keeps it in the normalized configuration. */
export function normalizeTelemetry(config: TelemetryConfig): NormalizedTelemetry {
  const { headers, ...rest } = config;
  if (headers === undefined) return rest;
  return {
    ...rest,
    headers: Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [
        name,
        new Secret(`telemetry.headers.${name}`, value),
      ]),
    ),
  };
}

/** The variables read (an empty value counts as unset, as the OpenTelemetry specification says). */
export type TelemetryEnvironment = Readonly<Record<string, string | undefined>>;

/** How new traces are sampled (the OTEL_TRACES_SAMPLER values sqlwarden supports). */
export type SamplerSetting =
  | {
      readonly kind:
        | 'always_on'
        | 'always_off'
        | 'parentbased_always_on'
        | 'parentbased_always_off';
    }
  | { readonly kind: 'traceidratio' | 'parentbased_traceidratio'; readonly ratio: number };

export interface SignalSettings {
  /** The full URL the signal is POSTed to (…/v1/traces, …/v1/metrics). */
  readonly url: string;
  /** Header names in lower case; values are secrets. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What is exported where: the resolved `telemetry` key and OTEL_* variables. */
export interface TelemetrySettings {
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, without service.name (resolved above). */
  readonly resource: Readonly<Record<string, string>>;
  readonly traces: (SignalSettings & { readonly sampler: SamplerSetting }) | undefined;
  readonly metrics: (SignalSettings & { readonly intervalMs: number }) | undefined;
}

export interface ResolvedTelemetry {
  /** Undefined: telemetry is off. */
  readonly settings: TelemetrySettings | undefined;
  /** Variables ignored, and why (for the operator log at start-up; never a value). */
  readonly warnings: readonly string[];
}

export const DEFAULT_ENDPOINT = 'http://localhost:4318';
export const DEFAULT_METRICS_INTERVAL_MS = 60_000;
/** How long shutting down waits for the last spans and metrics to be sent. */
export const SHUTDOWN_TIMEOUT_MS = 2000;
/** Export errors reach the operator log at most once in this window (then a count). */
export const ERROR_WINDOW_MS = 60_000;

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

type Signal = 'traces' | 'metrics';
const SIGNAL_VARIABLE: Readonly<Record<Signal, string>> = { traces: 'TRACES', metrics: 'METRICS' };
const SIGNAL_PATH: Readonly<Record<Signal, string>> = {
  traces: 'v1/traces',
  metrics: 'v1/metrics',
};

/** A variable's value, trimmed; empty or absent is undefined. */
function variable(env: TelemetryEnvironment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** An http(s) URL without credentials, or why it cannot be used. */
function endpointProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'is not an http(s) URL';
  if (url.username !== '' || url.password !== '') {
    return 'holds credentials: send them as a header instead';
  }
  return undefined;
}

/** `base` with a signal's path added, as the OTLP exporter specification says. */
function signalUrl(base: string, signal: Signal): string {
  return `${base.endsWith('/') ? base : `${base}/`}${SIGNAL_PATH[signal]}`;
}

/**
 * A `key=value,key=value` list (OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_RESOURCE_ATTRIBUTES): values percent-decoded; an entry that is not
 * `key=value` is reported by its position, never its text (it may be a credential).
 */
function keyValueList(
  env: TelemetryEnvironment,
  name: string,
  warnings: string[],
): Record<string, string> {
  const text = variable(env, name);
  const out: Record<string, string> = {};
  if (text === undefined) return out;
  for (const [i, entry] of text.split(',').entries()) {
    if (entry.trim() === '') continue;
    const at = entry.indexOf('=');
    const key = at < 0 ? '' : entry.slice(0, at).trim();
    let value: string | undefined;
    try {
      value = at < 0 ? undefined : decodeURIComponent(entry.slice(at + 1).trim());
    } catch {
      value = undefined;
    }
    if (key === '' || value === undefined) {
      warnings.push(`${name}: entry ${i + 1} is not key=value (percent-encoded); it is ignored`);
      continue;
    }
    out[key] = value;
  }
  return out;
}

function revealed(headers: Readonly<Record<string, Secret>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, secret] of Object.entries(headers ?? {})) out[name] = secret.reveal();
  return out;
}

function lowerKeys(record: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) out[key.toLowerCase()] = value;
  return out;
}

/**
 * OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER: `none` switches the signal
 * off, `otlp` on; sqlwarden has no other exporter (a list naming only
 * others switches the signal off, with a warning).
 */
function exporterChoice(
  env: TelemetryEnvironment,
  signal: Signal,
  warnings: string[],
): 'otlp' | 'none' | undefined {
  const name = `OTEL_${SIGNAL_VARIABLE[signal]}_EXPORTER`;
  const text = variable(env, name);
  if (text === undefined) return undefined;
  const values = text
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
  if (values.includes('none')) return 'none';
  const others = values.filter((v) => v !== 'otlp');
  if (others.length > 0) {
    warnings.push(
      `${name}: sqlwarden exports over OTLP only; ${others.join(', ')} ${others.length > 1 ? 'are' : 'is'} ignored`,
    );
  }
  return values.includes('otlp') ? 'otlp' : 'none';
}

/** A signal's endpoint from the variables: its own, or the general one plus its path. */
function endpointFromEnv(
  env: TelemetryEnvironment,
  signal: Signal,
  warnings: string[],
): string | undefined {
  const own = `OTEL_EXPORTER_OTLP_${SIGNAL_VARIABLE[signal]}_ENDPOINT`;
  for (const [name, perSignal] of [
    [own, true],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', false],
  ] as const) {
    const text = variable(env, name);
    if (text === undefined) continue;
    const problem = endpointProblem(text);
    if (problem !== undefined) {
      warnings.push(`${name} ${problem}; it is ignored`);
      continue;
    }
    return perSignal ? text : signalUrl(text, signal);
  }
  return undefined;
}

function protocolWarnings(env: TelemetryEnvironment, warnings: string[]) {
  for (const name of [
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
  ]) {
    const value = variable(env, name);
    if (value !== undefined && value !== 'http/json') {
      warnings.push(
        `${name}=${value.slice(0, 32)}: sqlwarden exports OTLP over HTTP with JSON (http/json) only; the collector must accept it (its OTLP/HTTP port, 4318)`,
      );
    }
  }
}

function samplerFromEnv(env: TelemetryEnvironment, warnings: string[]): SamplerSetting {
  const fallback: SamplerSetting = { kind: 'parentbased_always_on' };
  const name = variable(env, 'OTEL_TRACES_SAMPLER');
  if (name === undefined) return fallback;
  const kind = SAMPLERS.find((s) => s === name.toLowerCase());
  if (kind === undefined) {
    warnings.push(
      `OTEL_TRACES_SAMPLER=${name.slice(0, 32)} is not supported (${SAMPLERS.join(', ')}); parentbased_always_on is used`,
    );
    return fallback;
  }
  if (kind !== 'traceidratio' && kind !== 'parentbased_traceidratio') return { kind };
  const arg = variable(env, 'OTEL_TRACES_SAMPLER_ARG');
  const ratio = arg === undefined ? Number.NaN : Number(arg);
  if (!(ratio >= 0 && ratio <= 1)) {
    warnings.push('OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1; 1 is used');
    return { kind, ratio: 1 };
  }
  return { kind, ratio };
}

function intervalFromEnv(env: TelemetryEnvironment, warnings: string[]): number | undefined {
  const text = variable(env, 'OTEL_METRIC_EXPORT_INTERVAL');
  if (text === undefined) return undefined;
  const ms = Number(text);
  if (!(Number.isSafeInteger(ms) && ms >= 100 && ms <= 3_600_000)) {
    warnings.push(
      'OTEL_METRIC_EXPORT_INTERVAL must be whole milliseconds from 100 to 3600000; it is ignored',
    );
    return undefined;
  }
  return ms;
}

/**
 * What the `telemetry` key and the OTEL_* variables say, resolved (docs/observability.md):
 *
 *  - OTEL_SDK_DISABLED=true switches everything off, whatever the key says;
 *  - with the key, each field given wins over its variable, a field left
 *    out takes its variable, then the default; `enabled` defaults to true;
 *  - without the key, a signal is on when its endpoint variable (its own or
 *    OTEL_EXPORTER_OTLP_ENDPOINT) is set or its exporter variable says
 *    otlp, and its exporter variable does not say none.
 *
 * Headers: OTEL_EXPORTER_OTLP_HEADERS, then the signal's own, then the
 * key's, by name (lower case), the later winning.
 */
export function resolveTelemetry(
  config: NormalizedTelemetry | undefined,
  env: TelemetryEnvironment,
): ResolvedTelemetry {
  const warnings: string[] = [];
  if (variable(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') {
    if (config !== undefined && config.enabled !== false) {
      warnings.push(
        'OTEL_SDK_DISABLED=true: telemetry is off, although the telemetry key switches it on',
      );
    }
    return { settings: undefined, warnings };
  }
  if (config?.enabled === false) return { settings: undefined, warnings };

  const signal = (name: Signal): SignalSettings | undefined => {
    const choice = exporterChoice(env, name, warnings);
    const fromEnv = endpointFromEnv(env, name, warnings);
    const given = config?.[name];
    const on =
      given ??
      (config !== undefined
        ? choice !== 'none'
        : choice !== 'none' && (fromEnv !== undefined || choice === 'otlp'));
    if (!on) return undefined;
    const url =
      config?.endpoint !== undefined
        ? signalUrl(config.endpoint, name)
        : (fromEnv ?? signalUrl(DEFAULT_ENDPOINT, name));
    const headers = {
      ...lowerKeys(keyValueList(env, 'OTEL_EXPORTER_OTLP_HEADERS', warnings)),
      ...lowerKeys(
        keyValueList(env, `OTEL_EXPORTER_OTLP_${SIGNAL_VARIABLE[name]}_HEADERS`, warnings),
      ),
      ...lowerKeys(revealed(config?.headers)),
    };
    return { url, headers };
  };
  const traces = signal('traces');
  const metrics = signal('metrics');
  if (traces === undefined && metrics === undefined)
    return { settings: undefined, warnings: [...new Set(warnings)] };
  protocolWarnings(env, warnings);

  const resource = keyValueList(env, 'OTEL_RESOURCE_ATTRIBUTES', warnings);
  const serviceName =
    config?.serviceName ??
    variable(env, 'OTEL_SERVICE_NAME') ??
    resource['service.name'] ??
    'sqlwarden';
  delete resource['service.name'];
  const sampler: SamplerSetting =
    config?.sampleRatio !== undefined
      ? config.sampleRatio >= 1
        ? { kind: 'parentbased_always_on' }
        : { kind: 'parentbased_traceidratio', ratio: config.sampleRatio }
      : traces !== undefined
        ? samplerFromEnv(env, warnings)
        : { kind: 'parentbased_always_on' };
  const intervalMs =
    config?.metricsIntervalMs ??
    (metrics !== undefined ? intervalFromEnv(env, warnings) : undefined) ??
    DEFAULT_METRICS_INTERVAL_MS;
  return {
    settings: {
      serviceName,
      resource,
      traces: traces === undefined ? undefined : { ...traces, sampler },
      metrics: metrics === undefined ? undefined : { ...metrics, intervalMs },
    },
    // A malformed header list is read once per signal: said once.
    warnings: [...new Set(warnings)],
  };
}

/**
 * The checks of the `telemetry` key the schema cannot make (load.ts): header
 * values come only from the environment, as one whole ${VAR} (they are
 * usually credentials); an endpoint carries no credentials.
 */
export function checkTelemetryConfig(
  config: ParsedConfig,
  fromEnv: ReadonlySet<string>,
  problems: string[],
): void {
  const telemetry = config.telemetry;
  if (telemetry === undefined) return;
  for (const name of Object.keys(telemetry.headers ?? {})) {
    if (!fromEnv.has(`telemetry.headers.${name}`)) {
      problems.push(
        `telemetry.headers.${name}: a header value only as one whole \${VAR} (headers usually carry credentials, which come only from the environment)`,
      );
    }
  }
  if (telemetry.endpoint !== undefined) {
    const problem = endpointProblem(telemetry.endpoint);
    if (problem !== undefined) problems.push(`telemetry.endpoint: ${problem}`);
  }
}

/** The operator logger, as much of pino as telemetry uses. */
export interface TelemetryLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface RunningTelemetry {
  readonly calls: ToolCallTelemetry;
  /** Flushes and stops the providers, for at most SHUTDOWN_TIMEOUT_MS. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Export errors to the operator log: the first at once, then at most one
 * line a window with how many more there were. Messages are scrubbed of
 * registered secrets (the headers' values) and cut to 300 characters.
 */
class ExportErrorLog {
  readonly #logger: TelemetryLogger;
  readonly #where: Record<string, string>;
  #timer: NodeJS.Timeout | undefined;
  #more = 0;
  #last = '';

  constructor(logger: TelemetryLogger, where: Record<string, string>) {
    this.#logger = logger;
    this.#where = where;
  }

  report(error: unknown): void {
    const text = scrubSecrets(describe(error)).slice(0, 300);
    if (this.#timer !== undefined) {
      this.#more++;
      this.#last = text;
      return;
    }
    this.#logger.warn(
      { telemetry: this.#where, error: text },
      'telemetry: an export or the SDK failed (tool calls are not affected; said at most once a minute)',
    );
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#more > 0) {
        this.#logger.warn(
          { telemetry: this.#where, more: this.#more, last: this.#last },
          `telemetry: ${this.#more} more errors in ${ERROR_WINDOW_MS / 1000} s`,
        );
      }
      this.#more = 0;
    }, ERROR_WINDOW_MS);
    this.#timer.unref();
  }

  close(): void {
    clearTimeout(this.#timer);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}: ${error.message}${typeof code === 'string' || typeof code === 'number' ? ` (${code})` : ''}`;
  }
  return typeof error === 'string' ? error : 'unknown error';
}

/** An endpoint as the log may show it: origin and path (endpoints hold no credentials: checked). */
function shown(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

export interface StartTelemetryOptions {
  readonly env: TelemetryEnvironment;
  readonly logger: TelemetryLogger;
}

/**
 * Starts telemetry as the key and the variables say, or returns undefined
 * (off: nothing of the SDK is imported). Registers the providers globally
 * (the adapters' database spans and pool metrics go through the API) with
 * Node's AsyncLocalStorage context manager, so the boundary's work inside
 * a call's span sees it as active. A failure to start is logged and the
 * server goes on without telemetry: tool calls matter more.
 */
export async function startTelemetry(
  config: NormalizedTelemetry | undefined,
  options: StartTelemetryOptions,
): Promise<RunningTelemetry | undefined> {
  const { logger } = options;
  const { settings, warnings } = resolveTelemetry(config, options.env);
  for (const warning of warnings) logger.warn({ telemetry: 'configuration' }, warning);
  if (settings === undefined) return undefined;
  try {
    return await start(settings, options);
  } catch (error) {
    logger.error(
      { telemetry: 'start', error: scrubSecrets(describe(error)).slice(0, 300) },
      'telemetry could not start; serving without it',
    );
    return undefined;
  }
}

async function start(
  settings: TelemetrySettings,
  options: StartTelemetryOptions,
): Promise<RunningTelemetry> {
  const { logger } = options;
  for (const signal of [settings.traces, settings.metrics]) {
    for (const value of Object.values(signal?.headers ?? {})) registerSecretValue(value);
  }
  const [core, resources] = await Promise.all([
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
  ]);
  const errors = new ExportErrorLog(logger, {
    ...(settings.traces !== undefined && { traces: shown(settings.traces.url) }),
    ...(settings.metrics !== undefined && { metrics: shown(settings.metrics.url) }),
  });
  // The SDK's errors (failed exports, a full queue) and its diagnostics go to
  // the rate-limited log; never to stdout (on stdio it is the protocol).
  core.setGlobalErrorHandler((error) => errors.report(error));
  const toLog = (message: string) => errors.report(message);
  const diagLogger: DiagLogger = {
    error: toLog,
    warn: toLog,
    info: () => {},
    debug: () => {},
    verbose: () => {},
  };
  diag.setLogger(diagLogger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });

  const resource = resources.defaultResource().merge(
    resources.resourceFromAttributes({
      ...settings.resource,
      'service.name': settings.serviceName,
      'service.version': manifest.version,
    }),
  );

  let tracerProvider: import('@opentelemetry/sdk-trace-node').NodeTracerProvider | undefined;
  let registeredTraces = false;
  if (settings.traces !== undefined) {
    const [node, exporter] = await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ]);
    tracerProvider = new node.NodeTracerProvider({
      resource,
      sampler: sampler(node, settings.traces.sampler),
      spanProcessors: [
        // Defaults (and OTEL_BSP_*): a queue of 2048 spans, dropped past it;
        // batches of 512 sent every 5 s in the background.
        new node.BatchSpanProcessor(
          new exporter.OTLPTraceExporter({
            url: settings.traces.url,
            headers: { ...settings.traces.headers },
          }),
        ),
      ],
    });
    // The global provider (the adapters' spans) and Node's AsyncLocalStorage
    // context manager; no propagator: nothing is injected anywhere (the
    // server propagates nothing to the database).
    tracerProvider.register({ propagator: null });
    // Another provider registered first (an embedder's): the adapters' spans
    // go to it; this runtime's own call spans still come from this provider.
    registeredTraces =
      (trace.getTracerProvider() as ProxyTracerProvider).getDelegate() === tracerProvider;
  }

  let meterProvider: import('@opentelemetry/sdk-metrics').MeterProvider | undefined;
  let registeredMetrics = false;
  if (settings.metrics !== undefined) {
    const [sdk, exporter] = await Promise.all([
      import('@opentelemetry/sdk-metrics'),
      import('@opentelemetry/exporter-metrics-otlp-http'),
    ]);
    meterProvider = new sdk.MeterProvider({
      resource,
      readers: [
        new sdk.PeriodicExportingMetricReader({
          exporter: new exporter.OTLPMetricExporter({
            url: settings.metrics.url,
            headers: { ...settings.metrics.headers },
          }),
          exportIntervalMillis: settings.metrics.intervalMs,
          exportTimeoutMillis: Math.min(settings.metrics.intervalMs, 30_000),
        }),
      ],
    });
    registeredMetrics = metrics.setGlobalMeterProvider(meterProvider);
  }

  const calls = new CallTelemetry({
    tracer: tracerProvider?.getTracer('@sqlwarden/runtime', manifest.version),
    meter: meterProvider?.getMeter('@sqlwarden/runtime', manifest.version),
    propagator: new core.W3CTraceContextPropagator(),
  });

  logger.info(
    {
      telemetry: {
        traces: settings.traces === undefined ? false : shown(settings.traces.url),
        metrics: settings.metrics === undefined ? false : shown(settings.metrics.url),
        serviceName: settings.serviceName,
        ...(settings.traces !== undefined && { sampler: settings.traces.sampler }),
        ...(settings.metrics !== undefined && { metricsIntervalMs: settings.metrics.intervalMs }),
        headers: Object.keys({ ...settings.traces?.headers, ...settings.metrics?.headers }),
      },
    },
    'telemetry: exporting over OTLP/HTTP (JSON)',
  );

  let stopping: Promise<void> | undefined;
  return {
    calls,
    shutdown() {
      stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([tracerProvider?.shutdown(), meterProvider?.shutdown()]),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS);
          }),
        ]);
        clearTimeout(timer);
        // Unregistered, so that another runtime of this process can register its own.
        if (registeredTraces) {
          trace.disable();
          context.disable();
        }
        if (registeredMetrics) metrics.disable();
        diag.disable();
        errors.close();
      })();
      return stopping;
    },
  };
}

function sampler(
  node: typeof import('@opentelemetry/sdk-trace-node'),
  setting: SamplerSetting,
): import('@opentelemetry/sdk-trace-node').Sampler {
  switch (setting.kind) {
    case 'always_on':
      return new node.AlwaysOnSampler();
    case 'always_off':
      return new node.AlwaysOffSampler();
    case 'traceidratio':
      return new node.TraceIdRatioBasedSampler(setting.ratio);
    case 'parentbased_always_on':
      return new node.ParentBasedSampler({ root: new node.AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new node.ParentBasedSampler({ root: new node.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new node.ParentBasedSampler({
        root: new node.TraceIdRatioBasedSampler(setting.ratio),
      });
  }
}
