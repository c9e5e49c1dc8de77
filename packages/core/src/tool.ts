import type { z } from 'zod';
import type { CostEstimate } from './adapter.js';
import type { Denial } from './decision.js';
import type { ExecutionLimits } from './limits.js';
import type { SessionContext } from './session.js';

export const TOOL_KINDS = ['read', 'write', 'introspect'] as const;
export type ToolKind = (typeof TOOL_KINDS)[number];

/**
 * MCP tool annotations. They are hints for clients (the spec says a client
 * must not trust them from an untrusted server), so they are derived from
 * the kind and cannot be set to contradict it.
 */
export interface ToolAnnotations {
  readonly title: string;
  readonly readOnlyHint: boolean;
  readonly destructiveHint: boolean;
  readonly idempotentHint: boolean;
  readonly openWorldHint: boolean;
}

export function annotationsFor(kind: ToolKind, title: string): ToolAnnotations {
  switch (kind) {
    case 'read':
    case 'introspect':
      // Reads run in read-only transactions against a closed set of sources.
      return {
        title,
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      };
    case 'write':
      return {
        title,
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      };
    default: {
      const never: never = kind;
      throw new TypeError(`Unknown tool kind ${String(never)}`);
    }
  }
}

/** Facts about a call that the audit record may hold: never SQL text or values. */
export interface AuditFacts {
  /** Fingerprint of the normalized statement: 12 lowercase hex characters. */
  readonly fp?: string;
  /** The source the call addressed. */
  readonly source?: string;
  /** The column policies that shaped the call (never a value). */
  readonly columnPolicies?: readonly AppliedColumnPolicy[];
}

/** A column policy that applied to a call: `schema.table` (`catalog.schema.table`), the column, the action. */
export interface AppliedColumnPolicy {
  readonly table: string;
  readonly column: string;
  readonly action: 'deny' | 'mask';
}

/** What the authorization stage asks the tool before a call runs. */
export interface RequirementContext {
  readonly session: SessionContext;
  readonly requestId: string;
}

/**
 * What a call needs, as capability strings (`tool:<name>` is added by the
 * boundary), plus what the tool worked out to know it (for example the
 * analysed statement) handed on to its handler so nothing is parsed twice.
 * A tool that cannot tell what a call needs returns a denial: fail closed.
 */
export type Requirement<TPrepared = undefined> =
  | {
      readonly ok: true;
      readonly capabilities: readonly string[];
      readonly prepared: TPrepared;
      readonly facts?: AuditFacts;
    }
  | (Denial & { readonly facts?: AuditFacts });

export interface ToolHandlerContext<TPrepared = undefined> {
  readonly session: SessionContext;
  readonly requestId: string;
  /** Aborted on client cancellation or when the call's time is up. Pass it to the adapter. */
  readonly signal: AbortSignal;
  /** Effective limits: the server's, lowered by the tool's. */
  readonly limits: ExecutionLimits;
  readonly prepared: TPrepared;
  /**
   * Whether the session holds a capability, asked of the same authorizer
   * that authorized the call; for filtering what a handler lists (tables
   * the principal may read). Any failure answers false.
   */
  isGranted(capability: string): Promise<boolean>;
  /**
   * Asks a human to confirm a write (sources.<id>.confirmWrites, a declared
   * tool's `confirm`; docs/governance.md). Answers `accepted` with the rows
   * the human was shown (run the write with that many as its ceiling), or
   * `pending` (the dry run ran, the human is being asked: return without
   * writing; the client calls again with the answer). Throws a
   * `SqlwardenError` when the write must not run: CONFIRMATION_DECLINED,
   * CONFIRMATION_REQUIRED (the client cannot ask), INVALID_INPUT (a
   * confirmation that was changed, has expired or is for another call).
   */
  confirm(request: ConfirmationRequest): Promise<ConfirmationGrant>;
}

/** The statement kinds a confirmation names. */
export type WriteOperation = 'INSERT' | 'UPDATE' | 'DELETE';

/**
 * A write a human is asked to confirm. The statement text and values are
 * bound into the confirmation (as a keyed hash) and shown to the human;
 * they are never logged or audited.
 */
export interface ConfirmationRequest {
  readonly source: string;
  /** The exact statement text the call sent (or the declared tool's). */
  readonly statement: string;
  readonly params: readonly unknown[];
  /** The statement's fingerprint (12 hex), for the audit record. */
  readonly fp: string;
  readonly operation: WriteOperation;
  /** The tables it writes: `schema.table` (`catalog.schema.table`). */
  readonly tables: readonly string[];
  /**
   * Runs the write as a dry run (rolled back) under the call's limits and
   * answers the rows it changed. Called only when the human is to be asked
   * now, never when the call carries the human's answer.
   */
  dryRun(): Promise<number>;
}

