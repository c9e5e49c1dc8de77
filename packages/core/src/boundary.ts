import type { z } from 'zod';
import type { CostEstimate } from './adapter.js';
import { ALLOW, allowWith, type Decision, type Denial, deny, type Outcome } from './decision.js';
import { boundMessage, type ErrorPayload, normalizeError, SqlwardenError } from './errors.js';
import { type ExecutionLimits, resolveLimits } from './limits.js';
import type {
  AuditEvent,
  AuditSink,
  Authorizer,
  ConfirmationOutcome,
  QuotaGate,
  QuotaLease,
  Stage,
} from './ports.js';
import { errorResult, successResult, type ToolCallResult } from './result.js';
import { type SessionContext, validateSessionContext } from './session.js';
import {
  type AnyTool,
  type AuditFacts,
  type ConfirmationAnswer,
  type ConfirmationGrant,
  type ConfirmationPort,
  type ConfirmationRequest,
  type ToolOutcome,
  type ToolRegistry,
  toolCapability,
} from './tool.js';

/**
 * The execution boundary: the only way a tool runs.
 *
 * Stages, in this order (docs/architecture.md), each a named function below:
 *   1. context        validate the session context          SESSION_INVALID
 *   2. lookup         find the tool                         UNKNOWN_TOOL
 *   3. input          the tool's zod schema                 INVALID_INPUT
 *   4. readOnly       write tools vs read-only / switch off READ_ONLY, WRITES_DISABLED
 *   5. authorization  capabilities the call needs           FORBIDDEN (+ tool denials)
 *   6. quota          rate and concurrency                  RATE_LIMITED, CONCURRENCY_LIMITED,
 *                                                          QUOTA_UNAVAILABLE
 *   7. execute        the handler, with limits and a signal mapped codes
 *   8. audit          one event per call, on every path
 *
 * A stage that denies ends the call: nothing of a later stage runs. The order
 * is what the security suite (`tests/security/invariant.*`) pins: a denied
 * call never reaches a handler or an adapter, an unknown tool spends no
 * quota, read-only refuses writes before the authorizer is asked.
 *
 * A call's observer (`BoundaryRequest.observer`: the runtime's telemetry) is
 * told each stage as it starts and the audit event at the end; it sees
 * nothing the audit record does not hold and cannot change the call.
 *
 * Fails closed: a port that throws (authorizer, quota, tool `requires`) ends
 * the call with `INTERNAL`; nothing raw thrown by a handler reaches the
 * client; `executeToolBoundary` itself never rejects.
 */

export interface BoundaryRequest {
  /** Correlates the audit record; set by the runtime (an id, not client text). */
  readonly requestId: string;
  /** Untrusted until `checkSessionContext` has passed. */
  readonly context: unknown;
  /** The tool name the client asked for: untrusted. */
  readonly tool: unknown;
  /** The arguments the client sent: untrusted. */
  readonly input: unknown;
  /** Client cancellation (MCP `notifications/cancelled`). */
  readonly signal?: AbortSignal;
  /** Watches this call through the stages (telemetry); set by the runtime, never by a client. */
  readonly observer?: BoundaryObserver;
  /**
   * How a human is asked to confirm a write on this request's protocol era
   * (the runtime's, per request). Without one, a write that needs a
   * confirmation is refused (CONFIRMATION_REQUIRED): fail closed.
   */
  readonly confirmation?: ConfirmationPort;
}

/**
 * What a call's watcher is told (the runtime's telemetry, docs/observability.md):
 * each stage as it starts, in the boundary's order, then the call's audit
 * event once it was recorded. It sees only what the audit record holds
 * (the fingerprint, never SQL text or values). It can neither change nor
 * fail the call: what it throws is dropped.
 */
export interface BoundaryObserver {
  stage(stage: Stage): void;
  end(event: AuditEvent): void;
}

