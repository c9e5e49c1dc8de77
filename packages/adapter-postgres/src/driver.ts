/**
 * The PostgreSQL driver of the adapter kit, on node-postgres's `Client`: a
 * connection with its session set up (session.ts), reads as one bounded
 * extended-protocol round trip (read.ts), writes and transaction control,
 * and cancellation by CancelRequest. The kit's `DialectAdapter` owns the
 * pool (its own, not pg-pool: one pool, one SOURCE_BUSY rule and one
 * listener discipline for every engine; docs/architecture.md), the
 * supervision of every call, budgets, write transactions and the outage log.
 *
 * Round trips per read, steady state: one. A connection's session is set
 * up once, when it opens (one more round trip); a read whose time limit
 * is lower than the session's sets statement_timeout first (one more, only
 * when the value changes, which the kit tracks); a result with column
 * types outside the built-in table looks their names up once per source.
 *
 * Behind a pooler in transaction mode (`pooling: 'transaction'`;
 * docs/postgres.md, "Behind PgBouncer") the session is not ours: each
 * transaction may run on another server connection. Nothing is then set
 * for the session (a session setting of ours would stay on a server
 * connection other clients get next); every read, estimate and write sets
 * up its own transaction instead (session.ts, `transactionSetup`), in the
 * same round trip as its statement (BEGIN's, for a write), and the time
 * limit is part of that set-up, never a session SET. Still one round trip
 * per read.
 *
 * A call with a database identity (core's `DatabaseIdentity`: a role and
 * the verified subject) takes the per-transaction set-up in either mode:
 * the identity is set there, transaction-locally, in the same round trip
 * as the read, the estimate or BEGIN (session.ts, `identitySettings`).
 * Catalog queries (list_tables, describe_table) and the type-name look-up
 * run as the source's own user.
 *
 * Timeout and cancellation: the server's statement_timeout normally stops
 * a statement first (57014, the connection stays healthy and is reused).
 * When the kit stops a call (its deadline, the caller's abort), `cancel`
 * sends a CancelRequest; the statement then ends with an error, and the
 * kit discards the connection, so a late cancel can never hit the next
 * statement on it.
 *
 * Faults: a client has an 'error' listener from its construction, before
 * it connects (pg emits 'error' when its socket fails, even with a query
 * running, and an 'error' event without a listener ends the process); its
 * failure or end is reported to the kit (`lost`). The CancelRequest socket
 * listens for errors its whole life.
 */
import { connect } from 'node:net';
import {
  type BoundStatement,
  type Driver,
  type DriverConnection,
  type FrameProtocol,
  type OpenOptions,
  type ReadContext,
  type ReadOutcome,
  untilAborted,
  type WireFraming,
} from '@sqlwarden/adapter-kit';
import type { CostEstimate, DatabaseIdentity } from '@sqlwarden/core';
import { clientOptions, type NormalizedConfig, type PgClient, type PgModule } from './config.js';
import { BoundedRead } from './read.js';
import { callSetup, OwnStatements, sessionSetup, type TransactionSetup } from './session.js';
import { TypeNames, toWireValue } from './types.js';

/** Every message type a PostgreSQL server sends (protocol 3.0, "Message Formats"). */
const BACKEND_TYPES = new Set([...'123ACDEGHIKNRSTVWZcdnstv'].map((c) => c.charCodeAt(0)));

/** PostgreSQL's framing: a type byte and a 4-byte length that counts itself. */
const PG_FRAMES: FrameProtocol = {
  headerLength: 5,
  bodyLength(header) {
    const length = header.readInt32BE(1);
    return BACKEND_TYPES.has(header[0] as number) && length >= 4 ? length - 4 : undefined;
  },
};

export class PostgresDriver implements Driver<PgSession> {
  readonly framing: WireFraming = { protocol: PG_FRAMES };
  /** Calls run under a database identity: its role and subject in their own transaction's set-up. */
  readonly identities = true;
  readonly #config: NormalizedConfig;
  readonly #pg: PgModule;
  /** Type names of result columns, per source. */
  readonly #types = new TypeNames();

  constructor(config: NormalizedConfig, pg: PgModule) {
    this.#config = config;
    this.#pg = pg;
  }

  bind(value: unknown): unknown {
    return toWireValue(value);
  }

