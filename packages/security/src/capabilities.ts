import {
  type AuthorizationDecision,
  type AuthorizationRequest,
  type Authorizer,
  ConfigError,
  parseTablePattern,
  type SessionContext,
} from '@sqlwarden/core';

/**
 * Capabilities: what a principal may do, as strings with a small grammar.
 *
 *   tool:<tool>                         call a tool              tool:query_read, tool:*
 *   read:<source>:<schema>.<table>      read a table             read:main:public.orders
 *   write:<source>:<schema>.<table>     write a table            write:main:sales.*
 *   read:<source>:<catalog>.<schema>.<table>                     read:connx:daea.dbo.orders
 *
 * The three-part form is for sources that name tables with a catalog (ODBC
 * sources such as CONNX); its wildcard is only the last part
 * (`read:connx:daea.dbo.*`). A two-part grant never covers a three-part
 * table, nor the reverse: `read:connx:daea.*` is schema `daea`'s tables,
 * not catalog `daea`'s. `read:<source>:*` and `read:*` cover both forms.
 *
 * `*` stands for a whole segment and only in trailing position:
 * `read:main:public.*`, `read:main:*` (= `read:main:*.*`), `read:*` (every
 * source). `read:*:public.orders` or `read:main:*.orders` are invalid: a
 * wildcard in the middle would grant a schema's worth of tables across
 * sources nobody looked at. A bare `*` is invalid too: a reviewer should see
 * the verbs granted. `write` does not imply `read`.
 *
 * Matching is exact and case-sensitive on the names the database reports
 * (PostgreSQL folds unquoted identifiers to lower case, so `public.orders`).
 * Evaluation is default deny: no matching grant, no access. A granted
 * string that does not parse grants nothing.
 */

export const CAPABILITY_ACTIONS = ['tool', 'read', 'write'] as const;
export type CapabilityAction = (typeof CAPABILITY_ACTIONS)[number];

/** A parsed capability: the action and its resource segments (`*` only trailing). */
export interface Capability {
  readonly action: CapabilityAction;
  /** tool: [name]; read/write: [source, schema, table] or [source, catalog, schema, table]. */
  readonly segments: readonly string[];
}

export type ParseResult =
  | { readonly ok: true; readonly capability: Capability }
  | { readonly ok: false; readonly problem: string };

const WILDCARD = '*';
const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;
// A source, schema or table name as it may appear in a capability: no
// whitespace or control characters, and none of the grammar's own
// characters (`:` `.` `*` `,`), so a name can never be read two ways.
const NAME = /^[^\s\p{Cc}:.*,]{1,128}$/u;

function invalid(problem: string): ParseResult {
  return { ok: false, problem };
}

/** Parses a granted capability (wildcards allowed in trailing segments). */
export function parseCapability(text: string): ParseResult {
  if (typeof text !== 'string' || text.length === 0 || text.length > 512) {
    return invalid('must be a non-empty string of at most 512 characters');
  }
  const colon = text.indexOf(':');
  if (colon < 0) return invalid('must start with tool:, read: or write:');
  const action = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  switch (action) {
    case 'tool':
      if (rest === WILDCARD || TOOL_NAME.test(rest)) {
        return { ok: true, capability: { action, segments: [rest] } };
      }
      return invalid('tool: must be followed by a tool name or *');
    case 'read':
    case 'write':
      return parseDataCapability(action, rest);
    default:
      return invalid('must start with tool:, read: or write:');
  }
}

function parseDataCapability(action: 'read' | 'write', rest: string): ParseResult {
  if (rest === WILDCARD) {
    return { ok: true, capability: { action, segments: [WILDCARD, WILDCARD, WILDCARD] } };
  }
  const colon = rest.indexOf(':');
  if (colon < 0) {
    return invalid(`${action}: needs a source and a table pattern, e.g. ${action}:main:public.*`);
  }
  const source = rest.slice(0, colon);
  const object = rest.slice(colon + 1);
  if (source === WILDCARD) {
    return invalid(`a * source must end the capability: write ${action}:* for every source`);
  }
  if (!NAME.test(source)) return invalid('the source is not a valid name');
  if (object === WILDCARD) {
    return { ok: true, capability: { action, segments: [source, WILDCARD, WILDCARD] } };
  }
  if (object.startsWith(`${WILDCARD}.`)) {
    return invalid('a * schema must end the capability: write *, not *.table');
  }
  const pattern = parseTablePattern(object, { catalogs: true });
  if (pattern === undefined)
    return invalid(
      'the table pattern must be schema.table, schema.*, catalog.schema.table, catalog.schema.* or *',
    );
  const { catalog, schema, table } = pattern;
  if (catalog !== undefined && !NAME.test(catalog))
    return invalid('the catalog is not a valid name');
  if (!NAME.test(schema)) return invalid('the schema is not a valid name');
  if (table !== WILDCARD && !NAME.test(table)) return invalid('the table is not a valid name');
  const segments =
    catalog === undefined ? [source, schema, table] : [source, catalog, schema, table];
  return { ok: true, capability: { action, segments } };
}

