import { connect } from 'node:net';

/**
 * Sends a protocol CancelRequest (a 16-byte message on a new connection:
 * length, the code 80877102, the backend's process id and secret key). It
 * needs no authentication and no pool connection, so it works when the
 * pool is exhausted. It never throws: a cancel that cannot be delivered is
 * covered by discarding the connection, which the caller always does after
 * a cancel (a late cancel must never hit the next query on that connection).
 */
export function sendCancelRequest(target: {
  readonly host: string;
  readonly port: number;
  readonly processID: number;
  readonly secretKey: number;
}): Promise<void> {
  return new Promise((resolve) => {
    const socket = target.host.startsWith('/')
      ? connect(`${target.host}/.s.PGSQL.${target.port}`)
      : connect(target.port, target.host);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve();
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
      socket.end(message);
    });
  });
}
