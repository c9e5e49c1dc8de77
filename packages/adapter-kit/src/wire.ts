/**
 * A gate on a driver's socket, in front of its protocol parser, so that the
 * memory one call can take is bounded by what the call may receive.
 *
 * Database drivers read a whole protocol message (a PostgreSQL DataRow, a
 * MySQL packet) into one buffer before they parse it, and then decode its
 * values into strings. One 540 MB value thus costs 540 MB of buffer and
 * more of string, or kills the process (V8's string limit, thrown inside
 * the driver's socket handler). A message's length is in its header,
 * though, bytes before its body. The gate reads every header as the bytes
 * go by (it keeps no body) and asks the adapter about each message before
 * the parser sees it: a message too large for what the call may still
 * receive is never handed over. The adapter then ends the call with the
 * rows that fitted, and the connection, whose parser now stands mid-message,
 * is destroyed.
 *
 * The gate also catches what the parser throws on a chunk (the driver
 * would throw it out of a socket event, where nothing catches it): the
 * connection is destroyed and `onFault` is told, so the one call fails and
 * the process goes on.
 *
 * It must be installed while the stream stands between two messages (a
 * connection that just finished its start-up, or one that is idle), and
 * stays for the connection's life. A header that cannot be one (the gate
 * out of step with the stream) stops the connection too: fail closed.
 */

/**
 * How far past what a call may still receive one message may be and still be
 * read: a row's framing (length words, a null bitmap, fixed-width numbers
 * whose text is shorter than their bytes) makes its message larger than its
 * values, by at most a few bytes per column. A call's memory is bounded by
 * its maxBytes plus this.
 */
export const FRAME_SLACK_BYTES = 64 * 1024;

/**
 * The largest message a connection takes outside a bounded read (session
 * set-up, catalog queries, writes): their results are small; a larger one
 * means something is wrong, and the connection is stopped.
 */
export const IDLE_MESSAGE_LIMIT = 64 * 1024 * 1024;

/** A chunk source with EventEmitter listeners (a net.Socket or tls.TLSSocket). */
export interface GatedStream {
  listeners(event: 'data'): unknown[];
  removeAllListeners(event: 'data'): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  destroy(error?: Error): unknown;
}

export interface FrameProtocol {
  /** Bytes of a message's header. */
  readonly headerLength: number;
  /**
   * The number of bytes that follow the header, from the header; undefined
   * when the bytes cannot be a header of this protocol.
   */
  bodyLength(header: Buffer): number | undefined;
}

export interface FrameGateHooks {
  /**
   * Whether the message with this header may reach the parser. False stops
   * the connection. 'sync' asks for the messages before this one to be
   * parsed first (the parser is otherwise given a whole chunk at a time,
   * after every header in it was admitted); `admit` is then asked again and
   * must answer true or false.
   */
  admit(header: Buffer, bodyLength: number): boolean | 'sync';
  /**
   * The connection was stopped: by `admit`, by a header out of step, or by an
   * exception of the parser (`error` set for the last two). Called once,
   * after the messages before the refused one were handed to the parser, and
   * before the stream is destroyed.
   */
  onStop(error: Error | undefined): void;
}

export class FrameOutOfStepError extends Error {
  readonly code = 'SQLWARDEN_FRAME_OUT_OF_STEP';
}

/** Installs the gate on a stream (see the header). Returns a function that tells whether it stopped. */
export function installFrameGate(
  stream: GatedStream,
  protocol: FrameProtocol,
  hooks: FrameGateHooks,
): () => boolean {
  const parsers = stream
    .listeners('data')
    .filter((listener): listener is (chunk: Buffer) => void => typeof listener === 'function');
  stream.removeAllListeners('data');
  const header = Buffer.alloc(protocol.headerLength);
  let headerBytes = 0;
  let bodyLeft = 0;
  let stopped = false;

  const stop = (error: Error | undefined) => {
    stopped = true;
    try {
      hooks.onStop(error);
    } finally {
      stream.destroy();
    }
  };

  const deliver = (chunk: Buffer): boolean => {
    for (const parser of parsers) {
      try {
        parser.call(stream, chunk);
      } catch (error) {
        stop(error instanceof Error ? error : new Error(String(error)));
        return false;
      }
    }
    return true;
  };

  stream.on('data', (chunk: Buffer) => {
    if (stopped) return;
    let i = 0;
    // Where the message being read began in this chunk (-1: in an earlier chunk).
    let messageStart = headerBytes === 0 && bodyLeft === 0 ? 0 : -1;
    // The bytes of this chunk already given to the parser.
    let delivered = 0;
    const catchUp = (): boolean => {
      if (messageStart <= delivered) return true;
      const ok = deliver(chunk.subarray(delivered, messageStart));
      delivered = messageStart;
      return ok;
    };
    while (i < chunk.length) {
      if (bodyLeft > 0) {
        const take = Math.min(bodyLeft, chunk.length - i);
        bodyLeft -= take;
        i += take;
        continue;
      }
      if (headerBytes === 0) messageStart = i;
      const take = Math.min(protocol.headerLength - headerBytes, chunk.length - i);
      chunk.copy(header, headerBytes, i, i + take);
      headerBytes += take;
      i += take;
      if (headerBytes < protocol.headerLength) break;
      headerBytes = 0;
      const body = protocol.bodyLength(header);
      let admitted = false;
      let failure: Error | undefined;
      if (body === undefined) failure = new FrameOutOfStepError('a message header out of step');
      else {
        try {
          let answer = hooks.admit(header, body);
          if (answer === 'sync') {
            if (!catchUp()) return;
            answer = hooks.admit(header, body);
          }
          admitted = answer === true;
        } catch (error) {
          failure = error instanceof Error ? error : new Error(String(error));
        }
      }
      if (!admitted) {
        // The messages before this one go to the parser; this one never does.
        if (!catchUp()) return;
        stop(failure);
        return;
      }
      bodyLeft = body as number;
    }
    if (delivered < chunk.length) deliver(delivered === 0 ? chunk : chunk.subarray(delivered));
  });
  return () => stopped;
}
