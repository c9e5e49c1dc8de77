/**
 * The assembly the invariants run against: the real @sqlwarden/core boundary
 * with the real @sqlwarden/security policy, quota gate, audit sink and
 * logger. Only the tools and the adapter are fakes: small in-memory tools
 * and a recording adapter, so every side effect can be observed. The ports
 * are wrapped by recorders that delegate to the real implementations (they
 * observe calls; they decide nothing).
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  type AnyTool,
  type AuthorizationRequest,
  type BoundaryDeps,
  type ConfirmationPort,
  createToolRegistry,
  type DatabaseAdapter,
  DEFAULT_LIMITS,
  defineTool,
  type ExecutionLimits,
  executeToolBoundary,
  type QuotaRequest,
  type ReadRequest,
  type ReadResult,
  ReadResultSchema,
  SqlwardenError,
  type TableSummary,
  type ToolCallResult,
  type WriteRequest,
  type WriteResult,
} from '@sqlwarden/core';
import {
  CapabilityPolicy,
  createAuditSink,
  createLogger,
  createQuotaGate,
  MemoryQuotaStore,
  type QuotaPolicy,
  tableCapability,
} from '@sqlwarden/security';
import { Capture } from '@sqlwarden/testing';
import { z } from 'zod';

export { Capture };

export const SOURCE = 'demo';

type AdapterCall =
  | { method: 'listTables' | 'describeTable' | 'health' | 'close'; request?: unknown }
  | { method: 'read'; request: ReadRequest }
  | { method: 'write'; request: WriteRequest };

/** A database adapter that records every call and answers from memory. */
export class RecordingAdapter implements DatabaseAdapter {
  readonly dialect = 'postgres' as const;
  readonly source = SOURCE;
  readonly calls: AdapterCall[] = [];

  /** Every observable effect, in order, shared with the rest of the assembly. */
  constructor(readonly timeline: string[] = []) {}

  #record(call: AdapterCall) {
    this.calls.push(call);
    this.timeline.push(`adapter:${call.method}`);
  }
  /** Replace to change what a read does (hang, throw, observe the signal). */
  onRead: (request: ReadRequest) => Promise<ReadResult> = async () => ({
    columns: [{ name: 'id', type: 'int4' }],
    rows: [[1], [2]],
    rowCount: 2,
    truncated: false,
  });
  /** Rows a write would affect; over `maxAffectedRows` it is refused like a real adapter does. */
  rowsAffectedByWrite = 1;
  onWrite: ((request: WriteRequest) => Promise<WriteResult>) | undefined;
  tables: TableSummary[] = [
    { schema: 'public', name: 'orders', kind: 'table', estimatedRows: 10, comment: null },
    { schema: 'hr', name: 'salaries', kind: 'table', estimatedRows: 5, comment: null },
  ];

  async listTables(request: { signal: AbortSignal }) {
    this.#record({ method: 'listTables', request });
    return this.tables;
  }
  async describeTable(request: unknown) {
    this.#record({ method: 'describeTable', request });
    return null;
  }
  async read(request: ReadRequest) {
    this.#record({ method: 'read', request });
    return this.onRead(request);
  }
  async write(request: WriteRequest): Promise<WriteResult> {
    this.#record({ method: 'write', request });
    if (this.onWrite) return this.onWrite(request);
    if (this.rowsAffectedByWrite > request.maxAffectedRows) {
      throw new SqlwardenError(
        'WRITE_LIMIT_EXCEEDED',
        `The write would affect ${this.rowsAffectedByWrite} rows, over the ceiling of ${request.maxAffectedRows}; it was rolled back.`,
      );
    }
    return { affectedRows: this.rowsAffectedByWrite, committed: !request.dryRun };
  }
  async health() {
    this.#record({ method: 'health' });
    return { ok: true, latencyMs: 0 };
  }
  async close() {
    this.#record({ method: 'close' });
  }
}

/** A 12-hex fingerprint of the SQL text: a digest, never the text. */
function fakeFingerprint(sql: string): string {
  return createHash('sha256').update(sql).digest('hex').slice(0, 12);
}

const tableName = z.string().regex(/^[a-z_]+\.[a-z_]+$/, 'must be schema.table');

function tableRequirement(action: 'read' | 'write', table: string) {
  const [schema = '', name = ''] = table.split('.');
  const capability = tableCapability(action, SOURCE, schema, name);
  return capability === undefined ? [] : [capability];
}

/**
 * A stand-in for the SQL guard, so QUERY_REJECTED has a path here: the
 * fake read tool accepts only statements starting with SELECT, without `;`.
 */
function fakeGuard(sql: string) {
  return /^select\b/i.test(sql) && !sql.includes(';');
}

export interface ToolCalls {
  handlers: string[];
  timeline: string[];
}

