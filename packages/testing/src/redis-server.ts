import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './ports.js';

/**
 * A Redis server of a test's own on 127.0.0.1 and a free port, keeping
 * nothing on disk: for tests that must stop and start the quota store (the
 * shared Redis on 6379 is used by every suite and never restarted). The
 * binary is `redis-server` on PATH (Debian's redis-server package), or
 * SQLWARDEN_TEST_REDIS_SERVER.
 */
export interface ThrowawayRedis {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL: a crash; everything it held is gone). */
  kill(): Promise<void>;
  /** Starts it again on the same port; resolves when it accepts connections. */
  start(): Promise<void>;
  /** Kills it for good. */
  destroy(): Promise<void>;
}

export async function createThrowawayRedis(): Promise<ThrowawayRedis> {
  const port = await freePort();
  const binary = process.env.SQLWARDEN_TEST_REDIS_SERVER ?? 'redis-server';
  let child: ChildProcess | undefined;
  const start = async () => {
    if (child !== undefined) return;
    const started = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    started.once('error', () => {});
    child = started;
    started.once('exit', () => {
      if (child === started) child = undefined;
    });
    await untilListening(port, 10_000);
  };
  const kill = async () => {
    const running = child;
    if (running === undefined) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, kill, start, destroy: kill };
}

/** Resolves when something accepts connections on 127.0.0.1:port. */
export async function untilListening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
