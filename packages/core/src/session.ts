import { z } from 'zod';
import { deny, type Outcome } from './decision.js';

/**
 * The session context: who is calling, over which transport, with what
 * grants. The runtime builds one per MCP session; the boundary validates it
 * on every call and fails closed (`SESSION_INVALID`) on anything missing,
 * malformed or expired. Nothing in it is trusted until it has passed
 * `validateSessionContext`.
 */

// Ids appear in audit records, so they are restricted to a character set
// that cannot carry SQL, whitespace, quotes or control characters.
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]*$/;

const id = z
  .string()
  .min(1)
  .max(200)
  .regex(ID_PATTERN, 'must be an id (letters, digits, ._:@/+=-)');

// The grammar of capabilities belongs to @sqlwarden/security; here a grant is
// only required to be a bounded token without whitespace or control characters.
const grant = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const TRANSPORTS = ['stdio', 'http', 'in-process'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export const SessionContextSchema = z.strictObject({
  sessionId: id,
  principalId: id,
  /** Capabilities granted directly to this session's principal. */
  capabilities: z.array(grant).max(1000),
  /** Roles whose capabilities the authorizer adds. Unknown roles grant nothing. */
  roles: z.array(grant).max(100),
  transport: z.enum(TRANSPORTS),
  /** A read-only session is refused every write tool, whatever it is granted. */
  readOnly: z.boolean(),
  /** Epoch milliseconds after which the session is invalid. */
  expiresAt: z.number().int().positive().optional(),
  /**
   * The verified person or client behind the principal, when the transport
   * knows one apart from it: over HTTP with OAuth, the token's
   * principalClaim (`sub`) value, which many people mapped to one principal
   * each keep. What a database identity's `sqlwarden.subject` carries;
   * absent, the principal id. Printable, without controls.
   */
  subject: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u, 'must be printable text without control characters')
    .optional(),
});

export type SessionContext = Readonly<
  Omit<z.output<typeof SessionContextSchema>, 'capabilities' | 'roles'> & {
    readonly capabilities: readonly string[];
    readonly roles: readonly string[];
  }
>;

const MALFORMED = 'The session context is missing or malformed; reconnect to start a new session.';
const EXPIRED = 'The session has expired; reconnect to start a new session.';

/**
 * Validates an untrusted session context. Fails closed: anything that is not
 * exactly a well-formed, unexpired context (extra keys included, and objects
 * whose getters throw) is `SESSION_INVALID`. The returned context is a
 * frozen copy, so a handler cannot widen its own grants.
 */
export function validateSessionContext(
  raw: unknown,
  now: number = Date.now(),
): Outcome<SessionContext> {
  const known = deeplyFrozen(raw) ? validated.get(raw) : undefined;
  const context = known ?? parseContext(raw);
  if (context === undefined) return deny('SESSION_INVALID', MALFORMED);
  if (known === undefined && deeplyFrozen(raw)) validated.set(raw, context);
  // `now >= expiresAt` is expired: a session is valid strictly before its expiry.
  if (context.expiresAt !== undefined && !(now < context.expiresAt)) {
    return deny('SESSION_INVALID', EXPIRED);
  }
  return { ok: true, value: context };
}

/**
 * Contexts already validated, by identity. Only deeply frozen objects are
 * remembered: they cannot change after validation (a Proxy over a frozen
 * target must report the target's values), so validating them again could
 * only repeat the same answer. Expiry is still checked on every call.
 */
const validated = new WeakMap<object, SessionContext>();

function deeplyFrozen(raw: unknown): raw is object {
  if (typeof raw !== 'object' || raw === null || !Object.isFrozen(raw)) return false;
  const { capabilities, roles } = raw as { capabilities?: unknown; roles?: unknown };
  return Object.isFrozen(capabilities) && Object.isFrozen(roles);
}

function parseContext(raw: unknown): SessionContext | undefined {
  let parsed: z.ZodSafeParseResult<z.output<typeof SessionContextSchema>>;
  try {
    parsed = SessionContextSchema.safeParse(raw);
  } catch {
    // A Proxy or a throwing getter: not a context we can trust.
    return undefined;
  }
  if (!parsed.success) return undefined;
  const context = parsed.data;
  return Object.freeze({
    ...context,
    capabilities: Object.freeze([...context.capabilities]),
    roles: Object.freeze([...context.roles]),
  });
}
