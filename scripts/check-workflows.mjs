// `pnpm check:workflows`: the GitHub Actions workflows validated offline
// against the workflow schema, with @action-validator/cli (the schema ships
// inside the package; nothing is fetched).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const dir = '.github/workflows';
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.yml') || name.endsWith('.yaml'))
  .map((name) => `${dir}/${name}`);
if (files.length === 0) {
  process.stderr.write(`check:workflows: no workflow in ${dir}\n`);
  process.exit(1);
}
for (const file of files) {
  execFileSync('pnpm', ['exec', 'action-validator', file], { stdio: 'inherit' });
  process.stdout.write(`${file}: valid\n`);
}
