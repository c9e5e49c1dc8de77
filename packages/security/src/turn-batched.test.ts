import { describe, expect, it } from 'vitest';
import { flushAllOnExit, turnBatched } from './turn-batched.js';

function recorder() {
  const writes: string[] = [];
  return { writes, target: { write: (data: string) => writes.push(data) } };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('turnBatched', () => {
  it('writes the lines of one turn in one write, at the end of the turn', async () => {
    const { writes, target } = recorder();
    const destination = turnBatched(target);
    destination.write('a\n');
    destination.write('b\n');
    destination.write('c\n');
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(['a\nb\nc\n']);
    destination.write('d\n');
    await nextTurn();
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('writes nothing for a turn that logged nothing', async () => {
    const { writes, target } = recorder();
    turnBatched(target);
    await nextTurn();
    expect(writes).toEqual([]);
  });

  it('flush and flushSync write what is pending at once', async () => {
    const { writes, target } = recorder();
    const destination = turnBatched(target);
    destination.write('a\n');
    destination.flushSync();
    expect(writes).toEqual(['a\n']);
    destination.write('b\n');
    let called = false;
    destination.flush(() => {
      called = true;
    });
    expect(called).toBe(true);
    expect(writes).toEqual(['a\n', 'b\n']);
    await nextTurn();
    expect(writes).toEqual(['a\n', 'b\n']);
  });

  it('passes a failed write to the flush callback', () => {
    const destination = turnBatched({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    destination.write('a\n');
    let received: Error | undefined;
    destination.flush((error) => {
      received = error;
    });
    expect(received?.message).toBe('EPIPE');
  });

  it('writes a large batch without waiting for the end of the turn', () => {
    const { writes, target } = recorder();
    const destination = turnBatched(target);
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 64; i++) destination.write(line);
    expect(writes.join('').length).toBe(64 * 1024);
  });

  it('holds nothing past process exit: an exit hook writes every pending batch', () => {
    const first = recorder();
    const second = recorder();
    turnBatched(first.target).write('last words\n');
    turnBatched(second.target).write('and more\n');
    expect(process.listeners('exit')).toContain(flushAllOnExit);
    flushAllOnExit();
    expect(first.writes).toEqual(['last words\n']);
    expect(second.writes).toEqual(['and more\n']);
  });
});
