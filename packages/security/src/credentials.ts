import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { MIN_SCRUBBABLE_LENGTH, Secret } from './secrets.js';

/**
 * Credentials come from the environment, optionally completed by a `.env`
 * file; never from the config file, never from the client. Variables set in
 * the process environment win over the file (so a deployment can override a
 * developer's `.env`). The file is parsed with Node's own `util.parseEnv`;
 * `process.env` is not modified, so child processes do not inherit secrets
 * they were not given.
 */

export interface EnvironmentOptions {
  /** The process environment (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * A `.env` file: a path (it must exist), `false` for none, or undefined to
   * read `.env` in `cwd` when there is one.
   */
  readonly envFile?: string | false;
  readonly cwd?: string;
}

export interface Environment {
  /** A plain (non-secret) variable. */
  get(name: string): string | undefined;
  /** A secret variable: wrapped, and registered for scrubbing from logs. */
  secret(name: string): Secret | undefined;
  has(name: string): boolean;
  /** The `.env` file that was read, if any. */
  readonly envFile: string | undefined;
  /** Secret variables read so far whose values are too short to scrub from logs. */
  weakSecrets(): readonly string[];
}

export class CredentialError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialError';
  }
}

export function loadEnvironment(options: EnvironmentOptions = {}): Environment {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  let envFile: string | undefined;
  let fromFile: Record<string, string> = {};
  if (options.envFile !== false) {
    const path = resolve(cwd, options.envFile ?? '.env');
    if (options.envFile !== undefined || existsSync(path)) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        // The path is ours to name; the file's contents are never quoted.
        throw new CredentialError(`Cannot read the environment file ${path}`, { cause: error });
      }
      fromFile = parseEnv(text) as Record<string, string>;
      envFile = path;
    }
  }
  const lookup = (name: string): string | undefined => {
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (value !== undefined) return value;
    return Object.hasOwn(fromFile, name) ? fromFile[name] : undefined;
  };
  const weak = new Set<string>();
  return Object.freeze({
    get: lookup,
    has: (name: string) => lookup(name) !== undefined,
    secret: (name: string) => {
      const value = lookup(name);
      if (value === undefined) return undefined;
      if (value.length > 0 && value.length < MIN_SCRUBBABLE_LENGTH) weak.add(name);
      return new Secret(name, value);
    },
    envFile,
    weakSecrets: () => [...weak],
  });
}
