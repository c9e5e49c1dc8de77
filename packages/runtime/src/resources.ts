/**
 * The schema as MCP resources (docs/resources.md). Nothing here reads a
 * database or decides a grant itself: every resources/read is a call of the
 * built-in tool that answers it (list_tables, describe_table,
 * describe_entities) through executeToolBoundary, with the session's
 * principal, so a read is authorised per table (default deny), rate and
 * concurrency limited, bounded and audited exactly as the tool call would
 * be. resources/list is built from list_tables calls through the boundary
 * too: a table the principal may not read is never listed.
 *
 * URIs:
 *   schema://<source>                  the tables of a source (list_tables)
 *   schema://<source>/<schema>.<table> one table (describe_table)
 *   entities://all                     the entities (describe_entities)
 * Names are percent-encoded, dots included, so the one literal dot of a
 * table URI separates schema and table whatever the names hold.
 *
 * The schema resources hold the database's words (names, comments,
 * defaults): with governance.untrustedData framed (the default) their JSON
 * is framed as data between a per-response random boundary, as the tools'
 * text is (@sqlwarden/tools frameUntrusted), and their MIME type is then
 * text/plain, since framed JSON is no longer JSON. entities://all holds the
 * operator's own words from the configuration: plain JSON always.
 *
 * Errors (MCP 2026-07-28, which SDK v2 applies to every era): a URI that is
 * unknown, malformed, names a table that does not exist or one the principal
 * may not read is the same -32602 "Resource not found", so the answer never tells whether a refused
 * table exists. Other refusals (quotas, limits, a database down) are
 * -32010 with the sqlwarden code in data; INTERNAL is -32603. Every one of
 * them was audited by the boundary first.
 */
import { randomUUID } from 'node:crypto';
import {
  ProtocolErrorCode,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplateType as ResourceTemplate,
} from '@modelcontextprotocol/server';
import { executeToolBoundary, type SessionContext, toolCapability } from '@sqlwarden/core';
import { BUILT_IN_TOOLS, frameUntrusted } from '@sqlwarden/tools';
import { z } from 'zod';
import type { Runtime } from './runtime.js';

/**
 * A JSON-RPC error as the SDK's Server sends it (its code, message and data
 * from what a handler throws), without McpError's "MCP error <code>:"
 * prefix in the message on the wire.
 */
export class ResourceError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'ResourceError';
    this.code = code;
    this.data = data;
  }
}

/**
 * "Resource not found": -32602 (Invalid Params) as MCP 2026-07-28 requires;
 * SDK v2 sends it on 2025-11-25 connections too (whose spec said -32002,
 * which clients are told to accept along with -32602).
 */
export const RESOURCE_NOT_FOUND = -32602;
/** A read the boundary refused for another reason than access (quota, limits, database): its code is in data. */
export const RESOURCE_REFUSED = -32010;

const MIME = 'application/json';
/** A schema resource whose JSON is framed as data. */
const FRAMED_MIME = 'text/plain';
const ENTITIES_URI = 'entities://all';

/** A name as one URI component: percent-encoded, the dot too. */
function component(name: string): string {
  return encodeURIComponent(name).replace(/\./g, '%2E');
}

/** The MIME type of the schema resources (schema://...): JSON, or text when framed. */
function schemaMime(runtime: Runtime): string {
  return runtime.config.untrustedData === 'off' ? MIME : FRAMED_MIME;
}

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The tool call a resource URI stands for, or undefined for a URI of no served form. */
export function resourceCall(
  uri: string,
): { readonly tool: string; readonly input: Record<string, string> } | undefined {
  if (uri === ENTITIES_URI) return { tool: BUILT_IN_TOOLS.describeEntities, input: {} };
  const list = /^schema:\/\/([^/]+)$/.exec(uri);
  if (list !== null) {
    const source = decoded(list[1] as string);
    return source === undefined
      ? undefined
      : { tool: BUILT_IN_TOOLS.listTables, input: { source } };
  }
  const table = /^schema:\/\/([^/]+)\/([^/.]+)\.([^/.]+)$/.exec(uri);
  if (table === null) return undefined;
  const [source, schema, name] = table.slice(1).map((part) => decoded(part));
  if (source === undefined || schema === undefined || name === undefined) return undefined;
  return { tool: BUILT_IN_TOOLS.describeTable, input: { source, schema, table: name } };
}

