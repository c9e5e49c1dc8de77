/**
 * The fault suite: database faults under concurrency, part of the adapter
 * conformance suite (describeAdapterConformance calls it), so every adapter
 * passes it against its real database (docs/conformance.md, "Faults").
 *
 * Each fault strikes while eight callers run calls in a loop (reads, and
 * writes where the target has them) through one adapter, whose connections
 * pass a TCP proxy (tcp-proxy.ts) in front of a database server of the
 * suite's own (the target starts it; it is restarted, so never the shared
 * one). For every fault the suite checks:
 *  - every call got an answer: rows, or a SqlwardenError with one of the
 *    codes the fault allows (answers == calls; nothing unhandled reaches the
 *    test process, which vitest would report);
 *  - every call ended within its bound (CALL_BOUND_MS): a database or a
 *    network that stops answering cannot hold a call past its deadline;
 *  - the fault was seen (at least one call failed with DB_UNAVAILABLE);
 *  - once the database is back, a call succeeds within RECOVERY_BOUND_MS,
 *    and then every caller succeeds again;
 *  - the pool keeps no broken connection: rounds of pool-size calls in
 *    parallel all succeed;
 *  - writes: a row's counter is at least the number of increments reported
 *    committed and at most that plus those whose outcome was unknown
 *    (OUTCOME_UNKNOWN: no commit lost, none applied twice); only a write
 *    may end with OUTCOME_UNKNOWN;
 *  - the operator log (a raw recorder, as an embedder's own logger) holds
 *    no driver message: errors only as core's serializeError makes them;
 *  - after close(), the server shows no session of the adapter's
 *    application name.
 *
 * The bounds are correctness bounds, generous on purpose (the suite runs
 * on two busy cores): never a speed measurement. With
 * SQLWARDEN_FAULT_REPORT=1 the suite prints one line per fault (calls,
 * codes, time to recovery, longest call) on stderr; docs/postgres.md and
 * docs/mysql.md quote those figures.
 */
import { createServer } from 'node:net';
import {
  type DatabaseAdapter,
  isRetryable,
  type OperatorLogger,
  type ReadLimits,
  SqlwardenError,
} from '@sqlwarden/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../ports.js';
import { createTcpProxy, type TcpProxy } from '../tcp-proxy.js';
import { eventually } from './context.js';
import type { ConformanceCapabilities } from './target.js';

/** What the suite asks of the target's adapter factory. */
export interface FaultAdapterOptions {
  /** Where to connect: the suite's proxy in front of the server. */
  readonly host: string;
  readonly port: number;
  /** The adapter's application name (PostgreSQL application_name, MySQL program_name), unique per adapter. */
  readonly applicationName: string;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
  /** How long a call waits for a connection, and how long one may take to open. */
  readonly acquireTimeoutMs: number;
  readonly allowWrites: boolean;
  /** Idle connections close after this (the target's default when absent). */
  readonly idleTimeoutMs?: number;
  /** The operator logger the adapter gets: the suite's raw recorder. */
  readonly logger?: OperatorLogger;
}

/**
 * The settings every engine's adapter takes, as the fault suite asks for
 * them (the kit's SourceSettings, less the source, the schema and the
 * connection, which are the target's).
 */
export function faultSettings(options: FaultAdapterOptions) {
  return {
    applicationName: options.applicationName,
    statementTimeoutMs: options.statementTimeoutMs,
    allowWrites: options.allowWrites,
    pool: {
      max: options.poolSize,
      connectionTimeoutMs: options.acquireTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
    },
  };
}

