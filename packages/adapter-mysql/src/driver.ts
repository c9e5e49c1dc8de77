/**
 * The MySQL / MariaDB driver of the adapter kit, on mysql2's callback API:
 * a connection with its session set up (session.ts), reads as one prepared
 * statement streamed into the kit's budget (read.ts), writes and
 * transaction control, and cancellation by KILL QUERY. The kit's
 * `DialectAdapter` owns the pool, the supervision of every call, budgets,
 * write transactions and the outage log.
 *
 * Round trips per read, steady state: one (COM_STMT_EXECUTE of a statement
 * this connection prepared before: mysql2 caches prepared statements per
 * connection, by text). A text the connection has not prepared yet costs
 * one more (COM_STMT_PREPARE; mysql2 waits for its answer before it sends
 * the execute). A connection's session is set up once (one round trip when
 * it opens; the first connection of a source also asks for the server's
 * version); a call whose time limit differs from the session's sets it
 * first (one more, only when the value changes).
 *
 * Stopping a statement: MySQL has no cursor to close and no out-of-band
 * cancel. `cancel` destroys the socket (a server blocked writing rows to it
 * ends at once, and an EXECUTE behind a PREPARE is never sent) and sends
 * KILL QUERY from a second, short-lived connection of the same account (a
 * server still computing notices a closed socket only when it next writes).
 * mysql2 does not fail a command whose connection was destroyed on purpose,
 * so the commands in flight are rejected here once the server answered the
 * KILL (1094, the statement already gone, is an answer); a KILL that goes
 * unanswered leaves them to the kit's grace, which reports an outage.
 *
 * Faults: every connection (pooled or for a KILL) has an 'error' listener
 * from its creation, before it connects (an 'error' event without a
 * listener would end the process); a pooled connection's failure or end is
 * reported to the kit (`lost`), and mysql2 reports a lost connection on the
 * connection, not on a command without a callback: `stream` listens there.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import {
  type BoundStatement,
  CANCEL_GRACE_MS,
  type Driver,
  type DriverConnection,
  type FrameProtocol,
  type GatedStream,
  type OpenOptions,
  type ReadContext,
  type ReadOutcome,
  untilAborted,
  type WireFraming,
} from '@sqlwarden/adapter-kit';
import type { CostEstimate } from '@sqlwarden/core';
import {
  connectionOptions,
  type MysqlConnection,
  type MysqlField,
  type MysqlModule,
  type MysqlResultHeader,
  type NormalizedConfig,
} from './config.js';
import { parsePlan, planCost, rowsExamined, selectBlocks } from './plan.js';
import { BoundedRead } from './read.js';
import { flavorOf, type ServerFlavor, sessionSetup, setTimeoutStatement } from './session.js';
import { geometryAsBytes, hasGeometry, toBindValue } from './types.js';

/**
 * MySQL's framing: a 3-byte little-endian payload length and a sequence
 * number. A payload of 0xFFFFFF bytes continues in the next packet.
 */
const MYSQL_FRAMES: FrameProtocol = {
  headerLength: 4,
  bodyLength: (header) => header.readUIntLE(0, 3),
};
const MAX_PACKET_PAYLOAD = 0xffffff;

const FRAMING: WireFraming = {
  protocol: MYSQL_FRAMES,
  /** The length of the logical packet being read: a chain of full packets, then the rest. */
  reader() {
    let chained = 0;
    return (_header, length) => {
      const logical = chained + length;
      chained = length === MAX_PACKET_PAYLOAD ? logical : 0;
      return logical;
    };
  },
};

/** The error a command in flight gets once the server answered the KILL that stopped it. */
export class StatementStoppedError extends Error {
  readonly code = 'SQLWARDEN_STOPPED';
}

/**
 * The host name check mysql2 skips. mysql2 verifies the certificate's host
 * name only when the host is a DNS name: for an IP address it passes no
 * server name to Node's TLS, which then checks the certificate against
 * "localhost" (seen with mysql2 3.24: a certificate for localhost only was
 * accepted for 127.0.0.1). So when the host name must be verified, the
 * driver checks the certificate the connection ended up with itself,
 * against the host it connected to, before the connection is used.
 *
 * Failure mode: for an IP address this check runs after the handshake, so
 * the authentication exchange has already gone to the server whose
 * certificate is then refused (for a DNS name, mysql2 refuses it during the
 * handshake). docs/mysql.md says to name the server by a DNS name.
 */
