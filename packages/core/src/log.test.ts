import { describe, expect, it } from 'vitest';
import { serializeError } from './log.js';

describe('serializeError', () => {
  it('keeps the class, the codes and the frames of an error, never its message or other fields', () => {
    const error = Object.assign(new Error('invalid input syntax for type integer: "4111-1111"'), {
      code: '22P02',
      severity: 'ERROR',
      sql: 'SELECT card FROM cards WHERE n = 4111',
      sqlMessage: 'card 4111',
    });
    const serialized = serializeError(error);
    expect(serialized).toMatchObject({ type: 'Error', code: '22P02', severity: 'ERROR' });
    expect(Object.keys(serialized).sort()).toEqual(['code', 'severity', 'stack', 'type']);
    expect(serialized.stack).toMatch(/^\s+at /);
    expect(JSON.stringify(serialized)).not.toContain('4111');
  });

  it('keeps the chain of causes, without messages', () => {
    const error = new Error('outer secret', { cause: new TypeError('inner secret') });
    const serialized = serializeError(error);
    expect(JSON.stringify(serialized)).not.toContain('secret');
    expect(serialized).toMatchObject({ type: 'Error', cause: { type: 'TypeError' } });
  });

  it('never takes a line of a message for a stack frame', () => {
    // A server message can quote a statement whose text has a newline and "at ...".
    const error = new Error('syntax error near "x\n    at SECRET_CANARY (y)"');
    expect(JSON.stringify(serializeError(error))).not.toContain('SECRET_CANARY');
    // A message changed after the stack was taken: the stack goes too.
    const changed = new Error('first');
    changed.message = 'second\n    at SECRET_CANARY';
    changed.stack = `Error: first\n    at SECRET_CANARY (z)\n${changed.stack ?? ''}`;
    const serialized = serializeError(changed);
    expect(serialized.stack).toBeUndefined();
    expect(JSON.stringify(serialized)).not.toContain('SECRET_CANARY');
  });

  it('drops codes too long to be identifiers, and follows a cycle of causes only so far', () => {
    const a: Error & { code?: string; cause?: unknown } = new Error('a');
    a.code = 'x'.repeat(200);
    const b = new Error('b', { cause: a });
    a.cause = b;
    const serialized = serializeError(a);
    expect(serialized.code).toBeUndefined();
    let depth = 0;
    for (let at = serialized.cause; at !== undefined; at = at.cause) depth++;
    expect(depth).toBe(5);
  });

  it('is idempotent: a serialized error passes through unchanged', () => {
    const once = serializeError(Object.assign(new Error('x'), { errno: 1049 }));
    expect(serializeError(once)).toBe(once);
    expect(serializeError('a string')).toEqual({ type: 'string' });
    expect(serializeError(null)).toEqual({ type: 'object' });
  });
});
