import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type BoundaryDeps, executeToolBoundary } from './boundary.js';
import { SqlwardenError } from './errors.js';
import { DEFAULT_LIMITS } from './limits.js';
import type { AuditEvent, QuotaDecision } from './ports.js';
import { type AnyTool, type ConfirmationAnswer, createToolRegistry, defineTool } from './tool.js';

// Unit tests of the pipeline with minimal in-test ports. The cross-package
// suite in tests/security runs the same questions against the real
// @sqlwarden/security implementations.

const context = {
  sessionId: 's1',
  principalId: 'p1',
  capabilities: [],
  roles: [],
  transport: 'in-process',
  readOnly: false,
};

function echoTool(overrides: Partial<AnyTool> = {}): AnyTool {
  return defineTool({
    name: 'echo',
    title: 'Echo',
    description: 'Echoes its input',
    kind: 'read',
    inputSchema: z.strictObject({ text: z.string().max(20) }),
    requires: () => ({ ok: true, capabilities: ['read:db:public.t'], prepared: 'prep' }),
    handler: async (input, ctx) => ({ text: `${input.text}:${String(ctx.prepared)}`, rows: 1 }),
    ...overrides,
  } as AnyTool);
}

function harness(
  options: { tools?: AnyTool[]; grant?: (required: readonly string[]) => boolean } = {},
) {
  const audit: AuditEvent[] = [];
  const calls = { authorize: [] as string[][], acquire: 0, release: 0 };
  const quotaDecision = vi.fn(
    async (): Promise<QuotaDecision> => ({
      ok: true,
      lease: {
        release: () => {
          calls.release += 1;
        },
      },
    }),
  );
  const deps: BoundaryDeps = {
    registry: createToolRegistry(options.tools ?? [echoTool()]),
    authorizer: {
      authorize: ({ required }) => {
        calls.authorize.push([...required]);
        return (options.grant ?? (() => true))(required)
          ? { ok: true }
          : { ok: false, code: 'FORBIDDEN', message: 'no', missing: required.at(-1) ?? '' };
      },
    },
    quota: {
      acquire: async () => {
        calls.acquire += 1;
        return quotaDecision();
      },
    },
    audit: { record: (event) => audit.push(event) },
    limits: { ...DEFAULT_LIMITS, timeoutMs: 100 },
    readOnly: false,
    writesEnabled: true,
    timeoutGraceMs: 10,
  };
  const call = (
    tool: unknown,
    input: unknown,
    extra: { signal?: AbortSignal; context?: unknown } = {},
  ) =>
    executeToolBoundary(
      {
        requestId: 'r1',
        context: 'context' in extra ? extra.context : context,
        tool,
        input,
        signal: extra.signal,
      },
      deps,
    );
  return { deps, audit, calls, quotaDecision, call };
}