/**
 * Formats the capability a call needs for a table, or undefined when a name
 * cannot be written in the grammar (it holds `:`, `.`, `*`, `,`, whitespace
 * or control characters). A tool must deny such a call: an unrepresentable
 * name must never be matched by accident. With a `catalog` (a table of a
 * source that names tables `catalog.schema.table`) the capability has the
 * three-part form `read:<source>:<catalog>.<schema>.<table>`.
 */
export function tableCapability(
  action: 'read' | 'write',
  source: string,
  schema: string,
  table: string,
  catalog?: string,
): string | undefined {
  const names = catalog === undefined ? [source, schema, table] : [source, catalog, schema, table];
  for (const name of names) if (!NAME.test(name)) return undefined;
  return catalog === undefined
    ? `${action}:${source}:${schema}.${table}`
    : `${action}:${source}:${catalog}.${schema}.${table}`;
}

/** Does the granted capability cover the required one? The required one must be concrete. */
export function covers(granted: Capability, required: Capability): boolean {
  if (granted.action !== required.action) return false;
  const sameForm = granted.segments.length === required.segments.length;
  for (let i = 0; i < granted.segments.length; i += 1) {
    const segment = granted.segments[i];
    // A wildcard source or a whole-source `*` covers tables of either form;
    // a wildcard table only tables of its own form (`a.*` is a schema's).
    if (segment === WILDCARD) return i <= 1 || sameForm;
    if (segment !== required.segments[i]) return false;
  }
  return sameForm;
}

function isConcrete(capability: Capability): boolean {
  return !capability.segments.includes(WILDCARD);
}

export interface CapabilityPolicyOptions {
  /** Role name to the capabilities it grants. Roles are flat: a role cannot include a role. */
  readonly roles?: Readonly<Record<string, readonly string[]>>;
}

const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/**
 * The default-deny authorizer. Roles are checked once, at construction: a
 * role holding an invalid capability is a configuration error, reported
 * with every other problem at once. At call time a session's direct grants
 * that do not parse, and roles that do not exist, grant nothing.
 */
export class CapabilityPolicy implements Authorizer {
  readonly #roles: ReadonlyMap<string, readonly Capability[]>;
  // Parsed direct grants; sessions carry the same few strings on every call.
  readonly #parsed = new Map<string, Capability | null>();

  constructor(options: CapabilityPolicyOptions = {}) {
    const problems: string[] = [];
    const roles = new Map<string, readonly Capability[]>();
    for (const [role, grants] of Object.entries(options.roles ?? {})) {
      if (!ROLE_NAME.test(role)) problems.push(`roles.${role}: not a valid role name`);
      const parsed: Capability[] = [];
      grants.forEach((grant, index) => {
        const result = parseCapability(grant);
        if (result.ok) parsed.push(result.capability);
        else problems.push(`roles.${role}[${index}] "${grant}": ${result.problem}`);
      });
      roles.set(role, Object.freeze(parsed));
    }
    if (problems.length > 0) throw new ConfigError('Invalid capability policy', problems);
    this.#roles = roles;
  }

  /** Every capability the session holds: direct grants plus its roles' grants. */
  grantsOf(session: Pick<SessionContext, 'capabilities' | 'roles'>): Capability[] {
    const grants: Capability[] = [];
    for (const text of session.capabilities) {
      const capability = this.#parse(text);
      if (capability !== null) grants.push(capability);
    }
    for (const role of session.roles) {
      const roleGrants = this.#roles.get(role);
      if (roleGrants !== undefined) grants.push(...roleGrants);
    }
    return grants;
  }

  /**
   * Checks every required capability; returns the first one not covered.
   * A required capability that does not parse or holds a wildcard is never
   * covered: a tool asking for `read:main:*` must not be satisfied by luck.
   */
  check(
    session: Pick<SessionContext, 'capabilities' | 'roles'>,
    required: readonly string[],
  ): { ok: true } | { ok: false; missing: string } {
    const grants = this.grantsOf(session);
    for (const text of required) {
      const needed = this.#parse(text);
      if (needed === null || !isConcrete(needed) || !grants.some((g) => covers(g, needed))) {
        return { ok: false, missing: text };
      }
    }
    return { ok: true };
  }

  authorize(request: AuthorizationRequest): AuthorizationDecision {
    const result = this.check(request.session, request.required);
    if (result.ok) return { ok: true };
    return {
      ok: false,
      code: 'FORBIDDEN',
      message: `The principal has not been granted what this call to ${request.tool} needs.`,
      missing: result.missing,
    };
  }

  #parse(text: string): Capability | null {
    let capability = this.#parsed.get(text);
    if (capability === undefined) {
      const result = parseCapability(text);
      capability = result.ok ? result.capability : null;
      // Bounded: the cache holds only strings sessions actually carry.
      if (this.#parsed.size < 10_000) this.#parsed.set(text, capability);
    }
    return capability;
  }
}