function enter(calls: ToolCalls, tool: string) {
  calls.handlers.push(tool);
  calls.timeline.push(`handler:${tool}`);
}

export function fakeTools(adapter: RecordingAdapter, calls: ToolCalls): AnyTool[] {
  const fakeRead = defineTool({
    name: 'fake_read',
    title: 'Fake read',
    description: 'Reads a table through the recording adapter.',
    kind: 'read',
    inputSchema: z.strictObject({
      table: tableName,
      sql: z.string().min(1).max(10_000),
      params: z.array(z.unknown()).max(100).default([]),
    }),
    outputSchema: ReadResultSchema,
    requires: (input) => {
      const facts = { fp: fakeFingerprint(input.sql), source: SOURCE };
      if (!fakeGuard(input.sql)) {
        return { ok: false, code: 'QUERY_REJECTED', message: 'Only one SELECT is allowed.', facts };
      }
      return {
        ok: true,
        capabilities: tableRequirement('read', input.table),
        prepared: undefined,
        facts,
      };
    },
    handler: async (input, ctx) => {
      enter(calls, 'fake_read');
      const result = await adapter.read({
        sql: input.sql,
        params: input.params,
        limits: ctx.limits,
        signal: ctx.signal,
      });
      return {
        text: `${result.rowCount} rows`,
        structuredContent: result,
        rows: result.rowCount,
        truncated: result.truncated,
      };
    },
  });

  const fakeIntrospect = defineTool({
    name: 'fake_list',
    title: 'Fake list tables',
    description: 'Lists the tables the principal may read.',
    kind: 'introspect',
    inputSchema: z.strictObject({}),
    requires: () => ({
      ok: true,
      capabilities: [],
      prepared: undefined,
      facts: { source: SOURCE },
    }),
    handler: async (_input, ctx) => {
      enter(calls, 'fake_list');
      const tables = await adapter.listTables({ signal: ctx.signal });
      const visible: string[] = [];
      for (const table of tables) {
        const capability = tableCapability('read', SOURCE, table.schema, table.name);
        if (capability !== undefined && (await ctx.isGranted(capability))) {
          visible.push(`${table.schema}.${table.name}`);
        }
      }
      return {
        text: visible.join('\n'),
        structuredContent: { tables: visible },
        rows: visible.length,
      };
    },
  });

  const fakeWrite = defineTool({
    name: 'fake_write',
    title: 'Fake write',
    description: 'Writes a table through the recording adapter.',
    kind: 'write',
    inputSchema: z.strictObject({
      table: tableName,
      sql: z.string().min(1).max(10_000),
      params: z.array(z.unknown()).max(100).default([]),
      dryRun: z.boolean().default(false),
      /** Ask a human first, as a write on a source with confirmWrites does. */
      confirm: z.boolean().default(false),
    }),
    // A tool may ask for less than the server allows, never more.
    limits: { maxAffectedRows: 1_000_000 },
    requires: (input) => ({
      ok: true,
      capabilities: tableRequirement('write', input.table),
      prepared: undefined,
      facts: { fp: fakeFingerprint(input.sql), source: SOURCE },
    }),
    handler: async (input, ctx) => {
      enter(calls, 'fake_write');
      if (input.confirm && !input.dryRun) {
        const grant = await ctx.confirm({
          source: SOURCE,
          statement: input.sql,
          params: input.params,
          fp: fakeFingerprint(input.sql),
          operation: 'UPDATE',
          tables: [input.table],
          dryRun: async () => {
            const dry = await adapter.write({
              sql: input.sql,
              params: input.params,
              maxAffectedRows: ctx.limits.maxAffectedRows,
              timeoutMs: ctx.limits.timeoutMs,
              signal: ctx.signal,
              dryRun: true,
            });
            return dry.affectedRows;
          },
        });
        if (grant.status === 'pending') {
          return { text: `${grant.rows} rows would change: asked to confirm`, rows: 0 };
        }
      }
      const result = await adapter.write({
        sql: input.sql,
        params: input.params,
        maxAffectedRows: ctx.limits.maxAffectedRows,
        timeoutMs: ctx.limits.timeoutMs,
        signal: ctx.signal,
        dryRun: input.dryRun,
      });
      return {
        text: `${result.affectedRows} rows affected`,
        structuredContent: { ...result },
        rows: result.affectedRows,
      };
    },
  });

  return [fakeRead, fakeIntrospect, fakeWrite];
}

export const ROLES = {
  reader: ['tool:fake_read', 'tool:fake_list', `read:${SOURCE}:public.*`],
  writer: ['tool:fake_write', `write:${SOURCE}:public.*`],
};

export function sessionContext(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sessionId: `sess-${randomUUID()}`,
    principalId: 'alice',
    capabilities: [],
    roles: ['reader', 'writer'],
    transport: 'in-process',
    readOnly: false,
    ...overrides,
  };
}

