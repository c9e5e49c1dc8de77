/**
 * Invariant 8: audit and operator logs never contain SQL text, parameter
 * values or secrets.
 *
 * Canaries (unique strings) are fed through every path a call can take
 * (each stage's denial, success, mapped and unexpected errors, timeout,
 * cancellation) in the SQL text, the parameters, the arguments, and a
 * credential loaded from the environment. Then the captured log bytes, the
 * audit log and the operator log, are searched for them. A careless caller
 * passing the text straight to the sinks is covered too. Tool results are
 * searched for the credential and for stack traces.
 */
import { SqlwardenError, type ToolCallResult } from '@sqlwarden/core';
import { createAuditSink, createLogger, loadEnvironment } from '@sqlwarden/security';
import { describe, expect, it } from 'vitest';
import { type Assembly, assemble, blockReads, Capture, SOURCE, sessionContext } from './harness.js';

const SQL_CANARY = 'zqxsqlcanary7f3a';
const PARAM_CANARY = 'zqx-param-canary-91c2';
const SECRET_CANARY = 'zqx-secret-canary-55e1';
const CANARIES = [SQL_CANARY, PARAM_CANARY, SECRET_CANARY];

const env = loadEnvironment({ env: { SQLWARDEN_TEST_DB_PASSWORD: SECRET_CANARY }, envFile: false });
const password = env.secret('SQLWARDEN_TEST_DB_PASSWORD');

const SQL = `SELECT ${SQL_CANARY} FROM public.orders WHERE note = $1`;
const read = (overrides: Record<string, unknown> = {}) => ({
  table: 'public.orders',
  sql: SQL,
  params: [PARAM_CANARY, { nested: PARAM_CANARY }],
  ...overrides,
});

/** A driver-like error whose message quotes the SQL, a value and the password. */
function driverError() {
  return Object.assign(
    new Error(
      `syntax error at or near "${SQL_CANARY}" for value ${PARAM_CANARY}; password ${password?.reveal()}`,
    ),
    { code: '42601', detail: PARAM_CANARY, query: SQL, parameters: [PARAM_CANARY] },
  );
}

type Scenario = {
  readonly label: string;
  readonly run: (system: Assembly) => Promise<ToolCallResult>;
};

const SCENARIOS: Scenario[] = [
  {
    label: 'an invalid session context',
    run: (s) =>
      s.call('fake_read', read(), {
        context: { ...sessionContext(), principalId: PARAM_CANARY, readOnly: 'no' },
      }),
  },
  { label: 'an unknown tool named like the canary', run: (s) => s.call(SQL_CANARY, read()) },
  {
    label: 'invalid input',
    run: (s) => s.call('fake_read', read({ [SQL_CANARY]: PARAM_CANARY, params: PARAM_CANARY })),
  },
  {
    label: 'the read-only gate',
    run: (s) =>
      s.call('fake_write', read({ sql: `UPDATE public.orders SET x = '${SQL_CANARY}'` }), {
        context: sessionContext({ readOnly: true }),
      }),
  },
  { label: 'a forbidden table', run: (s) => s.call('fake_read', read({ table: 'hr.salaries' })) },
  {
    label: 'a rejected query',
    run: (s) => s.call('fake_read', read({ sql: `DELETE FROM t WHERE x = '${SQL_CANARY}'` })),
  },
  {
    label: 'a rate limit',
    run: async (s) => {
      await s.call('fake_read', read());
      return s.call('fake_read', read());
    },
  },
  { label: 'a successful read', run: (s) => s.call('fake_read', read()) },
  {
    label: 'a successful write',
    run: (s) =>
      s.call('fake_write', read({ sql: `UPDATE public.orders SET note = '${SQL_CANARY}'` })),
  },
  {
    label: 'an unexpected driver error',
    run: (s) => {
      s.adapter.onRead = async () => {
        throw driverError();
      };
      return s.call('fake_read', read());
    },
  },
  {
    label: 'a mapped driver error keeping the driver error as cause',
    run: (s) => {
      s.adapter.onRead = async () => {
        throw new SqlwardenError(
          'QUERY_FAILED',
          'The statement refers to a column that does not exist.',
          {
            cause: driverError(),
          },
        );
      };
      return s.call('fake_read', read());
    },
  },
  {
    label: 'a handler that throws a string',
    run: (s) => {
      s.adapter.onRead = async () => {
        throw `${SQL_CANARY} ${PARAM_CANARY} ${password?.reveal()}`;
      };
      return s.call('fake_read', read());
    },
  },
  {
    label: 'a timeout',
    run: (s) => {
      s.adapter.onRead = () => new Promise(() => {});
      return s.call('fake_read', read());
    },
  },
  {
    label: 'a cancellation',
    run: (s) => {
      blockReads(s.adapter);
      return s.call('fake_read', read(), { signal: AbortSignal.timeout(10) });
    },
  },
];

describe('invariant: logs never hold SQL text, values or secrets', () => {
  it.each(SCENARIOS)('keeps the canaries out of every log through $label', async ({ run }) => {
    const system = assemble({
      quota: { perPrincipal: { rate: { burst: 1, perSecond: 0.001 } } },
      limits: { timeoutMs: 30 },
      timeoutGraceMs: 10,
    });
    const result = await run(system);
    expect(system.auditEvents().length).toBeGreaterThan(0);
    for (const canary of CANARIES) {
      expect(system.auditLog.text).not.toContain(canary);
      expect(system.operatorLog.text).not.toContain(canary);
    }
    // What the client sees: never the credential, never a stack trace.
    const clientText = JSON.stringify(result);
    expect(clientText).not.toContain(SECRET_CANARY);
    expect(clientText).not.toMatch(/\bat .+:\d+:\d+/);
    if (result.isError) expect(clientText).not.toContain(PARAM_CANARY);
  });

  it('logs an unexpected failure for the operator, by type and code only', async () => {
    const system = assemble();
    system.adapter.onRead = async () => {
      throw driverError();
    };
    await system.call('fake_read', read());
    expect(system.operatorLog.lines()).toEqual([
      expect.objectContaining({
        msg: 'internal failure',
        stage: 'execute',
        err: expect.objectContaining({ type: 'Error', code: '42601' }),
      }),
    ]);
  });

  it('drops SQL, values and credentials a caller passes straight to the audit sink', () => {
    const capture = new Capture();
    // Configured as the runtime configures it: it knows the registered tools.
    const sink = createAuditSink({ destination: capture, tools: ['fake_read'] });
    sink.record({
      event: 'tool_call',
      requestId: 'r1',
      decision: 'allow',
      stage: 'execute',
      durationMs: 1,
      ...({
        sql: SQL,
        params: [PARAM_CANARY],
        password,
        dsn: `postgres://u:${password?.reveal()}@h/db`,
      } as object),
      tool: SQL_CANARY,
      principalId: `${PARAM_CANARY} x`,
    });
    for (const canary of CANARIES) expect(capture.text).not.toContain(canary);
    expect(capture.lines()).toHaveLength(1);
  });

  it('scrubs SQL-named fields and the credential from the operator logger, whatever the caller passes', () => {
    const capture = new Capture();
    const logger = createLogger({ destination: capture });
    logger.info(
      { sql: SQL, params: [PARAM_CANARY], source: { id: SOURCE, password } },
      'connecting',
    );
    logger.warn(`could not connect with ${password?.reveal()}`);
    logger.error({ err: driverError() }, 'failed');
    expect(capture.lines()).toHaveLength(3);
    for (const canary of CANARIES) expect(capture.text).not.toContain(canary);
  });
});
