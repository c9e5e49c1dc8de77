import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConnectionPool,
  OpenTimeoutError,
  PoolAbortedError,
  PoolClosedError,
  type PoolOptions,
  PoolTimeoutError,
} from './pool.js';

// The pool's logic on resources of its own; the real connections are
// exercised by the conformance and fault suites on both engines.

class Resource {
  destroyed = false;
  closed = false;
  lost: (error: unknown) => void = () => {};
  destroy() {
    this.destroyed = true;
  }
  async close() {
    this.closed = true;
  }
}

function pool(options: Partial<PoolOptions<Resource>> = {}) {
  const opened: Resource[] = [];
  const signals: AbortSignal[] = [];
  const made = new ConnectionPool<Resource>({
    open: async (lost, signal) => {
      const resource = new Resource();
      resource.lost = lost;
      signals.push(signal);
      opened.push(resource);
      return resource;
    },
    max: 2,
    idleTimeoutMs: 10_000,
    acquireTimeoutMs: 100,
    openTimeoutMs: 100,
    ...options,
  });
  return { made, opened, signals };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ConnectionPool', () => {
  it('hands out at most max connections; a caller waiting past acquireTimeoutMs gets a timeout, and busy is counted by leases', async () => {
    const { made } = pool();
    const a = await made.acquire();
    const b = await made.acquire();
    expect(made.leasedCount).toBe(2);
    await expect(made.acquire()).rejects.toBeInstanceOf(PoolTimeoutError);
    made.release(a);
    expect(await made.acquire()).toBe(a);
    made.release(b);
    expect(made.idleCount).toBe(1);
  });

  it('gives the next waiter a released connection (LIFO reuse, no new opening)', async () => {
    const { made, opened } = pool({ max: 1 });
    const a = await made.acquire();
    const waiting = made.acquire();
    made.release(a);
    expect(await waiting).toBe(a);
    expect(opened).toHaveLength(1);
  });

  it('lets an aborted caller stop waiting, and nothing waits for it afterwards', async () => {
    const { made } = pool({ max: 1, acquireTimeoutMs: 10_000 });
    const a = await made.acquire();
    const controller = new AbortController();
    const waiting = made.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(PoolAbortedError);
    const already = new AbortController();
    already.abort();
    await expect(made.acquire(already.signal)).rejects.toBeInstanceOf(PoolAbortedError);
    made.release(a);
    expect(made.idleCount).toBe(1);
  });

  it('gives up a connection that does not open in time: its slot is freed, the driver is told, a late one is destroyed', async () => {
    let finish: ((resource: Resource) => void) | undefined;
    const late = new Resource();
    let signal: AbortSignal | undefined;
    const made = new ConnectionPool<Resource>({
      open: (_lost, given) => {
        signal = given;
        return new Promise((resolve) => {
          finish = resolve;
        });
      },
      max: 1,
      idleTimeoutMs: 10_000,
      acquireTimeoutMs: 1000,
      openTimeoutMs: 50,
    });
    await expect(made.acquire()).rejects.toBeInstanceOf(OpenTimeoutError);
    expect(signal?.aborted).toBe(true);
    expect(made.size).toBe(0);
    finish?.(late);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(late.destroyed).toBe(true);
  });

  it('drops an idle connection that is lost (and says so), and discards a leased one on release', async () => {
    const idleErrors: unknown[] = [];
    const { made, opened } = pool({ onIdleError: (error) => idleErrors.push(error) });
    const a = await made.acquire();
    const b = await made.acquire();
    made.release(a);
    opened[0]?.lost(new Error('reset'));
    expect(made.idleCount).toBe(0);
    expect(a.destroyed).toBe(true);
    expect(idleErrors).toHaveLength(1);
    opened[1]?.lost(undefined);
    made.release(b);
    expect(b.destroyed).toBe(true);
    expect(made.size).toBe(0);
    // An end without an error says nothing new.
    expect(idleErrors).toHaveLength(1);
  });

  it('says so when a leased connection is lost between calls and given back healthy, not when its call failed on it', async () => {
    const lostBetween: unknown[] = [];
    const { made, opened } = pool({ onIdleError: (error) => lostBetween.push(error) });
    const a = await made.acquire();
    const b = await made.acquire();
    const terminated = new Error('terminating connection due to administrator command');
    opened[0]?.lost(terminated);
    opened[0]?.lost(undefined);
    made.release(a);
    expect(a.destroyed).toBe(true);
    expect(lostBetween).toEqual([terminated]);
    // The call failed on it and discards it: the call's own error is the report.
    opened[1]?.lost(new Error('reset'));
    made.discard(b);
    expect(b.destroyed).toBe(true);
    expect(lostBetween).toEqual([terminated]);
    expect(made.size).toBe(0);
  });

  it('marks a connection lost while it opened as broken: it is not reused', async () => {
    const made = new ConnectionPool<Resource>({
      open: async (lost) => {
        lost(new Error('ended during the handshake'));
        return new Resource();
      },
      max: 1,
      idleTimeoutMs: 10_000,
      acquireTimeoutMs: 100,
      openTimeoutMs: 100,
    });
    const a = await made.acquire();
    made.release(a);
    expect(a.destroyed).toBe(true);
    expect(made.size).toBe(0);
  });

  it('closes idle connections after idleTimeoutMs', async () => {
    vi.useFakeTimers();
    const { made } = pool({ idleTimeoutMs: 1000 });
    const a = await made.acquire();
    made.release(a);
    await vi.advanceTimersByTimeAsync(999);
    expect(a.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(a.closed).toBe(true);
    expect(made.size).toBe(0);
  });

  it('ends: waiters are refused, idle connections closed, leased ones closed on release', async () => {
    const { made } = pool({ max: 2, acquireTimeoutMs: 10_000 });
    const a = await made.acquire();
    const b = await made.acquire();
    const waiting = made.acquire();
    made.release(a);
    expect(await waiting).toBe(a);
    made.release(a);
    await made.end();
    expect(a.closed).toBe(true);
    await expect(made.acquire()).rejects.toBeInstanceOf(PoolClosedError);
    expect(b.destroyed).toBe(false);
    made.release(b);
    expect(b.destroyed).toBe(true);
  });

  it('refuses the callers still waiting when it ends', async () => {
    const { made } = pool({ max: 1, acquireTimeoutMs: 10_000 });
    await made.acquire();
    const waiting = made.acquire();
    await made.end();
    await expect(waiting).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('hands a connection opening for a caller that gave up to the next caller', async () => {
    let finish: ((resource: Resource) => void) | undefined;
    const made = new ConnectionPool<Resource>({
      open: () =>
        new Promise((resolve) => {
          finish = resolve;
        }),
      max: 1,
      idleTimeoutMs: 10_000,
      acquireTimeoutMs: 20,
      openTimeoutMs: 10_000,
    });
    await expect(made.acquire()).rejects.toBeInstanceOf(PoolTimeoutError);
    const resource = new Resource();
    finish?.(resource);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(made.idleCount).toBe(1);
    expect(await made.acquire()).toBe(resource);
  });
});
