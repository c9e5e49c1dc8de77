// The publishing rules of the workspace, as one pure function over the
// packages' manifests and packed file lists (check-packages.mjs gathers
// them; rules.test.ts feeds it broken packages, one rule at a time).
//
// Which packages go to npm is decided here, by name, and nowhere else:
// every workspace package is published unless it is internal. So a new
// package (apps/http-server, an adapter) is held to the publishing rules
// from its first commit, instead of staying private by accident; and
// `pnpm publish --dry-run`, which "succeeds" on a private package, is not
// what catches a mistake.

/** Workspace packages that are never published: test support, suites, benchmarks, examples, these checks. */
export const INTERNAL_PACKAGES = [
  '@sqlwarden/testing',
  '@sqlwarden/tests',
  '@sqlwarden/bench',
  '@sqlwarden/soak',
  '@sqlwarden/release',
];
const INTERNAL_PATTERNS = [/^@sqlwarden\/example-/];

export function isInternal(name) {
  return INTERNAL_PACKAGES.includes(name) || INTERNAL_PATTERNS.some((p) => p.test(name));
}

/** Dependencies a package needs when it runs (dev dependencies are not installed for users). */
const RUNTIME_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies'];

/** `./bin/x.js` and `bin/x.js` are the same packed path. */
const normalize = (path) => path.replace(/^\.\//, '');

/**
 * Relative modules a bin file imports (`import '../dist/cli.js'`,
 * `import('../dist/cli.js')`, `new URL('../dist/cli.js', import.meta.url)`),
 * resolved against the bin's directory. A launcher that points into a
 * directory missing from the tarball fails only on the user's machine.
 */
export function relativeImportsOf(binPath, source) {
  const found = new Set();
  const patterns = [
    /\bimport\s+(?:[^'"]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/g,
    /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
    /\bnew\s+URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
  ];
  const base = normalize(binPath).split('/').slice(0, -1);
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      const parts = [...base];
      for (const segment of match[1].split('/')) {
        if (segment === '..') parts.pop();
        else if (segment !== '.') parts.push(segment);
      }
      found.add(parts.join('/'));
    }
  }
  return [...found];
}

/**
 * Checks every workspace package. `packages`: [{ name, dir (relative to the
 * root), manifest (package.json), packedFiles (paths in the tarball, for
 * published packages), binSources ({ [binPath]: text }) }]. `root`: the
 * root package.json. Returns the problems, each naming the package, what is
 * wrong and what to do; empty when every rule holds.
 */
export function checkPackages(packages, root) {
  const problems = [];
  const byName = new Map(packages.map((p) => [p.name, p]));
  const published = packages.filter((p) => !isInternal(p.name));
  const say = (pkg, text) => problems.push(`${pkg.name} (${pkg.dir}): ${text}`);

  for (const pkg of packages.filter((p) => isInternal(p.name))) {
    if (pkg.manifest.private !== true) {
      say(pkg, 'is internal (release/rules.mjs) but not "private": true; npm would publish it');
    }
  }

  for (const pkg of published) {
    const m = pkg.manifest;
    const files = new Set((pkg.packedFiles ?? []).map(normalize));
    if (m.private === true) {
      say(
        pkg,
        'is "private": true, so it can never be installed from npm; remove "private", or list it in INTERNAL_PACKAGES in release/rules.mjs if it is not meant for npm',
      );
    }
    if (m.publishConfig?.access !== 'public') {
      say(
        pkg,
        'lacks "publishConfig": { "access": "public" }; a scoped package is published restricted (paid, invisible) without it',
      );
    }
    if (typeof m.version !== 'string' || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(m.version)) {
      say(pkg, `has no valid version (${JSON.stringify(m.version)})`);
    } else if (m.version === '0.0.0') {
      say(
        pkg,
        'is at 0.0.0, a placeholder; give it the version of the other published packages (changesets keeps them together from then on)',
      );
    }
    for (const [field, expected] of [
      ['license', root.license],
      ['engines.node', root.engines?.node],
      ['repository.url', root.repository?.url],
    ]) {
      const actual = field.split('.').reduce((value, key) => value?.[key], m);
      if (actual !== expected) {
        say(
          pkg,
          `has ${field} ${JSON.stringify(actual)}; the root package.json says ${JSON.stringify(expected)}`,
        );
      }
    }
    if (m.repository?.directory !== pkg.dir) {
      say(
        pkg,
        `has repository.directory ${JSON.stringify(m.repository?.directory)}; it lives in ${pkg.dir}`,
      );
    }
    if (typeof m.scripts?.['check:package'] !== 'string') {
      say(
        pkg,
        'has no "check:package" script (publint, and attw for a library), so pnpm check:packages skips it',
      );
    }
    for (const required of ['package.json', 'README.md', 'LICENSE']) {
      if (!files.has(required)) say(pkg, `does not pack ${required}`);
    }

    const bins = typeof m.bin === 'string' ? { [m.name.split('/').pop()]: m.bin } : (m.bin ?? {});
    for (const [command, target] of Object.entries(bins)) {
      const path = normalize(target);
      if (!files.has(path)) {
        say(
          pkg,
          `bin ${command} is ${target}, which is not in the packed files (see "files", and build first)`,
        );
        continue;
      }
      for (const imported of relativeImportsOf(path, pkg.binSources?.[path] ?? '')) {
        if (!files.has(imported)) {
          say(
            pkg,
            `bin ${command} (${target}) imports ${imported}, which is not in the packed files (run pnpm build; check "files")`,
          );
        }
      }
    }

    for (const field of RUNTIME_FIELDS) {
      for (const dep of Object.keys(m[field] ?? {})) {
        const target = byName.get(dep);
        if (target !== undefined && (isInternal(dep) || target.manifest.private === true)) {
          say(
            pkg,
            `needs ${dep} at run time (${field}), which is never published: users could not install it; make it a devDependency or publish it`,
          );
        }
      }
    }
  }

  const versions = new Set(published.map((p) => p.manifest.version));
  if (versions.size > 1) {
    problems.push(
      `published packages disagree on the version (${published.map((p) => `${p.name}@${p.manifest.version}`).join(', ')}); they are released together (.changeset/config.json "fixed")`,
    );
  }
  return problems;
}
