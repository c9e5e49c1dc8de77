import { Worker } from 'node:worker_threads';

export interface DemoDatabase {
  /** A PostgreSQL URL to the demo database (no password: it listens on 127.0.0.1 only). */
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the demo database worker and waits until it listens. */
export function startDemoDatabase(timeoutMs = 60_000): Promise<DemoDatabase> {
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
    worker.on('message', (message: { type?: string; port?: number }) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve({
        url: `postgres://postgres@127.0.0.1:${message.port}/postgres`,
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
