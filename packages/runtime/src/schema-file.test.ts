import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigSchema } from './config/schema.js';

// The published JSON Schema must be the one the zod schema generates (the build rewrites it).
it('keeps sqlwarden.schema.json in step with the configuration schema', () => {
  const committed = JSON.parse(
    readFileSync(new URL('../sqlwarden.schema.json', import.meta.url), 'utf8'),
  );
  const { $id: _id, title: _title, ...rest } = committed;
  expect(rest).toEqual(JSON.parse(JSON.stringify(z.toJSONSchema(ConfigSchema, { io: 'input' }))));
});
