#!/usr/bin/env node
// Proves the packages install and run from a registry, as users get them:
//
//   1. versions: changesets computes snapshot versions (`changeset version
//      --snapshot`) in a skeleton copy of the workspace's manifests and
//      changesets, so the real config decides, and the working tree is not
//      touched;
//   2. a throwaway Verdaccio on 127.0.0.1 (config and storage in a temp
//      dir): @sqlwarden/* served only from it, everything else through its
//      uplink to the npm registry this machine's npm uses;
//   3. every published package packed by pnpm (workspace: and catalog:
//      ranges resolved), set to its snapshot version, and published there;
//   4. in empty folders outside the workspace:
//      - `npx --yes --registry <verdaccio> @sqlwarden/stdio-server --demo`,
//        started by the MCP SDK's StdioClientTransport, answers tools/list
//        and a query_read with rows (twice: installing, then installed),
//        and so does `--allow 'schema.*'` with SQLWARDEN_DSN set, on the
//        test PostgreSQL (SQLWARDEN_TEST_PG_URL) in a schema of its own;
//      - `npx --yes --registry <verdaccio> @sqlwarden/http-server --demo
//        --port 0` prints its URL and generated token, answers tools/list
//        and a query_read over HTTP with that token (the SDK's Streamable
//        HTTP client), refuses a call without it (401), and exits 0 on SIGTERM;
//      - `npm install @sqlwarden/sql-guard` in an ESM project (import) and a
//        CommonJS one (require): loadSqlGuard(), then checkRead() accepts a
//        read and refuses a stacked statement;
//      - the PostgreSQL path (the npx install of stdio-server, and
//        `npm install @sqlwarden/runtime @sqlwarden/adapter-postgres`)
//        builds no native addon: no installed package has a preinstall,
//        install or postinstall script or a binding.gyp (so npm ran no
//        install script and no node-gyp), and no `*.node` file exists under
//        node_modules;
//      - in that runtime + adapter-postgres project, adapters are plugins:
//        neither @sqlwarden/adapter-mysql nor mysql2 was installed, a
//        PostgreSQL configuration loads, and a MySQL one is a problem that
//        names the packages to install.
//
// Everything lives in one temp dir, removed at the end; Verdaccio and the
// server are stopped, also on failure or Ctrl-C. Needs `pnpm build` first.
//
//   pnpm check:registry
//   pnpm check:registry --hold    (then keeps the registry up until Ctrl-C,
//                                  to try the snapshot with other clients)
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pg from 'pg';
import { isInternal } from './rules.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const STARTED = Date.now();
const TMP = mkdtempSync(join(tmpdir(), 'sqlwarden-registry-'));
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const writeJson = (path, value) => writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);

const say = (text) => process.stdout.write(`${text}\n`);
const elapsed = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
class CheckFailed extends Error {}
function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

// --- processes and clean-up ----------------------------------------------------

const children = new Set();
let verdaccio;
let cleaned = false;

/** Stops every process of this run (Verdaccio, npm, npx and the servers it started) and removes the temp dir. */
async function cleanUp() {
  if (cleaned) return;
  cleaned = true;
  const exited = [...children, verdaccio]
    .filter((child) => child !== undefined && child.exitCode === null && child.signalCode === null)
    .map((child) => new Promise((resolve) => child.once('exit', resolve)));
  killAll();
  // Removing files a dying Verdaccio still writes would race it.
  await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, 3000))]);
  rmSync(TMP, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}

