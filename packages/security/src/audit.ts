import {
  type AuditEvent,
  type AuditSink,
  CONFIRMATION_OUTCOMES,
  isErrorCode,
  isToolName,
  STAGES,
  TRANSPORTS,
} from '@sqlwarden/core';
import { type Logger, pino } from 'pino';
import { type LogDestination, resolveDestination, safeLoggerOptions } from './logger.js';

/**
 * The audit sink: one JSON line per tool call, allowed or denied, on pino.
 *
 * Redaction is by construction, not by pattern: `sanitizeAuditEvent` copies
 * only the fields an audit event has, each checked against a closed shape
 * (ids, tool names, a 12-hex fingerprint, counts, codes from the table).
 * There is no free-text field, so SQL text, parameter values or credentials
 * passed by a careless caller (as an extra field, or in place of an id) are
 * dropped or replaced, never written. Registered secret values are
 * scrubbed from the output bytes as well.
 */

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$/;
const FP = /^[0-9a-f]{12}$/;
const CAPABILITY = /^[\x21-\x7e]{1,256}$/;
const DECISIONS = ['allow', 'deny', 'error'] as const;
const REDACTED = '[redacted]';

export type SafeAuditEvent = Omit<AuditEvent, 'event'> & { readonly event: 'tool_call' };

function pick<T>(value: unknown, accept: (v: unknown) => v is T): T | undefined {
  return accept(value) ? value : undefined;
}

const isId = (v: unknown): v is string => typeof v === 'string' && ID.test(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isOneOf =
  <T extends string>(values: readonly T[]) =>
  (v: unknown): v is T =>
    typeof v === 'string' && (values as readonly string[]).includes(v);

export interface SanitizeOptions {
  /**
   * The registered tool names. When given, a `tool` field holding any other
   * name is dropped: a bare word can have a tool name's shape, so only the
   * registry can tell a tool from client text.
   */
  readonly tools?: ReadonlySet<string>;
}

/** A planner's estimate: a finite, non-negative number (costs have fractions). */
const isEstimate = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0;

// A column policy's names come from the configuration (governance.columns),
// never from a call; still, each is held to a bounded printable shape.
const POLICY_NAME = /^[^\p{Cc}]{1,300}$/u;
const MAX_POLICIES = 100;

/**
 * The column policies of a call: at most 100 entries of `{ table, column,
 * action }`; anything else (a value passed by mistake included) is dropped.
 */
function columnPolicies(value: unknown): Array<Record<string, string>> | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: Array<Record<string, string>> = [];
  for (const entry of value.slice(0, MAX_POLICIES)) {
    const { table, column, action } = (entry ?? {}) as Record<string, unknown>;
    if (typeof table !== 'string' || !POLICY_NAME.test(table)) continue;
    if (typeof column !== 'string' || !POLICY_NAME.test(column)) continue;
    if (action !== 'deny' && action !== 'mask') continue;
    out.push({ table, column, action });
  }
  return out.length === 0 ? undefined : out;
}

