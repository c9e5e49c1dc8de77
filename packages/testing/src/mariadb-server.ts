import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

/**
 * A MariaDB server of a test's own: mariadb-install-db into a temporary
 * directory, mariadbd on a free port on 127.0.0.1, `root` without a
 * password. For tests that must stop and start the database or configure
 * it (TLS); the shared server on 3306 is never restarted.
 */
export interface ThrowawayMariadb {
  /** mysql://root@127.0.0.1:<port>/test */
  readonly url: string;
  readonly port: number;
  /** Starts the server and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops the server: a clean shutdown (SIGTERM), or a crash (SIGKILL). */
  stop(mode?: 'clean' | 'crash'): Promise<void>;
  /** Stops the server if it runs and deletes its files. */
  destroy(): Promise<void>;
}

export interface ThrowawayMariadbOptions {
  /** Serve TLS with this certificate (PEM texts). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

const MARIADBD = process.env.SQLWARDEN_TEST_MARIADBD ?? '/usr/sbin/mariadbd';

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`${what} in ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function createThrowawayMariadb(
  options: ThrowawayMariadbOptions = {},
): Promise<ThrowawayMariadb> {
  const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-mariadb-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  execFileSync(
    'mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${data}`,
      ...(asRoot ? ['--user=root'] : []),
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const tlsArgs: string[] = [];
  if (options.tls !== undefined) {
    writeFileSync(join(dir, 'server.crt'), options.tls.cert);
    writeFileSync(join(dir, 'server.key'), options.tls.key, { mode: 0o600 });
    tlsArgs.push(`--ssl-cert=${join(dir, 'server.crt')}`, `--ssl-key=${join(dir, 'server.key')}`);
  }
  const port = await freePort();
  const socket = join(dir, 'mysqld.sock');
  let child: ChildProcess | undefined;
  const accepting = () => {
    try {
      execFileSync('mariadb-admin', ['-h', '127.0.0.1', '-P', String(port), '-u', 'root', 'ping'], {
        stdio: 'ignore',
      });
      return true;
    } catch {
      return false;
    }
  };
  const server: ThrowawayMariadb = {
    url: `mysql://root@127.0.0.1:${port}/test`,
    port,
    async start() {
      const started = spawn(
        MARIADBD,
        [
          '--no-defaults',
          `--datadir=${data}`,
          `--port=${port}`,
          '--bind-address=127.0.0.1',
          `--socket=${socket}`,
          `--pid-file=${join(dir, 'mysqld.pid')}`,
          ...(asRoot ? ['--user=root'] : []),
          '--skip-log-bin',
          '--innodb-buffer-pool-size=16M',
          '--skip-name-resolve',
          ...tlsArgs,
        ],
        { stdio: 'ignore' },
      );
      child = started;
      await waitFor(
        () => accepting() || started.exitCode !== null,
        30_000,
        'MariaDB did not start',
      );
      if (started.exitCode !== null) throw new Error('MariaDB exited at start-up');
      execFileSync('mariadb', [
        '-h',
        '127.0.0.1',
        '-P',
        String(port),
        '-u',
        'root',
        '-e',
        'CREATE DATABASE IF NOT EXISTS test',
      ]);
    },
    async stop(mode = 'clean') {
      const running = child;
      if (running === undefined || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill(mode === 'crash' ? 'SIGKILL' : 'SIGTERM');
      await exited;
      child = undefined;
    },
    async destroy() {
      try {
        await server.stop('crash');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  await server.start();
  return server;
}
