/**
 * The MCP face of a session: the SDK's low-level Server (its public API
 * only), whose tools/list shows the session only the tools it may call, and
 * whose tools/call routes every call through executeToolBoundary.
 * McpServer's tool registration is not used, because it would validate
 * arguments itself and answer unknown tools its own way, outside the
 * boundary.
 *
 * Errors (MCP 2025-11-25 and 2026-07-28): input-validation failures and every business
 * failure are tool results with isError, so a model can correct itself.
 * An unknown tool is a protocol error, JSON-RPC -32602 (InvalidParams), as
 * the spec says; the call still passes the boundary first, so it is audited
 * and spends nothing. (SDK 1.32's own McpServer folds both into isError;
 * this server does not use that path.)
 *
 * Resources (resources.ts, docs/resources.md): the schema of what the
 * session may read, each read a call of a built-in tool through the same
 * boundary.
 */
import { randomUUID } from 'node:crypto';
import {
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  type ElicitRequestFormParams,
  type ElicitResult,
  inputRequired,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type Tool,
} from '@modelcontextprotocol/server';
import {
  type AnyTool,
  annotationsFor,
  type BoundaryRequest,
  type ConfirmationPort,
  checkReadOnlyGate,
  ErrorEnvelopeSchema,
  executeToolBoundary,
  type SessionContext,
  type ToolCallResult,
  toolCapability,
} from '@sqlwarden/core';
import { z } from 'zod';
import manifest from '../package.json' with { type: 'json' };
import { CONFIRM_INPUT, type ConfirmationChannel, confirmationPort } from './confirm.js';
import { listResources, listResourceTemplates, readParams, readResource } from './resources.js';
import type { Runtime } from './runtime.js';

/** The version of @sqlwarden/runtime (every @sqlwarden package shares it), from its package.json. */
export const VERSION: string = manifest.version;

const INSTRUCTIONS = [
  'sqlwarden gives read access to SQL databases through a few tools.',
  'Call list_tables to see the tables you may read, describe_table before writing a query,',
  'and query_read to run one read-only statement. Put values in "params" (placeholders $1, $2',
  'on PostgreSQL sources, ? on MySQL, MariaDB and ODBC sources)',
  'instead of writing them into the SQL. Results are capped and say when they are truncated;',
  'a refused statement names the rule it broke.',
  'The same schema is also served as resources (schema://<source> and schema://<source>/<schema>.<table>).',
].join(' ');

/**
 * Every request method a server of createMcpServer answers: its own and the
 * SDK's (the handshake, ping, discovery, subscriptions). Any other is "Method
 * not found"; over HTTP, a 2026-07-28 request for one is answered 404 before
 * the SDK (the fallback handler that takes tools/call would otherwise answer
 * it in-band, on 200).
 */
export const MCP_METHODS: readonly string[] = Object.freeze([
  'initialize',
  'ping',
  'server/discover',
  'subscriptions/listen',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
]);

const descriptors = new WeakMap<AnyTool, Tool>();

/**
 * A tool's advertised output schema: its result, or the error envelope. MCP
 * clients validate structuredContent against it on every result, errors
 * included, and failures carry structuredContent.error (docs/architecture.md).
 */
function outputSchemaOf(schema: z.ZodType): Tool['outputSchema'] {
  const { $schema, ...union } = z.toJSONSchema(z.union([schema, ErrorEnvelopeSchema]), {
    io: 'output',
  });
  return { $schema, type: 'object', ...union } as Tool['outputSchema'];
}

/** The tools/list entry of a tool: JSON Schemas from its zod schemas, annotations from its kind. */
export function describeTool(tool: AnyTool): Tool {
  let descriptor = descriptors.get(tool);
  if (descriptor === undefined) {
    descriptor = {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: z.toJSONSchema(tool.inputSchema, { io: 'input' }) as Tool['inputSchema'],
      ...(tool.outputSchema !== undefined && { outputSchema: outputSchemaOf(tool.outputSchema) }),
      annotations: { ...annotationsFor(tool.kind, tool.title) },
    };
    descriptors.set(tool, descriptor);
  }
  return descriptor;
}

/**
 * The tools a session may call: granted `tool:<name>`, and no write tool when
 * the session or the server is read-only or the writes switch is off.
 */
export async function visibleTools(runtime: Runtime, session: SessionContext): Promise<AnyTool[]> {
  const visible: AnyTool[] = [];
  for (const tool of runtime.registry.list()) {
    // The boundary's own read-only gate: a tool it would refuse is not listed.
    if (!checkReadOnlyGate(tool, session, runtime.deps).ok) continue;
    const decision = await runtime.deps.authorizer.authorize({
      session,
      tool: tool.name,
      required: [toolCapability(tool.name)],
    });
    if (decision.ok) visible.push(tool);
  }
  return visible;
}

const CallParamsSchema = z.looseObject({
  name: z.string(),
  arguments: z.record(z.string(), z.unknown()).optional(),
});

