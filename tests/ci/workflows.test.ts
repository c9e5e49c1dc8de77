import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The GitHub workflows and .ci/run are one source of truth: every check
// .ci/run runs is a package script that ci.yml runs too, in the same order;
// both install and wait for services with the same scripts. And the
// workflows keep to the rules a security review asks for: actions pinned by
// commit, least-privilege permissions, no secret within a fork's reach.

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

interface Step {
  readonly name?: string;
  readonly run?: string;
  readonly uses?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}
interface Job {
  readonly permissions?: Record<string, string>;
  readonly steps: Step[];
  readonly services?: Record<string, { image: string }>;
  readonly strategy?: { matrix?: { node?: number[] } };
  readonly if?: string;
}
interface Workflow {
  readonly on: Record<string, unknown>;
  readonly permissions?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

const ci = parse(read('.github/workflows/ci.yml')) as Workflow;
const release = parse(read('.github/workflows/release.yml')) as Workflow;
const ciRun = read('.ci/run');

/** The commands of .ci/run's lines, comments and step() banners left out. */
function commands(script: string): string[] {
  return script
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('step '))
    .filter((line) => /^(pnpm|bash \.ci\/)/.test(line));
}

const ciSteps = Object.values(ci.jobs).flatMap((job) => job.steps);
const ciRuns = ciSteps.map((step) => step.run?.trim()).filter((run) => run !== undefined);

describe('ci.yml mirrors .ci/run', () => {
  it('runs every command of .ci/run, as a step of its own, in the same order', () => {
    const local = commands(ciRun);
    expect(local.length).toBeGreaterThanOrEqual(10);
    const mirrored = ciRuns.filter((run) => local.includes(run));
    expect(mirrored).toEqual(local);
  });

  it('runs checks only through package scripts that exist', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    for (const run of commands(ciRun).filter((c) => c.startsWith('pnpm '))) {
      const script = run.split(/\s+/)[1] as string;
      if (script === 'install') continue;
      expect(Object.keys(scripts), run).toContain(script);
    }
  });

  it('tests on Node 20 and 22 against PostgreSQL, MariaDB and Redis containers', () => {
    const job = Object.values(ci.jobs)[0] as Job;
    expect(job.strategy?.matrix?.node).toEqual([20, 22]);
    expect(Object.keys(job.services ?? {}).sort()).toEqual(['mariadb', 'postgres', 'redis']);
    expect(job.services?.postgres?.image).toBe('postgres:15');
    expect(job.services?.mariadb?.image).toBe('mariadb:10.11');
  });

  it('keeps the pnpm store and turbo caches between runs', () => {
    const paths = ciSteps
      .filter((step) => step.uses?.startsWith('actions/cache@'))
      .map((step) => String(step.with?.path));
    expect(paths).toContain('.turbo/cache');
    expect(paths.some((path) => path.includes('pnpm-store'))).toBe(true);
  });

  it('runs on pull requests and pushes to main, never with pull_request_target', () => {
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    expect(JSON.stringify(ci.on)).not.toContain('pull_request_target');
    expect(ci.permissions).toEqual({ contents: 'read' });
  });
});

describe('the workflows follow the security rules', () => {
  const all = [
    ['ci.yml', ci],
    ['release.yml', release],
  ] as const;

  it.each(all)('%s pins every action by a full commit SHA', (_name, workflow) => {
    const uses = Object.values(workflow.jobs)
      .flatMap((job) => job.steps)
      .map((step) => step.uses)
      .filter((value) => value !== undefined);
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it('release.yml grants nothing by default, and its job only what it uses', () => {
    expect(release.permissions).toEqual({});
    const job = release.jobs.release as Job;
    expect(job.permissions).toEqual({
      contents: 'write',
      'pull-requests': 'write',
      'id-token': 'write',
    });
  });

  it('release.yml runs only on pushes to main of the repository, with provenance', () => {
    expect(release.on).toEqual({ push: { branches: ['main'] } });
    const job = release.jobs.release as Job;
    expect(job.if).toContain("github.repository == 'sqlwarden/sqlwarden'");
    const publish = job.steps.find((step) => step.uses?.startsWith('changesets/action@'));
    expect(publish?.env?.NPM_CONFIG_PROVENANCE).toBe('true');
    expect(publish?.with?.['publish-script']).toBe('pnpm release');
  });

  it('ci.yml reads no secret but the optional turbo token (a fork gets none)', () => {
    const text = read('.github/workflows/ci.yml');
    const secrets = [...text.matchAll(/secrets\.(\w+)/g)].map((m) => m[1]);
    expect([...new Set(secrets)]).toEqual(['TURBO_TOKEN']);
  });
});
