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
 * writes to it or reads from it.
 */
import type { MysqlConnection } from './config.js';
import { destroyConnection } from './pool.js';

export function killQuery(options: {
  readonly open: () => Promise<MysqlConnection>;
  readonly threadId: number;
  /** The whole attempt (connect, KILL, quit) gives up after this. */
  readonly graceMs: number;
}): Promise<void> {
  const { threadId } = options;
  if (!Number.isSafeInteger(threadId) || threadId <= 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let connection: MysqlConnection | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (connection !== undefined) destroyConnection(connection);
      resolve();
    };
    const timer = setTimeout(finish, options.graceMs);
    options.open().then(
      (opened) => {
        connection = opened;
        if (done) {
          destroyConnection(opened);
          return;
        }
        // The text is ours: a fixed word and a checked integer.
        opened.query(`KILL QUERY ${threadId}`, () => finish());
      },
      () => finish(),
    );
  });
}
