/**
 * Writes a human confirms, the runtime's half (docs/governance.md): the
 * confirmation state a client carries between the two calls, and the
 * per-request port the boundary asks (core's `ConfirmationPort`).
 *
 * The state (MCP 2026-07-28 `requestState`) round-trips through the client,
 * so it is attacker-controlled when it comes back (spec: basic/patterns/mrtr,
 * server requirements 4-5). It is signed, not encrypted:
 *
 *     "v1." b64url(JSON payload) "." b64url(HMAC-SHA-256(key, "sqlwarden.confirm.v1." + body))
 *
 * The payload holds the tool, the source, the fingerprint, the rows the
 * dry run changed (the ceiling of the write once accepted), an expiry and
 * a random nonce, plus a binding tag: a keyed HMAC of the principal, the
 * tool, the source, the exact statement text and the values. The text and
 * the values are never in the state itself, so it shows nothing the client
 * did not send, and a state minted for one call is refused for any other
 * (another statement, other values, another principal or tool). Checks
 * fail closed and compare in constant time. A state is answered once: its
 * nonce is spent in this process (a replica that did not mint it could
 * accept a replay within the expiry: docs/governance.md says so).
 *
 * The key is SQLWARDEN_CONFIRM_KEY (at least 32 characters, the same on
 * every replica behind one address) or, without it, a random key of this
 * process: enough for stdio and for one HTTP process.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { inputResponse } from '@modelcontextprotocol/server';
import type { ConfirmationAnswer, ConfirmationPort, ConfirmationRequest } from '@sqlwarden/core';
import type { Environment, Secret } from '@sqlwarden/security';

/** How long a person has to answer, by default: five minutes. */
export const DEFAULT_CONFIRMATION_TTL_MS = 5 * 60_000;
/** The environment variable of the shared key. */
export const CONFIRM_KEY_VARIABLE = 'SQLWARDEN_CONFIRM_KEY';
/** The shortest key accepted from the environment (256 bits of ASCII at most; the SDK asks the same). */
export const MIN_CONFIRM_KEY_LENGTH = 32;
/** The key of the confirmation in `inputRequests` / `inputResponses`. */
export const CONFIRM_INPUT = 'confirm';
/** A state longer than this is refused before any work. */
const MAX_STATE_LENGTH = 2048;
const MAC_LABEL = 'sqlwarden.confirm.v1.';
const BIND_LABEL = 'sqlwarden.confirm.bind\u0000';

/** What a confirmation is bound to: one principal's one call. */
export interface ConfirmationBinding {
  readonly principalId: string;
  readonly tool: string;
  readonly source: string;
  readonly statement: string;
  readonly params: readonly unknown[];
}

interface StatePayload {
  readonly v: 1;
  readonly tool: string;
  readonly source: string;
  readonly fp: string;
  readonly rows: number;
  /** Epoch milliseconds after which the state is refused. */
  readonly exp: number;
  readonly nonce: string;
  /** b64url HMAC of the binding. */
  readonly bind: string;
}

export type OpenedState =
  | { readonly ok: true; readonly rows: number }
  | {
      readonly ok: false;
      readonly reason: 'malformed' | 'mac' | 'expired' | 'binding' | 'used';
    };

export interface ConfirmationCodecOptions {
  /** The HMAC key (a string is UTF-8); at least 32 bytes. */
  readonly key: string | Uint8Array;
  /** How long a minted state is valid (default five minutes). */
  readonly ttlMs?: number;
  /** Epoch milliseconds (tests). */
  readonly now?: () => number;
}

