/**
 * Adapters as plugins. The runtime knows each built-in kind by its package
 * and its URL schemes only; the package itself (and its driver: pg, mysql2,
 * odbc) is imported with `import()` when a source of its kind is configured.
 * A PostgreSQL deployment never loads another engine's driver, and need not
 * install it: the adapter packages are optional peer dependencies of the
 * runtime. A kind whose package is missing is a configuration problem that
 * names what to install. An embedder registers an adapter of its own by
 * handing its plugin to `loadConfig` (`{ adapters: [plugin] }`).
 */
import type { AdapterPlugin } from '@sqlwarden/core';

/** A kind of source the runtime can serve, before its package is loaded. */
export interface AdapterPackage {
  readonly kind: string;
  /** The package to import; it exports `adapterPlugin`. */
  readonly package: string;
  /** What to tell an operator to install for it (the package and its driver). */
  readonly install: string;
  /** The URL schemes that name this kind, without `://`. */
  readonly schemes: readonly string[];
}

export const BUILT_IN_ADAPTERS: readonly AdapterPackage[] = Object.freeze([
  {
    kind: 'postgres',
    package: '@sqlwarden/adapter-postgres',
    install: '@sqlwarden/adapter-postgres pg',
    schemes: ['postgres', 'postgresql'],
  },
  {
    kind: 'mysql',
    package: '@sqlwarden/adapter-mysql',
    install: '@sqlwarden/adapter-mysql mysql2',
    schemes: ['mysql', 'mariadb'],
  },
  {
    kind: 'odbc',
    package: '@sqlwarden/adapter-connx',
    install: '@sqlwarden/adapter-connx odbc',
    // An ODBC source has a connection string, no URL.
    schemes: [],
  },
]);

/** The kinds an embedder's plugins add, with the built-in ones. */
export interface AdapterCatalog {
  /** Every kind, built-in first. */
  readonly kinds: readonly string[];
  /** The kind a URL scheme names. */
  kindOfScheme(scheme: string): string | undefined;
  schemesOf(kind: string): readonly string[];
  /** The plugin of a kind, imported on first use; an error naming what to install. */
  load(kind: string): Promise<AdapterPlugin | AdapterLoadFailure>;
}

export interface AdapterLoadFailure {
  readonly ok: false;
  readonly problem: string;
}

/** How a package is imported (tests give their own, to play a package that is not installed). */
export type ImportPackage = (name: string) => Promise<unknown>;

const defaultImport: ImportPackage = (name) => import(name);

function isModuleNotFound(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String((error as Error).message).includes(name)
  );
}

export function adapterCatalog(
  options: {
    readonly plugins?: readonly AdapterPlugin[];
    readonly importPackage?: ImportPackage;
  } = {},
): AdapterCatalog {
  const given = new Map((options.plugins ?? []).map((plugin) => [plugin.kind, plugin]));
  const packages = BUILT_IN_ADAPTERS.filter((entry) => !given.has(entry.kind));
  const importPackage = options.importPackage ?? defaultImport;
  const loaded = new Map<string, Promise<AdapterPlugin | AdapterLoadFailure>>();
  const schemes = new Map<string, readonly string[]>([
    ...packages.map((entry) => [entry.kind, entry.schemes] as const),
    ...[...given.values()].map((plugin) => [plugin.kind, plugin.schemes] as const),
  ]);
  const kinds = [...schemes.keys()];

  const importPlugin = async (
    entry: AdapterPackage,
  ): Promise<AdapterPlugin | AdapterLoadFailure> => {
    let module: unknown;
    try {
      module = await importPackage(entry.package);
    } catch (error) {
      if (isModuleNotFound(error, entry.package)) {
        return {
          ok: false,
          problem: `${entry.kind} sources need the package ${entry.package}, which is not installed: npm install ${entry.install}`,
        };
      }
      return {
        ok: false,
        problem: `${entry.package} could not be loaded (${(error as Error).name}); reinstall it: npm install ${entry.install}`,
      };
    }
    const plugin = (module as { adapterPlugin?: AdapterPlugin }).adapterPlugin;
    if (plugin === undefined || plugin.kind !== entry.kind || typeof plugin.create !== 'function') {
      return {
        ok: false,
        problem: `${entry.package} does not export an adapterPlugin for ${entry.kind}; install a version that matches @sqlwarden/runtime`,
      };
    }
    return plugin;
  };

  return {
    kinds,
    kindOfScheme: (scheme) => kinds.find((kind) => schemes.get(kind)?.includes(scheme)),
    schemesOf: (kind) => schemes.get(kind) ?? [],
    load(kind) {
      const plugin = given.get(kind);
      if (plugin !== undefined) return Promise.resolve(plugin);
      let pending = loaded.get(kind);
      if (pending === undefined) {
        const entry = packages.find((candidate) => candidate.kind === kind);
        pending =
          entry === undefined
            ? Promise.resolve({
                ok: false,
                problem: `there is no adapter for the kind ${kind} (kinds: ${kinds.join(', ')})`,
              } as const)
            : importPlugin(entry);
        loaded.set(kind, pending);
      }
      return pending;
    },
  };
}

export function isLoadFailure(
  value: AdapterPlugin | AdapterLoadFailure,
): value is AdapterLoadFailure {
  return (value as AdapterLoadFailure).ok === false;
}
