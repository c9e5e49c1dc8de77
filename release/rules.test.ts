import { describe, expect, it } from 'vitest';
import { checkPackages, isInternal, relativeImportsOf } from './rules.mjs';

const ROOT = {
  license: 'MIT',
  engines: { node: '>=20.19' },
  repository: { type: 'git', url: 'git+https://example.test/sqlwarden.git' },
};

type Pkg = Parameters<typeof checkPackages>[0][number];

function library(name: string, dir: string, extra: Record<string, unknown> = {}): Pkg {
  return {
    name,
    dir,
    manifest: {
      name,
      version: '0.1.0',
      license: 'MIT',
      engines: { node: '>=20.19' },
      repository: { type: 'git', url: ROOT.repository.url, directory: dir },
      publishConfig: { access: 'public' },
      scripts: { 'check:package': 'publint --strict' },
      ...extra,
    },
    packedFiles: ['package.json', 'README.md', 'LICENSE', 'dist/index.js'],
    binSources: {},
  };
}

function app(): Pkg {
  const pkg = library('@sqlwarden/http-server', 'apps/http-server', {
    bin: { 'sqlwarden-http': './bin/sqlwarden-http.js' },
    dependencies: { '@sqlwarden/core': 'workspace:*' },
  });
  pkg.packedFiles = [...(pkg.packedFiles ?? []), 'bin/sqlwarden-http.js', 'dist/cli.js'];
  pkg.binSources = { 'bin/sqlwarden-http.js': "await import('../dist/cli.js');\n" };
  return pkg;
}

const internal = (name: string, dir: string): Pkg => ({
  name,
  dir,
  manifest: { name, version: '0.0.0', private: true },
});

const healthy = () => [
  library('@sqlwarden/core', 'packages/core'),
  app(),
  internal('@sqlwarden/testing', 'packages/testing'),
  internal('@sqlwarden/example-demo', 'examples/demo'),
];

/** The workspace with one package changed. */
function withChange(name: string, change: (pkg: Pkg) => void) {
  const packages = healthy();
  const pkg = packages.find((p) => p.name === name);
  if (pkg === undefined) throw new Error(name);
  change(pkg);
  return checkPackages(packages, ROOT);
}

describe('the publishing rules', () => {
  it('pass a workspace whose published packages are complete and whose internal ones are private', () => {
    expect(checkPackages(healthy(), ROOT)).toEqual([]);
  });

  it('hold a new app to them from the start: a private apps/http-server fails', () => {
    const problems = withChange('@sqlwarden/http-server', (p) => {
      p.manifest.private = true;
    });
    expect(problems).toEqual([
      expect.stringMatching(/http-server.*"private": true.*INTERNAL_PACKAGES/),
    ]);
  });

  it('refuse a published package without publishConfig.access public', () => {
    const problems = withChange('@sqlwarden/core', (p) => {
      p.manifest.publishConfig = {};
    });
    expect(problems).toEqual([expect.stringMatching(/core.*publishConfig.*public/)]);
  });

  it('refuse a bin that is not in the packed files', () => {
    const problems = withChange('@sqlwarden/http-server', (p) => {
      p.packedFiles = p.packedFiles?.filter((f: string) => !f.startsWith('bin/'));
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /bin sqlwarden-http is \.\/bin\/sqlwarden-http\.js, which is not in the packed files/,
      ),
    ]);
  });

  it('refuse a bin launcher whose import target is not packed (dist/ not built or not in files)', () => {
    const problems = withChange('@sqlwarden/http-server', (p) => {
      p.packedFiles = p.packedFiles?.filter((f: string) => !f.startsWith('dist/'));
    });
    expect(problems).toEqual([
      expect.stringMatching(/imports dist\/cli\.js, which is not in the packed files/),
    ]);
  });

  it('refuse a run-time dependency on a private workspace package, in any run-time field', () => {
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      const problems = withChange('@sqlwarden/http-server', (p) => {
        p.manifest[field] = { '@sqlwarden/testing': 'workspace:*' };
      });
      expect(problems, field).toEqual([
        expect.stringMatching(new RegExp(`needs @sqlwarden/testing at run time \\(${field}\\)`)),
      ]);
    }
  });

  it('accept a dev dependency on a private workspace package', () => {
    const problems = withChange('@sqlwarden/http-server', (p) => {
      p.manifest.devDependencies = { '@sqlwarden/testing': 'workspace:*' };
    });
    expect(problems).toEqual([]);
  });

  it('refuse a published package at 0.0.0, and versions that disagree', () => {
    const problems = withChange('@sqlwarden/core', (p) => {
      p.manifest.version = '0.0.0';
    });
    expect(problems).toEqual([
      expect.stringMatching(/core.*is at 0\.0\.0/),
      expect.stringMatching(/disagree on the version.*core@0\.0\.0.*http-server@0\.1\.0/),
    ]);
  });

  it('refuse an internal package that is not private (npm would publish it)', () => {
    const problems = withChange('@sqlwarden/example-demo', (p) => {
      delete p.manifest.private;
    });
    expect(problems).toEqual([expect.stringMatching(/example-demo.*not "private": true/)]);
  });

  it('refuse a tarball without README or LICENSE, and metadata that disagrees with the root', () => {
    const problems = withChange('@sqlwarden/core', (p) => {
      p.packedFiles = ['package.json', 'dist/index.js'];
      p.manifest.license = 'ISC';
      p.manifest.repository = { type: 'git', url: ROOT.repository.url, directory: 'packages/kore' };
      delete p.manifest.scripts;
    });
    expect(problems).toEqual([
      expect.stringMatching(/has license "ISC"; the root package.json says "MIT"/),
      expect.stringMatching(/repository.directory "packages\/kore"; it lives in packages\/core/),
      expect.stringMatching(/no "check:package" script/),
      expect.stringMatching(/does not pack README.md/),
      expect.stringMatching(/does not pack LICENSE/),
    ]);
  });
});

describe('isInternal', () => {
  it('names test support, suites, benchmarks, the release checks and examples, and nothing else', () => {
    for (const name of [
      '@sqlwarden/testing',
      '@sqlwarden/tests',
      '@sqlwarden/bench',
      '@sqlwarden/release',
      '@sqlwarden/example-x',
    ]) {
      expect(isInternal(name), name).toBe(true);
    }
    for (const name of [
      '@sqlwarden/core',
      '@sqlwarden/stdio-server',
      '@sqlwarden/http-server',
      '@sqlwarden/adapter-connx',
    ]) {
      expect(isInternal(name), name).toBe(false);
    }
  });
});

describe('relativeImportsOf', () => {
  it('finds static, dynamic and URL imports relative to the bin', () => {
    const source = [
      "import '../dist/a.js';",
      "import { b } from '../dist/b.js';",
      "await import('../dist/c.js');",
      "const d = new URL('../dist/d.js', import.meta.url);",
      "import 'node:fs';",
      "import 'pg';",
    ].join('\n');
    expect(relativeImportsOf('./bin/x.js', source).sort()).toEqual([
      'dist/a.js',
      'dist/b.js',
      'dist/c.js',
      'dist/d.js',
    ]);
  });
});
