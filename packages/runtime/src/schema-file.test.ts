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

// What an editor does with it: a real JSON Schema validator.
it('lets an editor accept a good file, ${VAR} numbers included, and flag ranges and typos', async () => {
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const schema = JSON.parse(
    readFileSync(new URL('../sqlwarden.schema.json', import.meta.url), 'utf8'),
  );
  const validate = new Ajv2020({ strict: false }).compile(schema);
  const file = (limits: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    server: { limits },
    sources: { main: { kind: 'postgres', host: 'db', port: '${PGPORT}', tables: ['shop.*'] } },
    principals: { local: { roles: ['reader'] } },
    ...extra,
  });
  expect(validate(file({ maxRows: 500, timeoutMs: '${TIMEOUT_MS:-5000}' }))).toBe(true);
  expect(validate(file({ maxRows: 0 }))).toBe(false);
  expect(validate(file({ maxRows: 2_000_000 }))).toBe(false);
  expect(validate(file({ maxRows: 'many' }))).toBe(false);
  expect(validate(file({ maxRow: 10 }))).toBe(false);
});
