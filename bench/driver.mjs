// One MCP client driver, used identically for every server under test.
//
// - Spawns the server over stdio with the MCP TypeScript SDK's
//   StdioClientTransport and connects the SDK `Client` (same client, same
//   transport, same options for every server: the servers are the only variable).
// - Lists the server's tools.
// - `call(tool, args)` runs one tools/call and returns what a model would see
//   (bytes of the text content), whether the call failed, and how long it took.
// - Enforces a 10 MiB limit on a single JSON-RPC message, measured on the wire
//   (bytes of the newline-delimited JSON line the server wrote). A larger
//   response fails that call with "over 10 MiB"; the bytes are drained and
//   counted, not kept, so the harness stays small and the server keeps running.
// - Enforces a per-call timeout (60 s by default).
// - Tracks the server process's peak RSS by polling /proc/<pid>/status every
//   50 ms (VmHWM = the kernel's high-water mark, and the largest VmRSS seen).
//   The pid is the real server: callers pass the node binary as `command` and
//   the script as the first argument (no npx, no shell, no .bin shim).

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { deserializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

export const MIB = 1024 * 1024;
export const DEFAULT_RESPONSE_LIMIT_BYTES = 10 * MIB;
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;
export const RSS_POLL_MS = 50;

/** JSON-RPC error code the driver uses for its own "response too large" error. */
const OVERSIZE_CODE = -32_099;

/** Failure labels used in results and in the report table. */
export const Failure = Object.freeze({
  OVERSIZE: 'over 10 MiB',
  TIMEOUT: 'timeout',
  CRASHED: 'crashed',
  ERROR: 'error',
});

/**
 * Replacement for the SDK's stdio ReadBuffer (same 3 methods: append,
 * readMessage, clear).
 *
 * Why: the SDK's buffer (1) concatenates the whole pending buffer on every
 * 64 KiB chunk, which is quadratic on multi-MiB messages and would add client
 * time to the server's numbers, and (2) on a message above its limit it closes
 * the transport, which kills the server, so the response size, the server's
 * real peak memory and its survival could not be measured.
 *
 * This buffer keeps the chunks of the current line in a list, counts the
 * line's bytes, and once a line passes `limitBytes` switches to draining it
 * (keeping only the first and last 256 bytes to find the JSON-RPC id). When
 * the line ends, it hands the SDK a synthetic JSON-RPC error for that id, so
 * exactly that request fails, with the full size in the message.
 */
class LimitedLineBuffer {
  constructor(limitBytes, onOversize) {
    this.limitBytes = limitBytes;
    this.onOversize = onOversize;
    this.ready = [];
    this.resetLine();
  }

  resetLine() {
    this.chunks = [];
    this.lineBytes = 0;
    this.draining = false;
    this.head = null;
    this.tail = null;
  }

  append(chunk) {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      if (end > start) this.addPiece(chunk.subarray(start, end));
      if (nl === -1) break;
      this.endLine();
      start = nl + 1;
    }
  }

  addPiece(piece) {
    this.lineBytes += piece.length;
    if (!this.draining) {
      this.chunks.push(piece);
      if (this.lineBytes <= this.limitBytes) return;
      const all = Buffer.concat(this.chunks);
      this.head = Buffer.from(all.subarray(0, 256));
      this.tail = Buffer.from(all.subarray(-256));
      this.chunks = [];
      this.draining = true;
      return;
    }
    // Draining: keep only the last 256 bytes (copied, so chunks can be freed).
    this.tail =
      piece.length >= 256
        ? Buffer.from(piece.subarray(-256))
        : Buffer.concat([this.tail, piece]).subarray(-256);
  }

  endLine() {
    if (this.draining) {
      const id = findJsonRpcId(this.head.toString('latin1'), this.tail.toString('latin1'));
      this.ready.push({ oversize: true, id, bytes: this.lineBytes });
      this.onOversize?.(this.lineBytes, id);
    } else if (this.lineBytes > 0) {
      this.ready.push({ line: Buffer.concat(this.chunks) });
    }
    this.resetLine();
  }

  readMessage() {
    const item = this.ready.shift();
    if (!item) return null;
    if (item.line) {
      return deserializeMessage(item.line.toString('utf8').replace(/\r$/, ''));
    }
    const message = `response over ${this.limitBytes / MIB} MiB (${item.bytes} bytes on the wire)`;
    if (item.id === null) throw new Error(`${message}; JSON-RPC id not found`);
    return { jsonrpc: '2.0', id: item.id, error: { code: OVERSIZE_CODE, message } };
  }

  clear() {
    this.ready = [];
    this.resetLine();
  }
}