export interface AssemblyOptions {
  readonly readOnly?: boolean;
  readonly writesEnabled?: boolean;
  readonly quota?: QuotaPolicy;
  readonly limits?: Partial<ExecutionLimits>;
  readonly timeoutGraceMs?: number;
}

export interface CallOptions {
  readonly context?: unknown;
  readonly signal?: AbortSignal;
  /** How a human confirms a write on this call (none: a confirmation is refused). */
  readonly confirmation?: ConfirmationPort;
}

export function assemble(options: AssemblyOptions = {}) {
  const timeline: string[] = [];
  const adapter = new RecordingAdapter(timeline);
  const toolCalls: ToolCalls = { handlers: [], timeline };
  const policy = new CapabilityPolicy({ roles: ROLES });
  const authorizerCalls: AuthorizationRequest[] = [];
  const quotaCalls: QuotaRequest[] = [];
  const store = new MemoryQuotaStore();
  const gate = createQuotaGate({
    policy: options.quota ?? {},
    store,
    concurrencyRetryAfterMs: 100,
  });
  const auditLog = new Capture();
  const operatorLog = new Capture();
  const registry = createToolRegistry(fakeTools(adapter, toolCalls));
  const audit = createAuditSink({
    destination: auditLog,
    tools: registry.list().map((tool) => tool.name),
  });
  const logger = createLogger({ destination: operatorLog });
  const deps: BoundaryDeps = {
    registry,
    authorizer: {
      authorize: (request) => {
        authorizerCalls.push(request);
        timeline.push('authorize');
        return policy.authorize(request);
      },
    },
    quota: {
      acquire: async (request) => {
        quotaCalls.push(request);
        timeline.push('quota');
        const decision = await gate.acquire(request);
        if (!decision.ok) return decision;
        return {
          ok: true,
          lease: {
            release: () => {
              timeline.push('release');
              return decision.lease.release();
            },
          },
        };
      },
    },
    audit: {
      record: (event) => {
        timeline.push('audit');
        audit.record(event);
      },
    },
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    readOnly: options.readOnly ?? false,
    writesEnabled: options.writesEnabled ?? true,
    timeoutGraceMs: options.timeoutGraceMs ?? 20,
    // What the runtime does with internal failures: log them, redacted.
    onInternalError: (error, where) => logger.error({ err: error, ...where }, 'internal failure'),
  };
  const call = (
    tool: unknown,
    input: unknown,
    callOptions: CallOptions = {},
  ): Promise<ToolCallResult> =>
    executeToolBoundary(
      {
        requestId: `req-${randomUUID()}`,
        context: 'context' in callOptions ? callOptions.context : sessionContext(),
        tool,
        input,
        signal: callOptions.signal,
        ...(callOptions.confirmation !== undefined && { confirmation: callOptions.confirmation }),
      },
      deps,
    );
  return {
    adapter,
    toolCalls,
    authorizerCalls,
    quotaCalls,
    store,
    timeline,
    auditLog,
    operatorLog,
    deps,
    call,
    /** The audit events written so far, parsed. */
    auditEvents: () => auditLog.lines(),
  };
}

export type Assembly = ReturnType<typeof assemble>;

/** The error part of a result, or undefined for a success. */
export function errorOf(
  result: ToolCallResult,
): { code: string; message: string; retryAfterMs?: number } | undefined {
  if (result.isError !== true) return undefined;
  return (
    result.structuredContent as { error: { code: string; message: string; retryAfterMs?: number } }
  ).error;
}

/** A valid input for each fake tool. */
export const VALID_INPUT = {
  fake_read: { table: 'public.orders', sql: 'SELECT id FROM public.orders' },
  fake_list: {},
  fake_write: {
    table: 'public.orders',
    sql: 'UPDATE public.orders SET status = $1 WHERE id = $2',
    params: ['shipped', 1],
  },
} as const;

export const TOOL_NAMES = Object.keys(VALID_INPUT) as Array<keyof typeof VALID_INPUT>;

/** Resolves once the adapter has received a read; for tests that act while a call is running. */
export function blockReads(adapter: RecordingAdapter) {
  let entered!: () => void;
  const started = new Promise<void>((resolve) => {
    entered = resolve;
  });
  let finish!: () => void;
  const gate = new Promise<void>((resolve) => {
    finish = resolve;
  });
  adapter.onRead = async (request) => {
    entered();
    await Promise.race([
      gate,
      new Promise((_resolve, reject) =>
        request.signal.addEventListener('abort', () =>
          reject(new Error('read aborted by its signal')),
        ),
      ),
    ]);
    return { columns: [], rows: [], rowCount: 0, truncated: false };
  };
  return { started, finish };
}
