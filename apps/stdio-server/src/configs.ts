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

/** The CONNX reference server's variables, as `--connx` reads them (the environment wins over .env). */
export interface ConnxSettings {
  /** CONNX_MAX_ROWS: rows a read returns at most (default 1000, as the reference server). */
  readonly maxRows?: number;
  /** CONNX_TIMEOUT in milliseconds: how long opening a connection may take (default 30 s). */
  readonly connectTimeoutMs?: number;
  /**
   * CONNX_ALLOW_WRITES=true: the tables update_connx may change (`--writable`,
   * default every allowed table); absent, the source is read-only.
   */
  readonly writable?: readonly string[];
}

/** A value of an ODBC connection string: braced when it holds a delimiter (`}` doubled inside). */
export function odbcValue(value: string): string {
  return /[;{}=\s]/.test(value) ? `{${value.replace(/}/g, '}}')}}` : value;
}

/**
 * `--connx --allow 'catalog.schema.*'`: the CONNX reference MCP server's
 * deployment, every sqlwarden layer underneath. One read-only `kind: odbc`
 * source (profile connx) whose connection string is built from CONNX_DSN,
 * CONNX_USER and CONNX_PASS and read from a variable
 * (${SQLWARDEN_CONNX_CONNECTION}), as a file would; the reference server's
 * tools (`server.toolset: connx`); the local principal reads exactly the
 * allowed tables; unqualified names resolve to the first pattern's catalog
 * and schema. The --dsn quota applies. With CONNX_ALLOW_WRITES=true
 * (`settings.writable`), the source has those writable tables, the server
 * is not read-only, and the principal holds update_connx and their write
 * grants; the runtime's write switch is set from CONNX_ALLOW_WRITES by the
 * caller.
 */
export function connxConfig(
  patterns: readonly string[],
  settings: ConnxSettings = {},
  quota: DsnQuota = DEFAULT_DSN_QUOTA,
): Record<string, unknown> {
  const first = parseTablePattern(patterns[0] ?? '', { catalogs: true });
  const writable = settings.writable ?? [];
  const tools = [
    'list_tables',
    'describe_table',
    'query_connx',
    ...(writable.length > 0 ? ['update_connx'] : []),
  ].map(toolCapability);
  return {
    server: {
      toolset: 'connx',
      ...(writable.length > 0 && { readOnly: false }),
      ...(settings.maxRows !== undefined && { limits: { maxRows: settings.maxRows } }),
    },
    quotas: {
      perPrincipal: {
        rate: { burst: Math.max(1, Math.ceil(quota.perSecond * 2)), perSecond: quota.perSecond },
        concurrency: quota.concurrency,
      },
    },
    sources: {
      connx: {
        kind: 'odbc',
        odbc: { connectionString: '${SQLWARDEN_CONNX_CONNECTION}', profile: 'connx' },
        ...(first?.catalog !== undefined && { defaultCatalog: first.catalog }),
        ...(first !== undefined && { defaultSchema: first.schema }),
        tables: [...patterns],
        ...(writable.length > 0 && { writable: [...writable] }),
        ...(settings.connectTimeoutMs !== undefined && {
          pool: { connectionTimeoutMs: settings.connectTimeoutMs },
        }),
      },
    },
    roles: {
      reader: [
        ...tools,
        ...patterns.map((p) => `read:connx:${p}`),
        ...writable.map((p) => `write:connx:${p}`),
      ],
    },
    principals: { local: { roles: ['reader'] } },
    transports: { stdio: { principal: 'local' } },
  };
}
