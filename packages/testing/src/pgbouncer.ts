import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

/**
 * A PgBouncer of a test's own, in front of a PostgreSQL server (the shared
 * one, or a throwaway cluster that the test restarts): its pgbouncer.ini
 * and user list in a temporary directory, listening on 127.0.0.1 on a free
 * port (no unix socket), trust authentication (the user list names the
 * users; PgBouncer checks no password), started in the foreground (never
 * daemonised) and stopped by the test.
 *
 * The binary is SQLWARDEN_TEST_PGBOUNCER, else /usr/sbin/pgbouncer (the
 * Debian package), else `pgbouncer` on PATH. PgBouncer refuses to run as
 * root: when the tests run as root (CI containers) it runs as the
 * `postgres` user. It is started through util-linux's `setpriv` rather
 * than `runuser`: setpriv switches the user and then execs PgBouncer
 * itself (runuser stays as a parent process in between), so the pid the
 * test signals is PgBouncer's, and `--pdeathsig` makes the kernel kill
 * PgBouncer when the test process dies without cleaning up (a crash, a
 * SIGKILL, vitest ending a worker). Running PgBouncers are also killed
 * when the process exits. No PgBouncer outlives its test.
 *
 * Restarts of the server behind it: PgBouncer drops a server connection
 * that the server closes (a fast shutdown, a crash) and opens new ones on
 * demand; `server_login_retry` (1 s here, 15 s by default) is how long it
 * waits after a failed connection attempt (the server still down) before
 * it tries again, so the pool comes back about a second after the server
 * does. A server connection idle for longer than `server_check_delay`
 * (10 s) is checked with `SELECT 1` before a client gets it. Clients
 * waiting for a server connection fail after `query_wait_timeout` (30 s
 * here, 120 s by default).
 */
export interface PgBouncerOptions {
  /** The PostgreSQL server PgBouncer connects to. */
  readonly target: { readonly host: string; readonly port: number };
  /** PgBouncer's pool_mode. */
  readonly poolMode: 'session' | 'transaction' | 'statement';
  /** The databases it serves, by their names on the server (default: any, `* =`). */
  readonly databases?: readonly string[];
  /** Client connections at most (default 200). */
  readonly maxClientConn?: number;
  /** Server connections per user and database (default 20). */
  readonly defaultPoolSize?: number;
  /** The users it lets in, without a password (default postgres and root). */
  readonly users?: readonly string[];
  /** More `[pgbouncer]` settings, or other values for the ones above (name = value). */
  readonly settings?: Readonly<Record<string, string | number>>;
}

export interface PgBouncer {
  /** 127.0.0.1 */
  readonly host: string;
  readonly port: number;
  /** postgres://<user>@127.0.0.1:<port>/<database> (user: postgres unless given). */
  url(database: string, user?: string): string;
  /**
   * A command of PgBouncer's admin console (`SHOW CLIENTS`, `SHOW POOLS`,
   * `RECONNECT`...), as the user postgres on a connection of its own: the
   * rows, as objects.
   */
  admin(command: string): Promise<Record<string, unknown>[]>;
  /** What PgBouncer wrote on stderr lately (its log; the last 64 KiB). */
  log(): string;
  /** Stops PgBouncer (SIGTERM, then SIGKILL after 5 s) and deletes its directory. Idempotent. */
  stop(): Promise<void>;
  /** Stops PgBouncer and starts it again on the same port and configuration. */
  restart(): Promise<void>;
}

/** Bouncers still running in this process: killed when it exits, whatever the tests did. */
const running = new Set<ChildProcess>();
let exitHook = false;

function pgbouncerBinary(): string {
  const fromEnv = process.env.SQLWARDEN_TEST_PGBOUNCER;
  if (fromEnv) return fromEnv;
  if (existsSync('/usr/sbin/pgbouncer')) return '/usr/sbin/pgbouncer';
  return 'pgbouncer';
}

