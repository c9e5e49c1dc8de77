/**
 * `${VAR}` interpolation: every string of the parsed YAML tree, before
 * validation. `${VAR:-default}` takes the default when VAR is unset or
 * empty, as a shell does. A variable that is not set is a problem naming the
 * key. The keys written entirely as one `${VAR}` are recorded: the secrets
 * rule (checks.ts) accepts a password only from such a key.
 */
import type { Environment } from '@sqlwarden/security';

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_VAR = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** How a problem names a key: `sources.main.pool.max`, `roles.analyst[2]`. */
export function keyOf(path: ReadonlyArray<string | number>): string {
  return (
    path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') ||
    '(root)'
  );
}

export interface Interpolated {
  readonly value: unknown;
  /** Keys whose whole value was one `${VAR}`. */
  readonly fromEnv: ReadonlySet<string>;
  /** Keys holding a variable that is not set (already reported). */
  readonly unresolved: ReadonlySet<string>;
}

export function interpolate(raw: unknown, env: Environment, problems: string[]): Interpolated {
  const fromEnv = new Set<string>();
  const unresolved = new Set<string>();
  const walk = (value: unknown, path: Array<string | number>): unknown => {
    if (typeof value === 'string') {
      const key = keyOf(path);
      if (WHOLE_VAR.test(value)) fromEnv.add(key);
      return value.replace(VAR, (_match, name: string, fallback: string | undefined) => {
        const resolved = env.get(name);
        if (resolved !== undefined && (fallback === undefined || resolved !== '')) return resolved;
        if (fallback !== undefined) return fallback;
        problems.push(`${key}: \${${name}} is not set in the environment`);
        unresolved.add(key);
        return '';
      });
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i]));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) out[key] = walk(inner, [...path, key]);
      return out;
    }
    return value;
  };
  return { value: walk(raw, []), fromEnv, unresolved };
}
