import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameOutOfStepError, type FrameProtocol, installFrameGate } from './wire.js';

// The frame gate on a real Node stream: chunks are cut at arbitrary places,
// and the parser behind the gate must see exactly what it would see without
// it, up to the first refused message and never a byte of it.

/** A test protocol: a type byte and a 4-byte big-endian body length. */
const PROTOCOL: FrameProtocol = {
  headerLength: 5,
  bodyLength: (header) => {
    const type = header[0] as number;
    return type >= 65 && type <= 90 ? header.readUInt32BE(1) : undefined;
  },
};

function frame(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** Cuts a buffer at the given offsets. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let at = 0;
  for (const point of [...points, bytes.length]) {
    if (point > at) chunks.push(bytes.subarray(at, point));
    at = Math.max(at, point);
  }
  return chunks;
}

interface Run {
  readonly parsed: Buffer;
  readonly stops: Array<Error | undefined>;
  readonly destroyed: boolean;
  readonly headers: string[];
}

function run(
  chunks: Buffer[],
  admit: (type: string, body: number, parsedSoFar: number) => boolean | 'sync',
  parser?: (chunk: Buffer) => void,
): Run {
  const stream = new PassThrough();
  const parsed: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => {
    parsed.push(chunk);
    parser?.(chunk);
  });
  const stops: Array<Error | undefined> = [];
  const headers: string[] = [];
  installFrameGate(stream, PROTOCOL, {
    admit: (header, body) => {
      const type = String.fromCharCode(header[0] as number);
      headers.push(type);
      return admit(type, body, Buffer.concat(parsed).length);
    },
    onStop: (error) => stops.push(error),
  });
  for (const chunk of chunks) stream.emit('data', chunk);
  return { parsed: Buffer.concat(parsed), stops, destroyed: stream.destroyed, headers };
}

const messages = fc.array(
  fc.tuple(fc.constantFrom('A', 'D', 'Z'), fc.uint8Array({ maxLength: 40 })),
  { minLength: 1, maxLength: 12 },
);

describe('installFrameGate', () => {
  it('hands the parser every byte, in order, when every message is admitted', () => {
    fc.assert(
      fc.property(messages, fc.array(fc.nat(), { maxLength: 20 }), (list, offsets) => {
        const bytes = Buffer.concat(list.map(([t, b]) => frame(t, Buffer.from(b))));
        const result = run(cut(bytes, offsets), () => true);
        expect(result.parsed.equals(bytes)).toBe(true);
        expect(result.headers).toEqual(list.map(([t]) => t));
        expect(result.stops).toEqual([]);
        expect(result.destroyed).toBe(false);
      }),
    );
  });

  it('hands the parser exactly the messages before a refused one, and none of it', () => {
    fc.assert(
      fc.property(
        messages,
        fc.nat(),
        fc.array(fc.nat(), { maxLength: 20 }),
        (list, which, offsets) => {
          const refused = which % list.length;
          const frames = list.map(([t, b]) => frame(t, Buffer.from(b)));
          const bytes = Buffer.concat(frames);
          let seen = 0;
          const result = run(cut(bytes, offsets), () => seen++ !== refused);
          const before = Buffer.concat(frames.slice(0, refused));
          // The parser may have been given part of the refused message's
          // header in an earlier chunk (it cannot be told apart there), never more.
          expect(result.parsed.subarray(0, before.length).equals(before)).toBe(true);
          expect(result.parsed.length - before.length).toBeLessThan(PROTOCOL.headerLength);
          expect(result.stops).toEqual([undefined]);
          expect(result.destroyed).toBe(true);
        },
      ),
    );
  });

  it('parses the messages before a header first when asked to sync', () => {
    const frames = [frame('T', Buffer.from('desc')), frame('D', Buffer.alloc(3))];
    const bytes = Buffer.concat(frames);
    const answers: Array<[string, number]> = [];
    run([bytes], (type, _body, parsedSoFar) => {
      answers.push([type, parsedSoFar]);
      return type === 'D' && parsedSoFar === 0 ? 'sync' : true;
    });
    expect(answers).toEqual([
      ['T', 0],
      ['D', 0],
      ['D', (frames[0] as Buffer).length],
    ]);
  });

  it('stops the connection when the parser throws, instead of throwing out of the socket', () => {
    const bytes = Buffer.concat([frame('A', Buffer.alloc(2)), frame('B', Buffer.alloc(2))]);
    const boom = new RangeError('Invalid string length');
    const result = run(
      [bytes],
      () => true,
      () => {
        throw boom;
      },
    );
    expect(result.stops).toEqual([boom]);
    expect(result.destroyed).toBe(true);
  });

  it('stops the connection at a header that cannot be one (out of step)', () => {
    const bytes = Buffer.concat([frame('A', Buffer.alloc(1)), Buffer.from('\u0001junk')]);
    const result = run([bytes], () => true);
    expect(result.stops).toHaveLength(1);
    expect(result.stops[0]).toBeInstanceOf(FrameOutOfStepError);
    expect(result.parsed.equals(frame('A', Buffer.alloc(1)))).toBe(true);
  });

  it('hands nothing more to the parser once stopped', () => {
    const first = frame('A', Buffer.alloc(1));
    const stream = new PassThrough();
    const parsed: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => parsed.push(chunk));
    installFrameGate(stream, PROTOCOL, { admit: () => false, onStop: () => {} });
    stream.emit('data', first);
    stream.emit('data', first);
    expect(parsed).toEqual([]);
  });
});