function hasSetpriv(): boolean {
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** A value of pgbouncer.ini: numbers as they are, text without line breaks. */
function iniValue(value: string | number): string {
  const text = String(value);
  if (/[\r\n]/.test(text)) throw new Error(`pgbouncer.ini value with a line break: ${text}`);
  return text;
}

/** Whether something accepts TCP connections on 127.0.0.1:port now. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-pgbouncer-'));
  const port = await freePort();
  const { host: targetHost, port: targetPort } = options.target;
  const users = options.users ?? ['postgres', 'root'];
  const databases =
    options.databases === undefined
      ? [`* = host=${iniValue(targetHost)} port=${targetPort}`]
      : options.databases.map(
          (name) =>
            `${iniValue(name)} = host=${iniValue(targetHost)} port=${targetPort} dbname=${iniValue(name)}`,
        );
  const settings: Record<string, string | number> = {
    listen_addr: '127.0.0.1',
    listen_port: port,
    // No unix socket: nothing of this PgBouncer outside its port and directory.
    unix_socket_dir: '',
    auth_type: 'trust',
    auth_file: join(dir, 'userlist.txt'),
    admin_users: 'postgres',
    pool_mode: options.poolMode,
    max_client_conn: options.maxClientConn ?? 200,
    default_pool_size: options.defaultPoolSize ?? 20,
    min_pool_size: 0,
    reserve_pool_size: 0,
    // What JDBC and others send; node-postgres sends only what PgBouncer knows.
    ignore_startup_parameters: 'extra_float_digits',
    // Session mode: a server connection is reset before the next client gets it.
    server_reset_query: 'DISCARD ALL',
    server_check_query: 'SELECT 1',
    server_check_delay: 10,
    // The server restarted: try again after 1 s, not 15 (the default).
    server_login_retry: 1,
    server_connect_timeout: 5,
    query_wait_timeout: 30,
    log_connections: 0,
    log_disconnections: 0,
    log_pooler_errors: 1,
    ...options.settings,
  };
  const ini = [
    '[databases]',
    ...databases,
    '',
    '[pgbouncer]',
    ...Object.entries(settings).map(([key, value]) => `${key} = ${iniValue(value)}`),
    '',
  ].join('\n');
  const iniPath = join(dir, 'pgbouncer.ini');
  writeFileSync(iniPath, ini);
  writeFileSync(
    join(dir, 'userlist.txt'),
    users
      .map((user) => `"${user.replaceAll('"', '""')}" ""`)
      .join('\n')
      .concat('\n'),
  );
  if (asRoot) {
    const { uid, gid } = postgresUser();
    for (const file of [dir, iniPath, join(dir, 'userlist.txt')]) chownSync(file, uid, gid);
  }
  chmodSync(dir, 0o700);

  let child: ChildProcess | undefined;
  let log = '';
  let removed = false;

  const launch = async (): Promise<void> => {
    const setpriv = hasSetpriv();
    const userArgs = asRoot ? ['--reuid=postgres', '--regid=postgres', '--init-groups'] : [];
    const [file, args] = setpriv
      ? ['setpriv', [...userArgs, '--pdeathsig=SIGKILL', '--', binary, iniPath]]
      : asRoot
        ? ['runuser', ['-u', 'postgres', '--', binary, iniPath]]
        : [binary, [iniPath]];
    const started = spawn(file, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    child = started;
    running.add(started);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const bouncer of running) bouncer.kill('SIGKILL');
      });
    }
    let exited: string | undefined;
    started.stderr?.setEncoding('utf8');
    started.stderr?.on('data', (chunk: string) => {
      log = (log + chunk).slice(-65_536);
    });
    started.once('exit', (code, signal) => {
      running.delete(started);
      exited = `exited with ${signal ?? code}`;
    });
    started.once('error', (error) => {
      running.delete(started);
      exited = `could not start ${file}: ${error.message}`;
    });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (exited !== undefined) break;
      if (await accepts(port)) return;
      await sleep(50);
    }
    started.kill('SIGKILL');
    throw new Error(
      `PgBouncer did not start (${exited ?? 'not listening after 15 s'}): ${log.trim() || '(no output)'}`,
    );
  };

  const halt = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    // SIGTERM: PgBouncer closes every connection at once (SIGINT would wait for clients).
    current.kill('SIGTERM');
    const timer = setTimeout(() => current.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };

  const bouncer: PgBouncer = {
    host: '127.0.0.1',
    port,
    url: (database, user = 'postgres') =>
      `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    async admin(command) {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: bouncer.url('pgbouncer') });
      client.on('error', () => {});
      await client.connect();
      try {
        // The admin console speaks the simple protocol only.
        const result = (await client.query(command)) as { rows: Record<string, unknown>[] };
        return result.rows;
      } finally {
        await client.end();
      }
    },
    log: () => log,
    async stop() {
      try {
        await halt();
      } finally {
        if (!removed) {
          removed = true;
          rmSync(dir, { recursive: true, force: true });
        }
      }
    },
    async restart() {
      if (removed) throw new Error('PgBouncer was stopped for good');
      await halt();
      await launch();
    },
  };
  try {
    await launch();
  } catch (error) {
    await bouncer.stop();
    throw error;
  }
  return bouncer;
}
