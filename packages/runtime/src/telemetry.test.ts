import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { loadEnvironment } from '@sqlwarden/security';
import { postgresTestUrl, startOtlpReceiver, tempDir } from '@sqlwarden/testing';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config/load.js';
import type { TelemetryConfig } from './config/schema.js';
import {
  normalizeTelemetry,
  type ResolvedTelemetry,
  resolveTelemetry,
  type TelemetryEnvironment,
} from './telemetry.js';

// How the telemetry key and the OTEL_* variables resolve
// (docs/observability.md, "Switching it on"), and that a server without
// telemetry loads none of the SDK.

const execFileAsync = promisify(execFile);

function resolve(config: TelemetryConfig | undefined, env: TelemetryEnvironment = {}) {
  return resolveTelemetry(config === undefined ? undefined : normalizeTelemetry(config), env);
}

function on(resolved: ResolvedTelemetry) {
  if (resolved.settings === undefined) throw new Error('telemetry is off');
  return resolved.settings;
}

describe('resolveTelemetry without the telemetry key', () => {
  it('is off when no OTEL_* variable asks for it', () => {
    expect(resolve(undefined, {})).toEqual({ settings: undefined, warnings: [] });
    expect(resolve(undefined, { OTEL_SERVICE_NAME: 'shop' }).settings).toBeUndefined();
  });

  it('exports both signals to OTEL_EXPORTER_OTLP_ENDPOINT with the signal paths added', () => {
    const settings = on(
      resolve(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }),
    );
    expect(settings).toEqual({
      serviceName: 'sqlwarden',
      resource: {},
      traces: {
        url: 'http://collector:4318/v1/traces',
        headers: {},
        sampler: { kind: 'parentbased_always_on' },
      },
      metrics: { url: 'http://collector:4318/v1/metrics', headers: {}, intervalMs: 60_000 },
    });
    expect(
      on(resolve(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c.example/otlp/' })).traces
        ?.url,
    ).toBe('https://c.example/otlp/v1/traces');
  });

  it('switches on only the signal whose own endpoint is set, and uses that URL as it is', () => {
    const settings = on(
      resolve(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom/traces' }),
    );
    expect(settings.traces?.url).toBe('http://c:4318/custom/traces');
    expect(settings.metrics).toBeUndefined();
  });

  it('prefers a signal endpoint over the general one', () => {
    const settings = on(
      resolve(undefined, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://general:4318',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:4318/v1/metrics',
      }),
    );
    expect(settings.traces?.url).toBe('http://general:4318/v1/traces');
    expect(settings.metrics?.url).toBe('http://metrics:4318/v1/metrics');
  });

  it('switches a signal on with OTEL_*_EXPORTER=otlp (default endpoint) and off with none', () => {
    const traces = on(resolve(undefined, { OTEL_TRACES_EXPORTER: 'otlp' }));
    expect(traces.traces?.url).toBe('http://localhost:4318/v1/traces');
    expect(traces.metrics).toBeUndefined();
    const noMetrics = on(
      resolve(undefined, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_METRICS_EXPORTER: 'none',
      }),
    );
    expect(noMetrics.metrics).toBeUndefined();
    expect(noMetrics.traces).toBeDefined();
  });

  it('warns about exporters it does not have, and treats a list without otlp as none', () => {
    const resolved = resolve(undefined, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_TRACES_EXPORTER: 'zipkin',
    });
    expect(on(resolved).traces).toBeUndefined();
    expect(resolved.warnings).toEqual([
      'OTEL_TRACES_EXPORTER: sqlwarden exports over OTLP only; zipkin is ignored',
    ]);
  });

  it('is off with OTEL_SDK_DISABLED=true', () => {
    expect(
      resolve(undefined, {
        OTEL_SDK_DISABLED: 'TRUE',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      }).settings,
    ).toBeUndefined();
  });

  it('counts an empty variable as unset', () => {
    expect(resolve(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }).settings).toBeUndefined();
    expect(
      on(
        resolve(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: '' }),
      ).serviceName,
    ).toBe('sqlwarden');
  });

  it('reads headers, signal headers over general ones, names in lower case and values decoded', () => {
    const settings = on(
      resolve(undefined, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20general,x-team=shop',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20traces',
      }),
    );
    expect(settings.traces?.headers).toEqual({
      authorization: 'Bearer traces',
      'x-team': 'shop',
    });
    expect(settings.metrics?.headers).toEqual({
      authorization: 'Bearer general',
      'x-team': 'shop',
    });
  });

  it('ignores a header entry it cannot read, naming its position and never its text', () => {
    const resolved = resolve(undefined, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-ok=1,secret-token-without-equals,x-bad=%E0%A4%A',
    });
    expect(on(resolved).traces?.headers).toEqual({ 'x-ok': '1' });
    expect(resolved.warnings).toEqual([
      'OTEL_EXPORTER_OTLP_HEADERS: entry 2 is not key=value (percent-encoded); it is ignored',
      'OTEL_EXPORTER_OTLP_HEADERS: entry 3 is not key=value (percent-encoded); it is ignored',
    ]);
    expect(resolved.warnings.join('\n')).not.toContain('secret-token');
  });

  it('ignores an endpoint that is not an http(s) URL or that holds credentials', () => {
    const resolved = resolve(undefined, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:hunter2@c:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://c:4317',
    });
    expect(resolved.settings).toBeUndefined();
    expect(resolved.warnings).toEqual([
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not an http(s) URL; it is ignored',
      'OTEL_EXPORTER_OTLP_ENDPOINT holds credentials: send them as a header instead; it is ignored',
    ]);
    expect(resolved.warnings.join('\n')).not.toContain('hunter2');
  });

  it('honours the standard samplers and their ratio, and warns about the others', () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(
      on(
        resolve(undefined, {
          ...base,
          OTEL_TRACES_SAMPLER: 'traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0.25',
        }),
      ).traces?.sampler,
    ).toEqual({ kind: 'traceidratio', ratio: 0.25 });
    expect(
      on(resolve(undefined, { ...base, OTEL_TRACES_SAMPLER: 'always_off' })).traces?.sampler,
    ).toEqual({ kind: 'always_off' });
    const badArg = resolve(undefined, {
      ...base,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '2',
    });
    expect(on(badArg).traces?.sampler).toEqual({ kind: 'parentbased_traceidratio', ratio: 1 });
    expect(badArg.warnings).toEqual([
      'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1; 1 is used',
    ]);
    const unknown = resolve(undefined, { ...base, OTEL_TRACES_SAMPLER: 'jaeger_remote' });
    expect(on(unknown).traces?.sampler).toEqual({ kind: 'parentbased_always_on' });
    expect(unknown.warnings[0]).toMatch(/^OTEL_TRACES_SAMPLER=jaeger_remote is not supported/);
  });

  it('reads the metric interval, the service name and the resource attributes', () => {
    const settings = on(
      resolve(undefined, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_METRIC_EXPORT_INTERVAL: '5000',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-resource,deployment.environment.name=prod',
      }),
    );
    expect(settings.metrics?.intervalMs).toBe(5000);
    expect(settings.serviceName).toBe('from-resource');
    expect(settings.resource).toEqual({ 'deployment.environment.name': 'prod' });
    expect(
      on(
        resolve(undefined, {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
          OTEL_SERVICE_NAME: 'named',
          OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-resource',
        }),
      ).serviceName,
    ).toBe('named');
  });

  it('warns that only http/json is spoken when another OTLP protocol is asked for', () => {
    const resolved = resolve(undefined, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    });
    expect(on(resolved).traces).toBeDefined();
    expect(resolved.warnings).toEqual([
      'OTEL_EXPORTER_OTLP_PROTOCOL=grpc: sqlwarden exports OTLP over HTTP with JSON (http/json) only; the collector must accept it (its OTLP/HTTP port, 4318)',
    ]);
  });
});

