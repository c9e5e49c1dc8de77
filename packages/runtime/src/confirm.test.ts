import { createHmac } from 'node:crypto';
import type { ConfirmationRequest } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import {
  type ConfirmationBinding,
  confirmationPort,
  createConfirmationCodec,
  DEFAULT_CONFIRMATION_TTL_MS,
} from './confirm.js';

const KEY = 'k'.repeat(32);

const binding: ConfirmationBinding = {
  principalId: 'clerk',
  tool: 'execute_write',
  source: 'main',
  statement: 'UPDATE orders SET status = $1 WHERE id = $2',
  params: ['paid', 7],
};

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** Re-signs a state's payload after `change`, as only a holder of the key could. */
function resigned(state: string, key: string, change: (p: Record<string, unknown>) => void) {
  const [, body] = state.split('.');
  const payload = JSON.parse(Buffer.from(body as string, 'base64url').toString('utf8'));
  change(payload);
  const next = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const mac = createHmac('sha256', key).update('sqlwarden.confirm.v1.').update(next).digest();
  return `v1.${next}.${mac.toString('base64url')}`;
}

describe('the confirmation state codec', () => {
  it('opens a state it minted for the same call, once, with the rows shown', () => {
    const codec = createConfirmationCodec({ key: KEY });
    const state = codec.mint(binding, { fp: 'abcdefabcdef', rows: 3 });
    expect(codec.open(state, binding)).toEqual({ ok: true, rows: 3 });
    expect(codec.open(state, binding)).toEqual({ ok: false, reason: 'used' });
  });

  it('holds no statement text and no values, only what binds them', () => {
    const codec = createConfirmationCodec({ key: KEY });
    const state = codec.mint(binding, { fp: 'abcdefabcdef', rows: 1 });
    const body = Buffer.from(state.split('.')[1] as string, 'base64url').toString('utf8');
    expect(body).not.toContain('UPDATE');
    expect(body).not.toContain('paid');
    expect(body).not.toContain('clerk');
  });

  it('refuses a state with any byte changed, or a payload changed without the key', () => {
    const codec = createConfirmationCodec({ key: KEY });
    const state = codec.mint(binding, { fp: 'abcdefabcdef', rows: 1 });
    const [v, body, mac] = state.split('.') as [string, string, string];
    const flipped = `${body.slice(0, 10)}${body[10] === 'A' ? 'B' : 'A'}${body.slice(11)}`;
    expect(codec.open(`${v}.${flipped}.${mac}`, binding)).toEqual({ ok: false, reason: 'mac' });
    // More rows, signed with another key: the MAC does not hold.
    const forged = resigned(state, 'x'.repeat(32), (p) => {
      p.rows = 1000;
    });
    expect(codec.open(forged, binding)).toEqual({ ok: false, reason: 'mac' });
    for (const junk of ['', 'v1', 'v2.a.b', `${state}.x`, 'v1..', 'x'.repeat(5000)]) {
      expect(codec.open(junk, binding).ok).toBe(false);
    }
  });

  it('refuses a state past its expiry, by the injected clock', () => {
    const time = clock();
    const codec = createConfirmationCodec({ key: KEY, ttlMs: 60_000, now: time.now });
    const state = codec.mint(binding, { fp: 'abcdefabcdef', rows: 1 });
    time.advance(59_999);
    const early = codec.mint(binding, { fp: 'abcdefabcdef', rows: 1 });
    expect(codec.open(early, binding).ok).toBe(true);
    time.advance(1);
    expect(codec.open(state, binding)).toEqual({ ok: false, reason: 'expired' });
  });

  it('defaults to five minutes', () => {
    expect(createConfirmationCodec({ key: KEY }).ttlMs).toBe(DEFAULT_CONFIRMATION_TTL_MS);
    expect(DEFAULT_CONFIRMATION_TTL_MS).toBe(300_000);
  });

  it.each([
    ['principal', { principalId: 'other' }],
    ['tool', { tool: 'update_order_status' }],
    ['source', { source: 'archive' }],
    ['statement text', { statement: 'UPDATE orders SET status = $1 WHERE id > $2' }],
    ['values', { params: ['paid', 8] }],
    ['value types', { params: ['paid', '7'] }],
  ])('refuses a state minted for another %s', (_what, change) => {
    const codec = createConfirmationCodec({ key: KEY });
    const state = codec.mint(binding, { fp: 'abcdefabcdef', rows: 1 });
    expect(codec.open(state, { ...binding, ...change })).toEqual({ ok: false, reason: 'binding' });
    // Refusing it did not spend it: the right call still opens it.
    expect(codec.open(state, binding).ok).toBe(true);
  });

  it('agrees across codecs that share the key (replicas), and not otherwise', () => {
    const a = createConfirmationCodec({ key: KEY });
    const b = createConfirmationCodec({ key: KEY });
    const c = createConfirmationCodec({ key: 'z'.repeat(32) });
    expect(b.open(a.mint(binding, { fp: 'abcdefabcdef', rows: 2 }), binding)).toEqual({
      ok: true,
      rows: 2,
    });
    expect(c.open(a.mint(binding, { fp: 'abcdefabcdef', rows: 2 }), binding).ok).toBe(false);
  });

  it('refuses a key shorter than 32 bytes', () => {
    expect(() => createConfirmationCodec({ key: 'short' })).toThrow(RangeError);
  });
});

