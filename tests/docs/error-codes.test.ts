import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '@sqlwarden/core';
import { expect, it } from 'vitest';

// docs/error-codes.md is the reference clients read; it must list exactly the
// codes of the table, with the same retryability.
it('documents every error code with its retryability, and nothing else', () => {
  const page = readFileSync(new URL('../../docs/error-codes.md', import.meta.url), 'utf8');
  const rows = [...page.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(yes|no)\s*\|/gm)].map((m) => [
    m[1],
    m[2] === 'yes',
  ]);
  expect(Object.fromEntries(rows)).toEqual(
    Object.fromEntries(Object.entries(ERROR_CODES).map(([code, entry]) => [code, entry.retryable])),
  );
});