  async open(options: OpenOptions): Promise<PgSession> {
    const client = new this.#pg.Client(clientOptions(this.#config));
    client.on('error', (error: unknown) => options.lost(error));
    client.on('end', () => options.lost(undefined));
    const config = this.#config;
    const session = new PgSession(
      client,
      this.#types,
      config.pooling === 'transaction'
        ? { defaultSchema: config.defaultSchema, timeLimitMs: config.statementTimeoutMs }
        : undefined,
    );
    try {
      await untilAborted(client.connect(), options.signal);
      // Between messages now (ReadyForQuery came), TLS included.
      const stream = client.connection?.stream;
      if (stream !== undefined) options.gate(stream);
      // In transaction pooling a session SET would land on one server
      // connection of the pool and stay there for whoever gets it next.
      if (config.pooling === 'transaction') return session;
      await untilAborted(
        client.query(
          sessionSetup({
            statementTimeoutMs: this.#config.statementTimeoutMs,
            defaultSchema: this.#config.defaultSchema,
            applicationName: this.#config.applicationName,
          }),
        ),
        options.signal,
      );
      return session;
    } catch (error) {
      // A session we could not set up is never used: it might not be read-only.
      session.destroy();
      throw error;
    }
  }
}

/** The estimate in EXPLAIN (FORMAT JSON)'s row, or undefined when it is not there. */
export function planEstimate(row: unknown): CostEstimate | undefined {
  let plan = (row as Record<string, unknown> | undefined)?.['QUERY PLAN'];
  if (typeof plan === 'string') {
    try {
      plan = JSON.parse(plan);
    } catch {
      return undefined;
    }
  }
  const top = (Array.isArray(plan) ? plan[0] : undefined)?.Plan as
    | Record<string, unknown>
    | undefined;
  const cost = top?.['Total Cost'];
  const rows = top?.['Plan Rows'];
  const usable = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  return usable(cost) && usable(rows) ? { cost, rows } : undefined;
}

/** What a connection that sets up every transaction puts in the set-up. */
export interface TransactionSettings {
  readonly defaultSchema: string;
  /** The time limit of the next transaction (the kit's `setTimeLimit`). */
  timeLimitMs: number;
}

/** One pooled connection, its session set up, or its transactions (`transaction`). */
export class PgSession implements DriverConnection {
  readonly client: PgClient;
  readonly #types: TypeNames;
  /** Set when every transaction sets itself up (session.ts, `transactionSetup`). */
  readonly #transaction: TransactionSettings | undefined;

  constructor(client: PgClient, types: TypeNames, transaction?: TransactionSettings) {
    this.client = client;
    this.#types = types;
    this.#transaction = transaction === undefined ? undefined : { ...transaction };
  }

