import { loadEnvironment } from '@sqlwarden/security';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const env = (vars: Record<string, string> = {}) => loadEnvironment({ env: vars, envFile: false });

const MINIMAL = `
sources:
  main:
    kind: postgres
    url: \${DATABASE_URL}
    tables: [public.*]
roles:
  analyst: [tool:query_read, read:main:public.*]
principals:
  local:
    roles: [analyst]
`;

async function problemsOf(
  text: string,
  vars: Record<string, string> = { DATABASE_URL: 'postgres://app@db/shop' },
) {
  const result = await parseConfig(text, env(vars));
  return result.ok ? [] : result.problems;
}

describe('parseConfig', () => {
  it('accepts a minimal configuration and fills in the defaults', async () => {
    const result = await parseConfig(MINIMAL, env({ DATABASE_URL: 'postgres://app:pw@db/shop' }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { config } = result;
    expect(config.server).toEqual({
      name: 'sqlwarden',
      readOnly: true,
      toolset: 'default',
      limits: { maxRows: 1000, maxBytes: 1_048_576, timeoutMs: 10_000, maxAffectedRows: 100 },
    });
    expect(config.sources[0]).toMatchObject({
      id: 'main',
      defaultSchema: 'public',
      tables: ['public.*'],
    });
    expect(config.stdioPrincipal).toBe('local');
    expect(config.audit.destination).toBe('stderr');
  });

  it('keeps the connection URL out of every printed form of the configuration', async () => {
    const result = await parseConfig(
      MINIMAL,
      env({ DATABASE_URL: 'postgres://app:hunter2secret@db/shop' }),
    );
    expect(result.ok && JSON.stringify(result.config)).not.toContain('hunter2secret');
    expect(result.ok && result.config.sources[0]?.connection.url?.reveal()).toBe(
      'postgres://app:hunter2secret@db/shop',
    );
  });

  it('names an unknown key', async () => {
    expect(await problemsOf(`${MINIMAL}\nsurprise: true\n`)).toEqual([
      expect.stringMatching(/^\(root\): Unrecognized key: "surprise"/),
    ]);
    expect(
      await problemsOf(MINIMAL.replace('tables: [public.*]', 'tables: [public.*]\n    tabels: []')),
    ).toEqual([expect.stringMatching(/^sources\.main: Unrecognized key: "tabels"/)]);
  });

  it('names the key of an unresolved variable, and supports defaults', async () => {
    expect(await problemsOf(MINIMAL, {})).toEqual([
      'sources.main.url: ${DATABASE_URL} is not set in the environment',
    ]);
    expect(
      await problemsOf(
        MINIMAL.replace('${DATABASE_URL}', '${DATABASE_URL:-postgres://localhost/x}'),
        {},
      ),
    ).toEqual([]);
  });

  it('takes a default for a variable set but empty, as a shell does', async () => {
    const text = `${MINIMAL}\nlogging: { level: "\${LOG_LEVEL:-warn}" }\n`;
    const config = async (vars: Record<string, string>) => {
      const result = await parseConfig(
        text,
        env({ DATABASE_URL: 'postgres://app@db/shop', ...vars }),
      );
      if (!result.ok) throw new Error(result.problems.join('\n'));
      return result.config;
    };
    expect((await config({})).logging.level).toBe('warn');
    expect((await config({ LOG_LEVEL: '' })).logging.level).toBe('warn');
    expect((await config({ LOG_LEVEL: 'debug' })).logging.level).toBe('debug');
  });

  it('refuses a password written in the file, and accepts one from the environment', async () => {
    expect(
      await problemsOf(MINIMAL.replace('${DATABASE_URL}', 'postgres://app:pw@db/shop')),
    ).toEqual([
      expect.stringMatching(
        /^sources\.main\.url: holds a password; put the whole URL in an environment variable/,
      ),
    ]);
    const hostForm = MINIMAL.replace(
      'url: ${DATABASE_URL}',
      'host: db\n    user: app\n    password: PLAIN',
    );
    expect(await problemsOf(hostForm)).toEqual([
      expect.stringMatching(/^sources\.main\.password: write it as \$\{VARIABLE\}/),
    ]);
    expect(
      await problemsOf(hostForm.replace('PLAIN', '${PGPASSWORD}'), { PGPASSWORD: 'pw' }),
    ).toEqual([]);
  });

  it('reads numbers from environment variables', async () => {
    const result = await parseConfig(
      MINIMAL.replace('url: ${DATABASE_URL}', 'host: db\n    port: ${PGPORT}'),
      env({ PGPORT: '6543' }),
    );
    expect(result.ok && result.config.sources[0]?.connection.port).toBe(6543);
  });

  it('reports every problem at once, each naming its key', async () => {
    const text = `
server:
  defaultSource: nowhere
  limits: { maxRows: 100 }
sources:
  main:
    kind: postgres
    url: \${DATABASE_URL}
    tables: [public.*]
    limits: { maxRows: 500 }
roles:
  analyst: ['*', read:other:public.*, read:main:hr.salaries, tool:query_read]
principals:
  local:
    roles: [analyst, ghost]
transports:
  stdio: { principal: stranger }
quotas:
  tools: { drop_table: { concurrency: 1 } }
`;
    expect(await problemsOf(text)).toEqual([
      expect.stringMatching(/^roles\.analyst\[0\]: "\*"/),
      'roles.analyst[1]: "read:other:public.*" names source other, which is not configured',
      expect.stringMatching(
        /^roles\.analyst\[2\]: "read:main:hr\.salaries" can never apply: source main does not serve hr\.salaries/,
      ),
      'principals.local.roles[1]: role ghost is not defined under roles',
      'transports.stdio.principal: stranger is not defined under principals',
      'server.defaultSource: nowhere is not defined under sources',
      'quotas.tools.drop_table: there is no tool of that name (tools: list_tables, describe_table, query_read, describe_entities, execute_write)',
      'sources.main.limits.maxRows: 500 is above server.limits.maxRows (100); a source can only lower a limit',
    ]);
  });

  it('reports schema problems and cross-check problems in the same run', async () => {
    const text = `
sources:
  main:
    kind: postgres
    url: \${DATABASE_URL}
    tables: [public.*]
    pool: { max: 0 }
  other:
    kind: postgres
    url: \${DATABASE_URL}
    tables: [sales.*]
roles:
  analyst: [tool:query_read, read:main:public.*, read:other:hr.*, read:ghost:x.*]
principals:
  local:
    roles: [analyst, missing]
    readOnly: maybe
transports:
  stdio: { principal: nobody }
`;
    expect(await problemsOf(text)).toEqual([
      expect.stringMatching(/^sources\.main\.pool\.max: /),
      expect.stringMatching(/^principals\.local\.readOnly: /),
      // Cross-checks on what the schema accepted; nothing said twice about main or local.
      expect.stringMatching(
        /^roles\.analyst\[2\]: "read:other:hr\.\*" can never apply: source other does not serve hr\.\*/,
      ),
      'roles.analyst[3]: "read:ghost:x.*" names source ghost, which is not configured',
      'transports.stdio.principal: nobody is not defined under principals',
    ]);
  });

  it('refuses a URL whose scheme sqlwarden does not serve, or of another kind', async () => {
    expect(await problemsOf(MINIMAL, { DATABASE_URL: 'mssql://sa:pw@db/x' })).toEqual([
      'sources.main.url: has the scheme mssql://, which sqlwarden does not serve; a postgres source takes postgres:// or postgresql:// (sqlwarden serves postgres://, postgresql://, mysql://, mariadb://)',
    ]);
    expect(await problemsOf(MINIMAL, { DATABASE_URL: 'mysql://app@db/shop' })).toEqual([
      expect.stringMatching(/^sources\.main\.url: is a mysql URL/),
    ]);
  });

  it('takes TLS from the URL, and from ssl, and refuses both at once', async () => {
    const configOf = async (text: string, url: string) => {
      const result = await parseConfig(text, env({ DATABASE_URL: url }));
      if (!result.ok) throw new Error(result.problems.join('\n'));
      return result.config.sources[0]?.connection;
    };
    const fromUrl = await configOf(MINIMAL, 'postgres://app:pw@db.example/shop?sslmode=verify-ca');
    expect(fromUrl?.ssl).toEqual({ rejectUnauthorized: true, verifyHostname: false });
    // The driver gets the URL without its query string.
    expect(fromUrl?.url?.reveal()).toBe('postgres://app:pw@db.example/shop');
    expect(fromUrl?.hostName).toBe('db.example');
    const withSsl = (ssl: string) =>
      MINIMAL.replace('tables: [public.*]', `tables: [public.*]\n    ssl: ${ssl}`);
    expect((await configOf(withSsl('true'), 'postgres://app@db/shop'))?.ssl).toEqual({
      rejectUnauthorized: true,
      verifyHostname: true,
    });
    expect((await configOf(withSsl('{ mode: require }'), 'postgres://app@db/shop'))?.ssl).toEqual({
      rejectUnauthorized: false,
      verifyHostname: false,
    });
    expect((await configOf(withSsl('{ mode: verify-ca }'), 'postgres://app@db/shop'))?.ssl).toEqual(
      {
        rejectUnauthorized: true,
        verifyHostname: false,
      },
    );
    expect(
      await problemsOf(withSsl('true'), { DATABASE_URL: 'postgres://app@db/shop?sslmode=require' }),
    ).toEqual(['sources.main: give TLS either in the URL (sslmode) or in ssl, not both']);
    expect(
      await problemsOf(withSsl('{ rejectUnauthorized: false }'), {
        DATABASE_URL: 'postgres://app@db/shop',
      }),
    ).toEqual([expect.stringMatching(/^sources\.main\.ssl: /)]);
    expect(
      await problemsOf(withSsl('{ cert: CERT, key: PLAINKEY }'), {
        DATABASE_URL: 'postgres://app@db/shop',
      }),
    ).toEqual([
      'sources.main.ssl.key: write it as ${VARIABLE} and set the variable; private keys never go in the file',
    ]);
  });

  it('refuses driver options in a URL', async () => {
    expect(
      await problemsOf(
        MINIMAL.replace('kind: postgres', 'kind: mysql').replace(/public/g, 'shop'),
        {
          DATABASE_URL: 'mysql://app@db/shop?multipleStatements=true',
        },
      ),
    ).toEqual([
      'sources.main.url: the query parameter multipleStatements is not allowed; a URL may only carry TLS settings (sslmode, sslrootcert, sslcert, sslkey, ssl)',
    ]);
  });

  it('reports a malformed table pattern and a wrong type with their keys', async () => {
    expect(await problemsOf(MINIMAL.replace('[public.*]', '["*.orders", 42]'))).toEqual([
      expect.stringMatching(/^sources\.main\.tables\[0\]: must be schema\.table or schema\.\*/),
      expect.stringMatching(/^sources\.main\.tables\[1\]: /),
    ]);
  });

  it('reports YAML syntax errors and non-mapping files', async () => {
    expect(await problemsOf('sources: [unclosed')).toEqual([expect.stringMatching(/^\(file\): /)]);
    expect(await problemsOf('- just a list')).toEqual([
      '(file): the configuration must be a YAML mapping',
    ]);
  });
});

describe('writes and declared tools in the configuration', () => {
  const WRITABLE = MINIMAL.replace(
    'tables: [public.*]',
    'tables: [public.*]\n    writable: [public.orders]',
  );
  const configOf = async (text: string, vars: Record<string, string> = {}) => {
    const result = await parseConfig(
      text,
      env({ DATABASE_URL: 'postgres://app@db/shop', ...vars }),
    );
    if (!result.ok) throw new Error(result.problems.join('\n'));
    return result.config;
  };

  it('keeps writes off unless SQLWARDEN_ALLOW_WRITES is exactly true', async () => {
    expect((await configOf(WRITABLE)).writesEnabled).toBe(false);
    expect((await configOf(WRITABLE, { SQLWARDEN_ALLOW_WRITES: 'false' })).writesEnabled).toBe(
      false,
    );
    expect((await configOf(WRITABLE, { SQLWARDEN_ALLOW_WRITES: 'true' })).writesEnabled).toBe(true);
    expect(
      await problemsOf(WRITABLE, {
        DATABASE_URL: 'postgres://app@db/shop',
        SQLWARDEN_ALLOW_WRITES: 'yes',
      }),
    ).toEqual(['SQLWARDEN_ALLOW_WRITES: must be true or false (it is "yes")']);
    expect((await configOf(WRITABLE)).server.readOnly).toBe(true);
    expect((await configOf(WRITABLE)).sources[0]?.writable).toEqual(['public.orders']);
    expect((await configOf(MINIMAL)).sources[0]?.writable).toEqual([]);
  });

  it('reads confirmWrites and SQLWARDEN_CONFIRM_KEY (a secret, at least 32 characters)', async () => {
    const confirmed = WRITABLE.replace('writable:', 'confirmWrites: true\n    writable:');
    expect((await configOf(confirmed)).sources[0]?.confirmWrites).toBe(true);
    expect((await configOf(WRITABLE)).sources[0]?.confirmWrites).toBe(false);
    expect((await configOf(WRITABLE)).confirmKey).toBeUndefined();
    const key = 'k'.repeat(32);
    const config = await configOf(WRITABLE, { SQLWARDEN_CONFIRM_KEY: key });
    expect(config.confirmKey?.reveal()).toBe(key);
    expect(JSON.stringify(config)).not.toContain(key);
    expect(
      await problemsOf(WRITABLE, {
        DATABASE_URL: 'postgres://app@db/shop',
        SQLWARDEN_CONFIRM_KEY: 'short',
      }),
    ).toEqual([
      'SQLWARDEN_CONFIRM_KEY: must be at least 32 characters (a random string, the same on every replica)',
    ]);
  });

  it('refuses writable tables the source does not serve', async () => {
    expect(
      await problemsOf(
        MINIMAL.replace('tables: [public.*]', 'tables: [public.*]\n    writable: [hr.salaries]'),
      ),
    ).toEqual([
      'sources.main.writable[0]: hr.salaries is not among the tables the source serves (sources.main.tables)',
    ]);
  });

  it('refuses function allow entries that can never take effect, naming them', async () => {
    const withAllow = (kind: string, entries: string) =>
      MINIMAL.replace(/kind: postgres/, `kind: ${kind}\n    functions:\n      allow: [${entries}]`);
    expect(
      await problemsOf(withAllow('postgres', 'current_setting, pg_sleep, "@@version", net_price')),
    ).toEqual([
      'sources.main.functions.allow[1]: pg_sleep: it has side effects or reaches outside the database; nothing allows it',
      'sources.main.functions.allow[2]: @@version: PostgreSQL has no @@ system variables',
    ]);
  });

  it('checks declared tools: source, kind, name, parameters', async () => {
    const tool = (body: string, base = MINIMAL) => `${base}\ntools:\n${body}`;
    expect(
      await problemsOf(
        tool(`  find_x:
    description: x
    source: nowhere
    kind: read
    sql: SELECT 1
  query_read:
    description: shadowing a built-in
    source: main
    kind: read
    sql: SELECT 1
  set_x:
    description: a write on a read-only source
    source: main
    kind: write
    sql: UPDATE t SET a = :a WHERE id = :id
    parameters:
      a: { type: string, pattern: "(", default: x, optional: true }
      id: { type: integer, minimum: 5, maximum: 1 }
`),
      ),
    ).toEqual([
      'tools.find_x.source: nowhere is not defined under sources',
      'tools.query_read: the name of a built-in tool; choose another',
      'tools.set_x.kind: a write tool needs writable tables on source main (sources.main.writable)',
      'tools.set_x.parameters.a.pattern: not a valid regular expression',
      'tools.set_x.parameters.a: give a default or optional, not both',
      'tools.set_x.parameters.id: minimum is above maximum',
    ]);
    expect(
      (
        await problemsOf(
          tool(
            '  find_x:\n    description: x\n    source: main\n    kind: erase\n    sql: SELECT 1\n',
          ),
        )
      )[0],
    ).toMatch(/^tools\.find_x\.kind: /);
    expect(
      (
        await problemsOf(
          tool(
            '  find_x:\n    description: x\n    source: main\n    kind: read\n    sql: SELECT 1\n    parameters:\n      a: { type: date }\n',
          ),
        )
      )[0],
    ).toMatch(/^tools\.find_x\.parameters\.a\.type: /);
  });

  it('takes the MySQL database from the URL, and needs one', async () => {
    const mysql = (url: string) =>
      MINIMAL.replace('kind: postgres', 'kind: mysql')
        .replace('tables: [public.*]', 'tables: [shop.*]')
        .replace('read:main:public.*', 'read:main:shop.*')
        .replace('${DATABASE_URL}', url);
    expect((await configOf(mysql('mysql://app@db:3306/shop'))).sources[0]).toMatchObject({
      kind: 'mysql',
      defaultSchema: 'shop',
    });
    expect(await problemsOf(mysql('mysql://app@db:3306'))).toEqual([
      'sources.main: name the database (in the URL, database, or defaultSchema); MySQL resolves unqualified tables there',
    ]);
  });
});

describe('entities in the configuration', () => {
  it('normalizes an entity: its table split into schema and table, defaults filled in', async () => {
    const result = await parseConfig(
      `${MINIMAL}
entities:
  customer:
    source: main
    table: public.CUSTOMERS_VSAM
    aliases: [clients]
    description: The people we sell to.
    columns:
      CUST_NO: the number on invoices
  order:
    source: main
    table: public.orders
    description: One row per order.
`,
      env({ DATABASE_URL: 'postgres://app@db/shop' }),
    );
    expect(result.ok && result.config.entities).toEqual([
      {
        name: 'customer',
        source: 'main',
        schema: 'public',
        table: 'CUSTOMERS_VSAM',
        aliases: ['clients'],
        description: 'The people we sell to.',
        columns: { CUST_NO: 'the number on invoices' },
      },
      {
        name: 'order',
        source: 'main',
        schema: 'public',
        table: 'orders',
        aliases: [],
        description: 'One row per order.',
        columns: {},
      },
    ]);
  });

  it('has no entities when none are configured', async () => {
    const result = await parseConfig(MINIMAL, env({ DATABASE_URL: 'postgres://app@db/shop' }));
    expect(result.ok && result.config.entities).toEqual([]);
  });

  it('refuses an entity on an unknown source, on a table the source does not serve, on a wildcard, a bad name and an empty description', async () => {
    expect(
      await problemsOf(`${MINIMAL}
entities:
  customer:
    source: legacy
    table: public.customers
    description: People.
  salary:
    source: main
    table: hr.salaries
    description: Pay.
  everything:
    source: main
    table: public.*
    description: All of it.
  9lives:
    source: main
    table: public.cats
    description: Cats.
  nameless:
    source: main
    table: public.orders
    description: ''
`),
    ).toEqual([
      'entities.everything.table: must be schema.table (catalog.schema.table on an ODBC source with catalogs), one table the source serves (no wildcard)',
      'entities.9lives: Invalid key in record',
      'entities.nameless.description: Too small: expected string to have >=1 characters',
      'entities.customer.source: legacy is not defined under sources',
      'entities.salary.table: source main does not serve hr.salaries (its tables: public.*)',
    ]);
  });
});

describe('quotas.store in the configuration', () => {
  const withStore = (store: string) =>
    `${MINIMAL}quotas:\n  perPrincipal: { concurrency: 2 }\n  store: ${store}\n`;

  it('takes a Redis URL, as a string or an object, its password kept out of every printed form', async () => {
    const vars = {
      DATABASE_URL: 'postgres://app@db/shop',
      REDIS: 'rediss://:r3dis-secret-pw@cache:6380',
    };
    const short = await parseConfig(withStore('${REDIS}'), env(vars));
    expect(short.ok && short.config.quotaStore?.namespace).toBe('default');
    expect(short.ok && short.config.quotaStore?.failOpen).toBe('none');
    expect(short.ok && short.config.quotaStore?.url.reveal()).toBe(vars.REDIS);
    expect(short.ok && JSON.stringify(short.config)).not.toContain('r3dis-secret-pw');
    // The limits go to the gate without the store.
    expect(short.ok && short.config.quotas).toEqual({ perPrincipal: { concurrency: 2 } });
    const long = await parseConfig(
      withStore('{ url: "${REDIS}", namespace: prod-eu, failOpen: reads }'),
      env(vars),
    );
    expect(long.ok && long.config.quotaStore).toMatchObject({
      namespace: 'prod-eu',
      failOpen: 'reads',
    });
    const none = await parseConfig(MINIMAL, env(vars));
    expect(none.ok && none.config.quotaStore).toBe(undefined);
  });

  it('refuses a password written in the file, another scheme, a bad namespace and failOpen for writes', async () => {
    expect(await problemsOf(withStore('redis://:written-here@cache:6379'))).toEqual([
      'quotas.store: holds a password; put the whole URL in an environment variable (store: ${SQLWARDEN_REDIS_URL})',
    ]);
    expect(await problemsOf(withStore('{ url: "http://cache:6379" }'))).toEqual([
      'quotas.store.url: the quota store is Redis: the URL starts with redis:// or rediss:// (TLS), not http://',
    ]);
    expect(await problemsOf(withStore('not a url'))).toEqual([
      'quotas.store: not a URL; write redis://host:6379 or rediss://host:6380',
    ]);
    const bad = await problemsOf(
      withStore('{ url: "redis://cache", namespace: "a b", failOpen: writes }'),
    );
    expect(bad).toHaveLength(2);
    expect(bad.join('\n')).toContain('quotas.store.namespace');
    expect(bad.join('\n')).toContain('quotas.store.failOpen');
  });
});
