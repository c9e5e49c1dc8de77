/**
 * The context every area of the conformance suite shares: the target, the
 * two namespaces and the adapter under test (set once the suite's
 * beforeAll has run: read them inside tests, never while registering),
 * the helpers that build adapters and run calls, and the suite's
 * constants. One object, passed to each area (introspection.ts,
 * values.ts, limits.ts, injection.ts, time.ts, errors.ts, writes.ts;
 * faults.ts has a server of its own).
 */
import {
  type DatabaseAdapter,
  type ReadLimits,
  type ReadResult,
  ReadResultSchema,
  SqlwardenError,
} from '@sqlwarden/core';
import { expect } from 'vitest';
import type {
  ConformanceAdapterOptions,
  ConformanceCapabilities,
  ConformanceNamespace,
  ConformanceTarget,
} from './target.js';

/** A target's capabilities, each true unless the target says false. */
export function capabilitiesOf(
  capabilities: ConformanceCapabilities | undefined,
): Required<ConformanceCapabilities> {
  const c = capabilities ?? {};
  return {
    errorWords: c.errorWords ?? true,
    comments: c.comments ?? true,
    indexes: c.indexes ?? true,
    exactDecimals: c.exactDecimals ?? true,
    zonedTimestamps: c.zonedTimestamps ?? true,
    socketWatch: c.socketWatch ?? true,
  };
}

export const POOL_SIZE = 3;
export const STATEMENT_TIMEOUT_MS = 10_000;
export const LIMITS: ReadLimits = { maxRows: 1000, maxBytes: 1_048_576, timeoutMs: 5000 };
/** How long a cancelled statement may take to leave the process list. */
export const SETTLE_MS = 5000;
/** How long a heavy statement may take to show up in the process list. */
export const START_MS = 10_000;

export const FIXTURE_TABLES = [
  'cf_types',
  'cf_wide',
  'cf_many',
  'cf_parent',
  'cf_child',
  'cf_parent_view',
  'cf_victim',
  'cf_writes',
];
export const APOSTROPHE_TABLE = "it's";
export const SPACE_TABLE = 'with space';

/** Values a careless adapter would splice into SQL text; bound, each is just text. */
export const ATTACKS = [
  "'; DROP TABLE cf_victim; --",
  "\\'; DROP TABLE cf_victim; --",
  "' OR '1'='1",
  '" OR ""="',
] as const;

/** The code a call ended with: `ok`, a SqlwardenError's code, or a description of anything else. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return SqlwardenError.is(error) ? error.code : `not a SqlwardenError: ${String(error)}`;
  }
}

/** How a call ended: `ok`, or a SqlwardenError's code and message (anything else fails the test). */
export async function outcomeOf(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string }> {
  try {
    await promise;
    return { code: 'ok', message: '' };
  } catch (error) {
    if (!SqlwardenError.is(error)) throw error;
    return { code: error.code, message: error.message };
  }
}

/** Values that must never come back in a message: a parameter's, and a string literal's. */
export const PARAM_CANARY = 'PARAMCANARY_Q7';
export const LITERAL_CANARY = 'LITCANARY_Q7';

/** Polls `check` until it holds or `ms` pass; answers whether it held. */
export async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** Every successful read holds to the result schema and its own invariants. */
export function checkShape(result: ReadResult): ReadResult {
  ReadResultSchema.parse(result);
  expect(result.rowCount, 'rowCount is the number of rows').toBe(result.rows.length);
  for (const row of result.rows) {
    expect(row, 'every row has one value per column').toHaveLength(result.columns.length);
  }
  if (result.truncated) expect(result.truncatedReason).toBeDefined();
  else expect(result.truncatedReason, 'no reason when not truncated').toBeUndefined();
  return result;
}

/** A marker for a statement's text, unique per call (the running-statements hook finds it). */
export const marker = (purpose: string): string =>
  `cf_${purpose}_${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
export const signal = (): AbortSignal => new AbortController().signal;

/** What every area of the suite works with (see the header). */
export class ConformanceContext {
  readonly target: ConformanceTarget;
  readonly supportsWrites: boolean;
  /** What the target's adapter can do (every flag true unless the target says false). */
  readonly can: Required<ConformanceCapabilities>;
  /** The suite's namespace, with the fixture (set in beforeAll). */
  ns!: ConformanceNamespace;
  /** A second namespace, for the schema filter (set in beforeAll). */
  other!: ConformanceNamespace;
  /** The adapter under test: read-only, on `ns` (set in beforeAll). */
  adapter!: DatabaseAdapter;
  /** Adapters made by tests, closed after the suite. */
  readonly extra: DatabaseAdapter[] = [];

  constructor(target: ConformanceTarget) {
    this.target = target;
    this.supportsWrites = target.supportsWrites ?? true;
    this.can = capabilitiesOf(target.capabilities);
  }

  /** Quotes an identifier in the target's dialect. */
  readonly q = (name: string): string => this.target.quoteIdent(name);
  /** The n-th placeholder of the target's dialect. */
  readonly p = (index: number): string => this.target.placeholder(index);

  /** The options of the adapter under test, with these overrides. */
  adapterOptions(options: Partial<ConformanceAdapterOptions> = {}): ConformanceAdapterOptions {
    return {
      namespace: this.ns.name,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      poolSize: POOL_SIZE,
      acquireTimeoutMs: 5000,
      allowWrites: false,
      ...options,
    };
  }

  /** Another adapter on `ns` (closed after the suite). */
  readonly makeAdapter = async (
    options: Partial<ConformanceAdapterOptions> = {},
  ): Promise<DatabaseAdapter> => {
    const made = await this.target.createAdapter(this.adapterOptions(options));
    this.extra.push(made);
    return made;
  };

  /** A read that must succeed, checked against the result schema. */
  readonly read = async (
    sql: string,
    params: readonly unknown[] = [],
    limits: Partial<ReadLimits> = {},
    on: DatabaseAdapter = this.adapter,
  ): Promise<ReadResult> =>
    checkShape(await on.read({ sql, params, limits: { ...LIMITS, ...limits }, signal: signal() }));

  /** A read's code: `ok` or the SqlwardenError's code. */
  readonly attempt = (
    sql: string,
    params: readonly unknown[] = [],
    limits: Partial<ReadLimits> = {},
    options: { on?: DatabaseAdapter; signal?: AbortSignal } = {},
  ): Promise<string> =>
    codeOf(
      (options.on ?? this.adapter).read({
        sql,
        params,
        limits: { ...LIMITS, ...limits },
        signal: options.signal ?? signal(),
      }),
    );

  /** Rows of a table of `ns`, counted over the admin connection. */
  readonly adminCount = async (table: string): Promise<number> =>
    Number((await this.ns.exec(`SELECT COUNT(*) FROM ${this.q(table)}`))[0]?.[0]);

  /** Our statements holding `mark` running now. */
  readonly running = (mark: string): Promise<number> =>
    this.target.runningStatements(this.ns, mark);
  /** Whether every statement holding `mark` left the server (bounded poll). */
  readonly settled = (mark: string): Promise<boolean> =>
    eventually(async () => (await this.running(mark)) === 0, SETTLE_MS);
  /** Whether a statement holding `mark` reached the server (bounded poll). */
  readonly started = (mark: string): Promise<boolean> =>
    eventually(async () => (await this.running(mark)) >= 1, START_MS);
}