/** A database server of the suite's own, which the suite restarts and breaks. */
export interface FaultServer {
  /** The server's own address (the suite puts its proxy in front of it). */
  readonly host: string;
  readonly port: number;
  /**
   * Runs admin SQL without parameters in the adapter's database, on a new
   * admin connection each time (an admin connection does not survive the
   * faults). Returns rows as arrays.
   */
  exec(sql: string): Promise<unknown[][]>;
  /** An adapter on that database, connecting to `options.host:port`, its default schema the one `exec` writes to. */
  createAdapter(options: FaultAdapterOptions): DatabaseAdapter | Promise<DatabaseAdapter>;
  /**
   * Stops the server and starts it again without blocking the event loop,
   * resolving once it accepts connections: `graceful` (PostgreSQL's fast
   * shutdown, MariaDB's SIGTERM) or `crash` (immediate shutdown, SIGKILL).
   * Commits acknowledged before a crash must survive it.
   */
  restart(mode: 'graceful' | 'crash'): Promise<void>;
  /** Ends every session whose application name is this, from an admin session; returns how many. */
  terminateSessions(applicationName: string): Promise<number>;
  /** Sessions whose application name is this, open on the server now. */
  sessions(applicationName: string): Promise<number>;
  /** Drops the adapter's database, ending its sessions (as DROP DATABASE ... WITH (FORCE) does). */
  dropDatabase(): Promise<void>;
  /** Creates the database again, empty. */
  createDatabase(): Promise<void>;
  /** Stops the server and deletes it. */
  destroy(): Promise<void>;
}

/** The target's part of the fault suite (ConformanceTarget.faults). */
export interface FaultHooks {
  /** Starts a fresh server with an empty database for the adapter. */
  createServer(): Promise<FaultServer>;
}

/** What the fault suite needs of a conformance target. */
export interface FaultSuiteTarget {
  readonly name: string;
  readonly supportsWrites?: boolean;
  /** Of the target's capabilities, the fault suite reads `socketWatch` (target.ts). */
  readonly capabilities?: Pick<ConformanceCapabilities, 'socketWatch'>;
  placeholder(index: number): string;
  wideText(length: number): string;
  readonly faults: FaultHooks;
}

const CALLERS = 8;
const POOL_SIZE = 4;
const STATEMENT_TIMEOUT_MS = 5000;
const CALL_TIMEOUT_MS = 2000;
const ACQUIRE_TIMEOUT_MS = 2000;
/** The adapters' own slack past a call's time limit, and their grace after a cancel or kill. */
const ADAPTER_SLACK_MS = 250 + 2000;
/**
 * The longest a call may take, whatever the fault: waiting for a connection
 * or opening one, setting up its session, then its own time limit, the
 * adapter's slack and cancel grace; plus 3 s for a loaded machine.
 */
const CALL_BOUND_MS = ACQUIRE_TIMEOUT_MS * 2 + CALL_TIMEOUT_MS + ADAPTER_SLACK_MS + 3000;
/** Once the database is back, a call succeeds within this. */
const RECOVERY_BOUND_MS = 15_000;
const LIMITS: ReadLimits = { maxRows: 1000, maxBytes: 4_000_000, timeoutMs: CALL_TIMEOUT_MS };
/** `ft_wide`: rows of this many characters, so a cut after CUT_AFTER_BYTES lands inside one. */
const WIDE_ROWS = 12;
const WIDE_CHARS = 30_000;
const CUT_AFTER_BYTES = 100_000;
/** How long the network stalls: longer than a call's deadline, so deadlines (not the network's return) end the calls in flight. */
const STALL_MS = CALL_TIMEOUT_MS + ADAPTER_SLACK_MS + 1500;
const ITEMS = 100;

type Code = string;

interface CallRecord {
  readonly caller: number;
  readonly kind: 'read' | 'wide' | 'write';
  readonly startedAt: number;
  endedAt: number;
  code: Code;
  /** For writes: the row it incremented, whether it committed, whether its outcome is unknown. */
  row?: number;
  committed?: boolean;
  unknown?: boolean;
}

/** Runs CALLERS loops of calls on an adapter until stopped, recording every call. */
class Callers {
  readonly records: CallRecord[] = [];
  /** Calls started and not answered yet. */
  pending = 0;
  #running = true;
  readonly #loops: Promise<void>[];