function killAll() {
  for (const child of children) child.kill('SIGKILL');
  verdaccio?.kill('SIGKILL');
  // Anything still running from the temp dir (a server npx started) is ours.
  for (const pid of processesUnder(TMP)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

// Last resort when the process ends without cleanUp (an exception in a
// handler): synchronous, best effort.
process.on('exit', () => {
  if (cleaned) return;
  killAll();
  try {
    rmSync(TMP, { recursive: true, force: true });
  } catch {
    // nothing more can be done while exiting
  }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, async () => {
    say(`registry-check: ${signal}, stopping Verdaccio and removing ${TMP}`);
    await cleanUp();
    process.exit(130);
  });
}

/** Ids of processes whose command line names `dir` (Linux /proc), other than this one and `except`. */
function processesUnder(dir, except = []) {
  if (!existsSync('/proc')) return [];
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid || except.includes(Number(entry)))
      continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(dir)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** PATH without node_modules/.bin (pnpm puts the workspace's first). */
const cleanPath = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((dir) => dir && !dir.split(sep).includes('node_modules'))
  .join(delimiter);

/** The environment of npm and npx here: this registry, a temp cache and user config, nothing from pnpm. */
function npmEnv() {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(npm_|pnpm_|PNPM_)/i.test(key)),
  );
  return {
    ...env,
    PATH: cleanPath,
    NPM_CONFIG_USERCONFIG: join(TMP, 'npmrc'),
    NPM_CONFIG_CACHE: join(TMP, 'npm-cache'),
    NPM_CONFIG_UPDATE_NOTIFIER: 'false',
    NPM_CONFIG_FUND: 'false',
    NPM_CONFIG_AUDIT: 'false',
  };
}

/** Runs a command to its end; rejects with its output when it fails or passes `timeoutMs`. */
function run(command, args, { cwd = ROOT, env = process.env, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve({ stdout, stderr });
      else {
        const why = signal === null ? `exit ${code}` : `${signal} (after ${timeoutMs} ms?)`;
        reject(
          new CheckFailed(
            `${command} ${args.join(' ')} (in ${cwd}) failed: ${why}\n${(stderr || stdout).slice(-3000)}`,
          ),
        );
      }
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// --- 1. the packages and their snapshot versions -------------------------------

async function workspacePackages() {
  const { stdout } = await run('pnpm', ['ls', '-r', '--depth', '-1', '--json']);
  return JSON.parse(stdout)
    .filter((p) => p.path !== ROOT)
    .map((p) => ({ name: p.name, dir: relative(ROOT, p.path), path: p.path }));
}

async function snapshotVersions(packages, published) {
  const skeleton = join(TMP, 'skeleton');
  mkdirSync(skeleton);
  for (const file of ['package.json', 'pnpm-workspace.yaml']) {
    cpSync(join(ROOT, file), join(skeleton, file));
  }
  cpSync(join(ROOT, '.changeset'), join(skeleton, '.changeset'), { recursive: true });
  for (const pkg of packages) {
    mkdirSync(join(skeleton, pkg.dir), { recursive: true });
    for (const file of ['package.json', 'CHANGELOG.md']) {
      if (existsSync(join(pkg.path, file)))
        cpSync(join(pkg.path, file), join(skeleton, pkg.dir, file));
    }
  }
  // The changelog generator named in the config resolves from here.
  symlinkSync(join(ROOT, 'node_modules'), join(skeleton, 'node_modules'), 'dir');
  // A patch for every published package, so there is a snapshot to make even
  // when no changeset is pending (right after a release).
  writeFileSync(
    join(skeleton, '.changeset', 'registry-check-snapshot.md'),
    `---\n${published.map((p) => `"${p.name}": patch`).join('\n')}\n---\n\nRegistry check snapshot.\n`,
  );
  const config = readJson(join(skeleton, '.changeset', 'config.json'));
  writeJson(join(skeleton, '.changeset', 'config.json'), {
    ...config,
    snapshot: { useCalculatedVersion: true, prereleaseTemplate: '{tag}.{datetime}' },
  });
  await run(
    join(ROOT, 'node_modules', '.bin', 'changeset'),
    ['version', '--snapshot', 'registry'],
    {
      cwd: skeleton,
    },
  );
  const versions = new Map();
  for (const pkg of published) {
    const before = readJson(join(pkg.path, 'package.json')).version;
    const after = readJson(join(skeleton, pkg.dir, 'package.json')).version;
    check(
      after !== before && after.includes('-registry.'),
      `changesets did not version ${pkg.name} (${before} -> ${after}): is it ignored or private in .changeset/config.json?`,
    );
    versions.set(pkg.name, after);
  }
  return versions;
}

// --- 2. Verdaccio ----------------------------------------------------------------

async function startVerdaccio() {
  const { stdout: upstream } = await run('npm', ['config', 'get', 'registry'], { env: npmEnv() });
  const dir = join(TMP, 'verdaccio');
  mkdirSync(dir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(dir, 'htpasswd')}`,
      'uplinks:',
      '  npm:',
      `    url: ${upstream.trim()}`,
      '    timeout: 120s',
      'packages:',
      "  '@sqlwarden/*':", // no proxy: never fetched from the npm registry
      '    access: $all',
      '    publish: $authenticated',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    proxy: npm',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: json, level: warn }',
      '',
    ].join('\n'),
  );
  const bin = join(
    dirname(createRequire(import.meta.url).resolve('verdaccio/package.json')),
    'bin',
    'verdaccio',
  );
  verdaccio = spawn(
    process.execPath,
    [bin, '--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  verdaccio.stdout.on('data', (chunk) => {
    log = (log + chunk).slice(-5000);
  });
  verdaccio.stderr.on('data', (chunk) => {
    log = (log + chunk).slice(-5000);
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/-/ping`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    check(verdaccio.exitCode === null, `Verdaccio exited (${verdaccio.exitCode}): ${log}`);
    check(Date.now() < deadline, `Verdaccio did not answer on ${url} in 30 s: ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // A user for publishing (the throwaway htpasswd file takes the first comer).
  const response = await fetch(`${url}/-/user/org.couchdb.user:registry-check`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'registry-check', password: `pw-${process.pid}-${Date.now()}` }),
  });
  const { token } = await response.json();
  check(response.ok && typeof token === 'string', `Verdaccio refused the user: ${response.status}`);
  writeFileSync(join(TMP, 'npmrc'), `registry=${url}/\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  return { url, upstream: upstream.trim() };
}

// --- 3. pack and publish ---------------------------------------------------------

async function publishAll(published, versions, url) {
  const tarballs = join(TMP, 'tarballs');
  mkdirSync(tarballs);
  for (const pkg of published) {
    const { stdout } = await run('pnpm', ['pack', '--json', '--pack-destination', tarballs], {
      cwd: pkg.path,
    });
    const { filename, files } = JSON.parse(stdout);
    const unpacked = join(TMP, 'unpacked', pkg.dir);
    mkdirSync(unpacked, { recursive: true });
    await run('tar', ['-xzf', join(tarballs, filename.split('/').pop()), '-C', unpacked]);
    const manifestPath = join(unpacked, 'package', 'package.json');
    const manifest = readJson(manifestPath);
    manifest.version = versions.get(pkg.name);
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
      for (const dep of Object.keys(manifest[field] ?? {})) {
        if (versions.has(dep)) manifest[field][dep] = versions.get(dep);
      }
    }
    const leftover = JSON.stringify(manifest).match(/"(workspace|catalog):[^"]*"/);
    check(leftover === null, `${pkg.name}: the packed package.json still has ${leftover?.[0]}`);
    writeJson(manifestPath, manifest);
    await run('npm', ['publish', join(unpacked, 'package'), '--registry', url, '--tag', 'latest'], {
      env: npmEnv(),
    });
    say(`  published ${pkg.name}@${manifest.version} (${files.length} files)`);
  }
}

// --- 4. as a user ------------------------------------------------------------------

/** A new empty folder outside the workspace. */
function emptyProject(name, manifest) {
  const dir = join(TMP, 'projects', name);
  mkdirSync(dir, { recursive: true });
  if (manifest !== undefined) writeJson(join(dir, 'package.json'), manifest);
  return dir;
}

/**
 * `npx --yes --registry <url> @sqlwarden/stdio-server ...args` in an empty
 * folder, driven by the SDK client: tools/list, then one query_read that
 * must answer `rowCount` rows. Returns the time from spawn to that answer.
 */
async function npxServer(url, { label, args, env = {}, sql, rowCount }) {
  const cwd = emptyProject(`npx-${label.replace(/\W+/g, '-')}`);
  const started = Date.now();
  const transport = new StdioClientTransport({
    command: 'npx',
    args: ['--yes', '--registry', url, '@sqlwarden/stdio-server', ...args],
    cwd,
    env: { ...npmEnv(), SQLWARDEN_LOG_LEVEL: 'warn', ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const client = new Client({ name: 'sqlwarden-registry-check', version: '0.0.0' });
  try {
    await client.connect(transport, { timeout: 600_000 });
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    check(
      ['describe_table', 'list_tables', 'query_read'].every((n) => names.includes(n)),
      `tools/list answered ${names.join(', ')}`,
    );
    const result = await client.callTool({ name: 'query_read', arguments: { sql } });
    const firstAnswer = Date.now() - started;
    check(
      result.isError !== true && result.structuredContent?.rowCount === rowCount,
      `query_read answered ${JSON.stringify(result.content)}`,
    );
    say(
      `  npx @sqlwarden/stdio-server ${args.join(' ')} (${label}): tools/list ${names.join(', ')}; query_read ${rowCount} rows (${JSON.stringify(result.structuredContent.rows[0])} first); first answer after ${firstAnswer} ms`,
    );
    return firstAnswer;
  } catch (error) {
    throw new CheckFailed(
      `npx @sqlwarden/stdio-server ${args.join(' ')} (${label}): ${error.message}\nserver stderr:\n${stderr}`,
    );
  } finally {
    await client.close();
  }
}

/**
 * The README's `npx @sqlwarden/http-server --demo --port N` in an empty
 * folder: its URL and generated token from stderr, tools/list and a
 * query_read over HTTP with the token, a 401 without it, exit 0 on SIGTERM.
 */
async function npxHttpServer(url) {
  const cwd = emptyProject('npx-http-server');
  const started = Date.now();
  const child = spawn(
    'npx',
    ['--yes', '--registry', url, '@sqlwarden/http-server', '--demo', '--port', '0'],
    { cwd, env: { ...npmEnv(), SQLWARDEN_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.add(child);
  let stderr = '';
  // 'close': stderr is shared with the server npx started, so it closes once the server is gone too.
  const exited = new Promise((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal)),
  );
  try {
    const { endpoint, token } = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no url and token in 600 s')), 600_000);
      child.stderr.on('data', (chunk) => {
        stderr = (stderr + chunk).slice(-8000);
        const endpoint = /^url: (\S+)$/m.exec(stderr)?.[1];
        const token = /^token: (\S+)$/m.exec(stderr)?.[1];
        if (endpoint !== undefined && token !== undefined) {
          clearTimeout(timer);
          resolve({ endpoint, token });
        }
      });
      void exited.then((code) => reject(new Error(`exited with ${code} before it was ready`)));
    });
    const refused = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    check(refused.status === 401, `a call without the token answered ${refused.status}, not 401`);
    const client = new Client({ name: 'sqlwarden-registry-check', version: '0.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(endpoint), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      const names = (await client.listTools()).tools.map((t) => t.name).sort();
      check(names.includes('query_read'), `tools/list answered ${names.join(', ')}`);
      const result = await client.callTool({
        name: 'query_read',
        arguments: { sql: DEMO_READ.sql },
      });
      check(
        result.isError !== true && result.structuredContent?.rowCount === DEMO_READ.rowCount,
        `query_read answered ${JSON.stringify(result.content)}`,
      );
      say(
        `  npx @sqlwarden/http-server --demo --port 0: ${endpoint}, 401 without the token; tools/list ${names.join(', ')}; query_read ${DEMO_READ.rowCount} rows; first answer after ${Date.now() - started} ms`,
      );
    } finally {
      await client.close();
    }
    // SIGTERM to the server itself, as a service manager sends it (npm exec
    // does not pass a SIGTERM of its own on): npx ends with the server's code.
    const servers = processesUnder(TMP).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sqlwarden-http');
      } catch {
        return false;
      }
    });
    check(servers.length > 0, 'no sqlwarden-http process found under npx');
    for (const pid of servers) process.kill(pid, 'SIGTERM');
    const code = await exited;
    check(code === 0, `sqlwarden-http (through npx) exited with ${code} on SIGTERM`);
    check(
      stderr.includes('shutting down: draining calls in flight'),
      'sqlwarden-http did not say it was shutting down',
    );
  } catch (error) {
    throw new CheckFailed(
      `npx @sqlwarden/http-server --demo: ${error.message}\nserver stderr:\n${stderr.replace(/^token: .*$/m, 'token: <redacted>')}`,
    );
  } finally {
    children.delete(child);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

const DEMO_READ = {
  args: ['--demo'],
  sql: 'SELECT name, price FROM shop.products ORDER BY price DESC LIMIT 3',
  rowCount: 3,
};

/**
 * The README's `SQLWARDEN_DSN=... npx @sqlwarden/stdio-server --allow` line
 * against the test PostgreSQL (SQLWARDEN_TEST_PG_URL), in a schema of its
 * own, dropped afterwards.
 */
async function npxWithDsn(url) {
  const databaseUrl =
    process.env.SQLWARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `sqlwarden_registry_${process.pid}_${Date.now().toString(36)}`;
  const db = new pg.Client({ connectionString: databaseUrl });
  try {
    await db.connect();
  } catch (error) {
    throw new CheckFailed(
      `cannot reach PostgreSQL at SQLWARDEN_TEST_PG_URL (${databaseUrl.replace(/:[^:@/]*@/, ':***@')}): ${error.message}`,
    );
  }
  try {
    await db.query(`CREATE SCHEMA ${schema}`);
    await db.query(`CREATE TABLE ${schema}.items (id int PRIMARY KEY, name text NOT NULL)`);
    await db.query(`INSERT INTO ${schema}.items VALUES (1, 'one'), (2, 'two')`);
    await npxServer(url, {
      label: 'installed, own database',
      args: ['--allow', `${schema}.*`],
      env: { SQLWARDEN_DSN: databaseUrl },
      sql: `SELECT id, name FROM ${schema}.items ORDER BY id`,
      rowCount: 2,
    });
  } finally {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await db.end();
  }
}

async function sqlGuardFrom(kind, url) {
  const esm = kind === 'esm';
  const cwd = emptyProject(`sql-guard-${kind}`, {
    name: `sql-guard-${kind}`,
    private: true,
    type: esm ? 'module' : 'commonjs',
  });
  await run('npm', ['install', '@sqlwarden/sql-guard', '--registry', url], { cwd, env: npmEnv() });
  const body = [
    "const options = { dialect: 'postgres', defaultSchema: 'public', allowedTables: ['public.*'] };",
    'const accepted = checkRead("SELECT id, total FROM orders WHERE id = $1", options);',
    "const refused = checkRead('SELECT 1; DROP TABLE orders', options);",
    'console.log(JSON.stringify({ resolved, accepted, refused }));',
  ];
  const source = esm
    ? [
        "import { checkRead, loadSqlGuard } from '@sqlwarden/sql-guard';",
        "const resolved = import.meta.resolve('@sqlwarden/sql-guard');",
        'await loadSqlGuard();',
        ...body,
      ]
    : [
        "const { checkRead, loadSqlGuard } = require('@sqlwarden/sql-guard');",
        "const resolved = require.resolve('@sqlwarden/sql-guard');",
        'loadSqlGuard().then(() => {',
        ...body,
        '});',
      ];
  const file = esm ? 'index.mjs' : 'index.cjs';
  writeFileSync(join(cwd, file), `${source.join('\n')}\n`);
  const { stdout } = await run(process.execPath, [file], { cwd, env: npmEnv() });
  const { resolved, accepted, refused } = JSON.parse(stdout);
  check(resolved.endsWith(esm ? 'index.js' : 'index.cjs'), `${kind} resolved ${resolved}`);
  check(accepted.ok === true, `${kind}: the read was refused: ${JSON.stringify(accepted)}`);
  check(
    refused.ok === false &&
      refused.code === 'QUERY_REJECTED' &&
      refused.reason === 'MULTI_STATEMENT',
    `${kind}: the stacked statement was not refused: ${JSON.stringify(refused)}`,
  );
  const version = readJson(
    join(cwd, 'node_modules', '@sqlwarden', 'sql-guard', 'package.json'),
  ).version;
  say(
    `  ${esm ? 'ESM (import)' : 'CommonJS (require)'}: @sqlwarden/sql-guard@${version} from ${relative(cwd, esm ? fileURLToPath(resolved) : resolved)}; accepted a read (${accepted.analysis.kind}), refused ${refused.reason}`,
  );
}

/**
 * What could have compiled or run at install: packages with an install
 * script or a binding.gyp (npm runs `node-gyp rebuild` for those), and
 * compiled addons (`*.node`), anywhere under `nodeModules`.
 */
function nativeBuildEvidence(nodeModules) {
  let packages = 0;
  let bytes = 0;
  const scripts = [];
  const addons = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isFile()) {
        bytes += statSync(path).size;
        if (entry.name.endsWith('.node')) addons.push(relative(nodeModules, path));
        continue;
      }
      if (!entry.isDirectory() || entry.name === '.bin') continue;
      // A package: a directory right under node_modules (or @scope) with a named package.json.
      const parent = dirname(path);
      const isPackage =
        (parent.endsWith(`${sep}node_modules`) ||
          (dirname(parent).endsWith(`${sep}node_modules`) &&
            parent.split(sep).pop()?.startsWith('@'))) &&
        existsSync(join(path, 'package.json'));
      if (isPackage) {
        const manifest = readJson(join(path, 'package.json'));
        packages += 1;
        const reasons = ['preinstall', 'install', 'postinstall'].filter(
          (h) => manifest.scripts?.[h],
        );
        if (existsSync(join(path, 'binding.gyp'))) reasons.push('binding.gyp');
        if (reasons.length > 0) scripts.push(`${manifest.name} (${reasons.join(', ')})`);
      }
      walk(path);
    }
  };
  walk(nodeModules);
  return { packages, bytes, scripts, addons };
}

async function postgresPathBuildsNothing(url) {
  const cwd = emptyProject('postgres-path', {
    name: 'postgres-path',
    private: true,
    type: 'module',
  });
  await run(
    'npm',
    ['install', '@sqlwarden/runtime', '@sqlwarden/adapter-postgres', '--registry', url],
    {
      cwd,
      env: npmEnv(),
    },
  );
  const npxTrees = readdirSync(join(TMP, 'npm-cache', '_npx')).map((d) =>
    join(TMP, 'npm-cache', '_npx', d, 'node_modules'),
  );
  check(npxTrees.length > 0, 'no npx install tree found in the temp npm cache');
  for (const [label, tree] of [
    ['npx @sqlwarden/stdio-server', npxTrees[0]],
    ['npm install @sqlwarden/runtime @sqlwarden/adapter-postgres', join(cwd, 'node_modules')],
  ]) {
    const { packages, bytes, scripts, addons } = nativeBuildEvidence(tree);
    check(packages > 10, `${label}: only ${packages} packages found under ${tree}`);
    check(
      scripts.length === 0,
      `${label}: packages that run code at install: ${scripts.join(', ')}`,
    );
    check(addons.length === 0, `${label}: compiled addons: ${addons.join(', ')}`);
    say(
      `  ${label}: ${packages} packages (${(bytes / 1e6).toFixed(0)} MB), none with a preinstall/install/postinstall script or binding.gyp, no *.node file`,
    );
  }
  const snapshot = readdirSync(join(npxTrees[0], '@sqlwarden', 'stdio-server', 'dist')).find((f) =>
    /^demo-db-[0-9a-f]{12}\.tar\.gz$/.test(f),
  );
  check(
    snapshot !== undefined,
    'the installed @sqlwarden/stdio-server has no demo database snapshot',
  );
  say(`  the installed @sqlwarden/stdio-server ships its demo snapshot (dist/${snapshot})`);
  await adaptersArePlugins(cwd);
}

/**
 * In the project that installed only `@sqlwarden/runtime
 * @sqlwarden/adapter-postgres`: the other engine's adapter and driver are
 * not there (the adapters are optional peers of the runtime); a PostgreSQL
 * configuration loads; a MySQL one is a problem that names what to install.
 */
async function adaptersArePlugins(cwd) {
  const absent = ['@sqlwarden/adapter-mysql', 'mysql2'].filter((name) =>
    existsSync(join(cwd, 'node_modules', name)),
  );
  check(absent.length === 0, `installed without being asked for: ${absent.join(', ')}`);
  const script = [
    "import { loadConfig } from '@sqlwarden/runtime';",
    "import { loadEnvironment } from '@sqlwarden/security';",
    'const env = loadEnvironment({ env: {}, envFile: false });',
    'const config = (kind, url) => ({',
    "  sources: { main: { kind, url, tables: ['public.*'] } },",
    "  roles: { reader: ['tool:query_read', 'read:main:public.*'] },",
    "  principals: { local: { roles: ['reader'] } },",
    '});',
    "const postgres = await loadConfig(config('postgres', 'postgres://reader@127.0.0.1:5432/test'), env);",
    "const mysql = await loadConfig(config('mysql', 'mysql://reader@127.0.0.1:3306/test'), env);",
    'console.log(JSON.stringify({ postgres: postgres.ok ? [] : postgres.problems, mysql: mysql.ok ? [] : mysql.problems }));',
  ];
  writeFileSync(join(cwd, 'plugins.mjs'), `${script.join('\n')}\n`);
  const { stdout } = await run(process.execPath, ['plugins.mjs'], { cwd, env: npmEnv() });
  const { postgres, mysql } = JSON.parse(stdout);
  check(postgres.length === 0, `a PostgreSQL configuration was refused: ${postgres.join('; ')}`);
  check(
    mysql.length === 1 && /@sqlwarden\/adapter-mysql mysql2/.test(mysql[0]),
    `a MySQL configuration without its adapter: ${JSON.stringify(mysql)}`,
  );
  say(
    `  runtime + adapter-postgres only: no adapter-mysql, no mysql2; a PostgreSQL configuration loads; a MySQL one says: ${mysql[0]}`,
  );
}

// --- main ------------------------------------------------------------------------

async function main() {
  say(`registry-check: temp dir ${TMP}`);
  let since = Date.now();
  const packages = await workspacePackages();
  const published = packages.filter((p) => !isInternal(p.name));
  for (const pkg of published) {
    check(existsSync(join(pkg.path, 'dist')), `${pkg.name} is not built: run pnpm build first`);
  }
  const versions = await snapshotVersions(packages, published);
  say(
    `1. changeset version --snapshot (in a copy of the manifests): ${published.length} packages at ${[...new Set(versions.values())].join(', ')} (${elapsed(since)})`,
  );

  since = Date.now();
  const { url, upstream } = await startVerdaccio();
  say(
    `2. Verdaccio at ${url} (@sqlwarden/* local only; other packages through ${upstream}) (${elapsed(since)})`,
  );

  since = Date.now();
  say('3. pnpm pack + npm publish:');
  await publishAll(published, versions, url);
  say(`   (${elapsed(since)})`);

  since = Date.now();
  say('4. as a user, in empty folders outside the workspace:');
  await npxServer(url, { label: 'first run: installs', ...DEMO_READ });
  await npxServer(url, { label: 'second run: installed', ...DEMO_READ });
  await npxWithDsn(url);
  await npxHttpServer(url);
  await sqlGuardFrom('esm', url);
  await sqlGuardFrom('cjs', url);
  await postgresPathBuildsNothing(url);
  say(`   (${elapsed(since)})`);

  // The servers npx started must be gone once their clients closed.
  const deadline = Date.now() + 5000;
  const others = () => processesUnder(TMP, [verdaccio.pid]);
  while (others().length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const left = others();
  check(
    left.length === 0,
    `processes still running after their clients closed: ${left.join(', ')}`,
  );
  return url;
}

try {
  const url = await main();
  say(`registry-check: passed in ${elapsed(STARTED)}`);
  if (process.argv.includes('--hold')) {
    say(
      `registry-check: holding ${url} until Ctrl-C; try it with\n  NPM_CONFIG_REGISTRY=${url}/ NPM_CONFIG_CACHE=${join(TMP, 'npm-cache')} npx -y @sqlwarden/stdio-server --demo`,
    );
    setInterval(() => {}, 1 << 30); // until a signal: its handler cleans up and exits
    await new Promise(() => {});
  }
} catch (error) {
  process.stderr.write(
    `registry-check: FAILED after ${elapsed(STARTED)}: ${error instanceof CheckFailed ? error.message : error.stack}\n`,
  );
  process.exitCode = 1;
} finally {
  await cleanUp();
  say(`registry-check: Verdaccio stopped, ${TMP} removed`);
}
