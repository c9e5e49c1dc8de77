/**
 * The demo database: a worker thread (demo-worker.ts) that serves PGlite
 * over the PostgreSQL protocol on 127.0.0.1.
 *
 * Starting it takes most of `--demo`'s start-up, and the main thread spends
 * about as long loading modules, so the published bin
 * (bin/sqlwarden-stdio.js) starts the worker before it loads the CLI
 * (`prestartDemoDatabase`), and the CLI's `startDemoDatabase` takes that
 * one over instead of starting a second. The hand-over goes through a
 * global registered with `Symbol.for`, because the bin and the CLI load
 * separate bundles of this file (dist/demo.js and dist/cli.js).
 */
import { Worker } from 'node:worker_threads';
import type { DemoOrigin } from './demo-snapshot.js';

export interface DemoDatabase {
  /** A PostgreSQL URL to the demo database (no password: it listens on 127.0.0.1 only). */
  readonly url: string;
  /** The build-time snapshot (fast), or initdb and the seed (when no snapshot fits). */
  readonly origin: DemoOrigin;
  stop(): Promise<void>;
}

const PRESTARTED = Symbol.for('sqlwarden.stdio-server.prestartedDemoDatabase');
type Registry = { [PRESTARTED]?: Promise<DemoDatabase> };

/**
 * Starts the demo database now, for a `startDemoDatabase()` call to come
 * (the first one takes it over). A failure is reported to that call; if
 * none comes (the arguments were refused), it is dropped with the process.
 */
export function prestartDemoDatabase(timeoutMs = 60_000): void {
  const registry = globalThis as Registry;
  if (registry[PRESTARTED] !== undefined) return;
  const starting = launch(timeoutMs);
  starting.catch(() => {});
  registry[PRESTARTED] = starting;
}

/** The demo database, listening: the prestarted one if there is one, else a new worker. */
export function startDemoDatabase(timeoutMs = 60_000): Promise<DemoDatabase> {
  const registry = globalThis as Registry;
  const prestarted = registry[PRESTARTED];
  if (prestarted !== undefined) {
    delete registry[PRESTARTED];
    return prestarted;
  }
  return launch(timeoutMs);
}

function launch(timeoutMs: number): Promise<DemoDatabase> {
  const worker = new Worker(new URL('./demo-worker.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`the demo database did not start in ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    worker.on('message', (message: { type?: string; port?: number; origin?: DemoOrigin }) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve({
        url: `postgres://postgres@127.0.0.1:${message.port}/postgres`,
        origin: message.origin ?? 'seeded',
        stop: () =>
          new Promise<void>((done) => {
            const kill = setTimeout(() => void worker.terminate().then(() => done()), 2000);
            worker.once('message', () => {
              clearTimeout(kill);
              void worker.terminate().then(() => done());
            });
            worker.postMessage({ type: 'stop' });
          }),
      });
    });
  });
}
