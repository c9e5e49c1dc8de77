import type { DestinationStream } from 'pino';

/**
 * A pino destination that writes the lines logged in one event-loop turn in
 * one synchronous system call, at the end of that turn (setImmediate).
 *
 * Why: under load a server logs an audit line per call, several calls per
 * turn. Writing each line on its own costs a system call (and, on a pipe,
 * a wake-up of the reader) per line; sonic-boom's asynchronous mode costs a
 * thread-pool round trip per write instead. Batching per turn keeps the
 * latency of a line to the turn it was logged in (no size threshold that an
 * idle server would never reach), and the lines a crashing process still
 * holds are written by a process 'exit' hook.
 */
export interface TurnBatchedDestination extends DestinationStream {
  /** Writes out what this turn logged so far, then calls back. */
  flush(callback?: (error?: Error) => void): void;
  /** Writes out what this turn logged so far, synchronously. */
  flushSync(): void;
}

/** What the batch is handed to: a synchronous writer, such as a sonic-boom with `sync: true`. */
export interface SyncLineWriter {
  write(data: string): unknown;
}

/** A batch larger than this is written at once rather than at the end of the turn. */
const MAX_PENDING_CHARS = 64 * 1024;

// Weak: a destination that is no longer referenced has nothing pending (a
// scheduled flush holds it until the flush has run).
const live = new Set<WeakRef<TurnBatchedDestination>>();
const forget = new FinalizationRegistry<WeakRef<TurnBatchedDestination>>((ref) => {
  live.delete(ref);
});
let exitHookInstalled = false;

/** The process 'exit' hook: writes what every live destination holds. */
export function flushAllOnExit(): void {
  for (const ref of live) ref.deref()?.flushSync();
}

export function turnBatched(target: SyncLineWriter): TurnBatchedDestination {
  let pending = '';
  let scheduled = false;

  const flushSync = (): void => {
    if (pending === '') return;
    const out = pending;
    pending = '';
    target.write(out);
  };
  const onTurnEnd = (): void => {
    scheduled = false;
    flushSync();
  };

  const destination: TurnBatchedDestination = {
    write(line: string) {
      pending += line;
      if (pending.length >= MAX_PENDING_CHARS) {
        flushSync();
      } else if (!scheduled) {
        scheduled = true;
        setImmediate(onTurnEnd);
      }
    },
    flush(callback) {
      try {
        flushSync();
      } catch (error) {
        callback?.(error as Error);
        return;
      }
      callback?.();
    },
    flushSync,
  };

  const ref = new WeakRef(destination);
  live.add(ref);
  forget.register(destination, ref);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', flushAllOnExit);
  }
  return destination;
}
