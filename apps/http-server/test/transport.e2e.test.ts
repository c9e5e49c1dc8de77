import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createTestCertificates } from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHttp, runHttpCli, startHttp, tempDir } from './harness.js';

// The transport settings of transports.http end to end: TLS from PEM files,
// and the header timeout that cuts a client sending its headers too slowly
// (slowloris). On the demo database: nothing here reads a source.

const dir = tempDir();
let tls: RunningHttp;
let slow: RunningHttp;
let ca: Buffer;

beforeAll(async () => {
  // A CA and a certificate for localhost, from the shared test support.
  const certificates = createTestCertificates();
  dir.write('tls.key', certificates.key);
  dir.write('tls.crt', certificates.cert);
  ca = Buffer.from(certificates.ca);
  const config = (http: string) =>
    dir.write(
      `sqlwarden-${Math.random().toString(36).slice(2)}.yaml`,
      `sources:
  demo:
    kind: postgres
    url: \${SQLWARDEN_DEMO_URL}
    tables: ["shop.*"]
principals:
  local: { capabilities: ["tool:list_tables"] }
transports:
  http:
${http}`,
    );
  // The demo database is only reachable through --demo; these configurations
  // need a source that answers nothing: PostgreSQL on a closed port is enough
  // (a source down at start-up does not stop the server).
  const env = { SQLWARDEN_DEMO_URL: 'postgres://nobody@127.0.0.1:1/none' };
  tls = await startHttp(
    [
      '--config',
      config(`    port: 0
    tls: { keyFile: ${join(dir.path, 'tls.key')}, certFile: ${join(dir.path, 'tls.crt')} }
`),
    ],
    { env },
  );
  slow = await startHttp(['--config', config('    port: 0\n    headersTimeoutMs: 500\n')], {
    env,
  });
}, 90_000);

afterAll(async () => {
  await tls?.stop();
  await slow?.stop();
  dir.cleanup();
});

function httpsGet(
  url: string,
  options: { ca?: Buffer; headers?: Record<string, string> },
): Promise<{ status: number | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    // The certificate names localhost; the server listens on 127.0.0.1.
    const req = httpsRequest(url, { ...options, servername: 'localhost', method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS (transports.http.tls)', () => {
  it('serves HTTPS with the configured certificate, and its URL says https', async () => {
    expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const health = await httpsGet(new URL('/healthz', tls.url).toString(), { ca });
    expect(health.status).toBe(200);
    const metadata = await httpsGet(
      new URL('/.well-known/oauth-protected-resource/mcp', tls.url).toString(),
      { ca },
    );
    expect(JSON.parse(metadata.body).resource).toBe(tls.url);
  });

  it('is refused by a client that does not trust the certificate', async () => {
    await expect(httpsGet(new URL('/healthz', tls.url).toString(), {})).rejects.toThrow(
      /self[- ]signed|certificate/i,
    );
  });

  it('refuses to start when the key or certificate cannot be read, saying which key', async () => {
    const config = dir.write(
      'missing-tls.yaml',
      `sources:
  demo: { kind: postgres, url: "postgres://nobody@127.0.0.1:1/none", tables: ["shop.*"] }
principals:
  local: { capabilities: ["tool:list_tables"] }
transports:
  http: { port: 0, tls: { keyFile: ${join(dir.path, 'nope.key')}, certFile: ${join(dir.path, 'nope.crt')} } }
`,
    );
    const exit = await runHttpCli(['--config', config]);
    expect(exit.code).toBe(2);
    const problem = exit.stderr.split('\n').find((line) => line.startsWith('sqlwarden-http:'));
    expect(problem).toMatch(/^sqlwarden-http: transports\.http\.tls: ENOENT: /);
    expect(problem).not.toMatch(/at .*\.js:\d+/);
  });
});

describe('authentication settings that cannot work', () => {
  const oauthConfig = (jwksUri: string) =>
    dir.write(
      `oauth-${Math.random().toString(36).slice(2)}.yaml`,
      `sources:
  demo: { kind: postgres, url: "postgres://nobody@127.0.0.1:1/none", tables: ["shop.*"] }
principals:
  local: { capabilities: ["tool:list_tables"] }
transports:
  http:
    port: 0
    auth:
      oauth: { issuer: "https://login.example.com", jwksUri: "${jwksUri}", defaultPrincipal: local }
`,
    );

  it('refuses keys over plain HTTP off this machine, with the other configuration problems', async () => {
    const exit = await runHttpCli(['--config', oauthConfig('http://login.example.com/jwks')]);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('sqlwarden-http: the configuration has problems:');
    expect(exit.stderr).toContain('transports.http.auth.oauth.jwksUri: must be https');
  });

  it('reports what only the authenticator checks as a configuration problem, not as a failure to listen', async () => {
    const exit = await runHttpCli([
      '--config',
      oauthConfig('https://user:pw@login.example.com/jwks'),
    ]);
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('sqlwarden-http: the configuration has problems:');
    expect(exit.stderr).toContain('transports.http.auth.oauth.jwksUri: must not carry credentials');
    expect(exit.stderr).not.toContain('cannot listen');
    expect(exit.stderr).not.toContain('user:pw');
  });
});

describe('timeouts (transports.http.headersTimeoutMs)', () => {
  it('cuts a client that sends its headers too slowly, and goes on serving', async () => {
    const port = Number(new URL(slow.url).port);
    const started = Date.now();
    const closed = await new Promise<{ ms: number; answer: string }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk) => {
        answer += chunk.toString('utf8');
      });
      socket.on('error', reject);
      socket.on('close', () => resolve({ ms: Date.now() - started, answer }));
      socket.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      // ...and never the rest: one header line every 200 ms, forever.
      const drip = setInterval(() => {
        if (!socket.destroyed) socket.write('X-Drip: 1\r\n');
      }, 200);
      socket.on('close', () => clearInterval(drip));
    });
    // Cut near the 500 ms limit (the check runs every ~125 ms), not after Node's 60 s default.
    expect(closed.ms).toBeLessThan(5000);
    expect(closed.answer).toMatch(/^HTTP\/1\.1 408/);
    const health = await fetch(new URL('/healthz', slow.url));
    expect(health.status).toBe(200);
  });
});
