/**
 * The stdio transport: newline-delimited JSON-RPC on stdin and stdout, as
 * MCP's stdio transport specifies, with what a server facing an untrusted
 * client must add to the SDK's:
 *
 *  - A line longer than MAX_MESSAGE_BYTES is never buffered whole: the
 *    transport keeps its first bytes (to find the request's id), drops the
 *    rest up to the next newline, answers that request with -32600 naming
 *    the limit, and goes on serving. (The SDK's transport clears its buffer
 *    and closes, which ends the server.)
 *  - A line that is not JSON is answered with -32700 (id null), one that is
 *    JSON but not a JSON-RPC message with -32600, as JSON-RPC 2.0 says; the
 *    SDK's transport only reports them to its own error hook.
 *  - Responses finished in one event-loop turn are written to stdout in one
 *    system call: stdout is corked at the first send of a turn and uncorked
 *    when the turn ends (setImmediate). No response waits longer than the
 *    turn it was finished in.
 *
 * Messages are validated with the SDK's own JSON-RPC parser.
 */
import {
  ProtocolErrorCode as ErrorCode,
  type JSONRPCMessage,
  parseJSONRPCMessage,
  type Transport,
} from '@modelcontextprotocol/server';

/** The longest message (one line) the server reads; a longer one is answered -32600. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/** How much of an over-long line is kept to find its id. */
const ID_PROBE_BYTES = 4096;
const NEWLINE = 10;

type Id = string | number | null;

/**
 * The top-level "id" of a JSON object's beginning, or null when it is not
 * among the keys seen there. Only depth-1 keys count: an "id" inside params
 * is not the request's.
 */
export function probeId(prefix: string): Id {
  let depth = 0;
  let i = 0;
  let expectKey = false;
  while (i < prefix.length) {
    const c = prefix[i];
    if (c === '"') {
      let j = i + 1;
      while (j < prefix.length && prefix[j] !== '"') j += prefix[j] === '\\' ? 2 : 1;
      if (j >= prefix.length) return null;
      const text = prefix.slice(i, j + 1);
      i = j + 1;
      if (depth === 1 && expectKey) {
        expectKey = false;
        let k = i;
        while (prefix[k] === ' ' || prefix[k] === '\t') k += 1;
        if (prefix[k] !== ':') return null;
        if (text === '"id"') {
          const value = /^\s*("(?:[^"\\]|\\.)*"|-?\d+)\s*[,}]/.exec(prefix.slice(k + 1));
          if (value === null) return null;
          const parsed: unknown = JSON.parse(value[1] as string);
          return typeof parsed === 'string' || typeof parsed === 'number' ? parsed : null;
        }
        i = k + 1;
      }
      continue;
    }
    if (c === '{' || c === '[') {
      depth += 1;
      if (depth === 1 && c === '{') expectKey = true;
    } else if (c === '}' || c === ']') depth -= 1;
    else if (c === ',' && depth === 1) expectKey = true;
    i += 1;
  }
  return null;
}

function errorResponse(id: Id, code: number, message: string): JSONRPCMessage {
  return { jsonrpc: '2.0', id, error: { code, message } } as unknown as JSONRPCMessage;
}

export class StdioLineTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;

  readonly #stdin: NodeJS.ReadableStream;
  readonly #stdout: NodeJS.WritableStream & { cork(): void; uncork(): void };
  readonly #maxBytes: number;
  /** Chunks of the line being read (within the limit). */
  #chunks: Buffer[] = [];
  #length = 0;
  /** Set while an over-long line is being skipped: its first bytes. */
  #skipping: Buffer | undefined;
  #skipped = 0;
  #corked = false;
  #closed = false;

  constructor(
    stdin: NodeJS.ReadableStream = process.stdin,
    stdout: NodeJS.WritableStream & { cork(): void; uncork(): void } = process.stdout,
    maxBytes = MAX_MESSAGE_BYTES,
  ) {
    this.#stdin = stdin;
    this.#stdout = stdout;
    this.#maxBytes = maxBytes;
  }

  readonly #ondata = (chunk: Buffer) => {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline < 0 ? chunk.length : newline;
      this.#take(chunk.subarray(start, end));
      if (newline < 0) return;
      this.#endLine();
      start = newline + 1;
    }
  };

  readonly #onerror = (error: Error) => this.onerror?.(error);

  #take(bytes: Buffer) {
    if (bytes.length === 0) return;
    if (this.#skipping !== undefined) {
      this.#skipped += bytes.length;
      return;
    }
    if (this.#length + bytes.length > this.#maxBytes) {
      // Keep only enough to find the id; drop everything else of the line.
      const head = Buffer.concat([...this.#chunks, bytes]).subarray(0, ID_PROBE_BYTES);
      this.#skipping = Buffer.from(head);
      this.#skipped = this.#length + bytes.length;
      this.#chunks = [];
      this.#length = 0;
      return;
    }
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  #endLine() {
    if (this.#skipping !== undefined) {
      const id = probeId(this.#skipping.toString('utf8'));
      const size = this.#skipped;
      this.#skipping = undefined;
      this.#skipped = 0;
      void this.send(
        errorResponse(
          id,
          ErrorCode.InvalidRequest,
          `The message is ${size} bytes long, over the limit of ${this.#maxBytes} bytes a message may have; it was not read. Send less (large values do not belong in a tool call).`,
        ),
      );
      return;
    }
    const line = Buffer.concat(this.#chunks, this.#length).toString('utf8').replace(/\r$/, '');
    this.#chunks = [];
    this.#length = 0;
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      void this.send(
        errorResponse(null, ErrorCode.ParseError, 'Parse error: the line is not valid JSON.'),
      );
      return;
    }
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(json);
    } catch {
      const id = (json as { id?: unknown } | null)?.id;
      void this.send(
        errorResponse(
          typeof id === 'string' || typeof id === 'number' ? id : null,
          ErrorCode.InvalidRequest,
          'Invalid request: not a JSON-RPC 2.0 request, notification or response.',
        ),
      );
      return;
    }
    this.onmessage?.(message);
  }

  async start(): Promise<void> {
    this.#stdin.on('data', this.#ondata);
    this.#stdin.on('error', this.#onerror);
  }

  readonly #uncork = () => {
    this.#corked = false;
    this.#stdout.uncork();
  };

  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (!this.#corked) {
      this.#corked = true;
      this.#stdout.cork();
      setImmediate(this.#uncork);
    }
    return new Promise((resolve) => {
      if (this.#stdout.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.#stdout.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stdin.off('data', this.#ondata);
    this.#stdin.off('error', this.#onerror);
    if (this.#stdin.listenerCount('data') === 0) this.#stdin.pause();
    this.#chunks = [];
    this.onclose?.();
  }
}