/** Copies the audit fields of `raw`, each only if it has its expected shape. */
export function sanitizeAuditEvent(raw: unknown, options: SanitizeOptions = {}): SafeAuditEvent {
  const source = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const get = (field: string) => (Object.hasOwn(source, field) ? source[field] : undefined);
  // An id that is present but malformed is replaced, so the record still shows it was there.
  const id = (field: string) => {
    const value = get(field);
    if (value === undefined) return undefined;
    return isId(value) ? value : REDACTED;
  };
  const durationMs = get('durationMs');
  const event: Record<string, unknown> = {
    event: 'tool_call',
    requestId: id('requestId') ?? REDACTED,
    sessionId: id('sessionId'),
    principalId: id('principalId'),
    transport: pick(get('transport'), isOneOf(TRANSPORTS)),
    tool: pick(
      get('tool'),
      (v): v is string => isToolName(v) && (options.tools === undefined || options.tools.has(v)),
    ),
    decision: pick(get('decision'), isOneOf(DECISIONS)) ?? 'error',
    code: pick(get('code'), isErrorCode),
    stage: pick(get('stage'), isOneOf(STAGES)) ?? 'audit',
    fp: pick(get('fp'), (v): v is string => typeof v === 'string' && FP.test(v)),
    source: id('source'),
    rows: pick(get('rows'), isCount),
    truncated: pick(get('truncated'), (v): v is boolean => typeof v === 'boolean'),
    committed: pick(get('committed'), (v): v is boolean => typeof v === 'boolean'),
    missing: pick(get('missing'), (v): v is string => typeof v === 'string' && CAPABILITY.test(v)),
    confirmation: pick(get('confirmation'), isOneOf(CONFIRMATION_OUTCOMES)),
    columnPolicies: columnPolicies(get('columnPolicies')),
    estimatedCost: pick(get('estimatedCost'), isEstimate),
    estimatedRows: pick(get('estimatedRows'), isEstimate),
    durationMs:
      typeof durationMs === 'number' && Number.isFinite(durationMs) && durationMs >= 0
        ? durationMs
        : 0,
  };
  for (const field of Object.keys(event)) if (event[field] === undefined) delete event[field];
  return event as SafeAuditEvent;
}

/** The human-readable `msg` of an audit line, e.g. `Query OK fp=3a1c9f82a2d1 rows=42`. */
export function auditMessage(event: SafeAuditEvent): string {
  const parts: string[] = [];
  if (event.decision === 'allow' && event.confirmation === 'requested') {
    parts.push('Write awaiting confirmation, dry run rolled back');
  } else if (event.decision === 'allow') {
    parts.push(
      event.committed === undefined
        ? event.fp === undefined
          ? 'Call OK'
          : 'Query OK'
        : event.committed
          ? 'Write committed'
          : 'Write dry run, rolled back',
    );
  } else {
    parts.push(event.decision === 'deny' ? 'Denied' : 'Failed', event.code ?? 'INTERNAL');
  }
  if (event.tool !== undefined && (event.fp === undefined || event.decision !== 'allow')) {
    parts.push(`tool=${event.tool}`);
  }
  if (event.fp !== undefined) parts.push(`fp=${event.fp}`);
  if (event.rows !== undefined) parts.push(`rows=${event.rows}`);
  if (event.confirmation !== undefined && event.confirmation !== 'requested') {
    parts.push(`confirmation=${event.confirmation}`);
  }
  if (event.decision !== 'allow') parts.push(`stage=${event.stage}`);
  return parts.join(' ');
}

export interface AuditSinkOptions {
  /** `'stderr'` (default), `{ file }`, or a pino destination stream. */
  readonly destination?: LogDestination;
  /** The registered tool names; see `SanitizeOptions.tools`. The runtime always passes them. */
  readonly tools?: Iterable<string>;
}

export interface PinoAuditSink extends AuditSink {
  readonly logger: Logger;
  /** Writes out everything buffered. */
  flush(): Promise<void>;
}

export function createAuditSink(options: AuditSinkOptions = {}): PinoAuditSink {
  const logger = pino(
    // No path redaction: every object this logger writes comes from
    // sanitizeAuditEvent's allow-list, which has no field for it to censor
    // (and it was the largest cost per call). Secret scrubbing stays on.
    safeLoggerOptions({ name: 'sqlwarden-audit', base: { kind: 'audit' }, redactPaths: false }),
    resolveDestination(options.destination),
  );
  const sanitize: SanitizeOptions =
    options.tools === undefined ? {} : { tools: new Set(options.tools) };
  return {
    logger,
    record(event: AuditEvent) {
      const safe = sanitizeAuditEvent(event, sanitize);
      logger.info(safe, auditMessage(safe));
    },
    flush: () =>
      new Promise<void>((resolve) => {
        logger.flush(() => resolve());
      }),
  };
}
