import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy for fault tests, between an adapter and its database: it
 * forwards both ways, and on request cuts every connection after a number of
 * bytes of the server's answer (a connection lost mid-message), cuts one
 * connection right after the server answered a given request (a COMMIT
 * whose answer is lost), or stops
 * forwarding without closing anything (a network that silently drops
 * traffic: nothing arrives, nothing fails, only deadlines can end a call).
 *
 * Written here rather than taken from npm: Toxiproxy, the usual tool, is a
 * Go server with HTTP-driven clients, and the few lines below need no
 * process of their own.
 */
export interface TcpProxy {
  /** Where clients connect: 127.0.0.1. */
  readonly host: string;
  readonly port: number;
  /** Connections accepted since the proxy started. */
  readonly accepted: number;
  /** Connection pairs open now. */
  readonly open: number;
  /** Forward everything (the initial mode); stalled connections get their held bytes now. */
  forward(): void;
  /**
   * From now on, each connection forwards `bytes` more bytes of the
   * server's answer, then both of its sockets are destroyed (the client
   * sees a reset in the middle of whatever message those bytes end in).
   * Connections opened later are cut the same way. `forward()` ends it.
   */
  cutAfter(bytes: number): void;
  /**
   * Stop forwarding in both directions without closing anything. New
   * connections are accepted and then hear nothing. Bytes are held (the
   * sockets are paused), as a network partition holds them; `forward()`
   * delivers them.
   */
  stall(): void;
  /**
   * Once: the next request a client sends whose bytes hold `marker` (say
   * `COMMIT`) reaches the server, and the server's answer to it never
   * reaches the client: when the answer comes, both sockets of that
   * connection are destroyed (the request was carried out; the client
   * never hears so). Resolves when that answer was dropped.
   */
  loseAnswerTo(marker: string): Promise<void>;
  /** Destroys every connection now (the proxy keeps accepting). */
  cutAll(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly server: Socket;
  /** Bytes of the server's answer this pair may still forward while cutting. */
  budget: number;
  /** Set when the server's next answer is to be dropped and the pair cut (loseAnswerTo): called then. */
  dropAnswer: (() => void) | undefined;
}

export async function createTcpProxy(target: {
  readonly host: string;
  readonly port: number;
}): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let mode: 'forward' | 'cut' | 'stall' = 'forward';
  let cutBytes = 0;
  let accepted = 0;
  /** loseAnswerTo: what to look for in the client's bytes, and who waits for the answer to be dropped. */
  let lose: { readonly marker: Buffer; readonly dropped: () => void } | undefined;

  const destroy = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.server.destroy();
  };
  const pause = (pair: Pair) => {
    pair.client.pause();
    pair.server.pause();
  };
  const resume = (pair: Pair) => {
    pair.client.resume();
    pair.server.resume();
  };

  const listener = createServer((client) => {
    accepted++;
    const server = connect(target.port, target.host);
    const pair: Pair = { client, server, budget: cutBytes, dropAnswer: undefined };
    pairs.add(pair);
    // Either side failing ends the pair; the other side sees its socket close.
    client.on('error', () => destroy(pair));
    server.on('error', () => destroy(pair));
    client.on('close', () => destroy(pair));
    server.on('close', () => destroy(pair));
    client.on('data', (chunk: Buffer) => {
      if (lose !== undefined && chunk.includes(lose.marker)) {
        pair.dropAnswer = lose.dropped;
        lose = undefined;
      }
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (pair.dropAnswer !== undefined) {
        // The server answered the marked request: the client never hears it.
        const dropped = pair.dropAnswer;
        pair.dropAnswer = undefined;
        destroy(pair);
        dropped();
        return;
      }
      if (mode !== 'cut') {
        client.write(chunk);
        return;
      }
      if (chunk.length < pair.budget) {
        pair.budget -= chunk.length;
        client.write(chunk);
        return;
      }
      // The last bytes allowed, then a reset: the client holds part of a message.
      const last = chunk.subarray(0, pair.budget);
      pair.budget = 0;
      client.write(last, () => destroy(pair));
      pause(pair);
    });
    if (mode === 'stall') pause(pair);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const address = listener.address();
  if (address === null || typeof address !== 'object') throw new Error('the proxy has no port');

  return {
    host: '127.0.0.1',
    port: address.port,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    forward() {
      mode = 'forward';
      for (const pair of pairs) resume(pair);
    },
    cutAfter(bytes) {
      mode = 'cut';
      cutBytes = bytes;
      for (const pair of pairs) {
        pair.budget = bytes;
        resume(pair);
      }
    },
    stall() {
      mode = 'stall';
      for (const pair of pairs) pause(pair);
    },
    loseAnswerTo(marker) {
      return new Promise<void>((resolve) => {
        lose = { marker: Buffer.from(marker, 'utf8'), dropped: resolve };
      });
    },
    cutAll() {
      for (const pair of [...pairs]) destroy(pair);
    },
    async close() {
      for (const pair of [...pairs]) destroy(pair);
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