  /**
   * The set-up of the next read or write: the transaction's own (pooling:
   * transaction) and the call's identity; undefined on a trusted session
   * without identity (nothing to send).
   */
  #setup(kind: 'read' | 'write', identity?: DatabaseIdentity): TransactionSetup | undefined {
    const t = this.#transaction;
    return callSetup({
      kind,
      ...(t !== undefined && {
        transaction: { timeLimitMs: t.timeLimitMs, defaultSchema: t.defaultSchema },
      }),
      ...(identity !== undefined && { identity }),
    });
  }

  async setTimeLimit(timeoutMs: number): Promise<void> {
    if (this.#transaction !== undefined) {
      // Never a session SET here: it would outlive the call on a pooled server
      // connection. The next transaction's set-up carries it.
      this.#transaction.timeLimitMs = Math.floor(timeoutMs);
      return;
    }
    await this.client.query({
      text: `SET statement_timeout = ${Math.floor(timeoutMs)}`,
      values: [],
    });
  }

  async read(statement: BoundStatement, context: ReadContext): Promise<ReadOutcome> {
    const read = new BoundedRead(
      statement.sql,
      statement.values as Array<string | null>,
      context.budget,
      this.#setup('read', context.identity),
    );
    context.gate(read);
    try {
      void this.client.query(read);
      await read.done;
    } finally {
      context.gate(undefined);
    }
    if (read.gateStopped) {
      // The gate stopped the transfer mid-result: the connection's parser stands
      // mid-message, so it goes, and the server stops computing (the kit cancels).
      return { columns: this.#columns(read), after: 'stop' };
    }
    await this.#types.resolve(
      this.client,
      read.fields.map((f) => f.dataTypeID),
    );
    return { columns: this.#columns(read), after: 'reuse' };
  }

  #columns(read: BoundedRead) {
    return read.fields.map((f) => ({ name: f.name, type: this.#types.name(f.dataTypeID) }));
  }

  /**
   * EXPLAIN (FORMAT JSON) of the statement with its values, as one statement
   * of the extended protocol (the values bound, so the plan is the one these
   * values get): the top node's total cost and the rows it returns.
   */
  async estimate(
    statement: BoundStatement,
    identity?: DatabaseIdentity,
  ): Promise<CostEstimate | undefined> {
    const setup = this.#setup('read', identity);
    if (setup !== undefined) {
      // The plan of the statement as the read will see it: same search_path, same
      // limits, same role (its grants and row-level security shape the plan).
      const explain = new OwnStatements([
        setup,
        {
          text: `EXPLAIN (FORMAT JSON) ${statement.sql}`,
          values: statement.values as Array<string | null>,
        },
      ]);
      void this.client.query(explain);
      await explain.done;
      return planEstimate({ 'QUERY PLAN': explain.rows[0]?.[0] });
    }
    const result = await this.client.query({
      text: `EXPLAIN (FORMAT JSON) ${statement.sql}`,
      values: [...statement.values],
      queryMode: 'extended',
    });
    return planEstimate(result.rows[0]);
  }

  async begin(identity?: DatabaseIdentity): Promise<void> {
    const setup = this.#setup('write', identity);
    if (setup === undefined) {
      await this.client.query('BEGIN READ WRITE');
      return;
    }
    // BEGIN and the set-up in one round trip; the set-up (identity included) is
    // local to this transaction.
    const begin = new OwnStatements([{ text: 'BEGIN READ WRITE', values: [] }, setup]);
    void this.client.query(begin);
    try {
      await begin.done;
    } catch (error) {
      // BEGIN may have run and the set-up failed: the transaction is open and
      // aborted. The kit rolls back only what began; end it here, or the
      // connection would go back to the pool inside it.
      await this.client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  async execute(statement: BoundStatement): Promise<number> {
    // The extended protocol even without values: one statement only (never the simple protocol).
    const result = await this.client.query({
      text: statement.sql,
      values: [...statement.values],
      queryMode: 'extended',
    });
    return result.rowCount ?? 0;
  }

  async commit(): Promise<void> {
    await this.client.query('COMMIT');
  }

  async rollback(): Promise<void> {
    await this.client.query('ROLLBACK');
  }

  async ping(): Promise<void> {
    await this.client.query({ text: 'SELECT $1::int', values: [1] });
  }

  /** A CancelRequest for what runs now; false when it could not be delivered. */
  cancel(): Promise<boolean> {
    const { processID, secretKey } = this.client;
    // Without a backend key (a server that gave none) there is nothing to send:
    // the kit's grace then closes the connection.
    if (typeof processID !== 'number' || typeof secretKey !== 'number')
      return Promise.resolve(true);
    return sendCancelRequest({
      host: this.client.host ?? 'localhost',
      port: this.client.port ?? 5432,
      processID,
      secretKey,
    });
  }

  destroy(): void {
    try {
      this.client.connection?.stream.destroy();
    } catch {}
  }

  /** Terminate; node-postgres half-closes the socket and Node closes it without the server's answer. */
  close(): Promise<void> {
    return this.client.end();
  }
}

/**
 * Sends a protocol CancelRequest (a 16-byte message on a new connection:
 * length, the code 80877102, the backend's process id and secret key). It
 * needs no authentication and no pool connection, so it works when the
 * pool is exhausted. It never rejects: it resolves to whether the message
 * could be sent (false when no connection to the server could be made);
 * the server's answer is the cancelled statement's error, on the call's
 * own connection.
 *
 * After the message it waits for the other side to close the connection
 * (the sign the request was handled), as libpq's PQcancel does, and only
 * then closes its own: PgBouncer 1.18 and 1.19 (Debian 12's) end their
 * whole process ("FATAL ... disconnect_client(): bad client state: 0",
 * pgbouncer/pgbouncer#801, fixed by #846) when the cancel's client
 * closes before the server connection PgBouncer opened to forward it.
 */
export function sendCancelRequest(target: {
  readonly host: string;
  readonly port: number;
  readonly processID: number;
  readonly secretKey: number;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = target.host.startsWith('/')
      ? connect(`${target.host}/.s.PGSQL.${target.port}`)
      : connect(target.port, target.host);
    let sent = false;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve(sent);
    };
    socket.setTimeout(2000, finish);
    // 'on', not 'once': a second error after the first would otherwise reach the process.
    socket.on('error', finish);
    socket.once('close', finish);
    socket.once('connect', () => {
      const message = Buffer.alloc(16);
      message.writeInt32BE(16, 0);
      message.writeInt32BE(80877102, 4);
      message.writeInt32BE(target.processID | 0, 8);
      message.writeInt32BE(target.secretKey | 0, 12);
      sent = true;
      // write, not end: the other side closes first (see above); 'close' or the timeout finishes.
      socket.write(message);
    });
  });
}
