import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
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
  /**
   * Keep the clients' connection attributes in performance_schema
   * (session_connect_attrs), so a test can find a client's sessions by its
   * program_name. performance_schema is sized down to that (about 25 MB
   * more than without it).
   */
  readonly connectAttributes?: boolean;
}

/** performance_schema with what session_connect_attrs needs and little else. */
const CONNECT_ATTRIBUTES_ARGS = [
  '--performance-schema=ON',
  '--performance-schema-session-connect-attrs-size=512',
  '--performance-schema-max-thread-instances=200',
  '--performance-schema-digests-size=0',
  '--performance-schema-max-digest-length=0',
  '--performance-schema-max-sql-text-length=0',
  '--performance-schema-events-statements-history-long-size=0',
  '--performance-schema-events-statements-history-size=0',
  '--performance-schema-events-waits-history-long-size=0',
  '--performance-schema-events-waits-history-size=0',
  '--performance-schema-events-stages-history-long-size=0',
  '--performance-schema-events-stages-history-size=0',
  '--performance-schema-max-table-instances=0',
  '--performance-schema-max-table-handles=0',
  '--performance-schema-max-file-instances=0',
  '--performance-schema-max-mutex-instances=0',
  '--performance-schema-max-rwlock-instances=0',
  '--performance-schema-max-cond-instances=0',
  '--performance-schema-max-socket-instances=0',
  '--performance-schema-accounts-size=10',
  '--performance-schema-hosts-size=10',
  '--performance-schema-users-size=10',
];

const MARIADBD = process.env.SQLWARDEN_TEST_MARIADBD ?? '/usr/sbin/mariadbd';

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
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
  // Asynchronous (never execFileSync): a test restarting the server has calls
  // in flight, which a blocked event loop would hide from the outage.
  const run = (file: string, args: string[]) =>
    new Promise<boolean>((resolve) => execFile(file, args, (error) => resolve(error === null)));
  const client = ['-h', '127.0.0.1', '-P', String(port), '-u', 'root'];
  const accepting = () => run('mariadb-admin', [...client, 'ping']);
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
          ...(options.connectAttributes === true ? CONNECT_ATTRIBUTES_ARGS : []),
        ],
        { stdio: 'ignore' },
      );
      child = started;
      await waitFor(
        async () => started.exitCode !== null || (await accepting()),
        30_000,
        'MariaDB did not start',
      );
      if (started.exitCode !== null) throw new Error('MariaDB exited at start-up');
      if (!(await run('mariadb', [...client, '-e', 'CREATE DATABASE IF NOT EXISTS test'])))
        throw new Error('MariaDB did not create the database test');
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
