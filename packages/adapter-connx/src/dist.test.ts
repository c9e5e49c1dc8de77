// The built package, as users load it: both entries find the worker beside
// them in dist (the package's second entry), and closing an adapter ends its worker.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OdbcTarget, postgresTarget } from './test-support.js';

const LIMITS = { maxRows: 10, maxBytes: 10_000, timeoutMs: 5000 };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the built package', () => {
  let target: OdbcTarget;
  beforeAll(async () => {
    target = await postgresTarget();
  });
  afterAll(async () => target.drop());

  const config = () => ({
    source: 'main',
    defaultSchema: target.name,
    statementTimeoutMs: 5000,
    connection: { connectionString: target.connectionString, profile: 'postgres' as const },
  });

  it.each([
    // The built entries, by URL: the type check runs before the build.
    [
      'ESM',
      async () =>
        (await import(new URL('../dist/index.js', import.meta.url).href)).createConnxAdapter,
    ],
    [
      'CommonJS',
      async () => createRequire(import.meta.url)('../dist/index.cjs').createConnxAdapter,
    ],
  ])('reads through its %s entry', async (_name, load) => {
    const create = (await load()) as typeof import('./index.js').createConnxAdapter;
    const adapter = create(config());
    try {
      const result = await adapter.read({
        sql: 'SELECT 41 + 1',
        params: [],
        limits: LIMITS,
        signal: new AbortController().signal,
      });
      expect(result.rows).toEqual([[42]]);
    } finally {
      await adapter.close();
    }
  });

  it('closing the adapter ends its worker process', async () => {
    const { adapter, host } = target.adapter();
    await adapter.read({
      sql: 'SELECT 1',
      params: [],
      limits: LIMITS,
      signal: new AbortController().signal,
    });
    const pid = host.pid as number;
    expect(alive(pid)).toBe(true);
    await adapter.close();
    expect(alive(pid)).toBe(false);
  });
});
