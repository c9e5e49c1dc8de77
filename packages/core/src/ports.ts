import type { ErrorCode } from './errors.js';
import type { SessionContext, Transport } from './session.js';
import type { AppliedColumnPolicy, ToolKind } from './tool.js';

/**
 * The ports the boundary calls. `@sqlwarden/security` implements them; core
 * only states the contract. Each returns a decision value; a port that
 * throws is treated by the boundary as a denial (`INTERNAL`), never as an
 * allow.
 */

export interface AuthorizationRequest {
  readonly session: SessionContext;
  readonly tool: string;
  /** Every capability the call needs, `tool:<name>` first. All must be granted. */
  readonly required: readonly string[];
}

export type AuthorizationDecision =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: 'FORBIDDEN';
      readonly message: string;
      /** The first required capability not granted: for the audit record, never for the client. */
      readonly missing: string;
    };

export interface Authorizer {
  authorize(request: AuthorizationRequest): AuthorizationDecision | Promise<AuthorizationDecision>;
}

export interface QuotaRequest {
  readonly principalId: string;
  readonly tool: string;
  /**
   * The tool's kind. A gate may let read-only tools through when its store
   * is down (an explicit option); without a kind it must treat the call as
   * a write.
   */
  readonly kind?: ToolKind;
}

export interface QuotaLease {
  /** Gives the concurrency slots back. Idempotent; the boundary calls it on every path. */
  release(): void | Promise<void>;
}

export type QuotaDecision =
  | { readonly ok: true; readonly lease: QuotaLease }
  | {
      readonly ok: false;
      readonly code: 'RATE_LIMITED' | 'CONCURRENCY_LIMITED' | 'QUOTA_UNAVAILABLE';
      readonly message: string;
      readonly retryAfterMs: number;
    };

export interface QuotaGate {
  acquire(request: QuotaRequest): Promise<QuotaDecision>;
}

/** The boundary stage that decided a call. */
export const STAGES = [
  'context',
  'lookup',
  'input',
  'readOnly',
  'authorization',
  'quota',
  'execute',
  'audit',
] as const;
export type Stage = (typeof STAGES)[number];

/**
 * What became of a write's confirmation, for the audit record: requested
 * (the dry run ran, the human is asked), accepted, declined (or cancelled),
 * refused (the client cannot ask: CONFIRMATION_REQUIRED), invalid (a
 * confirmation that was changed, expired, used or for another call).
 */
export const CONFIRMATION_OUTCOMES = [
  'requested',
  'accepted',
  'declined',
  'refused',
  'invalid',
] as const;
export type ConfirmationOutcome = (typeof CONFIRMATION_OUTCOMES)[number];

/**
 * One audit record per call, allowed or denied. Every field has a closed
 * shape: there is no free-text field, so SQL text, parameter values and
 * credentials have no place to go. Sinks must still drop anything else a
 * caller passes (see `@sqlwarden/security`'s redaction).
 */
export interface AuditEvent {
  readonly event: 'tool_call';
  readonly requestId: string;
  readonly sessionId?: string;
  readonly principalId?: string;
  readonly transport?: Transport;
  /** Only names of registered tools; an unknown name is never recorded. */
  readonly tool?: string;
  readonly decision: 'allow' | 'deny' | 'error';
  /** Absent when the call succeeded. */
  readonly code?: ErrorCode;
  readonly stage: Stage;
  readonly fp?: string;
  readonly source?: string;
  readonly rows?: number;
  readonly truncated?: boolean;
  /** Writes: committed, or rolled back (a dry run). Failed writes have a code instead. */
  readonly committed?: boolean;
  /** The capability the authorizer found missing. */
  readonly missing?: string;
  /** Writes a human confirms: what became of the confirmation (docs/governance.md). */
  readonly confirmation?: ConfirmationOutcome;
  /** The column policies that applied (table, column, action: never a value). */
  readonly columnPolicies?: readonly AppliedColumnPolicy[];
  /** Reads under the cost gate: the planner's estimate (also on a COST_LIMIT_EXCEEDED refusal). */
  readonly estimatedCost?: number;
  readonly estimatedRows?: number;
  readonly durationMs: number;
}

export interface AuditSink {
  /** Must not throw; if it does, the boundary withholds the result (`INTERNAL`). */
  record(event: AuditEvent): void;
}
