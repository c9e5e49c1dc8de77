import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type * as DemoModule from '../src/demo.js';

// The demo database as built (dist/): the snapshot made at build time, the
// prestart hand-over the bin uses, and the fallback to initdb + seed.

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const demo = (await import(join(DIST, 'demo.js'))) as typeof DemoModule;
const SNAPSHOT = readdirSync(DIST).find((f) => /^demo-db-[0-9a-f]{12}\.tar\.gz$/.test(f));

async function countOrders(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM shop.orders',
    );
    return rows[0]?.n ?? -1;
  } finally {
    await client.end();
  }
}

describe('the demo database', () => {
  it('is built with a snapshot of its data directory, and starts from it', async () => {
    expect(SNAPSHOT).toBeDefined();
    const db = await demo.startDemoDatabase();
    try {
      expect(db.origin).toBe('snapshot');
      expect(await countOrders(db.url)).toBe(200);
    } finally {
      await db.stop();
    }
  });

  it('hands a prestarted database to the first start only, and starts a new one for the next', async () => {
    // The bin and the CLI load separate bundles of demo.ts: they meet at this key.
    const registry = globalThis as Record<symbol, unknown>;
    const key = Symbol.for('sqlwarden.stdio-server.prestartedDemoDatabase');
    demo.prestartDemoDatabase();
    const prestarted = registry[key];
    demo.prestartDemoDatabase(); // a second prestart changes nothing
    expect(registry[key]).toBe(prestarted);
    const first = demo.startDemoDatabase();
    expect(first).toBe(prestarted);
    expect(registry[key]).toBeUndefined();
    const second = demo.startDemoDatabase();
    expect(second).not.toBe(prestarted);
    const [a, b] = await Promise.all([first, second]);
    try {
      expect(a.url).not.toBe(b.url);
      expect(await countOrders(a.url)).toBe(200);
      expect(await countOrders(b.url)).toBe(200);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('the demo worker without a usable snapshot', () => {
  // A copy of the worker in a directory of its own (inside the package, so
  // its imports resolve), next to no snapshot, then next to a broken one.
  const dir = mkdtempSync(join(DIST, '..', '.test-worker-'));
  copyFileSync(join(DIST, 'demo-worker.js'), join(dir, 'demo-worker.js'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function startCopy(): Promise<{ origin: string; url: string; worker: Worker }> {
    const worker = new Worker(join(dir, 'demo-worker.js'));
    const ready = await new Promise<{ port: number; origin: string }>((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (m: { type: string; port: number; origin: string }) => {
        if (m.type === 'ready') resolve(m);
      });
    });
    return {
      origin: ready.origin,
      url: `postgres://postgres@127.0.0.1:${ready.port}/postgres`,
      worker,
    };
  }

  it('runs initdb and the seed when there is no snapshot: the same data', async () => {
    const { origin, url, worker } = await startCopy();
    try {
      expect(origin).toBe('seeded');
      expect(await countOrders(url)).toBe(200);
    } finally {
      await worker.terminate();
    }
  }, 60_000);

  it('runs initdb and the seed when the snapshot cannot be opened', async () => {
    writeFileSync(join(dir, SNAPSHOT ?? 'missing'), 'not a tarball');
    const { origin, url, worker } = await startCopy();
    try {
      expect(origin).toBe('seeded');
      expect(await countOrders(url)).toBe(200);
    } finally {
      await worker.terminate();
    }
  }, 60_000);
});
