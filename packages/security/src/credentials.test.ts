import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialError, loadEnvironment } from './credentials.js';
import { clearSecretRegistry, scrubSecrets } from './secrets.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqlwarden-env-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  clearSecretRegistry();
});

describe('loadEnvironment', () => {
  it('reads .env from the working directory and lets the process environment win', () => {
    writeFileSync(join(dir, '.env'), 'A=from-file\nB="quoted value"\n# comment\n');
    const env = loadEnvironment({ cwd: dir, env: { A: 'from-env' } });
    expect(env.get('A')).toBe('from-env');
    expect(env.get('B')).toBe('quoted value');
    expect(env.envFile).toBe(join(dir, '.env'));
  });

  it('works without a .env file', () => {
    const env = loadEnvironment({ cwd: dir, env: { A: '1' } });
    expect(env.get('A')).toBe('1');
    expect(env.get('MISSING')).toBeUndefined();
    expect(env.envFile).toBeUndefined();
  });

  it('fails with the path, not the contents, when a named env file is missing', () => {
    expect(() => loadEnvironment({ cwd: dir, envFile: 'prod.env', env: {} })).toThrow(
      CredentialError,
    );
    expect(() => loadEnvironment({ cwd: dir, envFile: 'prod.env', env: {} })).toThrow(/prod\.env/);
  });

  it('does not write into process.env', () => {
    writeFileSync(join(dir, '.env'), 'SQLWARDEN_TEST_ONLY_VAR=x\n');
    loadEnvironment({ cwd: dir });
    expect(process.env.SQLWARDEN_TEST_ONLY_VAR).toBeUndefined();
  });

  it('does not see inherited object keys as variables', () => {
    const env = loadEnvironment({ cwd: dir, env: {} });
    expect(env.get('toString')).toBeUndefined();
    expect(env.has('__proto__')).toBe(false);
  });
});

describe('secrets from the environment', () => {
  it('never print their value, however the object is turned into text', () => {
    const env = loadEnvironment({ cwd: dir, env: { PGPASSWORD: 'correct-horse-battery' } });
    const secret = env.secret('PGPASSWORD');
    expect(secret?.reveal()).toBe('correct-horse-battery');
    const config = { source: { user: 'app', password: secret } };
    for (const text of [
      JSON.stringify(config),
      String(secret),
      `${secret}`,
      inspect(config, { depth: 10, showHidden: true }),
      JSON.stringify({ ...secret }),
    ]) {
      expect(text).not.toContain('correct-horse-battery');
    }
  });

  it('are registered for scrubbing from log output', () => {
    const env = loadEnvironment({ cwd: dir, env: { TOKEN: 'tok_abcdef123' } });
    env.secret('TOKEN');
    expect(scrubSecrets('{"msg":"token tok_abcdef123"}')).toBe('{"msg":"token [redacted]"}');
  });

  it('reports secrets too short to scrub', () => {
    const env = loadEnvironment({ cwd: dir, env: { PW: 'abc' } });
    env.secret('PW');
    expect(env.weakSecrets()).toEqual(['PW']);
  });
});
