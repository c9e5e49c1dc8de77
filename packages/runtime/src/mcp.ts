/**
 * The MCP face of a session: the SDK's low-level Server (its public API
 * only), whose tools/list shows the session only the tools it may call, and
 * whose tools/call routes every call through executeToolBoundary.
 * McpServer's tool registration is not used, because it would validate
 * arguments itself and answer unknown tools its own way, outside the
 * boundary.
 *
 * Errors (MCP 2025-11-25): input-validation failures and every business
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
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import {
  type AnyTool,
  annotationsFor,
  checkReadOnlyGate,
  ErrorEnvelopeSchema,
  executeToolBoundary,
  type SessionContext,
  toolCapability,
} from '@sqlwarden/core';
import { z } from 'zod';
import manifest from '../package.json' with { type: 'json' };
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

/** tools/call's params, or -32602 naming what is wrong (never echoing a value). */
function callParams(params: unknown): z.output<typeof CallToolRequestSchema>['params'] {
  const parsed = CallToolRequestSchema.shape.params.safeParse(params);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = ['params', ...(issue?.path ?? [])].join('.');
  const what =
    path === 'params.arguments'
      ? 'must be an object of named arguments (or left out)'
      : path === 'params.name'
        ? 'must be the name of a tool (a string)'
        : 'is not valid';
  throw new McpError(ErrorCode.InvalidParams, `Invalid tools/call request: ${path} ${what}.`);
}

/**
 * Requests before the handshake are refused (MCP 2025-11-25: the client
 * sends initialize first; until the server has answered it, only pings).
 * Without this, a tools/call sent first ran and answered rows.
 */
function assertInitialized(server: Server) {
  if (server.getClientVersion() === undefined) {
    throw new McpError(
      ErrorCode.InvalidRequest,
      'The session is not initialized: send initialize (and notifications/initialized) first.',
    );
  }
}

export function createMcpServer(runtime: Runtime, session: SessionContext): Server {
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
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    assertInitialized(server);
    return { tools: (await visibleTools(runtime, session)).map(describeTool) };
  });
  server.setRequestHandler(ListResourcesRequestSchema, async (_request, extra) => {
    assertInitialized(server);
    return { resources: await listResources(runtime, session, extra.signal) };
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => {
    assertInitialized(server);
    return { resourceTemplates: await listResourceTemplates(runtime, session) };
  });
  // tools/call and resources/read are answered by the server's public
  // fallbackRequestHandler (the handler of every method without a handler of
  // its own), so the request reaches callParams (readParams) unparsed: a
  // malformed call is -32602 naming the field, where the low-level Server's own tools/call validation would
  // answer -32603 with zod's dump, and the SDK does not parse the call and
  // its result again with zod to check what the boundary already did. No
  // SDK internals are reached into.
  server.fallbackRequestHandler = async (request, extra) => {
    if (request.method === 'resources/read') {
      assertInitialized(server);
      const { uri } = readParams(request.params);
      return readResource(runtime, session, uri, extra.signal);
    }
    if (request.method !== 'tools/call') {
      throw new McpError(ErrorCode.MethodNotFound, 'Method not found');
    }
    assertInitialized(server);
    const params = callParams(request.params);
    const result = await executeToolBoundary(
      {
        requestId: randomUUID(),
        context: session,
        tool: params.name,
        input: params.arguments ?? {},
        signal: extra.signal,
      },
      runtime.deps,
    );
    const error = result.isError
      ? (result.structuredContent as { error?: { code?: string } }).error
      : undefined;
    if (error?.code === 'UNKNOWN_TOOL') {
      throw new McpError(
        ErrorCode.InvalidParams,
        'Unknown tool: call tools/list to see the tools you can use.',
      );
    }
    return result as unknown as CallToolResult;
  };
  return server;
}
