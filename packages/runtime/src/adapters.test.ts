import type { AdapterPlugin } from '@sqlwarden/core';
import { loadEnvironment } from '@sqlwarden/security';
import { describe, expect, it } from 'vitest';
import { adapterCatalog } from './adapters.js';
import { loadConfig } from './config/load.js';
import { kindOfUrl, supportedSchemes } from './config/url.js';

// Adapters are plugins: the runtime imports an adapter package only when a
// source of its kind is configured. These tests play the import (to have a
// package be missing or wrong); the registry check (release/registry-check.mjs)
// proves the same with a real install of runtime + adapter-postgres only.

const env = loadEnvironment({ env: {}, envFile: false });

function configOf(kind: string, url: string) {
  return {
    sources: { main: { kind, url, tables: ['public.*'] } },
    roles: { reader: ['tool:query_read', 'read:main:public.*'] },
    principals: { local: { roles: ['reader'] } },
  };
}

/** An import that records what it was asked for, and has no adapter-mysql. */
function withoutMysql() {
  const asked: string[] = [];
  const importPackage = async (name: string) => {
    asked.push(name);
    if (name === '@sqlwarden/adapter-mysql') {
      throw Object.assign(new Error(`Cannot find package '${name}' imported from /app/index.js`), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    }
    return import(name);
  };
  return { asked, importPackage };
}

describe('adapters as plugins', () => {
  it('imports only the adapter of the kinds configured', async () => {
    const { asked, importPackage } = withoutMysql();
    const result = await loadConfig(configOf('postgres', 'postgres://reader@127.0.0.1/test'), env, {
      importPackage,
    });
    expect(result.ok ? [] : result.problems).toEqual([]);
    expect(asked).toEqual(['@sqlwarden/adapter-postgres']);
    if (!result.ok) return;
    expect(result.config.sources[0]?.adapter.kind).toBe('postgres');
    expect(result.config.sources[0]?.dialect).toBe('postgres');
  });

  it('names what to install when a kind’s package is missing', async () => {
    const { importPackage } = withoutMysql();
    const result = await loadConfig(configOf('mysql', 'mysql://reader@127.0.0.1/test'), env, {
      importPackage,
    });
    expect(result.ok ? [] : result.problems).toEqual([
      'sources.main.kind: mysql sources need the package @sqlwarden/adapter-mysql, which is not installed: npm install @sqlwarden/adapter-mysql mysql2',
    ]);
  });

  it('tells a broken package from a missing one, and never shows its error text', async () => {
    const failing = await loadConfig(configOf('mysql', 'mysql://reader@127.0.0.1/test'), env, {
      importPackage: async () => {
        throw new SyntaxError('Unexpected token in /secret/path/index.js');
      },
    });
    expect(failing.ok ? [] : failing.problems).toEqual([
      'sources.main.kind: @sqlwarden/adapter-mysql could not be loaded (SyntaxError); reinstall it: npm install @sqlwarden/adapter-mysql mysql2',
    ]);
    const stale = await loadConfig(configOf('mysql', 'mysql://reader@127.0.0.1/test'), env, {
      importPackage: async () => ({ createMysqlAdapter: () => undefined }),
    });
    expect(stale.ok ? [] : stale.problems).toEqual([
      'sources.main.kind: @sqlwarden/adapter-mysql does not export an adapterPlugin for mysql; install a version that matches @sqlwarden/runtime',
    ]);
  });

  it('refuses a kind no adapter serves, listing the kinds', async () => {
    const result = await loadConfig(configOf('oracle', 'oracle://reader@db/x'), env);
    expect(result.ok ? [] : result.problems).toEqual([
      'sources.main.kind: there is no adapter for the kind oracle (kinds: postgres, mysql, odbc)',
    ]);
  });

  it('takes an embedder’s plugin for a kind of its own, with its schemes', async () => {
    const created: string[] = [];
    const postgres = (await import('@sqlwarden/adapter-postgres')).adapterPlugin;
    const plugin: AdapterPlugin = {
      ...postgres,
      kind: 'warehouse',
      schemes: ['warehouse'],
      check: (source, at) => ({
        problems: source.url?.includes('@') ? [] : [`${at}.url: name a user`],
        defaultSchema: 'public',
      }),
      create: (source, options) => {
        created.push(source.id);
        return postgres.create(source, options);
      },
    };
    const catalog = adapterCatalog({ plugins: [plugin] });
    expect(catalog.kinds).toEqual(['postgres', 'mysql', 'odbc', 'warehouse']);
    expect(kindOfUrl('warehouse://reader@dw/x', catalog)).toBe('warehouse');
    expect(supportedSchemes(catalog)).toContain('warehouse://');

    const result = await loadConfig(configOf('warehouse', 'warehouse://reader@dw/x'), env, {
      adapters: [plugin],
    });
    expect(result.ok ? [] : result.problems).toEqual([]);
    if (!result.ok) return;
    expect(result.config.sources[0]?.adapter).toBe(plugin);
    const refused = await loadConfig(configOf('warehouse', 'warehouse://dw/x'), env, {
      adapters: [plugin],
    });
    expect(refused.ok ? [] : refused.problems).toEqual(['sources.main.url: name a user']);
    // A URL of another kind's scheme is still refused for this one.
    const mismatch = await loadConfig(configOf('warehouse', 'postgres://reader@dw/x'), env, {
      adapters: [plugin],
    });
    expect(mismatch.ok ? [] : mismatch.problems.join('\n')).toMatch(/^sources\.main\.url: /);
    expect(created).toEqual([]);
  });

  it('refuses a cost gate on a kind whose adapter cannot estimate, instead of letting reads through unchecked', async () => {
    const postgres = (await import('@sqlwarden/adapter-postgres')).adapterPlugin;
    const plugin: AdapterPlugin = {
      ...postgres,
      kind: 'legacy',
      schemes: ['legacy'],
      estimatesCost: false,
    };
    const raw = configOf('legacy', 'legacy://reader@host/x');
    const result = await loadConfig(
      {
        ...raw,
        sources: { main: { ...raw.sources.main, costGate: { maxCost: 1000 } } },
        principals: { local: { roles: ['reader'], costGate: { main: { maxRows: 10 } } } },
      },
      env,
      { adapters: [plugin] },
    );
    expect(result.ok ? [] : result.problems).toEqual([
      'sources.main.costGate: legacy sources have no planner estimate to hold a read to, so a cost gate cannot apply to source main; remove it, and rely on limits.timeoutMs and quotas',
      'principals.local.costGate.main: legacy sources have no planner estimate to hold a read to, so a cost gate cannot apply to source main; remove it, and rely on limits.timeoutMs and quotas',
    ]);
    const gated = await loadConfig(
      {
        ...raw,
        sources: {
          main: {
            ...raw.sources.main,
            kind: 'postgres',
            url: 'postgres://r@h/x',
            costGate: { maxCost: '1000.5' },
          },
        },
        principals: { local: { roles: ['reader'], costGate: { main: { maxRows: 10 } } } },
      },
      env,
    );
    expect(gated.ok ? [] : gated.problems).toEqual([]);
    if (!gated.ok) return;
    expect(gated.config.sources[0]?.costGate).toEqual({ maxCost: 1000.5 });
    expect(gated.config.principals.local?.costGate).toEqual({ main: { maxRows: 10 } });
  });
});