/** Finds the JSON-RPC id of a response from the start or the end of its line. */
function findJsonRpcId(head, tail) {
  // {"jsonrpc":"2.0","id":7,"result":...}  or  {"id":7,...}
  const h = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(\d+|"[^"]*")/.exec(head);
  if (h) return JSON.parse(h[1]);
  // {"result":...,"jsonrpc":"2.0","id":7}  (key order of JSON.stringify in the SDK servers)
  const t = /"id"\s*:\s*(\d+|"[^"]*")\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0"\s*)?\}\s*$/.exec(tail);
  if (t) return JSON.parse(t[1]);
  return null;
}

/**
 * The SDK's StdioClientTransport, with the read buffer swapped for
 * LimitedLineBuffer and the child's exit code/signal recorded. Spawning,
 * stdin/stdout framing and shutdown are the SDK's own code.
 */
class MeasuredStdioTransport extends StdioClientTransport {
  constructor(params, { limitBytes, onOversize }) {
    super(params);
    // Relies on a private field of SDK 1.x (checked, so an SDK upgrade that
    // renames it fails loudly instead of silently measuring something else).
    if (!('_readBuffer' in this)) {
      throw new Error('StdioClientTransport internals changed: no _readBuffer to replace');
    }
    this._readBuffer = new LimitedLineBuffer(limitBytes, onOversize);
    this.exit = null;
  }

  async start() {
    await super.start();
    // _process is the ChildProcess the SDK spawned (private in 1.x).
    this._process?.once('exit', (code, signal) => {
      this.exit = { code, signal };
    });
  }
}

/** Node version of a node binary, e.g. "v20.20.2" (or "?" if it cannot run). */
export function nodeVersionOf(nodeBinary) {
  try {
    return execFileSync(nodeBinary, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return '?';
  }
}

/** Reads VmRSS and VmHWM (kB) of a pid; null once the process is gone. */
export function readRssKb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return { rssKb: rss ? Number(rss[1]) : 0, hwmKb: hwm ? Number(hwm[1]) : 0 };
  } catch {
    return null;
  }
}

/** Sum of UTF-8 bytes of all `content` items of type "text" (what a model reads). */
export function textBytesOf(result) {
  let bytes = 0;
  for (const item of result?.content ?? []) {
    if (item?.type === 'text' && typeof item.text === 'string') {
      bytes += Buffer.byteLength(item.text, 'utf8');
    }
  }
  return bytes;
}

export function textOf(result) {
  return (result?.content ?? [])
    .filter((item) => item?.type === 'text' && typeof item.text === 'string')
    .map((item) => item.text)
    .join('\n');
}

/**
 * One stderr line, shortened for a report: a JSON log line (pino and the
 * like) becomes its `msg` and error message, anything else its first 200
 * characters.
 */
export function summarizeLogLine(line) {
  const text = line.trim();
  if (text.startsWith('{')) {
    try {
      const entry = JSON.parse(text);
      if (typeof entry.msg === 'string') {
        const err = entry.err?.message ?? entry.error?.message;
        return `${entry.msg}${err ? `: ${err}` : ''}`.slice(0, 200);
      }
    } catch {
      // not JSON after all
    }
  }
  return text.slice(0, 200);
}

