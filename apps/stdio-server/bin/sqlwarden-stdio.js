#!/usr/bin/env node
// The committed entry point of the `sqlwarden-stdio` bin. It exists before
// any build, so `pnpm install` on a fresh clone links the bin of the
// workspace packages that depend on this one (the examples) without a
// warning. The program is the built dist/cli.js, packed beside it.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  // Only in a checkout that was never built: a published package has dist/.
  process.stderr.write('sqlwarden-stdio is not built yet: run `pnpm build` in the repository.\n');
  process.exit(1);
}
if (process.argv.slice(2).includes('--demo')) {
  // The demo database starts while the CLI's modules load (src/demo.ts).
  const { prestartDemoDatabase } = await import('../dist/demo.js');
  prestartDemoDatabase();
}
await import('../dist/cli.js');