describe('resolveTelemetry with the telemetry key', () => {
  it('is on with the key alone, to the OTLP default endpoint', () => {
    expect(on(resolve({}))).toEqual({
      serviceName: 'sqlwarden',
      resource: {},
      traces: {
        url: 'http://localhost:4318/v1/traces',
        headers: {},
        sampler: { kind: 'parentbased_always_on' },
      },
      metrics: { url: 'http://localhost:4318/v1/metrics', headers: {}, intervalMs: 60_000 },
    });
  });

  it('lets each field it gives win over its variable, and the variables fill the rest', () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://from-env:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces-from-env:4318/v1/traces',
      OTEL_SERVICE_NAME: 'from-env',
      OTEL_TRACES_SAMPLER: 'always_off',
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-env=1,x-both=env',
    };
    const given = on(
      resolve(
        {
          endpoint: 'http://from-file:4318',
          serviceName: 'from-file',
          sampleRatio: 0.5,
          metricsIntervalMs: 1000,
          traces: true,
          headers: { 'X-Both': 'file' },
        },
        env,
      ),
    );
    expect(given).toEqual({
      serviceName: 'from-file',
      resource: {},
      traces: {
        url: 'http://from-file:4318/v1/traces',
        headers: { 'x-env': '1', 'x-both': 'file' },
        sampler: { kind: 'parentbased_traceidratio', ratio: 0.5 },
      },
      metrics: {
        url: 'http://from-file:4318/v1/metrics',
        headers: { 'x-env': '1', 'x-both': 'file' },
        intervalMs: 1000,
      },
    });
    const filled = on(resolve({}, env));
    expect(filled.serviceName).toBe('from-env');
    expect(filled.traces).toBeUndefined();
    expect(filled.metrics).toEqual({
      url: 'http://from-env:4318/v1/metrics',
      headers: { 'x-env': '1', 'x-both': 'env' },
      intervalMs: 5000,
    });
  });

  it('is off with enabled: false, whatever the variables say', () => {
    expect(
      resolve({ enabled: false }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).settings,
    ).toBeUndefined();
  });

  it('exports one signal when the other is switched off, and nothing when both are', () => {
    expect(on(resolve({ traces: false })).traces).toBeUndefined();
    expect(on(resolve({ metrics: false })).metrics).toBeUndefined();
    expect(resolve({ traces: false, metrics: false }).settings).toBeUndefined();
  });

  it('samples every new trace at a ratio of 1', () => {
    expect(on(resolve({ sampleRatio: 1 })).traces?.sampler).toEqual({
      kind: 'parentbased_always_on',
    });
    expect(on(resolve({ sampleRatio: 0 })).traces?.sampler).toEqual({
      kind: 'parentbased_traceidratio',
      ratio: 0,
    });
  });

  it('is off with OTEL_SDK_DISABLED=true, and says the key was overruled', () => {
    const resolved = resolve({ endpoint: 'http://c:4318' }, { OTEL_SDK_DISABLED: 'true' });
    expect(resolved.settings).toBeUndefined();
    expect(resolved.warnings).toEqual([
      'OTEL_SDK_DISABLED=true: telemetry is off, although the telemetry key switches it on',
    ]);
  });
});