export class McpDriver {
  /**
   * Spawns and connects a server. Throws (with the server's stderr tail) if it
   * cannot start; callers record that as a failure.
   * @param {object} spec
   * @param {string} spec.name label for messages
   * @param {string} spec.command absolute path of the node binary
   * @param {string[]} spec.args script path first, then the server's flags
   * @param {Record<string,string>} [spec.env] full environment for the child
   * @param {string} [spec.cwd]
   * @param {number} [spec.limitBytes]
   * @param {number} [spec.timeoutMs] per-call timeout
   * @param {number} [spec.startTimeoutMs] connect + tools/list timeout
   */
  static async start(spec) {
    const driver = new McpDriver(spec);
    try {
      await driver.connect();
    } catch (error) {
      const exit = driver.exitDescription();
      await driver.close();
      // One line: the error, how the process ended, the first stderr line
      // (usually the reason: a usage error, an unsupported DSN) and, if
      // different, the last one (usually where a stack trace ends).
      const first = driver.stderrFirstLine();
      const last = summarizeLogLine(driver.stderrTail().trim().split('\n').pop() ?? '');
      const stderr = first
        ? `; stderr: ${first}${last && last !== first ? ` ... ${last}` : ''}`
        : '';
      const err = new Error(
        `${spec.name}: failed to start: ${error?.message ?? error} (${exit})${stderr}`,
      );
      err.cause = error;
      err.exit = exit;
      err.stderrFirstLine = first;
      throw err;
    }
    return driver;
  }

  constructor({
    name,
    command,
    args = [],
    env,
    cwd,
    limitBytes = DEFAULT_RESPONSE_LIMIT_BYTES,
    timeoutMs = DEFAULT_CALL_TIMEOUT_MS,
    startTimeoutMs = 30_000,
  }) {
    this.name = name;
    this.command = command;
    this.args = args;
    this.timeoutMs = timeoutMs;
    this.startTimeoutMs = startTimeoutMs;
    this.limitBytes = limitBytes;
    this.closing = false;
    this.closed = false;
    this.stderrChunks = [];
    this.stderrBytes = 0;
    this.stderrHead = '';
    this.peak = { hwmKb: 0, rssKb: 0 };
    this.inFlight = new Set();
    this.transport = new MeasuredStdioTransport(
      { command, args, env, cwd, stderr: 'pipe' },
      {
        limitBytes,
        onOversize: (bytes, id) => {
          this.lastOversizeBytes = bytes;
          // No id found: fail whatever is in flight rather than wait for the timeout.
          if (id === null) {
            const message = `response over ${limitBytes / MIB} MiB (${bytes} bytes on the wire)`;
            for (const ac of this.inFlight) ac.abort(new McpError(OVERSIZE_CODE, message));
          }
        },
      },
    );
    this.client = new Client({ name: 'sqlwarden-bench', version: '0.0.0' }, { capabilities: {} });
    this.client.onerror = () => {}; // errors surface through the calls themselves
  }

  async connect() {
    // Keep the first 4 KiB and the last 16 KiB of the server's stderr (shown
    // when it fails).
    this.transport.stderr?.on('data', (chunk) => {
      if (this.stderrHead.length < 4096) this.stderrHead += chunk.toString('utf8').slice(0, 4096);
      this.stderrChunks.push(chunk);
      this.stderrBytes += chunk.length;
      while (this.stderrBytes > 16_384 && this.stderrChunks.length > 1) {
        this.stderrBytes -= this.stderrChunks.shift().length;
      }
    });
    await this.client.connect(this.transport, { timeout: this.startTimeoutMs });
    this.pid = this.transport.pid;
    this.startPolling();
    const { tools } = await this.client.listTools(undefined, { timeout: this.startTimeoutMs });
    this.tools = tools;
    this.serverInfo = this.client.getServerVersion();
  }

  startPolling() {
    const poll = () => {
      const sample = readRssKb(this.pid);
      if (!sample) return;
      this.peak.hwmKb = Math.max(this.peak.hwmKb, sample.hwmKb);
      this.peak.rssKb = Math.max(this.peak.rssKb, sample.rssKb);
      this.currentRssKb = sample.rssKb;
    };
    poll();
    this.poller = setInterval(poll, RSS_POLL_MS);
    this.poller.unref();
  }