/** tools/call's params, or -32602 naming what is wrong (never echoing a value). */
function callParams(params: unknown): z.output<typeof CallParamsSchema> {
  const parsed = CallParamsSchema.safeParse(params);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = ['params', ...(issue?.path ?? [])].join('.');
  const what =
    path === 'params.arguments'
      ? 'must be an object of named arguments (or left out)'
      : path === 'params.name'
        ? 'must be the name of a tool (a string)'
        : 'is not valid';
  throw new ProtocolError(
    ProtocolErrorCode.InvalidParams,
    `Invalid tools/call request: ${path} ${what}.`,
  );
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export interface McpServerOptions {
  /**
   * The client must have sent initialize on this server before anything
   * else (MCP 2025-11-25 on a connection: stdio). Off for a 2026-07-28
   * request (stateless: version and client in every request's _meta) and for
   * a 2025-11-25 request over stateless HTTP (a fresh server per request,
   * the version in the MCP-Protocol-Version header).
   */
  readonly handshake?: boolean;
  /**
   * The transport's own signal for this exchange (over HTTP: the client's
   * connection). A call or read stops when it or the request's signal
   * aborts, so a client gone before the SDK wired its cancellation runs
   * nothing in the database.
   */
  readonly signal?: AbortSignal;
}

/** The first protocol revision whose results can ask the client for input (input_required). */
const INPUT_REQUESTS_SINCE = '2026-07-28';

/** Whether declared elicitation capabilities include form mode (an empty object means form). */
function asksForms(elicitation: ClientCapabilities['elicitation']): boolean {
  if (elicitation === undefined || elicitation === null) return false;
  const modes = elicitation as { form?: unknown; url?: unknown };
  return modes.form !== undefined || modes.url === undefined;
}

/**
 * How this request's client can put a question to its user: on 2026-07-28
 * an input request, if the request's capabilities declare elicitation; on
 * 2025-11-25 elicitation/create, only on a connection (stdio) whose client
 * declared it at initialize. Stateless HTTP on 2025-11-25 cannot send the
 * client anything.
 */
function confirmationChannel(
  server: Server,
  handshake: boolean,
  ctx: { readonly mcpReq: { readonly envelope?: unknown } },
  protocolVersion: string | undefined,
): ConfirmationChannel {
  const none = (why: string): ConfirmationChannel => ({
    kind: 'none',
    message: `This write needs a person to confirm it, and ${why}; nothing was written. Use a client that can ask its user: MCP 2026-07-28 with the elicitation capability (or elicitation over stdio on 2025-11-25).`,
  });
  if (protocolVersion !== undefined && protocolVersion >= INPUT_REQUESTS_SINCE) {
    const declared = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[
      CLIENT_CAPABILITIES_META_KEY
    ] as ClientCapabilities | undefined;
    return asksForms(declared?.elicitation)
      ? { kind: 'input-request' }
      : none('this client did not declare the elicitation capability (form)');
  }
  if (!handshake) {
    return none('on MCP 2025-11-25 over HTTP the server cannot send the client a question');
  }
  return asksForms(server.getClientCapabilities()?.elicitation)
    ? { kind: 'elicitation' }
    : none('this client did not declare the elicitation capability at initialize');
}

/**
 * Requests before the handshake are refused (MCP 2025-11-25: the client
 * sends initialize first; until the server has answered it, only pings).
 * Without this, a tools/call sent first ran and answered rows.
 */
function assertInitialized(server: Server, handshake: boolean) {
  if (handshake && server.getClientVersion() === undefined) {
    throw new ProtocolError(
      ProtocolErrorCode.InvalidRequest,
      'The session is not initialized: send initialize (and notifications/initialized) first.',
    );
  }
}

/**
 * One MCP server for a session, on SDK v2: the same instance answers a
 * 2025-11-25 client (initialize, then requests) and a 2026-07-28 one
 * (stateless requests, server/discover), the SDK shaping each era's
 * envelope (resultType, ttlMs, cacheScope, serverInfo in _meta).
 */
export function createMcpServer(
  runtime: Runtime,
  session: SessionContext,
  options: McpServerOptions = {},
): Server {
  const handshake = options.handshake ?? true;
  const transportSignal = options.signal;
  // AbortSignal.any, whose sources hold the combined signal weakly: a join
  // by listeners of our own (strong references from both sources) made the
  // 300 s soak's replica grow from 185 to 725 MiB, where this one holds a
  // plateau (docs/deployment.md).
  const signalOf = (request: AbortSignal): AbortSignal =>
    transportSignal === undefined ? request : AbortSignal.any([request, transportSignal]);
  const server = new Server(
    { name: runtime.config.server.name, title: 'sqlwarden', version: VERSION },
    {
      capabilities: {
        tools: { listChanged: false },
        resources: { subscribe: false, listChanged: false },
      },
      instructions: INSTRUCTIONS,
    },
  );
  server.setRequestHandler('tools/list', async () => {
    assertInitialized(server, handshake);
    return { tools: (await visibleTools(runtime, session)).map(describeTool) };
  });
  server.setRequestHandler('resources/list', async (_request, ctx) => {
    assertInitialized(server, handshake);
    return { resources: await listResources(runtime, session, signalOf(ctx.mcpReq.signal)) };
  });
  server.setRequestHandler('resources/templates/list', async () => {
    assertInitialized(server, handshake);
    return { resourceTemplates: await listResourceTemplates(runtime, session) };
  });
  // tools/call and resources/read are answered by the server's public
  // fallbackRequestHandler (the handler of every method without a handler of
  // its own), so the request reaches callParams (readParams) unparsed: a
  // malformed call is -32602 naming the field, where the low-level Server's own tools/call validation would
  // answer -32603 with zod's dump, and the SDK does not parse the call and
  // its result again with zod to check what the boundary already did. No
  // SDK internals are reached into.
  server.fallbackRequestHandler = async (request, ctx) => {
    if (request.method === 'resources/read') {
      assertInitialized(server, handshake);
      const { uri } = readParams(request.params);
      return readResource(runtime, session, uri, signalOf(ctx.mcpReq.signal));
    }
    if (request.method !== 'tools/call') {
      throw new ProtocolError(ProtocolErrorCode.MethodNotFound, 'Method not found');
    }
    assertInitialized(server, handshake);
    const params = callParams(request.params);
    const protocolVersion =
      stringOf(
        (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[PROTOCOL_VERSION_META_KEY],
      ) ?? server.getNegotiatedProtocolVersion();
    const signal = signalOf(ctx.mcpReq.signal);
    const runCall = (confirmation: ConfirmationPort | undefined): Promise<ToolCallResult> => {
      const call: BoundaryRequest = {
        requestId: randomUUID(),
        context: session,
        tool: params.name,
        input: params.arguments ?? {},
        signal,
        ...(confirmation !== undefined && { confirmation }),
      };
      // Telemetry off: one check, nothing read or allocated for it (docs/observability.md).
      const telemetry = runtime.telemetry;
      return telemetry === undefined
        ? executeToolBoundary(call, runtime.deps)
        : telemetry.toolCall(
            {
              tool: runtime.registry.get(params.name) === undefined ? undefined : params.name,
              session,
              requestId: call.requestId,
              id: ctx.mcpReq.id,
              meta: ctx.mcpReq._meta ?? (params._meta as Record<string, unknown> | undefined),
              headers: ctx.http?.req?.headers,
              protocolVersion,
            },
            (observer) => executeToolBoundary({ ...call, observer }, runtime.deps),
          );
    };
    // Writes a person confirms (confirm.ts, docs/governance.md): the call
    // ends once the dry run ran and the question is ready, holding nothing;
    // the answer comes with a call of its own, which runs the boundary anew.
    const codec = runtime.confirmations;
    const channel = confirmationChannel(server, handshake, ctx, protocolVersion);
    const echoed: unknown = ctx.mcpReq.requestState();
    const port =
      codec === undefined
        ? undefined
        : confirmationPort(codec, {
            channel,
            principalId: session.principalId,
            tool: params.name,
            ...(typeof echoed === 'string' && { state: echoed }),
            ...(ctx.mcpReq.inputResponses !== undefined && {
              responses: ctx.mcpReq.inputResponses,
            }),
          });
    let result = await runCall(port);
    const pending = result.isError ? undefined : port?.pending();
    if (codec !== undefined && pending !== undefined) {
      if (channel.kind === 'input-request') {
        // MCP 2026-07-28: the client asks its user and calls again with the
        // answer and this state (the SDK client does it on its own).
        return inputRequired({
          inputRequests: {
            [CONFIRM_INPUT]: inputRequired.elicit({
              message: pending.message,
              requestedSchema:
                pending.requestedSchema as ElicitRequestFormParams['requestedSchema'],
            }),
          },
          requestState: pending.state,
        }) as unknown as CallToolResult;
      }
      // MCP 2025-11-25 on a connection whose client declared elicitation:
      // asked here with elicitation/create (the boundary's call has ended,
      // so nothing is held while the person thinks), then the call runs
      // again with the answer. A failed or timed-out question is a cancel.
      const answer = await server
        .elicitInput(
          {
            mode: 'form',
            message: pending.message,
            requestedSchema: pending.requestedSchema as ElicitRequestFormParams['requestedSchema'],
          },
          { timeout: codec.ttlMs, signal },
        )
        .catch((): ElicitResult => ({ action: 'cancel' }));
      result = await runCall(
        confirmationPort(codec, {
          channel,
          principalId: session.principalId,
          tool: params.name,
          state: pending.state,
          responses: { [CONFIRM_INPUT]: answer },
        }),
      );
    }
    const error = result.isError
      ? (result.structuredContent as { error?: { code?: string } }).error
      : undefined;
    if (error?.code === 'UNKNOWN_TOOL') {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        'Unknown tool: call tools/list to see the tools you can use.',
      );
    }
    return result as unknown as CallToolResult;
  };
  return server;
}
