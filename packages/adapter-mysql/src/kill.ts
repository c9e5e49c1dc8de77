/**
 * Stops a running statement from outside: `KILL QUERY <id>` on a new,
 * short-lived connection of the same account (an account may kill its own
 * statements without any privilege). MySQL has no out-of-band cancel like
 * PostgreSQL's CancelRequest, and a connection busy with a statement
 * cannot take another command, so a second connection is the only way.
 *
 * KILL QUERY sets the statement's kill flag: the server stops it at its
 * next check (between rows, in a lock wait, in SLEEP), and the connection
 * would survive. The adapter discards that connection anyway: a KILL that
 * arrives late must never hit the next statement on it. The kill flag does
 * not wake a thread blocked writing a result to a socket nobody reads; the
 * caller destroys the socket for that (adapter.ts).
 *
 * It never throws: a kill that cannot be delivered (the database is
 * unreachable, the statement already ended: errno 1094) is covered by
 * discarding the connection, which ends the statement when the server next
 * writes to it or reads from it. It resolves to whether the server
 * answered the KILL (1094, the statement already gone, is an answer): a
 * server that does not answer within the grace is one that stopped
 * answering altogether, which the adapter reports as an outage.
 */
import type { MysqlConnection } from './config.js';
import { destroyConnection } from './pool.js';

export function killQuery(options: {
  readonly open: () => Promise<MysqlConnection>;
  readonly threadId: number;
  /** The whole attempt (connect, KILL, quit) gives up after this. */
  readonly graceMs: number;
}): Promise<boolean> {
  const { threadId } = options;
  if (!Number.isSafeInteger(threadId) || threadId <= 0) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    let connection: MysqlConnection | undefined;
    let done = false;
    const finish = (answered: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (connection !== undefined) destroyConnection(connection);
      resolve(answered);
    };
    const timer = setTimeout(() => finish(false), options.graceMs);
    options.open().then(
      (opened) => {
        connection = opened;
        if (done) {
          destroyConnection(opened);
          return;
        }
        // The text is ours: a fixed word and a checked integer.
        // An answer is an OK or a server error (a positive errno: 1094 and the
        // like); a lost connection is neither (no errno, or Node's negative one).
        opened.query(`KILL QUERY ${threadId}`, (error) => {
          const errno = (error as { errno?: unknown } | null | undefined)?.errno;
          finish(error === null || error === undefined || (typeof errno === 'number' && errno > 0));
        });
      },
      () => finish(false),
    );
  });
}