describe('the telemetry key in a configuration file', () => {
  const file = (telemetry: string) => `
sources:
  main:
    kind: postgres
    url: \${DATABASE_URL}
    tables: [public.*]
principals:
  local: {}
telemetry:
${telemetry}
`;
  const parse = (text: string, vars: Record<string, string> = {}) =>
    parseConfig(
      text,
      loadEnvironment({
        env: { DATABASE_URL: 'postgres://app@db/shop', ...vars },
        envFile: false,
      }),
    );

  it('takes header values only as one whole ${VAR}, and keeps them out of the printed configuration', async () => {
    const written = await parse(file('  headers:\n    authorization: Bearer abc123'));
    expect(written.ok ? [] : written.problems).toEqual([
      'telemetry.headers.authorization: a header value only as one whole ${VAR} (headers usually carry credentials, which come only from the environment)',
    ]);
    const fromEnv = await parse(
      file(
        '  endpoint: https://collector.internal:4318\n  headers:\n    authorization: ${OTLP_AUTH}',
      ),
      { OTLP_AUTH: 'Bearer collector-secret-value' },
    );
    expect(fromEnv.ok).toBe(true);
    if (!fromEnv.ok) return;
    expect(JSON.stringify(fromEnv.config)).not.toContain('collector-secret-value');
    expect(fromEnv.config.telemetry?.headers?.authorization?.reveal()).toBe(
      'Bearer collector-secret-value',
    );
  });

  it('refuses an endpoint with credentials, and a key it does not know', async () => {
    const credentials = await parse(file('  endpoint: https://u:p@collector:4318'));
    expect(credentials.ok ? [] : credentials.problems).toEqual([
      'telemetry.endpoint: holds credentials: send them as a header instead',
    ]);
    const unknown = await parse(file('  tracing: true'));
    expect(unknown.ok ? [] : unknown.problems).toEqual(['telemetry: Unrecognized key: "tracing"']);
  });

  it('takes the sample ratio and the interval from variables too', async () => {
    const result = await parse(file('  sampleRatio: ${RATIO}\n  metricsIntervalMs: ${EVERY}'), {
      RATIO: '0.1',
      EVERY: '15000',
    });
    expect(result.ok && result.config.telemetry).toEqual({
      sampleRatio: 0.1,
      metricsIntervalMs: 15000,
    });
  });
});

