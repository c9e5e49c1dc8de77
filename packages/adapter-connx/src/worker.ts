/**
 * The ODBC worker: a child process (child_process.fork, one per source)
 * that owns every ODBC handle of its source, so that what the native layer
 * does wrong (segfaults, hangs, a libuv thread held per call) ends this
 * process, never the server's. The host (host.ts) restarts it.
 *
 * Rules the native layer needs (docs/connx.md):
 *  - one operation at a time per connection: each connection has a queue
 *    (concurrent queries on one MariaDB ODBC connection hang);
 *  - a handle is never closed while an operation on it is in flight
 *    (closing a connection during a cursor fetch segfaults): `close` waits
 *    in the queue behind the operation, which a `cancel` (SQLCancel, the
 *    one call that bypasses the queue) ends first;
 *  - a read fetches only what the host asked for (`want`), then waits for
 *    `more` or `stop`; its cursor is closed before the next operation.
 *
 * The worker never logs: SQL text, values and driver messages go only back
 * to the host, whose error mapper words what a client sees.
 */
import { rowBytes } from '@sqlwarden/core/row-bytes';
import odbc from 'odbc';
import type { ChunkWant, HostMessage, WireColumn, WireError, WorkerMessage } from './protocol.js';
import {
  type Converter,
  converterFor,
  InexactDecimalError,
  type OdbcColumn,
  typeName,
} from './values.js';

interface OdbcCursor {
  fetch(): Promise<unknown[][] & { columns?: OdbcColumn[] }>;
  close(): Promise<void>;
  readonly noData: boolean;
}

interface OdbcStatement {
  prepare(sql: string): Promise<void>;
  execute(): Promise<unknown>;
  close(): Promise<void>;
}