  /**
   * Starts a new peak-RSS window: resets the kernel's VmHWM for the pid
   * (writing 5 to /proc/<pid>/clear_refs) and the polled maximum. Returns
   * false if the kernel peak could not be reset (then VmHWM still includes
   * earlier work, and only the polled VmRSS maximum is window-accurate).
   */
  resetPeak() {
    let kernelReset = true;
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
    } catch {
      kernelReset = false;
    }
    const sample = readRssKb(this.pid);
    this.peak = kernelReset
      ? { hwmKb: sample?.hwmKb ?? 0, rssKb: sample?.rssKb ?? 0 }
      : { hwmKb: 0, rssKb: sample?.rssKb ?? 0 };
    this.kernelPeakReset = kernelReset;
    return kernelReset;
  }

  /** Peak RSS in MB (MiB) since start or the last resetPeak(). */
  peakRssMb() {
    const sample = readRssKb(this.pid);
    if (sample) {
      this.peak.rssKb = Math.max(this.peak.rssKb, sample.rssKb);
      if (this.kernelPeakReset !== false) this.peak.hwmKb = Math.max(this.peak.hwmKb, sample.hwmKb);
    }
    return Math.max(this.peak.hwmKb, this.peak.rssKb) / 1024;
  }

  /** True while the server process is running. */
  get alive() {
    return !this.closed && this.transport.exit === null && readRssKb(this.pid) !== null;
  }

  /** "exit code 1" / "signal SIGKILL" once the process has exited. */
  exitDescription() {
    const exit = this.transport.exit;
    if (!exit) return this.alive ? 'running' : 'gone';
    return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  }

  stderrTail() {
    return Buffer.concat(this.stderrChunks).toString('utf8');
  }

  /** The first non-empty stderr line, summarized (see summarizeLogLine), or ''. */
  stderrFirstLine() {
    const line = this.stderrHead.split('\n').find((l) => l.trim() !== '') ?? '';
    return summarizeLogLine(line);
  }

  /** The tool definition with this name, or undefined. */
  tool(name) {
    return this.tools?.find((t) => t.name === name);
  }

  /**
   * Calls one tool. Never throws: failures come back in the result.
   * @returns {Promise<{ok: boolean, isError: boolean, failure: string|null,
   *   message: string|null, textBytes: number, resultBytes: number,
   *   durationMs: number, result?: object}>}
   *   ok: the call returned a result that is not isError.
   *   failure: null, or one of Failure.* ("error" covers isError results too).
   *   textBytes: UTF-8 bytes of the text content items.
   *   resultBytes: bytes of the JSON of the whole result (close to the wire size).
   *   result: the raw result, only if options.keepResult.
   */
  async call(toolName, args, { keepResult = false } = {}) {
    const ac = new AbortController();
    this.inFlight.add(ac);
    const start = performance.now();
    try {
      const result = await this.client.callTool({ name: toolName, arguments: args }, undefined, {
        timeout: this.timeoutMs,
        signal: ac.signal,
      });
      const durationMs = performance.now() - start;
      const isError = result.isError === true;
      return {
        ok: !isError,
        isError,
        failure: isError ? Failure.ERROR : null,
        message: isError ? textOf(result).slice(0, 300) : null,
        textBytes: textBytesOf(result),
        resultBytes: Buffer.byteLength(JSON.stringify(result), 'utf8'),
        durationMs,
        ...(keepResult ? { result } : {}),
      };
    } catch (error) {
      const durationMs = performance.now() - start;
      return {
        ok: false,
        isError: false,
        failure: this.classify(error),
        message: String(error?.message ?? error).slice(0, 300),
        textBytes: 0,
        resultBytes: this.oversizeBytesOf(error) ?? 0,
        durationMs,
      };
    } finally {
      this.inFlight.delete(ac);
    }
  }

  oversizeBytesOf(error) {
    if (!(error instanceof McpError) || error.code !== OVERSIZE_CODE) return null;
    const m = /\((\d+) bytes on the wire\)/.exec(error.message);
    return m ? Number(m[1]) : null;
  }

  classify(error) {
    if (error instanceof McpError) {
      if (error.code === OVERSIZE_CODE) return Failure.OVERSIZE;
      if (error.code === ErrorCode.RequestTimeout) return Failure.TIMEOUT;
      if (error.code === ErrorCode.ConnectionClosed)
        return this.closing ? Failure.ERROR : Failure.CRASHED;
    }
    if (!this.closing && !this.alive) return Failure.CRASHED;
    return Failure.ERROR;
  }

  async close() {
    if (this.closed) return;
    this.closing = true;
    clearInterval(this.poller);
    try {
      await this.client.close();
    } catch {
      // already gone
    }
    try {
      await this.transport.close();
    } catch {
      // already gone
    }
    this.closed = true;
  }
}