export function tableUri(source: string, schema: string, table: string): string {
  return `schema://${component(source)}/${component(schema)}.${component(table)}`;
}

export function sourceUri(source: string): string {
  return `schema://${component(source)}`;
}

interface CallOutcome {
  readonly ok: boolean;
  readonly structuredContent: Record<string, unknown>;
}

/** One call of a built-in tool through the boundary, as the session's principal. */
async function callTool(
  runtime: Runtime,
  session: SessionContext,
  tool: unknown,
  input: unknown,
  signal: AbortSignal | undefined,
): Promise<CallOutcome> {
  const result = await executeToolBoundary(
    {
      requestId: randomUUID(),
      context: session,
      tool,
      input,
      ...(signal !== undefined && { signal }),
    },
    runtime.deps,
  );
  return {
    ok: result.isError !== true,
    structuredContent: (result.structuredContent ?? {}) as Record<string, unknown>,
  };
}

interface ErrorFields {
  readonly code?: string;
  readonly message?: string;
  readonly retryAfterMs?: number;
}

/** Refusals that mean "not for you, or not there": one answer for all of them. */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set([
  'UNKNOWN_TOOL',
  'INVALID_INPUT',
  'NOT_FOUND',
  'FORBIDDEN',
]);

function notFound(uri: string): ResourceError {
  return new ResourceError(
    RESOURCE_NOT_FOUND,
    'Resource not found: no resource at that URI among those you may read; call resources/list.',
    // The client's own URI, bounded: nothing it did not send.
    uri.length <= 1024 ? { uri } : undefined,
  );
}