interface OdbcConnection {
  query(sql: string, ...args: unknown[]): Promise<unknown>;
  tables(...args: Array<string | null>): Promise<unknown[]>;
  columns(...args: Array<string | null>): Promise<unknown[]>;
  primaryKeys(...args: Array<string | null>): Promise<unknown[]>;
  foreignKeys(...args: Array<string | null>): Promise<unknown[]>;
  beginTransaction(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  cancel(): Promise<void>;
  close(): Promise<void>;
  /** SQL_ATTR_CONNECTION_DEAD, read synchronously (no round trip). */
  readonly connected: boolean;
}

interface Open {
  readonly connection: OdbcConnection;
  /** The tail of this connection's queue. */
  queue: Promise<void>;
}

const connections = new Map<string, Open>();
/** Reads waiting for the host's `more` or `stop`. */
const waiting = new Map<number, (next: ChunkWant | 'stop') => void>();
const faults = process.env.SQLWARDEN_ODBC_WORKER_FAULTS === '1';

function send(message: WorkerMessage): void {
  process.send?.(message);
}

/**
 * Whether an error says nothing about the statement itself: no SQLSTATE
 * (psqlODBC's SQL_INVALID_HANDLE on a fetch after the server ended the
 * session), or a driver-level one (`HY...`, `S1...`, `07...`: "Null
 * statement result" on the same), except the time limit and the cancel.
 */
function driverLevel(wire: WireError): boolean {
  const state = wire.diagnostics[0]?.state ?? '';
  if (state === 'HYT00' || state === 'HY008') return false;
  return state === '' || state.startsWith('HY') || state.startsWith('S1') || state.startsWith('07');
}

/**
 * A failed operation's error, saying whether its connection is dead now
 * (it has settled): the driver's SQL_ATTR_CONNECTION_DEAD, and, for an
 * error that says nothing about the statement, whether the connection still
 * answers a catalog call (a driver that saw the server end the session
 * mid-fetch may report neither 08 nor a dead connection). Runs in the
 * connection's queue: the probe is the connection's next operation.
 */
async function failure(error: unknown, open: Open): Promise<WireError> {
  const wire = wireError(error);
  let dead = false;
  try {
    dead = !open.connection.connected;
  } catch {}
  // SQL_INVALID_HANDLE (the odbc package's words, without a diagnostic):
  // the driver no longer knows its own handle, which happens on psqlODBC
  // when the server ended the session under a fetch. Never the statement's
  // fault, and nothing to reuse: the connection goes.
  if (!dead && /SQL_INVALID_HANDLE/.test(wire.message)) dead = true;
  if (!dead && driverLevel(wire)) {
    try {
      await open.connection.tables(null, null, 'sqlwarden_probe_no_such_table', null);
    } catch {
      dead = true;
    }
  }
  return dead ? { ...wire, connectionDead: true } : wire;
}

function wireError(error: unknown): WireError {
  const odbcErrors = (error as { odbcErrors?: unknown } | null)?.odbcErrors;
  const diagnostics = Array.isArray(odbcErrors)
    ? odbcErrors.map((d: { state?: unknown; code?: unknown; message?: unknown }) => ({
        state: String(d.state ?? ''),
        code: Number(d.code ?? 0),
        message: String(d.message ?? ''),
      }))
    : [];
  return {
    message: error instanceof Error ? error.message : String(error),
    diagnostics,
    ...(error instanceof InexactDecimalError && { inexactColumn: error.column }),
  };
}

/** Runs `work` after everything queued on the connection, answering request `id`. */
function enqueue(conn: string, id: number, work: (open: Open) => Promise<unknown>): void {
  const open = connections.get(conn);
  if (open === undefined) {
    send({
      t: 'err',
      id,
      error: {
        message: 'no such connection',
        diagnostics: [{ state: '08003', code: 0, message: 'connection not open' }],
      },
    });
    return;
  }
  const run = open.queue.then(() => work(open));
  open.queue = run.then(
    (value) => send({ t: 'ok', id, value }),
    async (error) => send({ t: 'err', id, error: await failure(error, open) }),
  );
}

function queryArgs(values: readonly unknown[], options: Record<string, unknown>): unknown[] {
  return values.length > 0 ? [values as unknown[], options] : [options];
}

/**
 * One read: fetches into chunks of at most `want` rows (or the first row
 * past `want.bytes`), sends each, and waits for the host's `more` before
 * fetching again. Answers its request with chunks only; the cursor is
 * closed before the connection's next operation runs.
 */
async function read(message: Extract<HostMessage, { t: 'read' }>, open: Open): Promise<void> {
  const options: Record<string, unknown> = { cursor: true, fetchSize: message.fetchSize };
  if (message.timeoutSeconds > 0) options.timeout = message.timeoutSeconds;
  const cursor = (await open.connection.query(
    message.sql,
    ...queryArgs(message.values, options),
  )) as OdbcCursor;
  let columns: WireColumn[] = [];
  let convert: Converter[] = [];
  const buffered: unknown[][] = [];
  let exhausted = false;
  let want = message.want;
  try {
    let budgetBytes = want.budgetBytes;
    for (;;) {
      const rows: unknown[][] = [];
      let bytes = 0;
      let over = false;
      while (rows.length < want.rows && bytes <= want.bytes) {
        if (buffered.length === 0) {
          if (exhausted) break;
          const batch = await cursor.fetch();
          if (batch.columns !== undefined && convert.length === 0) {
            columns = batch.columns.map((c) => ({ name: c.name, type: typeName(c) }));
            convert = batch.columns.map((c) => converterFor(c, message.trimChar));
          }
          if (batch.length === 0 || cursor.noData) exhausted = true;
          for (const raw of batch) {
            buffered.push(
              raw.map((v, i) =>
                v === null || v === undefined ? null : (convert[i] as Converter)(v),
              ),
            );
          }
          continue;
        }
        const size = rowBytes(buffered[0] as unknown[]);
        if (bytes + size > budgetBytes) {
          // The call could not keep it: never sent.
          over = true;
          break;
        }
        bytes += size;
        rows.push(buffered.shift() as unknown[]);
      }
      const done = exhausted && buffered.length === 0;
      send({ t: 'chunk', id: message.id, columns, rows, done, ...(over && { over }) });
      if (done || over) return;
      const next = await new Promise<ChunkWant | 'stop'>((resolve) =>
        waiting.set(message.id, resolve),
      );
      if (next === 'stop') return;
      want = next;
      budgetBytes = next.budgetBytes;
    }
  } finally {
    waiting.delete(message.id);
    await cursor.close().catch(() => {});
  }
}

/** Answers in chunks (a read) or not at all: its errors still answer the request. */
function enqueueRead(message: Extract<HostMessage, { t: 'read' }>): void {
  const open = connections.get(message.conn);
  if (open === undefined) {
    send({
      t: 'err',
      id: message.id,
      error: {
        message: 'no such connection',
        diagnostics: [{ state: '08003', code: 0, message: 'connection not open' }],
      },
    });
    return;
  }
  const run = open.queue.then(() => read(message, open));
  open.queue = run.then(
    () => {},
    async (error) => send({ t: 'err', id: message.id, error: await failure(error, open) }),
  );
}

async function handle(message: HostMessage): Promise<void> {
  switch (message.t) {
    case 'open': {
      try {
        // Rows as arrays (a result's column names may repeat).
        const connection = (await odbc.connect({
          connectionString: message.connectionString,
          fetchArray: true,
        } as unknown as string)) as unknown as OdbcConnection;
        try {
          for (const statement of message.setup) await connection.query(statement);
        } catch (error) {
          await connection.close().catch(() => {});
          throw error;
        }
        connections.set(message.conn, { connection, queue: Promise.resolve() });
        send({ t: 'ok', id: message.id });
      } catch (error) {
        send({ t: 'err', id: message.id, error: wireError(error) });
      }
      return;
    }
    case 'read':
      enqueueRead(message);
      return;
    case 'more':
    case 'stop': {
      const resume = waiting.get(message.id);
      waiting.delete(message.id);
      resume?.(message.t === 'stop' ? 'stop' : message.want);
      return;
    }
    case 'catalog':
      enqueue(message.conn, message.id, async (open) => {
        const rows = (await open.connection[message.fn](...message.args)) as unknown[][] & {
          columns?: OdbcColumn[];
        };
        const names = (rows.columns ?? []).map((c) => c.name.toUpperCase());
        return rows.map((row) => Object.fromEntries(names.map((name, i) => [name, row[i]])));
      });
      return;
    case 'begin':
      enqueue(message.conn, message.id, async (open) => {
        await open.connection.beginTransaction();
        try {
          for (const statement of message.setup) await open.connection.query(statement);
        } catch (error) {
          await open.connection.rollback().catch(() => {});
          throw error;
        }
      });
      return;
    case 'execute':
      enqueue(message.conn, message.id, async (open) => {
        const options: Record<string, unknown> = {};
        if (message.timeoutSeconds > 0) options.timeout = message.timeoutSeconds;
        const result = (await open.connection.query(
          message.sql,
          ...queryArgs(message.values, options),
        )) as { count?: unknown };
        // SQLRowCount; -1 when the driver cannot say (never for INSERT, UPDATE, DELETE on these drivers).
        return typeof result.count === 'number' ? result.count : -1;
      });
      return;
    case 'commit':
    case 'rollback':
      enqueue(message.conn, message.id, (open) => open.connection[message.t]());
      return;
    case 'alive':
      send({ t: 'ok', id: message.id });
      return;
    case 'cancel': {
      // Bypasses the queue: it is what ends the operation in flight.
      const open = connections.get(message.conn);
      try {
        await open?.connection.cancel();
        send({ t: 'ok', id: message.id });
      } catch (error) {
        send({ t: 'err', id: message.id, error: wireError(error) });
      }
      return;
    }
    case 'close': {
      const open = connections.get(message.conn);
      if (open === undefined) {
        send({ t: 'ok', id: message.id });
        return;
      }
      connections.delete(message.conn);
      // Behind whatever runs on it: a handle is never closed under an operation.
      await open.queue;
      try {
        await open.connection.close();
        send({ t: 'ok', id: message.id });
      } catch (error) {
        send({ t: 'err', id: message.id, error: wireError(error) });
      }
      return;
    }
    case 'fault': {
      if (!faults) {
        send({ t: 'err', id: message.id, error: { message: 'faults are off', diagnostics: [] } });
        return;
      }
      if (message.kind === 'hang') {
        // The event loop stops for good: no answer, not even to a cancel.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      }
      if (message.kind === 'segfault') {
        // The end the native layer's crash has (SIGSEGV), at a moment the test chooses.
        process.kill(process.pid, 'SIGSEGV');
        return;
      }
      // The native layer's own crash: closing a statement during its execute()
      // (psqlODBC 13: SIGSEGV; MariaDB ODBC 3.1: a hang).
      const open = connections.get(message.conn);
      if (open === undefined) return;
      // Timing decides whether one attempt crashes: up to 20 attempts.
      const connection = open.connection as unknown as {
        createStatement(): Promise<OdbcStatement>;
      };
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          const statement = await connection.createStatement();
          await statement.prepare(message.sql ?? 'SELECT 1');
          const executed = statement.execute().catch(() => {});
          const closed = statement.close().catch(() => {});
          await Promise.race([
            Promise.all([executed, closed]),
            new Promise((resolve) => setTimeout(resolve, 500)),
          ]);
        } catch {}
      }
      return;
    }
  }
}

process.on('message', (message: HostMessage) => {
  void handle(message);
});
// The host went away: nothing is left to serve.
process.on('disconnect', () => process.exit(0));
