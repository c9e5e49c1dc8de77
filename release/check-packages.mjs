#!/usr/bin/env node
// The publishing rules (rules.mjs) over the real workspace: which packages
// exist (`pnpm ls -r`), their package.json, and what `pnpm pack` would put
// in each published tarball. Part of `pnpm check:packages`, after the
// build (a bin that points into dist/ is only packed once dist/ exists).
//
//   node release/check-packages.mjs
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkPackages, isInternal } from './rules.mjs';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

const { stdout } = await run('pnpm', ['ls', '-r', '--depth', '-1', '--json'], { cwd: ROOT });
const listed = JSON.parse(stdout).filter((p) => p.path !== ROOT.replace(/\/$/, ''));

const packages = await Promise.all(
  listed.map(async ({ name, path }) => {
    const manifest = readJson(join(path, 'package.json'));
    const pkg = { name, dir: relative(ROOT, path), manifest };
    if (isInternal(name)) return pkg;
    // What npm would receive: `files`, plus package.json, README and LICENSE.
    const packed = await run('pnpm', ['pack', '--dry-run', '--json'], { cwd: path });
    pkg.packedFiles = JSON.parse(packed.stdout).files.map((f) => f.path);
    const bins =
      typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
    pkg.binSources = Object.fromEntries(
      bins.map((bin) => {
        const file = bin.replace(/^\.\//, '');
        let text = '';
        try {
          text = readFileSync(join(path, file), 'utf8');
        } catch {
          // reported by the rules: the bin is not packed
        }
        return [file, text];
      }),
    );
    return pkg;
  }),
);

const problems = checkPackages(packages, readJson(join(ROOT, 'package.json')));
const published = packages.filter((p) => !isInternal(p.name));
if (problems.length > 0) {
  process.stderr.write(
    `check-packages: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
  );
  process.exit(1);
}
process.stdout.write(
  `check-packages: ${published.length} packages meet the publishing rules (${published
    .map((p) => `${p.name}@${p.manifest.version}`)
    .join(', ')}); ${packages.length - published.length} internal packages are private\n`,
);