describe('the confirmation port of a request', () => {
  const write = (dryRuns: number[]): ConfirmationRequest => ({
    source: binding.source,
    statement: binding.statement,
    params: binding.params,
    fp: 'abcdefabcdef',
    operation: 'UPDATE',
    tables: ['shop.orders'],
    dryRun: async () => {
      dryRuns.push(1);
      return 2;
    },
  });
  const request = { principalId: 'clerk', tool: 'execute_write' } as const;

  it('runs the dry run and prepares the question when the client can be asked', async () => {
    const codec = createConfirmationCodec({ key: KEY });
    const port = confirmationPort(codec, { ...request, channel: { kind: 'input-request' } });
    const dryRuns: number[] = [];
    expect(await port.confirm(write(dryRuns))).toEqual({ status: 'pending', rows: 2 });
    expect(dryRuns).toHaveLength(1);
    const pending = port.pending();
    expect(pending?.message).toContain('UPDATE on shop.orders, changing 2 rows');
    expect(pending?.message).toContain('Values: ["paid",7]');
    expect(pending?.requestedSchema.required).toEqual(['confirm']);
  });

  it('answers unavailable without a dry run when the client cannot be asked', async () => {
    const codec = createConfirmationCodec({ key: KEY });
    const port = confirmationPort(codec, {
      ...request,
      channel: { kind: 'none', message: 'cannot ask' },
    });
    const dryRuns: number[] = [];
    expect(await port.confirm(write(dryRuns))).toEqual({
      status: 'unavailable',
      message: 'cannot ask',
    });
    expect(dryRuns).toEqual([]);
    expect(port.pending()).toBeUndefined();
  });

  it('accepts only an explicit accept with the box ticked, without a second dry run', async () => {
    const codec = createConfirmationCodec({ key: KEY });
    const answer = async (response: unknown) => {
      const state = codec.mint(binding, { fp: 'abcdefabcdef', rows: 2 });
      const dryRuns: number[] = [];
      const port = confirmationPort(codec, {
        ...request,
        channel: { kind: 'input-request' },
        state,
        responses: { confirm: response },
      });
      const result = await port.confirm(write(dryRuns));
      expect(dryRuns).toEqual([]);
      return result;
    };
    expect(await answer({ action: 'accept', content: { confirm: true } })).toEqual({
      status: 'accepted',
      rows: 2,
    });
    expect(await answer({ action: 'accept', content: { confirm: false } })).toEqual({
      status: 'declined',
    });
    expect(await answer({ action: 'accept', content: { confirm: 'true' } })).toEqual({
      status: 'declined',
    });
    expect(await answer({ action: 'accept' })).toEqual({ status: 'declined' });
    expect(await answer({ action: 'decline' })).toEqual({ status: 'declined' });
    expect(await answer({ action: 'cancel' })).toEqual({ status: 'declined' });
    expect((await answer(undefined)).status).toBe('invalid');
  });

  it('says what was wrong with a state that does not open', async () => {
    const time = clock();
    const codec = createConfirmationCodec({ key: KEY, ttlMs: 1000, now: time.now });
    const state = codec.mint(binding, { fp: 'abcdefabcdef', rows: 2 });
    time.advance(1000);
    const port = confirmationPort(codec, {
      ...request,
      channel: { kind: 'input-request' },
      state,
      responses: { confirm: { action: 'accept', content: { confirm: true } } },
    });
    const answer = await port.confirm(write([]));
    expect(answer).toMatchObject({ status: 'invalid' });
    expect((answer as { message: string }).message).toContain('has expired');
    expect((answer as { message: string }).message).toContain('nothing was written');
  });
});
