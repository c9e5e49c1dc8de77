import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CANCEL_GRACE_MS,
  CANCEL_REPEAT_MS,
  CallSupervisor,
  DEADLINE_SLACK_MS,
} from './supervise.js';

// The supervisor's logic with fake timers; the real cancels (PostgreSQL's
// CancelRequest, MySQL's KILL QUERY) are exercised by the conformance and
// fault suites on both engines.

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function supervised(options: { answered?: boolean; signal?: AbortSignal; timeoutMs?: number }) {
  const events: string[] = [];
  const call = new CallSupervisor({
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? 1000,
    cancel: async () => {
      events.push('cancel');
      return options.answered ?? true;
    },
    destroy: () => events.push('destroy'),
  });
  return { call, events };
}

describe('CallSupervisor', () => {
  it('cancels on the server at the deadline (time limit + slack), and the work settles by itself', async () => {
    const { call, events } = supervised({});
    let settle!: (error: Error) => void;
    const work = call.guard(() => new Promise<never>((_resolve, reject) => (settle = reject)));
    work.catch(() => {});
    await vi.advanceTimersByTimeAsync(1000 + DEADLINE_SLACK_MS - 1);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(events).toEqual(['cancel']);
    expect(call.reason).toBe('timeout');
    await vi.advanceTimersByTimeAsync(CANCEL_REPEAT_MS);
    // Nothing settled yet: the cancel goes again.
    expect(events).toEqual(['cancel', 'cancel']);
    settle(new Error('canceling statement due to user request'));
    await expect(work).rejects.toThrow('user request');
    expect(call.unanswered).toBe(false);
    call.dispose();
    await vi.advanceTimersByTimeAsync(10 * CANCEL_REPEAT_MS);
    // Settled and disposed: no more cancels.
    expect(events).toEqual(['cancel', 'cancel']);
  });

  it('destroys the connection and ends the call when nothing settles within the grace', async () => {
    const { call, events } = supervised({});
    const work = call.guard(() => new Promise<never>(() => {}));
    work.catch(() => {});
    await vi.advanceTimersByTimeAsync(1000 + DEADLINE_SLACK_MS + CANCEL_GRACE_MS);
    await expect(work).rejects.toThrow('did not answer a cancel');
    // The cancel was delivered but nothing settled: sent again every
    // CANCEL_REPEAT_MS (a cancel that reached the server while it read the
    // statement's messages was ignored), a last time, then the connection goes.
    const repeats = Math.floor((CANCEL_GRACE_MS - 1) / CANCEL_REPEAT_MS);
    expect(events).toEqual([
      'cancel',
      ...Array.from({ length: repeats }, () => 'cancel'),
      'cancel',
      'destroy',
    ]);
    expect(call.unanswered).toBe(true);
    call.dispose();
  });

  it('starts nothing more once stopped: the next statement is never sent', async () => {
    const controller = new AbortController();
    const { call, events } = supervised({ signal: controller.signal });
    let first!: () => void;
    const running = call.guard(() => new Promise<void>((resolve) => (first = resolve)));
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    // What ran when the stop came settles by itself (the server ignored an
    // idle cancel, or answered it); the call must not go on to its statement.
    first();
    await running;
    let started = false;
    const next = call.guard(async () => {
      started = true;
    });
    await expect(next).rejects.toThrow('stopped (abort) before this statement');
    expect(started).toBe(false);
    expect(() => call.assertRunning()).toThrow('stopped (abort)');
    expect(events).toEqual(['cancel']);
    call.dispose();
  });

  it('ends the call at once when the cancel could not be delivered', async () => {
    const { call, events } = supervised({ answered: false });
    const work = call.guard(() => new Promise<never>(() => {}));
    work.catch(() => {});
    await vi.advanceTimersByTimeAsync(1000 + DEADLINE_SLACK_MS);
    await expect(work).rejects.toThrow('did not answer a cancel');
    expect(events).toEqual(['cancel', 'destroy']);
    expect(call.unanswered).toBe(true);
    call.dispose();
  });

  it('stops on the caller’s abort, also when it came before the call', async () => {
    const controller = new AbortController();
    const { call, events } = supervised({ signal: controller.signal });
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect([call.reason, events]).toEqual(['abort', ['cancel']]);
    call.dispose();
    const early = new AbortController();
    early.abort();
    const pre = supervised({ signal: early.signal });
    expect(pre.call.reason).toBe('abort');
    pre.call.dispose();
  });

  it('lets an abort no longer stop a call whose COMMIT was sent; the deadline still does', async () => {
    const controller = new AbortController();
    const { call, events } = supervised({ signal: controller.signal });
    call.committing();
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect([call.reason, events]).toEqual([null, []]);
    await vi.advanceTimersByTimeAsync(1000 + DEADLINE_SLACK_MS);
    expect(call.reason).toBe('timeout');
    call.dispose();
  });

  it('does nothing once disposed', async () => {
    const { call, events } = supervised({});
    call.dispose();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(events).toEqual([]);
    expect(call.reason).toBeNull();
  });
});
