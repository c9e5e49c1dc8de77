// `pnpm check:changesets`: every changeset parses and names packages that
// exist (changeset status). changesets compares HEAD with the base branch,
// main; a fresh clone of another branch (a pull request's checkout) has it
// only as origin/main, and a shallow one may have neither: then the
// comparison is against what there is, and a missing base is an error that
// says so.
import { execFileSync, spawnSync } from 'node:child_process';

const has = (ref) =>
  spawnSync('git', ['rev-parse', '--verify', '-q', ref], { stdio: 'ignore' }).status === 0;

const args = ['exec', 'changeset', 'status'];
if (!has('main')) {
  if (!has('origin/main')) {
    process.stderr.write(
      'check:changesets: neither main nor origin/main is here; fetch the base branch (git fetch origin main) first\n',
    );
    process.exit(2);
  }
  args.push('--since=origin/main');
}
execFileSync('pnpm', args, { stdio: 'inherit' });
