#!/usr/bin/env node
// Mutation check for the frozen invariants: swaps each pair of neighbouring
// boundary stages that can be swapped without breaking compilation, rebuilds
// @sqlwarden/core, runs tests/security, and expects the suite to fail for
// every swap. Restores the original source whatever happens.
//
//   pnpm check:stage-order
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const file = `${root}packages/core/src/boundary.ts`;
const original = readFileSync(file, 'utf8');

// The stage blocks of runStages: from one `trace.stage = '...'` line to the blank line before the next.
function stageBlock(source, stage) {
  const start = source.indexOf(`  trace.stage = '${stage}';\n`);
  if (start < 0) throw new Error(`stage ${stage} not found in runStages`);
  const end = source.indexOf('\n\n', start);
  return source.slice(start, end + 1);
}

function swap(source, a, b) {
  const blockA = stageBlock(source, a);
  const blockB = stageBlock(source, b);
  return source.replace(blockA, '\u0000A').replace(blockB, blockA).replace('\u0000A', blockB);
}

const SWAPS = [
  ['context', 'lookup'],
  ['input', 'readOnly'],
  ['readOnly', 'authorization'],
  ['authorization', 'quota'],
];

function run(command, args) {
  try {
    execFileSync(command, args, {
      cwd: root,
      stdio: 'pipe',
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    return { ok: true, output: '' };
  } catch (error) {
    return { ok: false, output: `${error.stdout ?? ''}${error.stderr ?? ''}` };
  }
}

const results = [];
const restore = () => writeFileSync(file, original);
process.on('SIGINT', () => {
  restore();
  process.exit(130);
});
try {
  for (const [a, b] of SWAPS) {
    writeFileSync(file, swap(original, a, b));
    const build = run('pnpm', ['--filter', '@sqlwarden/core', 'build']);
    if (!build.ok) {
      results.push({ swap: `${a} <-> ${b}`, verdict: 'does not build', failed: '-' });
      continue;
    }
    const suite = run('pnpm', [
      '--filter',
      '@sqlwarden/tests',
      'exec',
      'vitest',
      'run',
      'security/',
    ]);
    const failed = /Tests\s+.*?(\d+) failed/.exec(suite.output)?.[1] ?? '0';
    results.push({ swap: `${a} <-> ${b}`, verdict: suite.ok ? 'SURVIVED' : 'caught', failed });
  }
} finally {
  restore();
  run('pnpm', ['--filter', '@sqlwarden/core', 'build']);
}

for (const r of results)
  console.log(`${r.swap.padEnd(32)} ${r.verdict.padEnd(16)} failing tests: ${r.failed}`);
const survived = results.filter((r) => r.verdict !== 'caught');
if (survived.length > 0) {
  console.error(`\n${survived.length} stage swap(s) not caught by tests/security`);
  process.exit(1);
}
console.log('\nEvery stage swap is caught by tests/security.');