/** What a handler may go on with after `confirm`. */
export type ConfirmationGrant =
  | { readonly status: 'accepted'; readonly rows: number }
  | { readonly status: 'pending'; readonly rows: number };

/**
 * What the runtime answers the boundary for one confirmation (per protocol
 * era: an input request on MCP 2026-07-28, elicitation over stdio on
 * 2025-11-25, or unavailable). The boundary records it in the audit and
 * turns the refusals into codes.
 */
export type ConfirmationAnswer =
  | ConfirmationGrant
  | { readonly status: 'declined' }
  | { readonly status: 'unavailable'; readonly message: string }
  | { readonly status: 'invalid'; readonly message: string };

/** Asks for (or reads) the human's confirmation of one call's write: the runtime's, per request. */
export interface ConfirmationPort {
  confirm(request: ConfirmationRequest): Promise<ConfirmationAnswer>;
}

/** What a handler returns on success. */
export interface ToolOutcome {
  /** Compact text a model reads. */
  readonly text: string;
  /** Machine-readable result; validated against the tool's outputSchema when it has one. */
  readonly structuredContent?: Record<string, unknown>;
  /** Rows returned or affected, for the audit record. */
  readonly rows?: number;
  readonly truncated?: boolean;
  /** Writes: whether the change was committed (false: a dry run, rolled back). */
  readonly committed?: boolean;
  /** Reads under the cost gate: the planner's estimate, for the audit record. */
  readonly estimate?: CostEstimate;
}

export interface ToolDefinition<TInput = unknown, TPrepared = unknown> {
  /** `^[a-z][a-z0-9_]{0,63}$`: also the `tool:<name>` capability. */
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly kind: ToolKind;
  /** A zod object schema; the MCP input schema is generated from it. */
  readonly inputSchema: z.ZodType<TInput>;
  readonly outputSchema?: z.ZodType<Record<string, unknown>>;
  /** Limits this tool never exceeds; they can only lower the server's. */
  readonly limits?: Partial<ExecutionLimits>;
  requires(
    input: TInput,
    context: RequirementContext,
  ): Requirement<TPrepared> | Promise<Requirement<TPrepared>>;
  handler(input: TInput, context: ToolHandlerContext<TPrepared>): Promise<ToolOutcome>;
}

/** Any tool, as the registry stores them. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds tools of every input type.
export type AnyTool = ToolDefinition<any, any>;

/** Identity function that infers the input type from the schema. */
export function defineTool<TSchema extends z.ZodType, TPrepared = undefined>(
  tool: ToolDefinition<z.output<TSchema>, TPrepared> & { readonly inputSchema: TSchema },
): ToolDefinition<z.output<TSchema>, TPrepared> {
  return tool;
}

const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;

export interface ToolRegistry {
  /** The tool of that exact name, or undefined. Never consults the prototype chain. */
  get(name: string): AnyTool | undefined;
  has(name: string): boolean;
  list(): readonly AnyTool[];
  readonly size: number;
}

/**
 * An immutable registry. Names are checked (the name is also a capability and
 * an audit field, so it must be a plain identifier) and must be unique; the
 * registry and its tools are frozen, so nothing can add or swap a tool after
 * start-up.
 */
export function createToolRegistry(tools: Iterable<AnyTool>): ToolRegistry {
  const byName = new Map<string, AnyTool>();
  for (const tool of tools) {
    if (!TOOL_NAME.test(tool.name)) {
      throw new TypeError(
        `Tool name "${tool.name}" is invalid: use lowercase letters, digits and _ (at most 64 characters, starting with a letter)`,
      );
    }
    if (byName.has(tool.name)) throw new TypeError(`Tool "${tool.name}" is registered twice`);
    byName.set(tool.name, Object.freeze({ ...tool }));
  }
  const list = Object.freeze([...byName.values()]);
  return Object.freeze({
    get: (name: string) => (typeof name === 'string' ? byName.get(name) : undefined),
    has: (name: string) => typeof name === 'string' && byName.has(name),
    list: () => list,
    size: list.length,
  });
}

export function isToolName(value: unknown): value is string {
  return typeof value === 'string' && TOOL_NAME.test(value);
}

/** The capability that lets a principal call a tool: `tool:<name>` (the one place it is spelled). */
export function toolCapability(name: string): string {
  return `tool:${name}`;
}
