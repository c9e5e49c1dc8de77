import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

/**
 * A PostgreSQL cluster of a test's own: initdb into a temporary directory,
 * started on a free port on 127.0.0.1, trust authentication for user
 * `postgres`. For tests that must stop and start the database (the shared
 * server on 5432 is used by every suite at once and is never restarted).
 *
 * The server binaries come from SQLWARDEN_TEST_PG_BINDIR, else
 * `pg_config --bindir`, else the newest /usr/lib/postgresql/<version>/bin.
 * PostgreSQL refuses to run as root, so when the tests run as root (CI
 * containers) the cluster runs as the `postgres` user through runuser.
 */
export interface ThrowawayPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  /** Starts the server (waits until it accepts connections). */
  start(): void;
  /** Stops the server; `fast` disconnects clients cleanly, `immediate` is a crash. */
  stop(mode?: 'fast' | 'immediate'): void;
  /**
   * Stops the server and starts it again without blocking the event loop
   * (stop and start block it: calls in flight would see nothing of the
   * outage). Resolves when it accepts connections again.
   */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server if it runs and deletes the cluster. */
  destroy(): void;
}

function findBinDir(): string {
  const fromEnv = process.env.SQLWARDEN_TEST_PG_BINDIR;
  if (fromEnv) return fromEnv;
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // no pg_config on PATH: look in the Debian layout below
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new Error(
      'PostgreSQL server binaries (initdb, pg_ctl) not found: install the postgresql package or set SQLWARDEN_TEST_PG_BINDIR',
    );
  }
  return join(root, versions[0], 'bin');
}

function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export interface ThrowawayPostgresOptions {
  /** Serve TLS (ssl = on) with this certificate (PEM texts). */
  readonly tls?: { readonly cert: string; readonly key: string };
  /**
   * Keep synchronous_commit on, so a commit acknowledged before a crash
   * (immediate shutdown) survives it. Off by default: faster, and only
   * crash tests that count commits need it. (fsync stays off: the
   * operating system's cache outlives a server crash.)
   */
  readonly durableCommits?: boolean;
}

export async function createThrowawayPostgres(
  options: ThrowawayPostgresOptions = {},
): Promise<ThrowawayPostgres> {
  const bin = findBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  if (asRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]]
      : [join(bin, command), args];
    execFileSync(file, argv, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  };
  const runInBackground = (command: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const [file, argv] = asRoot
        ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]]
        : [join(bin, command), args];
      execFile(file, argv, { cwd: dir }, (error, _stdout, stderr) =>
        error ? reject(new Error(`${command} failed: ${stderr}`, { cause: error })) : resolve(),
      );
    });
  const port = await freePort();
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  const tls: string[] = [];
  if (options.tls !== undefined) {
    // The key must belong to the server's user and be private to it.
    const cert = join(dir, 'server.crt');
    const key = join(dir, 'server.key');
    writeFileSync(cert, options.tls.cert);
    writeFileSync(key, options.tls.key, { mode: 0o600 });
    if (asRoot) {
      const { uid, gid } = postgresUser();
      chownSync(cert, uid, gid);
      chownSync(key, uid, gid);
    }
    tls.push('-c ssl=on', `-c ssl_cert_file=${cert}`, `-c ssl_key_file=${key}`);
  }
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    `-c synchronous_commit=${options.durableCommits === true ? 'on' : 'off'}`,
    '-c full_page_writes=off',
    ...tls,
  ].join(' ');
  let running = false;
  const cluster: ThrowawayPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start() {
      run('pg_ctl', ['-D', data, '-l', log, '-o', serverOptions, '-w', '-t', '60', 'start']);
      running = true;
    },
    stop(mode = 'fast') {
      run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      running = false;
    },
    async restart(mode = 'fast') {
      running = false;
      await runInBackground('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      await runInBackground('pg_ctl', [
        '-D',
        data,
        '-l',
        log,
        '-o',
        serverOptions,
        '-w',
        '-t',
        '60',
        'start',
      ]);
      running = true;
    },
    destroy() {
      try {
        if (running) cluster.stop('immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  cluster.start();
  return cluster;
}
