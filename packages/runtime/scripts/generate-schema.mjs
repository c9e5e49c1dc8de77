// Writes sqlwarden.schema.json (JSON Schema of the configuration file) from
// the zod schema in the build, so editors can validate and autocomplete
// sqlwarden.yaml. Runs after every build; a test keeps the committed file in step.
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigSchema } from '../dist/index.js';

const schema = {
  ...z.toJSONSchema(ConfigSchema, { io: 'input' }),
  $id: 'https://sqlwarden.dev/schemas/sqlwarden.schema.json',
  title: 'sqlwarden configuration',
};
writeFileSync(
  new URL('../sqlwarden.schema.json', import.meta.url),
  `${JSON.stringify(schema, null, 2)}\n`,
);
