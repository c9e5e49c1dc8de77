#!/usr/bin/env node
// The committed entry point of the `sqlwarden-http` bin. It exists before any
// build, so `pnpm install` on a fresh clone links the bin without a warning.
// The program is the built dist/cli.js, packed beside it.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  // Only in a checkout that was never built: a published package has dist/.
  process.stderr.write('sqlwarden-http is not built yet: run `pnpm build` in the repository.\n');
  process.exit(1);
}
await import('../dist/cli.js');
