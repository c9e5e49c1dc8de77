import { expect, it } from 'vitest';
import * as api from './index.js';

// The public surface of @sqlwarden/adapter-connx. Update on purpose, with a changeset.
it('exports exactly the pinned public API', () => {
  expect(Object.keys(api).sort()).toEqual(['adapterPlugin', 'createConnxAdapter']);
});