export interface BoundaryDeps {
  readonly registry: ToolRegistry;
  readonly authorizer: Authorizer;
  readonly quota: QuotaGate;
  readonly audit: AuditSink;
  /** The server's limits; tools can only lower them. */
  readonly limits: ExecutionLimits;
  /** Server-wide read-only mode: every write tool is refused. */
  readonly readOnly: boolean;
  /** The deployment's write switch (SQLWARDEN_ALLOW_WRITES). */
  readonly writesEnabled: boolean;
  /**
   * How long past `timeoutMs` the boundary waits for a handler before it
   * answers `QUERY_TIMEOUT` itself. The database's own statement timeout
   * should fire first; this is the backstop for a stalled connection.
   */
  readonly timeoutGraceMs?: number;
  /** Epoch milliseconds; for session expiry. */
  readonly now?: () => number;
  /**
   * Told about failures that became `INTERNAL` (a port or handler threw, an
   * output broke its schema, audit failed), so an operator can see them.
   * The error may hold driver text: whoever logs it must redact.
   */
  readonly onInternalError?: (error: unknown, where: { stage: Stage; requestId: string }) => void;
}

const DEFAULT_TIMEOUT_GRACE_MS = 1000;

/** What the audit record will say; filled in as the stages run. */
interface CallTrace {
  stage: Stage;
  session?: SessionContext;
  tool?: AnyTool;
  facts?: AuditFacts;
  missing?: string;
  outcome?: ToolOutcome;
  /** The cost gate's estimate, from the outcome or from a refusal. */
  estimate?: CostEstimate;
  /** What became of a write's confirmation, when the handler asked for one. */
  confirmation?: ConfirmationOutcome;
}

class InternalFailure extends Error {
  constructor(
    readonly stage: Stage,
    override readonly cause: unknown,
  ) {
    super(`internal failure in stage ${stage}`);
  }
}

export async function executeToolBoundary(
  request: BoundaryRequest,
  deps: BoundaryDeps,
): Promise<ToolCallResult> {
  const started = performance.now();
  const trace: CallTrace = { stage: 'context' };
  let payload: ErrorPayload | undefined;
  try {
    const decision = await runStages(request, deps, trace);
    if (!decision.ok) payload = toPayload(decision);
  } catch (error) {
    // A port threw: fail closed. The cause goes to the operator hook only.
    const stage = error instanceof InternalFailure ? error.stage : trace.stage;
    trace.stage = stage;
    report(deps, error instanceof InternalFailure ? error.cause : error, stage, request.requestId);
    payload = normalizeError(undefined);
  }
  return recordAudit(request, deps, trace, payload, started);
}

async function runStages(
  request: BoundaryRequest,
  deps: BoundaryDeps,
  trace: CallTrace,
): Promise<Decision> {
  trace.stage = 'context';
  observe(request, 'context');
  const session = checkSessionContext(request.context, deps.now?.() ?? Date.now());
  if (!session.ok) return session;
  trace.session = session.value;

  trace.stage = 'lookup';
  observe(request, 'lookup');
  const tool = lookupTool(deps.registry, request.tool);
  if (!tool.ok) return tool;
  trace.tool = tool.value;

  trace.stage = 'input';
  observe(request, 'input');
  const input = validateInput(tool.value, request.input);
  if (!input.ok) return input;

  trace.stage = 'readOnly';
  observe(request, 'readOnly');
  const gate = checkReadOnlyGate(tool.value, session.value, deps);
  if (!gate.ok) return gate;

  trace.stage = 'authorization';
  observe(request, 'authorization');
  const authorized = await authorizeCall(
    tool.value,
    input.value,
    session.value,
    request,
    deps,
    trace,
  );
  if (!authorized.ok) return authorized;

  trace.stage = 'quota';
  observe(request, 'quota');
  const lease = await acquireQuota(tool.value, session.value, deps);
  if (!lease.ok) return lease;

  trace.stage = 'execute';
  observe(request, 'execute');
  try {
    const limits = resolveLimits(deps.limits, tool.value.limits);
    const outcome = await executeHandler(
      tool.value,
      input.value,
      authorized.value,
      {
        session: session.value,
        request,
        limits,
        onConfirmation: (confirmation) => {
          trace.confirmation = confirmation;
        },
      },
      deps,
    );
    trace.estimate = outcome.ok ? outcome.value.estimate : outcome.estimate;
    if (!outcome.ok) return outcome;
    trace.outcome = outcome.value;
    return ALLOW;
  } finally {
    await releaseQuota(lease.value, deps, request.requestId);
  }
}