export interface ConfirmationCodec {
  readonly ttlMs: number;
  /** Seals a confirmation of `binding`, whose dry run changed `rows`. */
  mint(binding: ConfirmationBinding, facts: { readonly fp: string; readonly rows: number }): string;
  /**
   * Checks an echoed state against the call it comes back with: its MAC,
   * its expiry, its binding, and that it was not answered before (the nonce
   * is spent here). The rows the person was shown, or why not.
   */
  open(state: string, binding: ConfirmationBinding): OpenedState;
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createConfirmationCodec(options: ConfirmationCodecOptions): ConfirmationCodec {
  const key = typeof options.key === 'string' ? Buffer.from(options.key, 'utf8') : options.key;
  if (key.length < MIN_CONFIRM_KEY_LENGTH) {
    throw new RangeError(`the confirmation key must be at least ${MIN_CONFIRM_KEY_LENGTH} bytes`);
  }
  const ttlMs = options.ttlMs ?? DEFAULT_CONFIRMATION_TTL_MS;
  const now = options.now ?? Date.now;
  const mac = (body: string) => createHmac('sha256', key).update(MAC_LABEL).update(body).digest();
  const bindTag = (binding: ConfirmationBinding) =>
    createHmac('sha256', key)
      .update(BIND_LABEL)
      .update(
        JSON.stringify([
          binding.principalId,
          binding.tool,
          binding.source,
          binding.statement,
          binding.params,
        ]),
      )
      .digest();
  // Spent nonces until their state expires: a state is answered once.
  const spent = new Map<string, number>();
  const spend = (nonce: string, exp: number): boolean => {
    const at = now();
    for (const [seen, until] of spent) if (until <= at) spent.delete(seen);
    if (spent.has(nonce)) return false;
    spent.set(nonce, exp);
    return true;
  };

  return {
    ttlMs,
    mint(binding, facts) {
      const payload: StatePayload = {
        v: 1,
        tool: binding.tool,
        source: binding.source,
        fp: facts.fp,
        rows: facts.rows,
        exp: now() + ttlMs,
        nonce: b64url(randomBytes(16)),
        bind: b64url(bindTag(binding)),
      };
      const body = b64url(JSON.stringify(payload));
      return `v1.${body}.${b64url(mac(body))}`;
    },
    open(state, binding) {
      if (state.length > MAX_STATE_LENGTH) return { ok: false, reason: 'malformed' };
      const [version, body, signature, ...rest] = state.split('.');
      if (version !== 'v1' || body === undefined || signature === undefined || rest.length > 0) {
        return { ok: false, reason: 'malformed' };
      }
      if (!sameBytes(Buffer.from(signature, 'base64url'), mac(body))) {
        return { ok: false, reason: 'mac' };
      }
      const payload = parsePayload(body);
      if (payload === undefined) return { ok: false, reason: 'malformed' };
      if (now() >= payload.exp) return { ok: false, reason: 'expired' };
      const bound =
        payload.tool === binding.tool &&
        payload.source === binding.source &&
        sameBytes(Buffer.from(payload.bind, 'base64url'), bindTag(binding));
      if (!bound) return { ok: false, reason: 'binding' };
      if (!spend(payload.nonce, payload.exp)) return { ok: false, reason: 'used' };
      return { ok: true, rows: payload.rows };
    },
  };
}

/** The payload of a state whose MAC held; still checked field by field (fail closed). */
function parsePayload(body: string): StatePayload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const p = value as Partial<StatePayload> | null;
  if (
    p === null ||
    typeof p !== 'object' ||
    p.v !== 1 ||
    typeof p.tool !== 'string' ||
    typeof p.source !== 'string' ||
    typeof p.fp !== 'string' ||
    !Number.isSafeInteger(p.rows) ||
    (p.rows as number) < 0 ||
    !Number.isSafeInteger(p.exp) ||
    typeof p.nonce !== 'string' ||
    typeof p.bind !== 'string'
  ) {
    return undefined;
  }
  return p as StatePayload;
}

/**
 * SQLWARDEN_CONFIRM_KEY, checked with the configuration: absent is fine (a
 * random key of the process), shorter than 32 characters is a problem.
 * Read as a secret: scrubbed from every log line, should one ever hold it.
 */
export function checkConfirmKey(env: Environment, problems: string[]): Secret | undefined {
  const key = env.secret(CONFIRM_KEY_VARIABLE);
  if (key === undefined || key.reveal() === '') return undefined;
  if (Buffer.byteLength(key.reveal(), 'utf8') < MIN_CONFIRM_KEY_LENGTH) {
    problems.push(
      `${CONFIRM_KEY_VARIABLE}: must be at least ${MIN_CONFIRM_KEY_LENGTH} characters (a random string, the same on every replica)`,
    );
    return undefined;
  }
  return key;
}

/** The codec of a runtime: under the shared key, or a random key of this process. */
export function confirmationCodecOf(
  key: Secret | undefined,
  options: Omit<ConfirmationCodecOptions, 'key'> = {},
): ConfirmationCodec {
  return createConfirmationCodec({ ...options, key: key?.reveal() ?? randomBytes(32) });
}

/** How the person behind this request's client can be asked. */
export type ConfirmationChannel =
  /** MCP 2026-07-28: an input_required result carrying an elicitation. */
  | { readonly kind: 'input-request' }
  /** MCP 2025-11-25 on a connection (stdio), elicitation declared: elicitation/create. */
  | { readonly kind: 'elicitation' }
  /** Not at all: the write is refused with this message (CONFIRMATION_REQUIRED). */
  | { readonly kind: 'none'; readonly message: string };

/** What the person is asked, once the dry run has run. */
export interface PendingConfirmation {
  readonly state: string;
  readonly message: string;
  readonly requestedSchema: {
    readonly type: 'object';
    readonly properties: Record<string, Record<string, unknown>>;
    readonly required: string[];
  };
}

