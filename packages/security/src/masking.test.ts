import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMasker, REDACTED_VALUE } from './masking.js';

const KEY = 'k'.repeat(32);
const partial = (keep = 4) => ({ mask: 'partial', keep }) as const;
const hash = { mask: 'hash', keep: 4 } as const;

describe('createMasker', () => {
  const masker = createMasker(KEY);

  it('turns every value into null under a null mask', () => {
    expect(masker.mask('123-45-6789', { mask: 'null', keep: 4 })).toBeNull();
    expect(masker.mask(42, { mask: 'null', keep: 4 })).toBeNull();
  });

  it('redacts to a fixed marker, and leaves null null', () => {
    expect(masker.mask('secret', { mask: 'redact', keep: 4 })).toBe(REDACTED_VALUE);
    expect(masker.mask(null, { mask: 'redact', keep: 4 })).toBeNull();
  });

  it('keeps only the last characters of a partial mask', () => {
    expect(masker.mask('123-45-6789', partial())).toBe('*******6789');
    expect(masker.mask('ana@example.com', partial(3))).toBe('************com');
    expect(masker.mask(123456, partial(2))).toBe('****56');
    expect(masker.mask(null, partial())).toBeNull();
  });

  it('masks a value no longer than what a partial mask keeps whole', () => {
    expect(masker.mask('abcd', partial())).toBe('****');
    expect(masker.mask('ab', partial())).toBe('**');
    expect(masker.mask('', partial())).toBe('');
  });

  it('does not cut a character outside the BMP in half', () => {
    expect(masker.mask('a😀b😀', partial(1))).toBe('***😀');
  });

  it('hashes to a short stable token that equal values share', () => {
    const a = masker.mask('123-45-6789', hash);
    expect(a).toMatch(/^h:[0-9a-f]{16}$/);
    expect(masker.mask('123-45-6789', hash)).toBe(a);
    expect(createMasker(KEY).mask('123-45-6789', hash)).toBe(a);
    expect(masker.mask('123-45-6780', hash)).not.toBe(a);
    expect(masker.mask(null, hash)).toBeNull();
  });

  it('hashes as HMAC-SHA-256 under the key, its first 16 hex characters (as documented)', () => {
    const expected = createHmac('sha256', Buffer.from(KEY, 'utf8'))
      .update('123-45-6789')
      .digest('hex');
    expect(masker.mask('123-45-6789', hash)).toBe(`h:${expected.slice(0, 16)}`);
  });

  it('hashes a number and the text of its digits alike', () => {
    expect(masker.mask(90000, hash)).toBe(masker.mask('90000', hash));
  });

  it('gives other tokens under another key, and says when the key is its own', () => {
    expect(createMasker('x'.repeat(32)).mask('v', hash)).not.toBe(masker.mask('v', hash));
    expect(masker.ephemeral).toBe(false);
    const ephemeral = createMasker();
    expect(ephemeral.ephemeral).toBe(true);
    expect(ephemeral.mask('v', hash)).toBe(ephemeral.mask('v', hash));
    expect(createMasker().mask('v', hash)).not.toBe(ephemeral.mask('v', hash));
  });

  it('never returns the value itself in any mask of a long value', () => {
    const value = 'ssn-987-65-4321';
    for (const spec of [partial(), hash, { mask: 'redact', keep: 4 } as const]) {
      expect(String(masker.mask(value, spec))).not.toContain(value);
    }
  });
});