export class ServerIdentityError extends Error {
  readonly code = 'ERR_TLS_CERT_ALTNAME_INVALID';
}

export function assertServerIdentity(config: NormalizedConfig, connection: MysqlConnection): void {
  const ssl = config.ssl;
  if (ssl === undefined || ssl === false) return;
  const options = ssl === true ? {} : ssl;
  if (options.rejectUnauthorized === false || options.verifyHostname === false) return;
  const certificate = connection.stream?.getPeerCertificate?.(false) as PeerCertificate | undefined;
  if (certificate === undefined || Object.keys(certificate).length === 0) {
    throw new ServerIdentityError('TLS was asked for, but the connection has no certificate');
  }
  const problem = checkServerIdentity(config.host, certificate);
  if (problem !== undefined) throw new ServerIdentityError(problem.message);
}

/** Closes the socket now (mysql2's destroy only half-closes it). Never throws. */
function destroyConnection(connection: MysqlConnection): void {
  try {
    connection.destroy();
  } catch {}
  try {
    connection.stream?.destroy();
  } catch {}
}

/** What a statement's result is fed to, as it streams. */
interface Sink {
  fields(fields: readonly MysqlField[]): void;
  /** False stops the transfer here. */
  row(row: unknown[]): boolean;
  header(header: MysqlResultHeader): void;
}

/** How a streamed statement ended: all of it, or stopped (the connection is paused mid-result). */
type StreamEnd = 'complete' | 'stopped';

export class MysqlDriver implements Driver<MysqlSession> {
  readonly framing = FRAMING;
  readonly #config: NormalizedConfig;
  readonly #mysql: MysqlModule;
  #flavor: Promise<ServerFlavor> | undefined;

  constructor(config: NormalizedConfig, mysql: MysqlModule) {
    this.#config = config;
    this.#mysql = mysql;
  }

  bind(value: unknown): unknown {
    return toBindValue(value);
  }

  /**
   * Connects one connection (handshake, authentication, TLS identity), with
   * an 'error' listener from its creation on. Destroyed when it fails or
   * `signal` aborts.
   */
  async #connect(
    signal: AbortSignal,
    onError: (error: unknown) => void,
    onEnd: () => void,
  ): Promise<MysqlConnection> {
    const connection = this.#mysql.createConnection(await connectionOptions(this.#config));
    connection.on('error', onError);
    connection.on('end', onEnd);
    try {
      await untilAborted(
        new Promise<void>((resolve, reject) =>
          connection.connect((error) => (error ? reject(error) : resolve())),
        ),
        signal,
      );
      assertServerIdentity(this.#config, connection);
      return connection;
    } catch (error) {
      destroyConnection(connection);
      throw error;
    }
  }

  async open(options: OpenOptions): Promise<MysqlSession> {
    const connection = await this.#connect(options.signal, options.lost, () =>
      options.lost(undefined),
    );
    try {
      // TLS included: the stream is then the TLS socket. Between messages now.
      if (connection.stream !== undefined)
        options.gate(connection.stream as unknown as GatedStream);
      const flavor = await untilAborted(this.#flavorOf(connection), options.signal);
      await untilAborted(
        text(
          connection,
          sessionSetup({ flavor, statementTimeoutMs: this.#config.statementTimeoutMs }),
        ),
        options.signal,
      );
      return new MysqlSession(connection, flavor, (threadId) => this.#kill(threadId));
    } catch (error) {
      // A session we could not set up is never used: it might not be read-only.
      destroyConnection(connection);
      throw error;
    }
  }

  /** The server's flavor, asked once per source (a failed question is asked again). */
  #flavorOf(connection: MysqlConnection): Promise<ServerFlavor> {
    if (this.#flavor === undefined) {
      const detected = text(connection, 'SELECT VERSION()').then((rows) =>
        flavorOf(String(rows[0]?.[0] ?? '')),
      );
      this.#flavor = detected;
      detected.catch(() => {
        if (this.#flavor === detected) this.#flavor = undefined;
      });
    }
    return this.#flavor;
  }

  /**
   * `KILL QUERY <id>` on a new, short-lived connection of the same account
   * (an account may kill its own statements without any privilege). It
   * never throws: it resolves to whether the server answered (an OK, or a
   * server error such as 1094, the statement already gone), within
   * CANCEL_GRACE_MS; a kill that cannot be delivered is covered by the
   * destroyed socket, which ends the statement when the server next writes
   * to it or reads from it.
   */
  #kill(threadId: number | null): Promise<boolean> {
    if (threadId === null || !Number.isSafeInteger(threadId) || threadId <= 0) {
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const controller = new AbortController();
      let connection: MysqlConnection | undefined;
      let done = false;
      const finish = (answered: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        controller.abort();
        if (connection !== undefined) destroyConnection(connection);
        resolve(answered);
      };
      const timer = setTimeout(() => finish(false), CANCEL_GRACE_MS);
      this.#connect(
        controller.signal,
        () => {},
        () => {},
      ).then(
        (opened) => {
          connection = opened;
          if (done) {
            destroyConnection(opened);
            return;
          }
          // The text is ours: a fixed word and a checked integer. An answer is an OK
          // or a server error (a positive errno); a lost connection is neither.
          opened.query(`KILL QUERY ${threadId}`, (error) => {
            const errno = (error as { errno?: unknown } | null | undefined)?.errno;
            finish(
              error === null || error === undefined || (typeof errno === 'number' && errno > 0),
            );
          });
        },
        () => finish(false),
      );
    });
  }
}

