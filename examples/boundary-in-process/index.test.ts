import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('runs the example: one success, then each kind of denial, and one audit line per call', () => {
  const run = spawnSync(
    process.execPath,
    [fileURLToPath(new URL('./index.mjs', import.meta.url))],
    {
      encoding: 'utf8',
    },
  );
  expect(run.status).toBe(0);
  expect(run.stdout.trim().split('\n')).toEqual([
    'a granted call       -> Hello, Ada!',
    expect.stringMatching(/^bad arguments +-> INVALID_INPUT: Invalid arguments for hello: name: /),
    expect.stringMatching(/^an unknown tool +-> UNKNOWN_TOOL: /),
    expect.stringMatching(/^no grant +-> FORBIDDEN: /),
    expect.stringMatching(/^no session +-> SESSION_INVALID: /),
    'within the burst     -> Hello, Ada!',
    'within the burst     -> Hello, Ada!',
    expect.stringMatching(/^over the rate limit +-> RATE_LIMITED: .* Retry after \d+ ms\.$/),
  ]);
  const audit = run.stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(audit).toHaveLength(8);
  expect(audit.map((event) => event.msg)).toEqual([
    'Call OK tool=hello',
    'Denied INVALID_INPUT tool=hello stage=input',
    'Denied UNKNOWN_TOOL stage=lookup',
    'Denied FORBIDDEN tool=hello stage=authorization',
    'Denied SESSION_INVALID stage=context',
    'Call OK tool=hello',
    'Call OK tool=hello',
    'Denied RATE_LIMITED tool=hello stage=quota',
  ]);
});