/** A boundary refusal as a JSON-RPC error: the boundary's message (written by sqlwarden), never a stack. */
function refusal(error: ErrorFields | undefined, uri: string): ResourceError {
  const code = error?.code ?? 'INTERNAL';
  if (NOT_FOUND_CODES.has(code)) return notFound(uri);
  const message = error?.message ?? 'The resource could not be read.';
  const data = {
    code,
    ...(error?.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
  };
  return new ResourceError(
    code === 'INTERNAL' ? ProtocolErrorCode.InternalError : RESOURCE_REFUSED,
    message,
    data,
  );
}

/** resources/read: the JSON of the tool's structured result, or a JSON-RPC error. */
export async function readResource(
  runtime: Runtime,
  session: SessionContext,
  uri: string,
  signal: AbortSignal | undefined,
): Promise<ReadResourceResult> {
  const call = resourceCall(uri);
  // A URI of no served form still passes the boundary (an unknown tool is
  // refused at lookup, audited, and spends nothing), so it is audited too.
  const outcome = await callTool(runtime, session, call?.tool ?? null, call?.input ?? {}, signal);
  if (call === undefined) throw notFound(uri);
  if (!outcome.ok) {
    throw refusal(outcome.structuredContent.error as ErrorFields | undefined, uri);
  }
  const json = JSON.stringify(outcome.structuredContent);
  // Entities are the operator's words (the configuration), not the database's.
  if (call.tool === BUILT_IN_TOOLS.describeEntities) {
    return { contents: [{ uri, mimeType: MIME, text: json }] };
  }
  const mode = runtime.config.untrustedData;
  return {
    contents: [{ uri, mimeType: schemaMime(runtime), text: frameUntrusted(json, mode) }],
  };
}

/** resources/read's params, or -32602 naming what is wrong (never echoing a value). */
export function readParams(params: unknown): { uri: string } {
  const parsed = z.object({ uri: z.string().min(1).max(4096) }).safeParse(params);
  if (parsed.success) return parsed.data;
  throw new ResourceError(
    ProtocolErrorCode.InvalidParams,
    'Invalid resources/read request: params.uri must be the URI of a resource (a string); call resources/list.',
  );
}

async function mayCall(runtime: Runtime, session: SessionContext, tool: string): Promise<boolean> {
  if (runtime.registry.get(tool) === undefined) return false;
  const decision = await runtime.deps.authorizer.authorize({
    session,
    tool,
    required: [toolCapability(tool)],
  });
  return decision.ok;
}

const LIMIT_CODES: ReadonlySet<string> = new Set([
  'RATE_LIMITED',
  'CONCURRENCY_LIMITED',
  'QUOTA_UNAVAILABLE',
]);

interface TableEntry {
  readonly schema: string;
  readonly name: string;
  readonly kind: string;
  readonly comment: string | null;
}

/**
 * resources/list: per source, its list and its tables, as list_tables
 * answers this principal (a call through the boundary per source, only for
 * a principal granted tool:list_tables), and the entities when
 * describe_entities is registered and granted. A source whose list is
 * refused (no grant, database down) is left out; a quota refusal is an
 * error, so the client retries rather than believing the list is empty.
 */
export async function listResources(
  runtime: Runtime,
  session: SessionContext,
  signal: AbortSignal | undefined,
): Promise<Resource[]> {
  const resources: Resource[] = [];
  if (await mayCall(runtime, session, BUILT_IN_TOOLS.listTables)) {
    for (const source of runtime.sources) {
      const uri = sourceUri(source.id);
      const outcome = await callTool(
        runtime,
        session,
        BUILT_IN_TOOLS.listTables,
        { source: source.id },
        signal,
      );
      if (!outcome.ok) {
        const error = outcome.structuredContent.error as ErrorFields | undefined;
        if (LIMIT_CODES.has(error?.code ?? '')) throw refusal(error, uri);
        continue;
      }
      resources.push({
        uri,
        name: source.id,
        title: `Tables of source ${source.id}`,
        description: `The tables of source ${source.id} you may read (as list_tables gives them).`,
        mimeType: schemaMime(runtime),
      });
      for (const table of outcome.structuredContent.tables as TableEntry[]) {
        resources.push({
          uri: tableUri(source.id, table.schema, table.name),
          name: `${source.id}/${table.schema}.${table.name}`,
          title: `${table.schema}.${table.name}`,
          // A table's comment is the database's words: in a listing it could
          // not be framed without a frame per table, so, framed, it is only
          // in the resource itself (framed there).
          description:
            (runtime.config.untrustedData === 'off' ? table.comment : null) ??
            `The ${table.kind.replace('_', ' ')} ${table.schema}.${table.name} of source ${source.id}: columns, keys and indexes (as describe_table gives them).`,
          mimeType: schemaMime(runtime),
        });
      }
    }
  }
  if (await mayCall(runtime, session, BUILT_IN_TOOLS.describeEntities)) {
    resources.push({
      uri: ENTITIES_URI,
      name: 'entities',
      title: 'Entities',
      description:
        'The business names of the tables you may read: aliases, descriptions, notes on columns (as describe_entities gives them).',
      mimeType: MIME,
    });
  }
  return resources;
}

/** resources/templates/list: the URI forms of the tools this principal may call. */
export async function listResourceTemplates(
  runtime: Runtime,
  session: SessionContext,
): Promise<ResourceTemplate[]> {
  const templates: ResourceTemplate[] = [];
  if (await mayCall(runtime, session, BUILT_IN_TOOLS.listTables)) {
    templates.push({
      uriTemplate: 'schema://{source}',
      name: 'tables',
      title: 'Tables of a source',
      description: 'The tables of a source you may read (as list_tables gives them).',
      mimeType: schemaMime(runtime),
    });
  }
  if (await mayCall(runtime, session, BUILT_IN_TOOLS.describeTable)) {
    templates.push({
      uriTemplate: 'schema://{source}/{schema}.{table}',
      name: 'table',
      title: 'A table',
      description:
        'One table you may read: columns, primary key, foreign keys and indexes (as describe_table gives them). Names are percent-encoded, dots included.',
      mimeType: schemaMime(runtime),
    });
  }
  return templates;
}