export interface RequestConfirmation {
  readonly channel: ConfirmationChannel;
  /** The state this request echoed (MCP requestState), if any. */
  readonly state?: string;
  /** The answers this request carries (MCP inputResponses), if any. */
  readonly responses?: Record<string, unknown>;
  readonly principalId: string;
  /** The tool the request names (the boundary asks only for a registered one). */
  readonly tool: string;
}

/**
 * The port of one tools/call request: reads the person's answer when the
 * request carries a state, or runs the dry run and prepares the question
 * (`pending()`) when the client can be asked, or answers unavailable.
 */
export function confirmationPort(
  codec: ConfirmationCodec,
  request: RequestConfirmation,
): ConfirmationPort & { pending(): PendingConfirmation | undefined } {
  let pending: PendingConfirmation | undefined;
  return {
    pending: () => pending,
    async confirm(write: ConfirmationRequest): Promise<ConfirmationAnswer> {
      const binding: ConfirmationBinding = {
        principalId: request.principalId,
        tool: request.tool,
        source: write.source,
        statement: write.statement,
        params: write.params,
      };
      if (typeof request.state === 'string') return answerOf(codec, request, binding);
      if (request.channel.kind === 'none') {
        return { status: 'unavailable', message: request.channel.message };
      }
      const rows = await write.dryRun();
      pending = {
        state: codec.mint(binding, { fp: write.fp, rows }),
        message: questionOf(write, rows, request.tool),
        requestedSchema: CONFIRM_SCHEMA,
      };
      return { status: 'pending', rows };
    },
  };
}

/**
 * The form the person answers: one checkbox, so an accept that does not
 * tick it is not a confirmation.
 */
const CONFIRM_SCHEMA: PendingConfirmation['requestedSchema'] = {
  type: 'object',
  properties: {
    confirm: {
      type: 'boolean',
      title: 'Run this write',
      description: 'Tick to run the write described above, once.',
      default: false,
    },
  },
  required: ['confirm'],
};

function answerOf(
  codec: ConfirmationCodec,
  request: RequestConfirmation,
  binding: ConfirmationBinding,
): ConfirmationAnswer {
  const response = inputResponse(request.responses, CONFIRM_INPUT);
  if (response.kind !== 'elicit') {
    return invalid(
      `The call carries a confirmation state but no answer to "${CONFIRM_INPUT}"; nothing was written. Call the tool again without the state to be asked anew.`,
    );
  }
  const opened = codec.open(request.state as string, binding);
  if (!opened.ok) return invalid(invalidMessage(opened.reason, codec.ttlMs));
  // Only an explicit accept with the box ticked runs the write; decline,
  // cancel and an accept without it do not.
  if (response.action === 'accept' && response.content?.confirm === true) {
    return { status: 'accepted', rows: opened.rows };
  }
  return { status: 'declined' };
}

const invalid = (message: string): ConfirmationAnswer => ({ status: 'invalid', message });

function invalidMessage(reason: Exclude<OpenedState, { ok: true }>['reason'], ttlMs: number) {
  const again = 'nothing was written. Call the tool again to be asked anew.';
  switch (reason) {
    case 'expired':
      return `The confirmation of this write has expired (a person has ${Math.round(ttlMs / 1000)} seconds to answer); ${again}`;
    case 'used':
      return `This confirmation was answered already (each is answered once); ${again}`;
    case 'binding':
      return `The confirmation sent is for another call (another statement, values, tool, source or principal); ${again}`;
    case 'malformed':
    case 'mac':
      return `The confirmation sent with this call was not issued by this server or was changed; ${again}`;
    default: {
      const never: never = reason;
      throw new TypeError(`Unknown reason ${String(never)}`);
    }
  }
}

const MAX_SHOWN_STATEMENT = 2000;
const MAX_SHOWN_VALUES = 1000;

function capped(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * What the person reads: the operation, the tables, the rows the dry run
 * changed, and the statement and values they came from (the client sent
 * them; they go back to it, never to a log).
 */
function questionOf(write: ConfirmationRequest, rows: number, tool: string): string {
  const count = `${rows} ${rows === 1 ? 'row' : 'rows'}`;
  const lines = [
    `Confirm a database write (tool ${tool}, source ${write.source}):`,
    `${write.operation} on ${write.tables.join(', ')}, changing ${count} (a dry run, rolled back).`,
    `Statement: ${capped(write.statement, MAX_SHOWN_STATEMENT)}`,
  ];
  if (write.params.length > 0) {
    lines.push(`Values: ${capped(JSON.stringify(write.params), MAX_SHOWN_VALUES)}`);
  }
  lines.push(
    `Accept to run it once; it is refused if it would then change more than ${count}. The question expires in a few minutes.`,
  );
  return lines.join('\n');
}