  constructor(adapter: DatabaseAdapter, writes: boolean, target: FaultSuiteTarget) {
    const p = (index: number) => target.placeholder(index);
    this.#loops = Array.from({ length: CALLERS }, async (_, caller) => {
      // Two writers where writes exist; half of the readers read wide rows (the cut lands in them).
      const kind: CallRecord['kind'] =
        writes && caller >= CALLERS - 2 ? 'write' : caller % 2 === 0 ? 'wide' : 'read';
      while (this.#running) {
        const record: CallRecord = {
          caller,
          kind,
          startedAt: Date.now(),
          endedAt: 0,
          code: 'pending',
        };
        this.records.push(record);
        this.pending++;
        try {
          if (kind === 'write') {
            record.row = caller;
            const result = await adapter.write({
              sql: `UPDATE ft_writes SET n = n + 1 WHERE id = ${p(1)}`,
              params: [caller],
              maxAffectedRows: 1,
              timeoutMs: CALL_TIMEOUT_MS,
              signal: new AbortController().signal,
              dryRun: false,
            });
            record.committed = result.committed && result.affectedRows === 1;
          } else {
            await adapter.read({
              sql:
                kind === 'wide'
                  ? 'SELECT id, payload FROM ft_wide ORDER BY id'
                  : `SELECT id, label FROM ft_items WHERE id <= ${p(1)} ORDER BY id`,
              params: kind === 'wide' ? [] : [ITEMS],
              limits: LIMITS,
              signal: new AbortController().signal,
            });
          }
          record.code = 'ok';
        } catch (error) {
          record.code = SqlwardenError.is(error)
            ? error.code
            : `not a SqlwardenError: ${String(error)}`;
          record.unknown = SqlwardenError.is(error) && error.code === 'OUTCOME_UNKNOWN';
        } finally {
          record.endedAt = Date.now();
          this.pending--;
        }
        // Yield a macrotask, so a caller whose calls fail at once cannot starve the event loop.
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
  }

  /** Resolves when every caller has a call that started after `since` and succeeded. */
  async everySucceededSince(since: number, ms: number): Promise<boolean> {
    return eventually(async () => {
      const callers = new Set(
        this.records.filter((r) => r.code === 'ok' && r.startedAt >= since).map((r) => r.caller),
      );
      return callers.size === CALLERS;
    }, ms);
  }

  /** Stops the loops; resolves false if a call is still unanswered after `ms`. */
  async stop(ms: number): Promise<boolean> {
    this.#running = false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const done = Promise.all(this.#loops).then(() => true as const);
    try {
      return await Promise.race([done, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LogLine {
  readonly level: string;
  readonly object: Record<string, unknown>;
  readonly message: string;
}

/** A logger that keeps the raw objects it is given, as an embedder's own logger would see them. */
function rawRecorder(): { readonly lines: LogLine[]; readonly logger: OperatorLogger } {
  const lines: LogLine[] = [];
  const record = (level: string) => (object: Record<string, unknown>, message: string) => {
    lines.push({ level, object, message });
  };
  return { lines, logger: { info: record('info'), warn: record('warn'), error: record('error') } };
}

/** What an error in an operator log may hold (core's serializeError): identifiers, never words. */
const ERROR_FIELDS = new Set([
  'type',
  'code',
  'errno',
  'sqlState',
  'severity',
  'routine',
  'syscall',
  'stack',
  'cause',
]);

/**
 * Checks that nothing an adapter logged can hold a driver's message: every
 * line's object has the source and, at most, an error made of the
 * identifying fields (no `message`, no `sql`, not an Error), whose stack is
 * frames only. Returns the problems found, empty when none.
 */
function messageProblems(lines: readonly LogLine[]): string[] {
  const problems: string[] = [];
  const checkError = (err: unknown, where: string) => {
    if (typeof err !== 'object' || err === null || err instanceof Error) {
      problems.push(`${where}: the error is not serialized (${typeof err})`);
      return;
    }
    for (const [key, value] of Object.entries(err)) {
      if (!ERROR_FIELDS.has(key)) problems.push(`${where}: error field ${key}`);
      else if (key === 'cause') checkError(value, `${where}.cause`);
      else if (key === 'stack') {
        const frames = String(value).split('\n');
        if (!frames.every((line) => line.trimStart().startsWith('at '))) {
          problems.push(`${where}: a stack line that is not a frame`);
        }
      } else if (typeof value !== 'string' && typeof value !== 'number') {
        problems.push(`${where}: error field ${key} is ${typeof value}`);
      }
    }
  };
  for (const [i, line] of lines.entries()) {
    for (const [key, value] of Object.entries(line.object)) {
      if (key === 'err') checkError(value, `line ${i} (${line.message})`);
      else if (key !== 'source') problems.push(`line ${i} (${line.message}): field ${key}`);
      else if (typeof value !== 'string') problems.push(`line ${i}: source is ${typeof value}`);
    }
  }
  return problems;
}

interface Fault {
  readonly name: string;
  /** Codes a call may end with during this fault, besides `ok` and `DB_UNAVAILABLE`. */
  readonly alsoAllowed: readonly Code[];
  /** Codes that show the fault was seen, besides `DB_UNAVAILABLE` (and idle connections found lost). */
  readonly seenAs?: readonly Code[];
  /** Whether committed writes are checked against the rows (not when the database is recreated). */
  readonly checksWrites: boolean;
  /** Strikes, and resolves once the database is meant to answer again. */
  strike(context: { server: FaultServer; proxy: TcpProxy; applicationName: string }): Promise<void>;
  /** More checks of the calls, given when the fault struck and when it ended. */
  check?(records: readonly CallRecord[], struck: number, back: number): void;
}

/**
 * Registers the fault suite for one target. One server for the whole suite;
 * one adapter per fault, with an application name of its own.
 */
export function describeAdapterFaults(target: FaultSuiteTarget): void {
  const writes = target.supportsWrites ?? true;
  // Without socketWatch (target.ts), a call in flight when the network stalls
  // may end at its deadline as QUERY_TIMEOUT: the adapter cannot tell a
  // stalled network from a slow statement. It still ends within its bound
  // (the stall's own check below), and the fault must still be seen.
  const socketWatch = target.capabilities?.socketWatch ?? true;

  describe(`adapter faults under concurrency: ${target.name}`, () => {
    let server: FaultServer;
    let proxy: TcpProxy;

    const load = async () => {
      await server.exec('CREATE TABLE ft_items (id int PRIMARY KEY, label varchar(40) NOT NULL)');
      const items = Array.from({ length: ITEMS }, (_, i) => `(${i + 1}, 'item ${i + 1}')`);
      await server.exec(`INSERT INTO ft_items (id, label) VALUES ${items.join(', ')}`);
      await server.exec('CREATE TABLE ft_wide (id int PRIMARY KEY, payload text NOT NULL)');
      for (let id = 1; id <= WIDE_ROWS; id++) {
        await server.exec(
          `INSERT INTO ft_wide (id, payload) VALUES (${id}, ${target.wideText(WIDE_CHARS)})`,
        );
      }
      await server.exec('CREATE TABLE ft_writes (id int PRIMARY KEY, n int NOT NULL)');
      const rows = Array.from({ length: CALLERS }, (_, i) => `(${i}, 0)`);
      await server.exec(`INSERT INTO ft_writes (id, n) VALUES ${rows.join(', ')}`);
    };

    beforeAll(async () => {
      server = await target.faults.createServer();
      await load();
      proxy = await createTcpProxy({ host: server.host, port: server.port });
    }, 120_000);

    afterAll(async () => {
      await proxy?.close();
      await server?.destroy();
    }, 60_000);

    const faults: Fault[] = [
      {
        name: 'the server restarts (graceful shutdown)',
        alsoAllowed: [],
        checksWrites: true,
        strike: ({ server }) => server.restart('graceful'),
      },
      {
        name: 'the server crashes and restarts (immediate shutdown, SIGKILL)',
        alsoAllowed: [],
        checksWrites: true,
        strike: ({ server }) => server.restart('crash'),
      },
      {
        name: "the server's sessions of the adapter are terminated",
        alsoAllowed: [],
        checksWrites: true,
        async strike({ server, applicationName }) {
          expect(await server.terminateSessions(applicationName)).toBeGreaterThanOrEqual(1);
        },
      },
      {
        name: 'the database is dropped and created again',
        // A statement that reaches the database once it exists again, before
        // its tables do (or a session the drop has not ended yet), finds no table.
        alsoAllowed: ['NOT_FOUND'],
        checksWrites: false,
        async strike({ server }) {
          await server.dropDatabase();
          await sleep(1000);
          await server.createDatabase();
          await load();
        },
      },
      {
        name: 'connections are cut in the middle of a message (TCP proxy)',
        alsoAllowed: [],
        checksWrites: true,
        async strike({ proxy }) {
          proxy.cutAfter(CUT_AFTER_BYTES);
          await sleep(1500);
          proxy.forward();
        },
      },
      {
        name: 'the network stops forwarding without closing anything (TCP proxy)',
        // Calls that find every connection held by calls stuck in the stall.
        alsoAllowed: socketWatch ? ['SOURCE_BUSY'] : ['SOURCE_BUSY', 'QUERY_TIMEOUT'],
        // Without socketWatch, the calls the stall held end at their deadlines: that is the fault seen.
        seenAs: socketWatch ? [] : ['QUERY_TIMEOUT'],
        checksWrites: true,
        async strike({ proxy }) {
          proxy.stall();
          await sleep(STALL_MS);
          proxy.forward();
        },
        check(records, struck, back) {
          // The calls in flight when the network stalled ended by their deadlines, while it still was.
          const held = records.filter((r) => r.startedAt <= struck && r.endedAt >= back);
          expect(held.map((r) => `${r.kind} ${r.endedAt - r.startedAt} ms`)).toEqual([]);
        },
      },
    ];

    it('closes within its bound while the network is stalled, and leaves no session once it flows again', async () => {
      const applicationName = `ft_${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
      const adapter = await server.createAdapter({
        host: proxy.host,
        port: proxy.port,
        applicationName,
        poolSize: POOL_SIZE,
        statementTimeoutMs: STATEMENT_TIMEOUT_MS,
        acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
        allowWrites: false,
      });
      try {
        // Idle connections in the pool, then a network that says nothing.
        await Promise.all(
          Array.from({ length: POOL_SIZE }, () =>
            adapter.read({
              sql: 'SELECT count(*) FROM ft_items',
              params: [],
              limits: LIMITS,
              signal: new AbortController().signal,
            }),
          ),
        );
        proxy.stall();
        const started = Date.now();
        let timer: NodeJS.Timeout | undefined;
        const closed = await Promise.race([
          adapter.close().then(() => true),
          new Promise<false>((resolve) => {
            timer = setTimeout(() => resolve(false), CALL_BOUND_MS);
          }),
        ]);
        clearTimeout(timer);
        expect(closed, `close() returned within ${CALL_BOUND_MS} ms`).toBe(true);
        expect(Date.now() - started).toBeLessThanOrEqual(CALL_BOUND_MS);
      } finally {
        proxy.forward();
      }
      expect(
        await eventually(async () => (await server.sessions(applicationName)) === 0, 10_000),
        'no session of ours left after close',
      ).toBe(true);
    }, 60_000);

    /** An adapter of the fault server, its own application name and a raw log recorder. */
    const faultAdapter = async (
      options: Partial<FaultAdapterOptions> = {},
    ): Promise<{ adapter: DatabaseAdapter; applicationName: string; lines: LogLine[] }> => {
      const applicationName = `ft_${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
      const { lines, logger } = rawRecorder();
      const adapter = await server.createAdapter({
        host: proxy.host,
        port: proxy.port,
        applicationName,
        poolSize: POOL_SIZE,
        statementTimeoutMs: STATEMENT_TIMEOUT_MS,
        acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
        allowWrites: false,
        logger,
        ...options,
      });
      return { adapter, applicationName, lines };
    };
    const codeOfRead = (adapter: DatabaseAdapter, sql = 'SELECT count(*) FROM ft_items') =>
      adapter.read({ sql, params: [], limits: LIMITS, signal: new AbortController().signal }).then(
        () => 'ok',
        (error: unknown) =>
          SqlwardenError.is(error) ? error.code : `not a SqlwardenError: ${String(error)}`,
      );

    it('answers DB_UNAVAILABLE promptly when nothing listens, and health is not ok', async () => {
      const { adapter } = await faultAdapter({ host: '127.0.0.1', port: await freePort() });
      try {
        expect(await codeOfRead(adapter)).toBe('DB_UNAVAILABLE');
        expect(await adapter.health()).toMatchObject({ ok: false });
      } finally {
        await adapter.close();
      }
    });

    it('answers DB_UNAVAILABLE, not SOURCE_BUSY, when the pool is full of connections that cannot open', async () => {
      // A port that accepts and never answers: the pool's slots fill with
      // connections still opening, and a queued call times out. Calls do not
      // hold those connections, so the source is not busy: it is unavailable.
      const silent = createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as { port: number }).port;
      const { adapter } = await faultAdapter({
        host: '127.0.0.1',
        port,
        poolSize: 1,
        acquireTimeoutMs: 500,
      });
      try {
        expect(
          await Promise.all([codeOfRead(adapter), codeOfRead(adapter), codeOfRead(adapter)]),
        ).toEqual(['DB_UNAVAILABLE', 'DB_UNAVAILABLE', 'DB_UNAVAILABLE']);
      } finally {
        await adapter.close();
        silent.close();
      }
    });

    it('closes idle connections after idleTimeoutMs, and opens a new one when a call comes', async () => {
      const { adapter, applicationName } = await faultAdapter({ idleTimeoutMs: 1500 });
      try {
        expect(await codeOfRead(adapter)).toBe('ok');
        expect(await server.sessions(applicationName)).toBe(1);
        expect(
          await eventually(async () => (await server.sessions(applicationName)) === 0, 5000),
          'the idle connection was closed',
        ).toBe(true);
        expect(await codeOfRead(adapter)).toBe('ok');
      } finally {
        await adapter.close();
      }
    });

    it("tells the operator once that the database is unavailable, with its code and never the driver's message, and once that it answers again", async () => {
      const { adapter, applicationName, lines } = await faultAdapter();
      try {
        expect(await codeOfRead(adapter)).toBe('ok');
        await server.dropDatabase();
        // The pool's idle connection ended with the database: it is gone before the next call.
        expect(
          await eventually(async () => (await server.sessions(applicationName)) === 0, 5000),
        ).toBe(true);
        await sleep(200);
        expect(await codeOfRead(adapter)).toBe('DB_UNAVAILABLE');
        expect(await codeOfRead(adapter)).toBe('DB_UNAVAILABLE');
        await server.createDatabase();
        await load();
        expect(await eventually(async () => (await codeOfRead(adapter)) === 'ok', 10_000)).toBe(
          true,
        );
        const outages = lines.filter((l) => l.message.includes('unavailable'));
        expect(outages.map((l) => l.level)).toEqual(['warn']);
        const err = outages[0]?.object.err as { code?: unknown; errno?: unknown } | undefined;
        expect(err?.code ?? err?.errno, 'the code the server gave').toBeDefined();
        expect(lines.filter((l) => l.message === 'the database answers again')).toHaveLength(1);
        expect(messageProblems(lines)).toEqual([]);
      } finally {
        await adapter.close();
      }
    }, 60_000);

    it.skipIf(!writes)(
      'answers OUTCOME_UNKNOWN (not retryable) when the answer to COMMIT is lost, and the write is applied at most once',
      async () => {
        const applicationName = `ft_${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
        const adapter = await server.createAdapter({
          host: proxy.host,
          port: proxy.port,
          applicationName,
          poolSize: 1,
          statementTimeoutMs: STATEMENT_TIMEOUT_MS,
          acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
          allowWrites: true,
        });
        const p = (index: number) => target.placeholder(index);
        const counter = async () =>
          Number((await server.exec('SELECT n FROM ft_writes WHERE id = 0'))[0]?.[0]);
        const increment = () =>
          adapter.write({
            sql: `UPDATE ft_writes SET n = n + 1 WHERE id = ${p(1)}`,
            params: [0],
            maxAffectedRows: 1,
            timeoutMs: CALL_TIMEOUT_MS,
            signal: new AbortController().signal,
            dryRun: false,
          });
        try {
          // The connection is open and its session set up: the next COMMIT is the write's.
          expect(await increment()).toEqual({ affectedRows: 1, committed: true });
          const before = await counter();
          // The server gets the COMMIT and answers; the proxy drops the answer and cuts the connection.
          const dropped = proxy.loseAnswerTo('COMMIT');
          const error = await increment().then(
            () => undefined,
            (caught: unknown) => caught,
          );
          await dropped;
          expect(SqlwardenError.is(error) && error.code).toBe('OUTCOME_UNKNOWN');
          expect(isRetryable('OUTCOME_UNKNOWN')).toBe(false);
          expect((error as SqlwardenError).retryAfterMs).toBeUndefined();
          // Whether it applied is the database's to say: once at most, never twice.
          const applied = (await counter()) - before;
          expect(applied).toBeGreaterThanOrEqual(0);
          expect(applied).toBeLessThanOrEqual(1);
          if (process.env.SQLWARDEN_FAULT_REPORT === '1') {
            process.stderr.write(
              `${JSON.stringify({ target: target.name, fault: 'COMMIT answer lost', applied })}\n`,
            );
          }
          // The lost connection is gone from the pool: the next write commits on a new one.
          expect(await increment()).toEqual({ affectedRows: 1, committed: true });
          expect(await counter()).toBe(before + applied + 1);
        } finally {
          await adapter.close();
          proxy.forward();
        }
      },
      60_000,
    );

    for (const fault of faults) {
      it(`survives: ${fault.name}; every call answered, service back, no broken or leaked connection`, async () => {
        const { adapter, applicationName, lines } = await faultAdapter({ allowWrites: writes });
        let closed = false;
        try {
          const before = await server.exec('SELECT id, n FROM ft_writes ORDER BY id');
          const callers = new Callers(adapter, writes, target);
          // Calls in flight on every connection before the fault.
          expect(await callers.everySucceededSince(0, RECOVERY_BOUND_MS), 'warm-up').toBe(true);
          const struck = Date.now();
          await fault.strike({ server, proxy, applicationName });
          const back = Date.now();

          // The first call after the database is back succeeds within the bound.
          let recovered = -1;
          const probe = async () => {
            try {
              await adapter.read({
                sql: 'SELECT count(*) FROM ft_items',
                params: [],
                limits: LIMITS,
                signal: new AbortController().signal,
              });
              recovered = Date.now() - back;
              return true;
            } catch {
              return false;
            }
          };
          expect(await eventually(probe, RECOVERY_BOUND_MS), 'a call succeeds after recovery').toBe(
            true,
          );
          expect(
            await callers.everySucceededSince(back, RECOVERY_BOUND_MS),
            'every caller succeeds again',
          ).toBe(true);
          expect(await callers.stop(CALL_BOUND_MS), 'every call answered').toBe(true);

          const records = callers.records;
          expect(callers.pending, 'answers == calls').toBe(0);
          expect(records.filter((r) => r.code === 'pending')).toEqual([]);
          const allowed = new Set(['ok', 'DB_UNAVAILABLE', ...fault.alsoAllowed]);
          const codes: Record<string, number> = {};
          for (const record of records) codes[record.code] = (codes[record.code] ?? 0) + 1;
          // A write whose COMMIT went unanswered says so (OUTCOME_UNKNOWN); a read never can.
          const unexpected = records.filter(
            (r) => !allowed.has(r.code) && !(r.kind === 'write' && r.code === 'OUTCOME_UNKNOWN'),
          );
          expect(
            [...new Set(unexpected.map((r) => `${r.kind} ${r.code}`))],
            `codes: ${JSON.stringify(codes)}`,
          ).toEqual([]);
          // The adapter met the fault: a call failed on it, or (sessions ended
          // between calls: idle, or after a call's answer and before its
          // release, which a loaded machine makes likely) the pool found its
          // connections lost and said so.
          const idleLost = lines.filter((line) =>
            line.message.includes('database connection lost between calls'),
          ).length;
          const seenAs = (fault.seenAs ?? []).reduce((sum, code) => sum + (codes[code] ?? 0), 0);
          expect(
            (codes.DB_UNAVAILABLE ?? 0) + idleLost + seenAs,
            `the fault was seen (codes: ${JSON.stringify(codes)})`,
          ).toBeGreaterThanOrEqual(1);
          const longest = Math.max(...records.map((r) => r.endedAt - r.startedAt));
          expect(longest, 'every call ended by its deadline').toBeLessThanOrEqual(CALL_BOUND_MS);
          fault.check?.(records, struck, back);

          // No broken connection left in the pool: rounds of pool-size calls in parallel.
          for (let round = 0; round < 3; round++) {
            const outcomes = await Promise.all(
              Array.from({ length: POOL_SIZE }, () =>
                adapter
                  .read({
                    sql: `SELECT id FROM ft_items WHERE id = ${target.placeholder(1)}`,
                    params: [round + 1],
                    limits: LIMITS,
                    signal: new AbortController().signal,
                  })
                  .then(
                    (result) => JSON.stringify(result.rows),
                    (error: unknown) => String((error as { code?: unknown }).code ?? error),
                  ),
              ),
            );
            expect(outcomes).toEqual(
              Array.from({ length: POOL_SIZE }, () => JSON.stringify([[round + 1]])),
            );
          }
          expect(
            await eventually(
              async () => (await server.sessions(applicationName)) <= POOL_SIZE,
              5000,
            ),
            'no more sessions than the pool holds',
          ).toBe(true);

          if (writes && fault.checksWrites) {
            const after = new Map(
              (await server.exec('SELECT id, n FROM ft_writes ORDER BY id')).map((row) => [
                Number(row[0]),
                Number(row[1]),
              ]),
            );
            const initial = new Map(before.map((row) => [Number(row[0]), Number(row[1])]));
            for (let row = CALLERS - 2; row < CALLERS; row++) {
              const mine = records.filter((r) => r.kind === 'write' && r.row === row);
              const committed = mine.filter((r) => r.committed === true).length;
              const unknown = mine.filter((r) => r.unknown === true).length;
              const applied = (after.get(row) ?? 0) - (initial.get(row) ?? 0);
              expect(applied, `row ${row}: no commit lost`).toBeGreaterThanOrEqual(committed);
              expect(applied, `row ${row}: nothing applied that failed`).toBeLessThanOrEqual(
                committed + unknown,
              );
            }
          }

          // Whatever the adapter told its operator during the fault, no driver message.
          expect(messageProblems(lines), 'the operator log holds no driver message').toEqual([]);

          await adapter.close();
          closed = true;
          expect(
            await eventually(async () => (await server.sessions(applicationName)) === 0, 10_000),
            'no session of ours left after close',
          ).toBe(true);

          if (process.env.SQLWARDEN_FAULT_REPORT === '1') {
            process.stderr.write(
              `${JSON.stringify({
                target: target.name,
                fault: fault.name,
                calls: records.length,
                codes,
                faultMs: back - struck,
                firstSuccessAfterBackMs: recovered,
                longestCallMs: longest,
              })}\n`,
            );
          }
        } finally {
          if (!closed) await adapter.close();
          proxy.forward();
        }
      }, 120_000);
    }
  });
}
