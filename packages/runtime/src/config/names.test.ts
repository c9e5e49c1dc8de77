import type { AdapterPlugin } from '@sqlwarden/core';
import { loadEnvironment } from '@sqlwarden/security';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

// Three-part names (catalog.schema.table, CONNX) in the configuration: only
// for ODBC sources. No ODBC adapter is registered in this package, so an
// embedder's plugin of dialect odbc plays one (adapters.test.ts shows how a
// plugin is made); nothing here connects.

const env = loadEnvironment({ env: {}, envFile: false });
let odbc: AdapterPlugin;

beforeAll(async () => {
  const postgres = (await import('@sqlwarden/adapter-postgres')).adapterPlugin;
  odbc = {
    ...postgres,
    kind: 'odbcpg',
    dialect: 'odbc',
    schemes: ['odbc'],
    estimatesCost: false,
    check: (source) => ({ problems: [], defaultSchema: source.defaultSchema ?? 'dbo' }),
  };
});

function configOf(source: Record<string, unknown>, grants: string[]) {
  return {
    sources: { connx: { url: 'odbc://reader@connx/x', ...source } },
    roles: { reader: ['tool:query_read', ...grants] },
    principals: { local: { roles: ['reader'] } },
  };
}

async function problemsOf(source: Record<string, unknown>, grants: string[] = []) {
  const result = await loadConfig(configOf(source, grants), env, { adapters: [odbc] });
  return result.ok ? [] : result.problems;
}

describe('three-part names on an odbc source', () => {
  it('accepts defaultCatalog, three-part tables, writable and grants, and normalises them', async () => {
    const result = await loadConfig(
      configOf(
        {
          kind: 'odbcpg',
          defaultCatalog: 'daea_mainframe_vsam',
          defaultSchema: 'dbo',
          tables: ['daea_mainframe_vsam.dbo.*', 'sales.dbo.orders'],
          writable: ['sales.dbo.orders'],
        },
        [
          'read:connx:daea_mainframe_vsam.dbo.*',
          'read:connx:sales.dbo.orders',
          'write:connx:sales.dbo.orders',
          'read:connx:*',
        ],
      ),
      env,
      { adapters: [odbc] },
    );
    expect(result.ok ? [] : result.problems).toEqual([]);
    if (!result.ok) return;
    expect(result.config.sources[0]).toMatchObject({
      dialect: 'odbc',
      defaultCatalog: 'daea_mainframe_vsam',
      defaultSchema: 'dbo',
      tables: ['daea_mainframe_vsam.dbo.*', 'sales.dbo.orders'],
      writable: ['sales.dbo.orders'],
    });
  });

  it('accepts three-part patterns without a default catalog (every name then names its catalog)', async () => {
    expect(
      await problemsOf({ kind: 'odbcpg', tables: ['daea.dbo.*'] }, ['read:connx:daea.dbo.x']),
    ).toEqual([]);
  });

  it('keeps two-part patterns on an odbc source that names no catalog', async () => {
    expect(
      await problemsOf({ kind: 'odbcpg', tables: ['public.*'] }, ['read:connx:public.orders']),
    ).toEqual([]);
  });

  it('refuses a two-part pattern beside catalogs, saying what to write', async () => {
    expect(
      await problemsOf({
        kind: 'odbcpg',
        defaultCatalog: 'daea',
        tables: ['daea.dbo.*', 'dbo.orders'],
        writable: ['dbo.orders'],
      }),
    ).toEqual([
      'sources.connx.tables[1]: dbo.orders names no catalog, but the source names tables catalog.schema.table (defaultCatalog or a three-part pattern); write catalog.dbo.orders',
      'sources.connx.writable[0]: dbo.orders names no catalog, but the source names tables catalog.schema.table (defaultCatalog or a three-part pattern); write catalog.dbo.orders',
    ]);
  });

  it('refuses grants that can never apply: another catalog, or a two-part grant on catalogs', async () => {
    expect(
      await problemsOf({ kind: 'odbcpg', defaultCatalog: 'daea', tables: ['daea.dbo.*'] }, [
        'read:connx:other.dbo.*',
        'read:connx:dbo.*',
        'read:connx:daea.*',
      ]),
    ).toEqual([
      'roles.reader[1]: "read:connx:other.dbo.*" can never apply: source connx does not serve other.dbo.* (its tables: daea.dbo.*)',
      'roles.reader[2]: "read:connx:dbo.*" can never apply: source connx does not serve dbo.* (its tables: daea.dbo.*)',
      'roles.reader[3]: "read:connx:daea.*" can never apply: source connx does not serve daea.* (its tables: daea.dbo.*)',
    ]);
  });

  it('refuses writable tables of another catalog than the served ones', async () => {
    expect(
      await problemsOf({
        kind: 'odbcpg',
        tables: ['daea.dbo.*'],
        writable: ['other.dbo.orders'],
      }),
    ).toEqual([
      'sources.connx.writable[0]: other.dbo.orders is not among the tables the source serves (sources.connx.tables)',
    ]);
  });

  it('refuses malformed three-part patterns', async () => {
    const problems = await problemsOf({
      kind: 'odbcpg',
      tables: ['daea..orders', 'daea.*.*', 'a.daea.dbo.orders', 'daea.dbo.ord*'],
    });
    expect(problems).toHaveLength(4);
    for (const problem of problems) {
      expect(problem).toMatch(
        /^sources\.connx\.tables\[\d\]: must be schema\.table or schema\.\* .*ODBC sources also take catalog\.schema\.table and catalog\.schema\.\*$/,
      );
    }
  });
});

describe('three-part names elsewhere', () => {
  it('refuses defaultCatalog on a postgres source, saying why', async () => {
    expect(
      await problemsOf({
        kind: 'postgres',
        url: 'postgres://reader@127.0.0.1/test',
        defaultCatalog: 'test',
        tables: ['public.*'],
      }),
    ).toEqual([
      'sources.connx.defaultCatalog: only ODBC sources name tables catalog.schema.table; a postgres source names them schema.table, so remove defaultCatalog',
    ]);
  });

  it('refuses three-part patterns on a postgres source', async () => {
    expect(
      await problemsOf({
        kind: 'postgres',
        url: 'postgres://reader@127.0.0.1/test',
        tables: ['test.public.*', 'public.orders'],
        writable: ['test.public.orders'],
      }),
    ).toEqual([
      'sources.connx.tables[0]: test.public.* has three parts; only ODBC sources name tables catalog.schema.table, write schema.table or schema.*',
      'sources.connx.writable[0]: test.public.orders has three parts; only ODBC sources name tables catalog.schema.table, write schema.table or schema.*',
    ]);
  });

  it('leaves two-part postgres sources as they were, and a three-part grant never applies there', async () => {
    expect(
      await problemsOf(
        { kind: 'postgres', url: 'postgres://reader@127.0.0.1/test', tables: ['public.*'] },
        ['read:connx:public.orders', 'read:connx:*'],
      ),
    ).toEqual([]);
    expect(
      await problemsOf(
        { kind: 'postgres', url: 'postgres://reader@127.0.0.1/test', tables: ['public.*'] },
        ['read:connx:test.public.*'],
      ),
    ).toEqual([
      'roles.reader[1]: "read:connx:test.public.*" can never apply: source connx does not serve test.public.* (its tables: public.*)',
    ]);
  });
});