/** Stage 1. Fails closed on anything that is not a valid, unexpired context. */
export function checkSessionContext(raw: unknown, now: number): Outcome<SessionContext> {
  return validateSessionContext(raw, now);
}

/** Stage 2. Exact, own-property lookup: `__proto__` or `toString` are unknown tools like any other. */
export function lookupTool(registry: ToolRegistry, name: unknown): Outcome<AnyTool> {
  const tool = typeof name === 'string' ? registry.get(name) : undefined;
  if (tool === undefined) {
    return deny(
      'UNKNOWN_TOOL',
      'No tool of that name is available; call tools/list to see the tools you can use.',
    );
  }
  return allowWith(tool);
}

/** Stage 3. The tool's zod schema; the message lists what is wrong (at most five issues). */
export function validateInput(tool: AnyTool, input: unknown): Outcome<unknown> {
  const parsed = tool.inputSchema.safeParse(input);
  if (parsed.success) return allowWith(parsed.data);
  return deny('INVALID_INPUT', describeIssues(tool.name, parsed.error.issues));
}

function describeIssues(toolName: string, issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 5).map((issue) => {
    const path = issue.path.length === 0 ? 'arguments' : issue.path.map(String).join('.');
    return `${path}: ${issue.message}`;
  });
  const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : '';
  return `Invalid arguments for ${toolName}: ${shown.join('; ')}${more}.`;
}

/**
 * Stage 4. A write tool is refused while the server or the session is
 * read-only, or while the deployment's write switch is off, before the
 * authorizer is asked: read-only does not depend on grants being right.
 */
export function checkReadOnlyGate(
  tool: AnyTool,
  session: SessionContext,
  deps: Pick<BoundaryDeps, 'readOnly' | 'writesEnabled'>,
): Decision {
  if (tool.kind !== 'write') return ALLOW;
  if (deps.readOnly) {
    return deny('READ_ONLY', 'This server is read-only; write tools are refused.');
  }
  if (session.readOnly) {
    return deny('READ_ONLY', 'This session is read-only; write tools are refused.');
  }
  if (!deps.writesEnabled) {
    return deny(
      'WRITES_DISABLED',
      'Writes are switched off for this deployment; an operator must set SQLWARDEN_ALLOW_WRITES=true to enable them.',
    );
  }
  return ALLOW;
}

/**
 * Stage 5. Two questions, both default deny: may this principal call the tool
 * at all (`tool:<name>`), and does it hold every capability this particular
 * call needs (the tool's `requires`, e.g. `read:<source>:<schema>.<table>`).
 * The tool's own analysis only runs for principals allowed the tool, and a
 * tool that cannot tell what a call needs denies it.
 */
