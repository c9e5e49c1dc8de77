import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadEnvironment } from '@sqlwarden/security';
import {
  Capture,
  createTestCertificates,
  createThrowawayMariadb,
  createThrowawayPostgres,
  type TestCertificates,
  type ThrowawayMariadb,
  type ThrowawayPostgres,
} from '@sqlwarden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertConfig, loadConfig } from './config/load.js';
import { createRuntime } from './runtime.js';

// TLS as the URL asks for it, against servers of the tests' own that serve
// TLS with a certificate for "localhost" only (no IP address in it): each
// sslmode verifies what libpq says it does, on both engines.

let certs: TestCertificates;
let dir: string;
let postgres: ThrowawayPostgres;
let mariadb: ThrowawayMariadb;
let caFile: string;
let otherCaFile: string;

beforeAll(async () => {
  certs = createTestCertificates();
  dir = mkdtempSync(join(tmpdir(), 'sqlwarden-tls-'));
  caFile = join(dir, 'ca.pem');
  otherCaFile = join(dir, 'other.pem');
  writeFileSync(caFile, certs.ca);
  writeFileSync(otherCaFile, certs.otherCa);
  [postgres, mariadb] = await Promise.all([
    createThrowawayPostgres({ tls: { cert: certs.cert, key: certs.key } }),
    createThrowawayMariadb({ tls: { cert: certs.cert, key: certs.key } }),
  ]);
}, 120_000);

afterAll(async () => {
  postgres?.destroy();
  await mariadb?.destroy();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const SSL_IN_USE = {
  postgres: 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
  mysql:
    "SELECT VARIABLE_VALUE <> '' FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'",
};

/** Connects with the URL through the runtime and says whether the session is encrypted, or why not. */
async function connect(kind: 'postgres' | 'mysql', url: string): Promise<string> {
  const operator = new Capture();
  const config = assertConfig(
    await loadConfig(
      {
        sources: {
          main: {
            kind,
            url: '${DATABASE_URL}',
            tables: [kind === 'postgres' ? 'public.*' : 'test.*'],
            pool: { connectionTimeoutMs: 3000 },
          },
        },
        principals: { local: { capabilities: ['tool:list_tables'] } },
      },
      loadEnvironment({ env: { DATABASE_URL: url }, envFile: false }),
    ),
  );
  const runtime = await createRuntime({
    config,
    logger: createLogger({ destination: operator }),
    auditDestination: new Capture(),
    catalogTimeoutMs: 4000,
  });
  try {
    const adapter = runtime.sources[0]?.adapter;
    if (adapter === undefined) throw new Error('no source');
    const result = await adapter.read({
      sql: SSL_IN_USE[kind],
      params: [],
      limits: { maxRows: 1, maxBytes: 1000, timeoutMs: 3000 },
      signal: new AbortController().signal,
    });
    const value = result.rows[0]?.[0];
    return value === true || value === 1 ? 'encrypted' : 'plain';
  } catch (error) {
    return (error as { code?: string }).code ?? 'error';
  } finally {
    await runtime.close();
  }
}

describe.each(['postgres', 'mysql'] as const)('TLS from the URL (%s)', (kind) => {
  const url = (host: string, query: string) => {
    const server = kind === 'postgres' ? postgres : mariadb;
    const base =
      kind === 'postgres'
        ? `postgres://postgres@${host}:${server.port}/postgres`
        : `mysql://root@${host}:${server.port}/test`;
    return query === '' ? base : `${base}?${query}`;
  };

  it('verify-full with the right CA and the certificate host name: encrypted', async () => {
    expect(await connect(kind, url('localhost', `sslmode=verify-full&sslrootcert=${caFile}`))).toBe(
      'encrypted',
    );
  });

  it('verify-full refuses a host the certificate does not name', async () => {
    expect(await connect(kind, url('127.0.0.1', `sslmode=verify-full&sslrootcert=${caFile}`))).toBe(
      'DB_UNAVAILABLE',
    );
  });

  it('verify-ca accepts that host, and refuses a certificate from another CA', async () => {
    expect(await connect(kind, url('127.0.0.1', `sslmode=verify-ca&sslrootcert=${caFile}`))).toBe(
      'encrypted',
    );
    expect(
      await connect(kind, url('localhost', `sslmode=verify-ca&sslrootcert=${otherCaFile}`)),
    ).toBe('DB_UNAVAILABLE');
  });

  it('ssl=true verifies like verify-full, with the system CAs', async () => {
    expect(await connect(kind, url('localhost', 'ssl=true'))).toBe('DB_UNAVAILABLE');
  });

  it('require encrypts without verifying; disable does not encrypt', async () => {
    expect(await connect(kind, url('127.0.0.1', 'sslmode=require'))).toBe('encrypted');
    expect(await connect(kind, url('127.0.0.1', 'sslmode=disable'))).toBe('plain');
  });
});

describe('start-up warnings', () => {
  async function warnings(url: string, prefix = 'TLS is off'): Promise<string[]> {
    const operator = new Capture();
    const config = assertConfig(
      await loadConfig(
        {
          sources: {
            main: {
              kind: 'postgres',
              url: '${DATABASE_URL}',
              tables: ['public.*'],
              pool: { connectionTimeoutMs: 500 },
            },
          },
          principals: { local: { capabilities: ['tool:list_tables'] } },
        },
        loadEnvironment({ env: { DATABASE_URL: url }, envFile: false }),
      ),
    );
    const runtime = await createRuntime({
      config,
      logger: createLogger({ destination: operator }),
      auditDestination: new Capture(),
      catalogTimeoutMs: 1000,
    });
    await runtime.close();
    const lines = operator.lines();
    expect(JSON.stringify(lines)).not.toContain('hunter2');
    return lines
      .filter((line) => String(line.msg).startsWith(prefix))
      .map((line) => (prefix === 'TLS is off' ? `${line.source}@${line.host}` : String(line.msg)));
  }

  it('warns when a source on another host has TLS off, naming the host but not the URL', async () => {
    // 192.0.2.1 (TEST-NET-1) is never reachable: only the warning matters here.
    expect(await warnings('postgres://app:hunter2@192.0.2.1:5432/shop')).toEqual([
      'main@192.0.2.1',
    ]);
    expect(await warnings('postgres://app@192.0.2.1:5432/shop?sslmode=require')).toEqual([]);
    expect(await warnings(`postgres://postgres@127.0.0.1:${postgres.port}/postgres`)).toEqual([]);
  });

  it('warns about a short password, naming the key and its length, never the value', async () => {
    const weak = (url: string) => warnings(url, 'the password in');
    expect(await weak('postgres://app:abc@127.0.0.1:1/shop')).toEqual([
      'the password in sources.main.url has 3 characters: use a long random one (12 or more); one this short cannot even be scrubbed from the logs',
    ]);
    expect(await weak('postgres://app:hunter2@127.0.0.1:1/shop')).toEqual([
      'the password in sources.main.url has 7 characters: use a long random one (12 or more)',
    ]);
    expect(await weak('postgres://app:a-long-random-password@127.0.0.1:1/shop')).toEqual([]);
  });
});