describe('executeToolBoundary', () => {
  it('runs an allowed call and returns the handler text with the prepared value', async () => {
    const h = harness();
    const result = await h.call('echo', { text: 'hi' });
    expect(result).toEqual({ content: [{ type: 'text', text: 'hi:prep' }] });
    expect(h.audit).toEqual([
      expect.objectContaining({ decision: 'allow', stage: 'execute', tool: 'echo', rows: 1 }),
    ]);
    expect(h.calls.release).toBe(1);
  });

  it('asks for tool:<name> before running the tool requirement, and both before quota', async () => {
    const requires = vi.fn(() => ({
      ok: true as const,
      capabilities: ['read:db:public.t'],
      prepared: 1,
    }));
    const h = harness({ tools: [echoTool({ requires })], grant: () => false });
    const result = await h.call('echo', { text: 'x' });
    expect(result.structuredContent).toEqual({
      error: { code: 'FORBIDDEN', message: expect.not.stringContaining('tool:echo') },
    });
    expect(h.calls.authorize).toEqual([['tool:echo']]);
    expect(requires).not.toHaveBeenCalled();
    expect(h.calls.acquire).toBe(0);
    expect(h.audit[0]).toMatchObject({
      stage: 'authorization',
      code: 'FORBIDDEN',
      missing: 'tool:echo',
    });
  });

  it('asks for the tool capability together with what the call needs', async () => {
    const h = harness({ grant: (required) => !required.includes('read:db:public.t') });
    const result = await h.call('echo', { text: 'x' });
    expect(result.isError).toBe(true);
    expect(h.calls.authorize).toEqual([['tool:echo'], ['tool:echo', 'read:db:public.t']]);
    expect(h.audit[0]).toMatchObject({ missing: 'read:db:public.t' });
  });

  it('lists what is wrong with the arguments', async () => {
    const h = harness();
    const result = await h.call('echo', { text: 'x'.repeat(30), extra: 1 });
    expect(result.isError).toBe(true);
    const text = result.content[0]?.text ?? '';
    expect(text).toMatch(/^INVALID_INPUT: Invalid arguments for echo: /);
    expect(text).toMatch(/text: /);
    expect(text).toMatch(/extra/);
    expect(h.calls.authorize).toEqual([]);
  });

  it('turns a throwing authorizer into INTERNAL without running the handler', async () => {
    const handler = vi.fn(async () => ({ text: 'x' }));
    const h = harness({ tools: [echoTool({ handler })] });
    h.deps.authorizer.authorize = () => {
      throw new Error('policy store down');
    };
    const onInternalError = vi.fn();
    const result = await executeToolBoundary(
      { requestId: 'r', context, tool: 'echo', input: { text: 'a' } },
      { ...h.deps, onInternalError },
    );
    expect(result.structuredContent).toEqual({
      error: { code: 'INTERNAL', message: expect.any(String) },
    });
    expect(handler).not.toHaveBeenCalled();
    expect(onInternalError).toHaveBeenCalledWith(expect.any(Error), {
      stage: 'authorization',
      requestId: 'r',
    });
    expect(h.audit[0]).toMatchObject({ decision: 'error', stage: 'authorization' });
  });

  it('passes a tool requirement denial through with its facts', async () => {
    const h = harness({
      tools: [
        echoTool({
          requires: () => ({
            ok: false,
            code: 'QUERY_REJECTED',
            message: 'Only SELECT.',
            facts: { fp: 'abcdefabcdef' },
          }),
        }),
      ],
    });
    const result = await h.call('echo', { text: 'x' });
    expect(result.structuredContent).toEqual({
      error: { code: 'QUERY_REJECTED', message: 'Only SELECT.' },
    });
    expect(h.audit[0]).toMatchObject({
      fp: 'abcdefabcdef',
      code: 'QUERY_REJECTED',
      stage: 'authorization',
    });
    expect(h.calls.acquire).toBe(0);
  });

  it('records the column policies a requirement reports, with the call', async () => {
    const columnPolicies = [{ table: 'hr.people', column: 'email', action: 'mask' as const }];
    const h = harness({
      tools: [
        echoTool({
          requires: () => ({
            ok: true,
            capabilities: [],
            prepared: 'p',
            facts: { fp: 'abcdefabcdef', columnPolicies },
          }),
        }),
      ],
    });
    await h.call('echo', { text: 'x' });
    expect(h.audit[0]).toMatchObject({ decision: 'allow', columnPolicies });
    const none = harness();
    await none.call('echo', { text: 'x' });
    expect(none.audit[0]).not.toHaveProperty('columnPolicies');
  });

  it('returns quota denials with retryAfterMs', async () => {
    const h = harness();
    h.quotaDecision.mockResolvedValueOnce({
      ok: false,
      code: 'RATE_LIMITED',
      message: 'Slow down.',
      retryAfterMs: 250,
    });
    const result = await h.call('echo', { text: 'x' });
    expect(result.structuredContent).toEqual({
      error: { code: 'RATE_LIMITED', message: 'Slow down.', retryAfterMs: 250 },
    });
    expect(result.content[0]?.text).toMatch(/Retry after 250 ms/);
  });

  it('keeps the code and message of a SqlwardenError thrown by the handler', async () => {
    const h = harness({
      tools: [
        echoTool({
          handler: async () => {
            throw new SqlwardenError('DB_UNAVAILABLE', 'Down.');
          },
        }),
      ],
    });
    const result = await h.call('echo', { text: 'x' });
    expect(result.structuredContent).toEqual({
      error: { code: 'DB_UNAVAILABLE', message: 'Down.' },
    });
    expect(h.calls.release).toBe(1);
  });

  it('hides the message of any other thrown value and tells the operator hook', async () => {
    const onInternalError = vi.fn();
    const h = harness({
      tools: [
        echoTool({
          handler: async () => {
            throw new Error('password=hunter2 at /srv/app.js:10');
          },
        }),
      ],
    });
    const result = await executeToolBoundary(
      { requestId: 'r', context, tool: 'echo', input: { text: 'x' } },
      { ...h.deps, onInternalError },
    );
    expect(JSON.stringify(result)).not.toMatch(/hunter2|app\.js/);
    expect(result.structuredContent).toMatchObject({ error: { code: 'INTERNAL' } });
    expect(onInternalError).toHaveBeenCalledOnce();
  });

  it('answers QUERY_TIMEOUT when a handler ignores its signal past the deadline', async () => {
    const never = new Promise<never>(() => {});
    const h = harness({ tools: [echoTool({ handler: () => never })] });
    const result = await h.call('echo', { text: 'x' });
    expect(result.structuredContent).toMatchObject({ error: { code: 'QUERY_TIMEOUT' } });
    expect(h.calls.release).toBe(1);
  });

  it('hands the handler a signal that the client cancellation aborts', async () => {
    let seen: AbortSignal | undefined;
    const h = harness({
      tools: [
        echoTool({
          handler: (_input, ctx) =>
            new Promise((_resolve, reject) => {
              seen = ctx.signal;
              ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
            }),
        }),
      ],
    });
    const controller = new AbortController();
    const pending = h.call('echo', { text: 'x' }, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const result = await pending;
    expect(seen?.aborted).toBe(true);
    expect(result.structuredContent).toMatchObject({ error: { code: 'QUERY_CANCELLED' } });
    expect(h.calls.release).toBe(1);
  });

  it('does not start a handler for a call already cancelled', async () => {
    const handler = vi.fn(async () => ({ text: 'x' }));
    const h = harness({ tools: [echoTool({ handler })] });
    const result = await h.call('echo', { text: 'x' }, { signal: AbortSignal.abort() });
    expect(result.structuredContent).toMatchObject({ error: { code: 'QUERY_CANCELLED' } });
    expect(handler).not.toHaveBeenCalled();
  });

  it('refuses an output that breaks the declared output schema', async () => {
    const h = harness({
      tools: [
        echoTool({
          outputSchema: z.strictObject({ n: z.number() }),
          handler: async () => ({ text: 'x', structuredContent: { n: 'not a number' } }),
        }),
      ],
    });
    const result = await h.call('echo', { text: 'x' });
    expect(result.structuredContent).toMatchObject({ error: { code: 'INTERNAL' } });
  });

  it('withholds the result when the audit record cannot be written', async () => {
    const h = harness();
    h.deps.audit.record = () => {
      throw new Error('disk full');
    };
    const result = await h.call('echo', { text: 'x' });
    expect(result.structuredContent).toMatchObject({ error: { code: 'INTERNAL' } });
    expect(JSON.stringify(result)).not.toContain('x:prep');
  });

  it('never records the name of an unknown tool', async () => {
    const h = harness();
    await h.call('drop_everything', {});
    expect(h.audit[0]).toMatchObject({ decision: 'deny', code: 'UNKNOWN_TOOL', stage: 'lookup' });
    expect(h.audit[0]).not.toHaveProperty('tool');
  });

  it('refuses write tools in read-only mode and with the switch off, before authorization', async () => {
    const write = echoTool({ name: 'w', kind: 'write' });
    for (const [deps, session, code] of [
      [{ readOnly: true }, {}, 'READ_ONLY'],
      [{}, { readOnly: true }, 'READ_ONLY'],
      [{ writesEnabled: false }, {}, 'WRITES_DISABLED'],
    ] as const) {
      const h = harness({ tools: [write] });
      const result = await executeToolBoundary(
        { requestId: 'r', context: { ...context, ...session }, tool: 'w', input: { text: 'x' } },
        { ...h.deps, ...deps },
      );
      expect(result.structuredContent).toMatchObject({ error: { code } });
      expect(h.calls.authorize).toEqual([]);
    }
  });
});

describe('the boundary observer', () => {
  function watched(h: ReturnType<typeof harness>, tool: unknown, input: unknown) {
    const seen: string[] = [];
    const ended: AuditEvent[] = [];
    const result = executeToolBoundary(
      {
        requestId: 'r1',
        context,
        tool,
        input,
        observer: { stage: (stage) => seen.push(stage), end: (event) => ended.push(event) },
      },
      h.deps,
    );
    return { result, seen, ended };
  }

  it('is told every stage of an allowed call in order, then the audit event as recorded', async () => {
    const h = harness();
    const { result, seen, ended } = watched(h, 'echo', { text: 'hi' });
    expect((await result).isError).toBeUndefined();
    expect(seen).toEqual([
      'context',
      'lookup',
      'input',
      'readOnly',
      'authorization',
      'quota',
      'execute',
      'audit',
    ]);
    expect(ended).toEqual(h.audit);
  });

  it('is told the stages up to the one that denied, and the denial', async () => {
    const h = harness({ grant: () => false });
    const { result, seen, ended } = watched(h, 'echo', { text: 'hi' });
    expect((await result).isError).toBe(true);
    expect(seen).toEqual(['context', 'lookup', 'input', 'readOnly', 'authorization', 'audit']);
    expect(ended).toEqual([expect.objectContaining({ code: 'FORBIDDEN', stage: 'authorization' })]);
  });

  it('cannot change or fail a call by throwing', async () => {
    const h = harness();
    const result = await executeToolBoundary(
      {
        requestId: 'r1',
        context,
        tool: 'echo',
        input: { text: 'hi' },
        observer: {
          stage: () => {
            throw new Error('observer broke');
          },
          end: () => {
            throw new Error('observer broke');
          },
        },
      },
      h.deps,
    );
    expect(result).toEqual({ content: [{ type: 'text', text: 'hi:prep' }] });
    expect(h.audit).toEqual([expect.objectContaining({ decision: 'allow' })]);
  });
});

describe('confirmations of writes (the handler context confirm)', () => {
  const request = {
    source: 'db',
    statement: 'DELETE FROM t WHERE id = $1',
    params: [1],
    fp: 'abcdefabcdef',
    operation: 'DELETE',
    tables: ['public.t'],
    dryRun: async () => 1,
  } as const;
  const confirmingTool = (written: string[]) =>
    echoTool({
      kind: 'write',
      handler: async (_input, ctx) => {
        const grant = await ctx.confirm(request);
        if (grant.status === 'accepted') written.push(`at most ${grant.rows}`);
        return { text: grant.status, rows: grant.rows, committed: grant.status === 'accepted' };
      },
    });
  const run = (answer: ConfirmationAnswer | undefined, written: string[]) => {
    const h = harness({ tools: [confirmingTool(written)] });
    const confirmation =
      answer === undefined ? undefined : { confirm: async () => answer as ConfirmationAnswer };
    return executeToolBoundary(
      {
        requestId: 'r1',
        context,
        tool: 'echo',
        input: { text: 'x' },
        ...(confirmation !== undefined && { confirmation }),
      },
      h.deps,
    ).then((result) => ({ result, audit: h.audit }));
  };
  const codeOf = (result: { structuredContent?: unknown }) =>
    (result.structuredContent as { error?: { code?: string } } | undefined)?.error?.code;

  it('refuses with CONFIRMATION_REQUIRED when the request brings no way to ask (fail closed)', async () => {
    const written: string[] = [];
    const { result, audit } = await run(undefined, written);
    expect(codeOf(result)).toBe('CONFIRMATION_REQUIRED');
    expect(written).toEqual([]);
    expect(audit).toEqual([expect.objectContaining({ decision: 'deny', confirmation: 'refused' })]);
  });

  it.each([
    [{ status: 'declined' }, 'CONFIRMATION_DECLINED', 'declined'],
    [{ status: 'unavailable', message: 'no way' }, 'CONFIRMATION_REQUIRED', 'refused'],
    [{ status: 'invalid', message: 'changed' }, 'INVALID_INPUT', 'invalid'],
  ] as const)(
    'turns %o into %s, audited as %s, and the handler writes nothing',
    async (answer, code, outcome) => {
      const written: string[] = [];
      const { result, audit } = await run(answer, written);
      expect(codeOf(result)).toBe(code);
      expect(written).toEqual([]);
      expect(audit).toEqual([expect.objectContaining({ code, confirmation: outcome })]);
    },
  );

  it('hands an accepted confirmation with its rows to the handler, audited as accepted', async () => {
    const written: string[] = [];
    const { result, audit } = await run({ status: 'accepted', rows: 3 }, written);
    expect(result.isError).toBeUndefined();
    expect(written).toEqual(['at most 3']);
    expect(audit).toEqual([
      expect.objectContaining({ decision: 'allow', committed: true, confirmation: 'accepted' }),
    ]);
  });

  it('records a pending confirmation as requested', async () => {
    const { audit } = await run({ status: 'pending', rows: 2 }, []);
    expect(audit).toEqual([
      expect.objectContaining({ decision: 'allow', rows: 2, confirmation: 'requested' }),
    ]);
  });
});