export async function authorizeCall(
  tool: AnyTool,
  input: unknown,
  session: SessionContext,
  request: BoundaryRequest,
  deps: Pick<BoundaryDeps, 'authorizer'>,
  trace: CallTrace,
): Promise<Outcome<unknown>> {
  const toolGrant = toolCapability(tool.name);
  const mayCall = await guarded('authorization', () =>
    deps.authorizer.authorize({ session, tool: tool.name, required: [toolGrant] }),
  );
  if (!mayCall.ok) {
    trace.missing = mayCall.missing;
    return deny('FORBIDDEN', forbiddenMessage(tool.name));
  }
  const requirement = await guarded('authorization', () =>
    tool.requires(input, { session, requestId: request.requestId }),
  );
  trace.facts = requirement.facts;
  if (!requirement.ok) return requirement;
  if (requirement.capabilities.length === 0) return allowWith(requirement.prepared);
  const granted = await guarded('authorization', () =>
    deps.authorizer.authorize({
      session,
      tool: tool.name,
      required: [toolGrant, ...requirement.capabilities],
    }),
  );
  if (!granted.ok) {
    trace.missing = granted.missing;
    return deny('FORBIDDEN', forbiddenMessage(tool.name));
  }
  return allowWith(requirement.prepared);
}

// The client is not told which capability is missing: that would let it map
// the grant table by probing. The audit record has it.
function forbiddenMessage(toolName: string): string {
  return `This call to ${toolName} needs access that your principal has not been granted; use the tools and tables you can see, or ask an operator for the grant.`;
}

/** Stage 6. Rate and concurrency; a grant holds concurrency slots until released. */
export async function acquireQuota(
  tool: AnyTool,
  session: SessionContext,
  deps: Pick<BoundaryDeps, 'quota'>,
): Promise<Outcome<QuotaLease>> {
  const decision = await guarded('quota', () =>
    deps.quota.acquire({ principalId: session.principalId, tool: tool.name, kind: tool.kind }),
  );
  if (!decision.ok) return deny(decision.code, decision.message, decision.retryAfterMs);
  return allowWith(decision.lease);
}

async function releaseQuota(lease: QuotaLease, deps: BoundaryDeps, requestId: string) {
  try {
    await lease.release();
  } catch (error) {
    report(deps, error, 'quota', requestId);
  }
}

interface ExecutionScope {
  readonly session: SessionContext;
  readonly request: BoundaryRequest;
  /** Told what became of a confirmation the handler asked for (for the audit record). */
  readonly onConfirmation?: (outcome: ConfirmationOutcome) => void;
  readonly limits: ExecutionLimits;
}

function grantChecker(
  authorizer: Authorizer,
  session: SessionContext,
  tool: string,
): (capability: string) => Promise<boolean> {
  return async (capability) => {
    try {
      return (await authorizer.authorize({ session, tool, required: [capability] })).ok;
    } catch {
      return false;
    }
  };
}

const NO_WAY_TO_CONFIRM =
  'This write needs a human to confirm it, and this call came without a way to ask one; nothing was written.';

/**
 * A handler's `confirm`: asks the request's confirmation port (none: there
 * is no way to ask, so the write is refused), records what became of it
 * for the audit, and turns every answer that must not lead to a write into
 * an error with its code. So a handler can only go on with an accepted
 * confirmation (write, under the rows the human was shown) or a pending
 * one (return without writing).
 */
function confirmer(
  port: ConfirmationPort | undefined,
  record: ((outcome: ConfirmationOutcome) => void) | undefined,
): (request: ConfirmationRequest) => Promise<ConfirmationGrant> {
  return async (request) => {
    const answer: ConfirmationAnswer =
      port === undefined
        ? { status: 'unavailable', message: NO_WAY_TO_CONFIRM }
        : await port.confirm(request);
    switch (answer.status) {
      case 'accepted':
        record?.('accepted');
        return answer;
      case 'pending':
        record?.('requested');
        return answer;
      case 'declined':
        record?.('declined');
        throw new SqlwardenError(
          'CONFIRMATION_DECLINED',
          'The person asked to confirm this write did not accept it; nothing was written.',
        );
      case 'unavailable':
        record?.('refused');
        throw new SqlwardenError('CONFIRMATION_REQUIRED', answer.message);
      case 'invalid':
        record?.('invalid');
        throw new SqlwardenError('INVALID_INPUT', answer.message);
      default: {
        const never: never = answer;
        throw new TypeError(`Unknown confirmation answer ${JSON.stringify(never)}`);
      }
    }
  };
}

