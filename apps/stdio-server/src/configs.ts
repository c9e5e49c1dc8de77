/**
 * The configurations behind the shortcuts. They are ordinary configuration
 * objects and go through the same validation as a file; the URL is read
 * from a variable (${SQLWARDEN_DSN}), as a file would.
 */
import { parseTablePattern, toolCapability } from '@sqlwarden/core';
import { READ_TOOL_NAMES } from '@sqlwarden/tools';

/** The quota of the --dsn principal: calls per second (burst twice that) and calls at once. */
export interface DsnQuota {
  readonly perSecond: number;
  readonly concurrency: number;
}

/**
 * An agent on --dsn is still an agent: 10 calls a second sustained (bursts of
 * 20) and 4 at once, enough for any conversation and too little to hammer a
 * database. `--rate` and `--concurrency` change them.
 */
export const DEFAULT_DSN_QUOTA: DsnQuota = { perSecond: 10, concurrency: 4 };

const READ_TOOLS = READ_TOOL_NAMES.map(toolCapability);

/**
 * `--dsn URL --allow 'shop.*,sales.orders'`: one read-only source of the
 * URL's kind (PostgreSQL for postgres:// or postgresql://, MySQL/MariaDB for
 * mysql:// or mariadb://; the caller has checked the scheme); the local
 * principal reads exactly those tables. Unqualified names resolve to the
 * first pattern's schema.
 */
export function dsnConfig(
  kind: string,
  patterns: readonly string[],
  quota: DsnQuota = DEFAULT_DSN_QUOTA,
): Record<string, unknown> {
  const first = patterns[0] ?? '';
  return {
    quotas: {
      perPrincipal: {
        rate: { burst: Math.max(1, Math.ceil(quota.perSecond * 2)), perSecond: quota.perSecond },
        concurrency: quota.concurrency,
      },
    },
    sources: {
      main: {
        kind,
        url: '${SQLWARDEN_DSN}',
        defaultSchema: parseTablePattern(first)?.schema ?? 'public',
        tables: [...patterns],
      },
    },
    roles: { reader: [...READ_TOOLS, ...patterns.map((p) => `read:main:${p}`)] },
    principals: { local: { roles: ['reader'] } },
    transports: { stdio: { principal: 'local' } },
  };
}

/** `--demo`: the embedded shop; the demo principal reads shop.* but not internal.api_keys. */
export function demoConfig(): Record<string, unknown> {
  return {
    server: { name: 'sqlwarden-demo', limits: { maxRows: 100, timeoutMs: 5000 } },
    sources: {
      demo: {
        kind: 'postgres',
        url: '${SQLWARDEN_DEMO_URL}',
        defaultSchema: 'shop',
        tables: ['shop.*', 'internal.*'],
        pool: { max: 4 },
      },
    },
    roles: { analyst: [...READ_TOOLS, 'read:demo:shop.*'] },
    principals: { demo: { roles: ['analyst'] } },
    transports: { stdio: { principal: 'demo' } },
  };
}
