// Overhead of the execution boundary itself: every stage with the real
// @sqlwarden/security policy, quota gate and audit sink, around a handler
// that does no I/O. Prints per-call latency percentiles and throughput.
//
//   pnpm --filter @sqlwarden/tests bench
import { open } from 'node:fs/promises';
import {
  createToolRegistry,
  DEFAULT_LIMITS,
  defineTool,
  executeToolBoundary,
} from '@sqlwarden/core';
import { CapabilityPolicy, createAuditSink, createQuotaGate } from '@sqlwarden/security';
import { z } from 'zod';

const CALLS = Number(process.env.BENCH_CALLS ?? 50_000);
const WARMUP = 5_000;

const tool = defineTool({
  name: 'bench_read',
  title: 'Bench read',
  description: 'Returns a constant result',
  kind: 'read',
  inputSchema: z.strictObject({
    sql: z.string().max(10_000),
    params: z.array(z.unknown()).default([]),
  }),
  requires: () => ({
    ok: true,
    capabilities: ['read:main:public.orders'],
    prepared: undefined,
    facts: { fp: '3a1c9f82a2d1', source: 'main' },
  }),
  handler: async () => ({
    text: 'id\n1',
    structuredContent: {
      columns: [{ name: 'id', type: 'int4' }],
      rows: [[1]],
      rowCount: 1,
      truncated: false,
    },
    rows: 1,
  }),
});

// The audit sink writes real JSON lines through pino's sonic-boom, to /dev/null.
const devnull = await open('/dev/null', 'w');
const audit = createAuditSink({ destination: { file: '/dev/null' }, tools: ['bench_read'] });
const deps = {
  registry: createToolRegistry([tool]),
  authorizer: new CapabilityPolicy({
    roles: { analyst: ['tool:bench_read', 'read:main:public.*'] },
  }),
  quota: createQuotaGate({
    policy: {
      perPrincipal: { rate: { burst: 1e9, perSecond: 1e9 }, concurrency: 64 },
      perTool: { concurrency: 64 },
    },
  }),
  audit,
  limits: DEFAULT_LIMITS,
  readOnly: false,
  writesEnabled: false,
};
const context = {
  sessionId: 'bench-session',
  principalId: 'bench',
  capabilities: [],
  roles: ['analyst'],
  transport: 'in-process',
  readOnly: true,
};
const request = (i) => ({
  requestId: `r${i}`,
  context,
  tool: 'bench_read',
  input: { sql: 'SELECT id FROM public.orders WHERE id = $1', params: [i] },
});

for (let i = 0; i < WARMUP; i += 1) await executeToolBoundary(request(i), deps);

const samples = new Float64Array(CALLS);
const started = performance.now();
for (let i = 0; i < CALLS; i += 1) {
  const t0 = performance.now();
  const result = await executeToolBoundary(request(i), deps);
  samples[i] = performance.now() - t0;
  if (result.isError) throw new Error(`bench call failed: ${result.content[0].text}`);
}
const elapsed = performance.now() - started;
samples.sort();
const pct = (p) =>
  (samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))] * 1000).toFixed(1);

// Concurrent: 8 callers at once, as the MCP runtime would see them.
const CONCURRENT = 8;
const concurrentStarted = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENT }, async () => {
    while (next < CALLS) {
      const i = next++;
      await executeToolBoundary(request(i), deps);
    }
  }),
);
const concurrentElapsed = performance.now() - concurrentStarted;

await audit.flush();
await devnull.close();
console.log(
  `boundary overhead (all stages, real policy + quota + audit to /dev/null), ${CALLS} calls`,
);
console.log(
  `  sequential: p50 ${pct(50)} us  p99 ${pct(99)} us  ${Math.round(CALLS / (elapsed / 1000))} calls/s`,
);
console.log(
  `  ${CONCURRENT} concurrent callers: ${Math.round(CALLS / (concurrentElapsed / 1000))} calls/s`,
);
console.log(`  heap used after: ${(process.memoryUsage().heapUsed / 1048576).toFixed(1)} MiB`);
