import { inspect } from 'node:util';

/**
 * Secrets: values that must never be written anywhere readable.
 *
 * A `Secret` hides its value from every way an object is usually printed
 * (`String()`, template literals, `JSON.stringify`, `util.inspect`, pino):
 * only `reveal()` returns it, and the code that calls `reveal()` hands the
 * value straight to a driver. Every secret value is also registered, so the
 * loggers can scrub it from their output bytes as a last line of defence.
 */

// One registry per process, shared by the ESM and CJS copies of the package.
const REGISTRY = Symbol.for('sqlwarden.secrets.registry');
type Registry = Set<string>;

function registry(): Registry {
  const holder = globalThis as unknown as Record<symbol, Registry | undefined>;
  let set = holder[REGISTRY];
  if (set === undefined) {
    set = new Set();
    holder[REGISTRY] = set;
  }
  return set;
}

/**
 * Values shorter than this are not scrubbed from logs: replacing every
 * occurrence of a 2-character string would destroy the log. Such secrets are
 * weak anyway; `loadEnvironment` reports them.
 */
export const MIN_SCRUBBABLE_LENGTH = 4;

const REDACTED = '[redacted]';

export function registerSecretValue(value: string): void {
  if (value.length >= MIN_SCRUBBABLE_LENGTH) registry().add(value);
}

/** Forget every registered value (tests only). */
export function clearSecretRegistry(): void {
  registry().clear();
}

/**
 * Replaces every registered secret in `text`, both as written and as it
 * appears inside a JSON string (quotes and backslashes escaped), longest
 * first so that a secret containing another is replaced whole.
 */
export function scrubSecrets(text: string): string {
  const secrets = registry();
  if (secrets.size === 0) return text;
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    out = out.replaceAll(secret, REDACTED);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) out = out.replaceAll(escaped, REDACTED);
  }
  return out;
}

export class Secret {
  readonly name: string;
  readonly #value: string;

  constructor(name: string, value: string) {
    this.name = name;
    this.#value = value;
    registerSecretValue(value);
  }

  /** The value, for handing to a driver. Never log, return or interpolate it. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return `[secret ${this.name}]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * A connection string with its password (and any `password=` or `token=`
 * query parameter) replaced, for messages that must say which server.
 * Returns a placeholder when the string is not a URL at all.
 */
export function redactConnectionString(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return '[connection string]';
  }
  if (url.password !== '') url.password = '***';
  for (const name of [...url.searchParams.keys()]) {
    if (/pass|secret|token|key/i.test(name)) url.searchParams.set(name, '***');
  }
  return url.toString();
}