describe('a server without telemetry', () => {
  // The built runtime in a process of its own, every module it resolves
  // through import recorded by a loader hook: the SDK is imported only
  // when telemetry is on. (Needs the built dist: pnpm turbo build --filter @sqlwarden/runtime.)
  const runtimeDist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

  async function importedWith(env: Record<string, string>): Promise<string[]> {
    const dir = tempDir();
    try {
      const hooks = dir.write(
        'hooks.mjs',
        `let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  port.postMessage(resolved.url);
  return resolved;
}
`,
      );
      const security = pathToFileURL(
        createRequire(import.meta.url).resolve('@sqlwarden/security'),
      ).href;
      const main = dir.write(
        'main.mjs',
        `import { register } from 'node:module';
import { writeFileSync } from 'node:fs';
const seen = [];
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => seen.push(url));
port1.unref();
register(${JSON.stringify(pathToFileURL(hooks).href)}, { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });
const { createRuntime, loadConfig } = await import(${JSON.stringify(pathToFileURL(runtimeDist).href)});
const { loadEnvironment } = await import(${JSON.stringify(security)});
const loaded = await loadConfig(
  { sources: { main: { kind: 'postgres', url: process.env.DB_URL, tables: ['public.*'] } }, principals: { local: {} } },
  loadEnvironment({ env: { ...process.env }, envFile: false }),
);
if (!loaded.ok) throw new Error(loaded.problems.join('; '));
const runtime = await createRuntime({ config: loaded.config });
await runtime.close();
await new Promise((resolve) => setTimeout(resolve, 100));
writeFileSync(process.env.OUT, seen.join('\\n'));
`,
      );
      const out = `${dir.path}/resolved.txt`;
      // Not spawnSync: the receiver of the second run answers from this process.
      await execFileAsync(process.execPath, [main], {
        env: { PATH: process.env.PATH ?? '', DB_URL: postgresTestUrl(), OUT: out, ...env },
        timeout: 60_000,
      });
      return readFileSync(out, 'utf8').split('\n');
    } finally {
      dir.cleanup();
    }
  }

  const sdk = (urls: string[]) =>
    urls.filter((url) => /@opentelemetry\/(sdk-|exporter-|resources|core)/.test(url));

  it('imports none of the OpenTelemetry SDK, and imports it once telemetry is switched on', async () => {
    const off = await importedWith({});
    expect(off.some((url) => url.includes('/runtime/dist/index.js'))).toBe(true);
    expect(sdk(off)).toEqual([]);
    await using receiver = await startOtlpReceiver();
    const onUrls = await importedWith({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    expect(sdk(onUrls).length).toBeGreaterThan(0);
  });
});