/** What running a handler ends with: a refusal may carry the cost gate's estimate. */
type HandlerOutcome =
  | { readonly ok: true; readonly value: ToolOutcome }
  | (Denial & { readonly estimate?: CostEstimate });

/**
 * Stage 7. Runs the handler with the effective limits and a signal that is
 * aborted by client cancellation or, `timeoutGraceMs` after `timeoutMs`, by
 * the boundary's own deadline. Whatever the handler throws becomes a code;
 * only a `SqlwardenError`'s message (written by our code) reaches the client.
 */
export async function executeHandler(
  tool: AnyTool,
  input: unknown,
  prepared: unknown,
  scope: ExecutionScope,
  deps: Pick<BoundaryDeps, 'authorizer' | 'timeoutGraceMs' | 'onInternalError'>,
): Promise<HandlerOutcome> {
  const { request, limits } = scope;
  if (request.signal?.aborted) return cancelled(request, limits);
  // One controller for both causes: the boundary's deadline and the client's
  // cancellation (cheaper than AbortSignal.any, which this path would pay per call).
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new SqlwardenError('QUERY_TIMEOUT', 'deadline')),
    limits.timeoutMs + (deps.timeoutGraceMs ?? DEFAULT_TIMEOUT_GRACE_MS),
  );
  const onClientAbort = () => controller.abort(request.signal?.reason);
  request.signal?.addEventListener('abort', onClientAbort, { once: true });
  const signal = controller.signal;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<Denial>((resolve) => {
    onAbort = () => resolve(cancelled(request, limits));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const run = (async () =>
    tool.handler(input, {
      session: scope.session,
      requestId: request.requestId,
      signal,
      limits,
      prepared,
      isGranted: grantChecker(deps.authorizer, scope.session, tool.name),
      confirm: confirmer(request.confirmation, scope.onConfirmation),
    }))().then(
    (outcome) => checkOutcome(tool, outcome, deps, request.requestId),
    (error: unknown): HandlerOutcome => {
      if (SqlwardenError.is(error)) {
        const denial = toDenial(normalizeError(error));
        return error.estimate === undefined ? denial : { ...denial, estimate: error.estimate };
      }
      if (signal.aborted) return cancelled(request, limits);
      report(deps, error, 'execute', request.requestId);
      return toDenial(normalizeError(error));
    },
  );
  try {
    // A handler that ignores its signal cannot hold the call: the abort wins
    // the race, and the handler's eventual result is dropped.
    return await Promise.race([run, aborted]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    request.signal?.removeEventListener('abort', onClientAbort);
  }
}

function cancelled(request: BoundaryRequest, limits: ExecutionLimits): Denial {
  if (request.signal?.aborted) {
    return deny('QUERY_CANCELLED', 'The call was cancelled by the client before it finished.');
  }
  return deny(
    'QUERY_TIMEOUT',
    `The call ran past its time limit of ${limits.timeoutMs} ms and was cancelled; narrow it (a WHERE clause, fewer joins, a LIMIT) and try again.`,
  );
}

function checkOutcome(
  tool: AnyTool,
  outcome: unknown,
  deps: Pick<BoundaryDeps, 'onInternalError'>,
  requestId: string,
): Outcome<ToolOutcome> {
  const value = outcome as ToolOutcome | undefined;
  if (typeof value !== 'object' || value === null || typeof value.text !== 'string') {
    report(deps, new TypeError(`tool ${tool.name} returned no text`), 'execute', requestId);
    return toDenial(normalizeError(undefined));
  }
  if (tool.outputSchema !== undefined) {
    const parsed = tool.outputSchema.safeParse(value.structuredContent);
    if (!parsed.success) {
      report(
        deps,
        new TypeError(`tool ${tool.name} broke its output schema`),
        'execute',
        requestId,
      );
      return toDenial(normalizeError(undefined));
    }
  }
  return allowWith(value);
}

/** Stage 8. One event per call; if it cannot be written, the result is withheld. */
function recordAudit(
  request: BoundaryRequest,
  deps: BoundaryDeps,
  trace: CallTrace,
  payload: ErrorPayload | undefined,
  started: number,
): ToolCallResult {
  observe(request, 'audit');
  const event = buildAuditEvent(request, trace, payload, performance.now() - started);
  try {
    deps.audit.record(event);
  } catch (error) {
    report(deps, error, 'audit', request.requestId);
    observeEnd(request, event);
    return errorResult({
      code: 'INTERNAL',
      message: 'The call could not be audited, so its result is withheld.',
    });
  }
  observeEnd(request, event);
  if (payload !== undefined) return errorResult(payload);
  const outcome = trace.outcome as ToolOutcome;
  return successResult(outcome.text, outcome.structuredContent);
}

export function buildAuditEvent(
  request: BoundaryRequest,
  trace: CallTrace,
  payload: ErrorPayload | undefined,
  durationMs: number,
): AuditEvent {
  const { session, tool, facts, outcome } = trace;
  return {
    event: 'tool_call',
    requestId: request.requestId,
    ...(session && {
      sessionId: session.sessionId,
      principalId: session.principalId,
      transport: session.transport,
    }),
    ...(tool && { tool: tool.name }),
    decision: payload === undefined ? 'allow' : payload.code === 'INTERNAL' ? 'error' : 'deny',
    ...(payload && { code: payload.code }),
    stage: trace.stage,
    ...(facts?.fp !== undefined && { fp: facts.fp }),
    ...(facts?.source !== undefined && { source: facts.source }),
    ...(outcome?.rows !== undefined && { rows: outcome.rows }),
    ...(outcome?.truncated !== undefined && { truncated: outcome.truncated }),
    ...(outcome?.committed !== undefined && { committed: outcome.committed }),
    ...(trace.missing !== undefined && { missing: trace.missing }),
    ...(trace.confirmation !== undefined && { confirmation: trace.confirmation }),
    ...(facts?.columnPolicies !== undefined &&
      facts.columnPolicies.length > 0 && { columnPolicies: facts.columnPolicies }),
    ...(trace.estimate?.cost != null && { estimatedCost: trace.estimate.cost }),
    ...(trace.estimate !== undefined && { estimatedRows: trace.estimate.rows }),
    durationMs: Math.round(durationMs * 1000) / 1000,
  };
}

async function guarded<T>(stage: Stage, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw new InternalFailure(stage, error);
  }
}

function report(
  deps: Pick<BoundaryDeps, 'onInternalError'>,
  error: unknown,
  stage: Stage,
  requestId: string,
) {
  try {
    deps.onInternalError?.(error, { stage, requestId });
  } catch {
    // The operator hook must not turn a handled failure into a crash.
  }
}

/**
 * Tells the call's observer a stage starts. Without one (telemetry off) this
 * is one check; an observer that throws is ignored: watching a call must
 * never change its outcome.
 */
function observe(request: BoundaryRequest, stage: Stage) {
  if (request.observer === undefined) return;
  try {
    request.observer.stage(stage);
  } catch {
    // Telemetry is never a reason to fail a call.
  }
}

function observeEnd(request: BoundaryRequest, event: AuditEvent) {
  if (request.observer === undefined) return;
  try {
    request.observer.end(event);
  } catch {
    // As above.
  }
}

function toPayload(denial: Denial): ErrorPayload {
  const message = boundMessage(denial.message);
  return denial.retryAfterMs === undefined
    ? { code: denial.code, message }
    : { code: denial.code, message, retryAfterMs: denial.retryAfterMs };
}

function toDenial(payload: ErrorPayload): Denial {
  return deny(payload.code, payload.message, payload.retryAfterMs);
}