/** One pooled connection: its session set up, its flavor known. */
export class MysqlSession implements DriverConnection {
  readonly connection: MysqlConnection;
  readonly flavor: ServerFlavor;
  readonly #kill: (threadId: number | null) => Promise<boolean>;
  /** Rejecters of the commands in flight: a KILL the server answered ends them. */
  readonly #inFlight = new Set<(error: Error) => void>();

  constructor(
    connection: MysqlConnection,
    flavor: ServerFlavor,
    kill: (threadId: number | null) => Promise<boolean>,
  ) {
    this.connection = connection;
    this.flavor = flavor;
    this.#kill = kill;
  }

  /** `work`, which also fails once a KILL of this connection's statement was answered. */
  #command<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#inFlight.add(reject);
      work()
        .then(resolve, reject)
        .finally(() => this.#inFlight.delete(reject));
    });
  }

  setTimeLimit(timeoutMs: number): Promise<void> {
    return this.#command(() =>
      text(this.connection, setTimeoutStatement(this.flavor, timeoutMs)),
    ).then(() => undefined);
  }

  async read(statement: BoundStatement, context: ReadContext): Promise<ReadOutcome> {
    const read = new BoundedRead(context.budget);
    let end: StreamEnd;
    context.gate(read);
    try {
      end = await this.#command(() =>
        stream(
          this.connection,
          statement,
          {
            fields: (fields) => read.fields(fields),
            row: (row) => read.row(row),
            header: () => {},
          },
          (stop) => {
            read.onStop = stop;
          },
        ),
      );
    } finally {
      context.gate(undefined);
    }
    // Stopped mid-result: the rest of the result must never reach the next caller.
    // Not a query (SET, DO...): the statement may have changed the session. The
    // guard lets no such statement through.
    const after = end === 'stopped' ? 'stop' : read.resultSet ? 'reuse' : 'discard';
    return { columns: read.columns, after };
  }

  /**
   * EXPLAIN FORMAT=JSON of the statement with its values (a prepared
   * statement, as the read will be): MySQL's query_cost, or on MariaDB,
   * which has none in the plan, the session's Last_query_cost read right
   * after it; and the rows examined (plan.ts).
   */
  async estimate(statement: BoundStatement): Promise<CostEstimate | undefined> {
    const rows = await this.rows(`EXPLAIN FORMAT=JSON ${statement.sql}`, statement.values);
    const plan = parsePlan(rows[0]?.[0]);
    if (plan === undefined) return undefined;
    let cost: number | null | undefined = planCost(plan);
    if (cost === undefined) {
      const [status] = await this.rows("SHOW SESSION STATUS LIKE 'Last_query_cost'", []);
      const value = Number(status?.[1]);
      if (!(Number.isFinite(value) && value >= 0)) return undefined;
      // MariaDB computes no cost for a plan of several query blocks (UNION,
      // subqueries) and says 0: that is no estimate, not a free statement.
      cost = value === 0 && selectBlocks(plan) > 1 ? null : value;
    }
    return { cost, rows: rowsExamined(plan) };
  }

  begin(): Promise<void> {
    return this.#text('START TRANSACTION READ WRITE');
  }

  async execute(statement: BoundStatement): Promise<number> {
    let affected = 0;
    let rows = 0;
    let resultSet = false;
    await this.#command(() =>
      stream(this.connection, statement, {
        // RETURNING (MariaDB) sends rows instead of a count: they are counted, not kept.
        fields: () => {
          resultSet = true;
        },
        row: () => {
          rows++;
          return true;
        },
        header: (header) => {
          affected = header.affectedRows;
        },
      }),
    );
    return resultSet ? rows : affected;
  }

  commit(): Promise<void> {
    return this.#text('COMMIT');
  }

  rollback(): Promise<void> {
    return this.#text('ROLLBACK');
  }

  async ping(): Promise<void> {
    await this.rows('SELECT 1', []);
  }

  /** One prepared statement of ours, all rows collected (catalog queries: small results). */
  rows(sql: string, values: readonly unknown[]): Promise<unknown[][]> {
    const rows: unknown[][] = [];
    return this.#command(() =>
      stream(
        this.connection,
        { sql, values },
        {
          fields: () => {},
          row: (row) => {
            rows.push(row);
            return true;
          },
          header: () => {},
        },
      ),
    ).then(() => rows);
  }

  /** One fixed text of ours over the text protocol (SHOW GRANTS). */
  text(sql: string): Promise<unknown[][]> {
    return this.#command(() => text(this.connection, sql));
  }

  async #text(sql: string): Promise<void> {
    await this.text(sql);
  }

  async cancel(): Promise<boolean> {
    const threadId = this.connection.threadId;
    destroyConnection(this.connection);
    const answered = await this.#kill(threadId);
    if (answered) {
      for (const reject of [...this.#inFlight]) {
        reject(new StatementStoppedError('the statement was stopped (KILL QUERY)'));
      }
    }
    return answered;
  }

  destroy(): void {
    destroyConnection(this.connection);
  }

  /** COM_QUIT. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.connection.end((error) => (error ? reject(error) : resolve()));
      } catch (error) {
        reject(error);
      }
    });
  }
}

/**
 * Executes one prepared statement and feeds its result to `sink` as it
 * arrives (mysql2's event mode: no rows are collected). Settles once: at
 * the end of the result, at the first error (of the statement, or of the
 * connection: mysql2 reports a lost connection on the connection, not on a
 * command without a callback), when the sink says stop, or when the frame
 * gate stopped the transfer (`onGateStop` receives the function that ends
 * it); the connection is then paused mid-result and must be discarded.
 */
function stream(
  connection: MysqlConnection,
  statement: BoundStatement,
  sink: Sink,
  onGateStop?: (stop: (error: Error | undefined) => void) => void,
): Promise<StreamEnd> {
  return new Promise<StreamEnd>((resolve, reject) => {
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      connection.removeListener('error', onConnectionError);
      finish();
    };
    // The frame gate stopped the transfer: the rows kept so far are the answer,
    // or the parser failed under it and the call fails.
    onGateStop?.((error) =>
      settle(() => (error === undefined ? resolve('stopped') : reject(error))),
    );
    const onConnectionError = (error: unknown) => settle(() => reject(error));
    connection.on('error', onConnectionError);
    let command: ReturnType<MysqlConnection['execute']>;
    try {
      command = connection.execute({
        sql: statement.sql,
        values: [...statement.values],
        rowsAsArray: true,
      });
    } catch (error) {
      settle(() => reject(error));
      return;
    }
    // Stays attached after settling: a late error must not be an unhandled 'error' event.
    command.on('error', (error: unknown) => settle(() => reject(error)));
    command.on('fields', (fields: readonly MysqlField[] | undefined, index?: number) => {
      if (settled || fields === undefined || (index ?? 0) > 0) return;
      if (hasGeometry(fields) && command.options !== undefined)
        command.options.typeCast = geometryAsBytes;
      sink.fields(fields);
    });
    command.on('result', (row: unknown, index?: number) => {
      if (settled || (index ?? 0) > 0) return;
      if (!Array.isArray(row)) {
        sink.header(row as MysqlResultHeader);
        return;
      }
      if (!sink.row(row)) {
        // Stop handing packets over; the kit cancels the statement and discards the connection.
        connection.pause();
        settle(() => resolve('stopped'));
      }
    });
    command.on('end', () => settle(() => resolve('complete')));
  });
}

/** One fixed text of ours over the text protocol (set-up, SET, START TRANSACTION, COMMIT, SHOW GRANTS). */
function text(connection: MysqlConnection, sql: string): Promise<unknown[][]> {
  return new Promise((resolve, reject) => {
    connection.query({ sql, rowsAsArray: true }, (error, result) => {
      if (error) reject(error);
      else resolve(Array.isArray(result) ? (result as unknown[][]) : []);
    });
  });
}
