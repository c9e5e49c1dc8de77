/**
 * Source URLs: which schemes name which kind of source, and the only query
 * parameters a URL may carry (TLS). Everything else in a query string is
 * refused: a driver would turn it into an option (mysql2 reads
 * `?multipleStatements=true`, node-postgres `?options=-c ...`), and an option
 * set in a URL must never beat the ones sqlwarden sets.
 *
 * The TLS parameters are libpq's, read the same way for both engines:
 *   sslmode=disable | require | verify-ca | verify-full
 *   sslrootcert=FILE (the CA, PEM), sslcert=FILE and sslkey=FILE (a client certificate)
 *   ssl=true (verify-full) | ssl=false (disable)
 * They are taken out of the URL here and become the source's `ssl` option, so
 * the drivers never parse them (node-postgres and mysql2 disagree on what
 * `require` means, and mysql2 checks no host name unless told to).
 */
import { readFileSync } from 'node:fs';

/** What the URL checks need of the adapters: which kind each scheme names. */
export interface SchemeCatalog {
  readonly kinds: readonly string[];
  kindOfScheme(scheme: string): string | undefined;
  schemesOf(kind: string): readonly string[];
}

export const TLS_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

const TLS_KEYS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl'] as const;

/**
 * TLS for one source, as both adapters take it: off (`false`), or on with
 * what to verify. PEM texts, never file names.
 */
export type SourceTls =
  | false
  | {
      /** Verify the server's certificate chain (false: encryption only, `sslmode=require`). */
      readonly rejectUnauthorized: boolean;
      /** Verify that the certificate names the host (`verify-full`); only with rejectUnauthorized. */
      readonly verifyHostname: boolean;
      readonly ca?: string;
      readonly cert?: string;
      readonly key?: string;
    };

/** Every scheme sqlwarden serves, as written in a message: `postgres://, postgresql://, ...`. */
export function supportedSchemes(catalog: SchemeCatalog): string {
  return catalog.kinds
    .flatMap((kind) => catalog.schemesOf(kind))
    .map((scheme) => `${scheme}://`)
    .join(', ');
}

/** The scheme of a URL (lower case, without the colon), or undefined when it has none. */
function schemeOf(url: string): string | undefined {
  return /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
}

/** The kind of source a URL names by its scheme, or undefined for a scheme sqlwarden does not serve. */
export function kindOfUrl(url: string, catalog: SchemeCatalog): string | undefined {
  const scheme = schemeOf(url);
  return scheme === undefined ? undefined : catalog.kindOfScheme(scheme);
}

/** TLS settings from the URL's own parameters, before files are read. */
export function tlsFromMode(
  mode: TlsMode,
  pem: { ca?: string; cert?: string; key?: string } = {},
): SourceTls {
  if (mode === 'disable') return false;
  return {
    rejectUnauthorized: mode !== 'require',
    verifyHostname: mode === 'verify-full',
    ...pem,
  };
}

export type ParsedSourceUrl =
  | {
      readonly ok: true;
      /** The URL without its query string (what the driver is given). */
      readonly url: string;
      /** TLS from the query string; undefined when it says nothing about TLS. */
      readonly tls: SourceTls | undefined;
      /** The host the URL names ('' when it names none). */
      readonly host: string;
    }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Checks a source URL for its kind and takes its TLS parameters out. `key`
 * names the configuration key in problems; the URL itself (which may hold a
 * password) is never quoted, only its scheme and parameter names.
 */
export function parseSourceUrl(
  url: string,
  kind: string,
  key: string,
  catalog: SchemeCatalog,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): ParsedSourceUrl {
  const scheme = schemeOf(url);
  const schemes = catalog.schemesOf(kind);
  if (scheme === undefined || !schemes.includes(scheme)) {
    const other = scheme === undefined ? undefined : kindOfUrl(url, catalog);
    const what =
      scheme === undefined
        ? 'has no scheme'
        : other !== undefined
          ? `is a ${other} URL (${scheme}://)`
          : `has the scheme ${shownScheme(scheme)}://, which sqlwarden does not serve`;
    return {
      ok: false,
      problems: [
        `${key}: ${what}; a ${kind} source takes ${schemes.map((s) => `${s}://`).join(' or ')} (sqlwarden serves ${supportedSchemes(catalog)})`,
      ],
    };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, problems: [`${key}: not a valid URL`] };
  }
  const problems: string[] = [];
  const params = parsed.searchParams;
  for (const name of new Set(params.keys())) {
    if (!(TLS_KEYS as readonly string[]).includes(name)) {
      problems.push(
        `${key}: the query parameter ${shownScheme(name)} is not allowed; a URL may only carry TLS settings (${TLS_KEYS.join(', ')})`,
      );
    } else if (params.getAll(name).length > 1) {
      problems.push(`${key}: the query parameter ${name} is given more than once`);
    }
  }
  const tls = tlsOf(params, key, readFile, problems);
  if (problems.length > 0) return { ok: false, problems };
  parsed.search = '';
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return { ok: true, url: parsed.toString(), tls, host };
}

function tlsOf(
  params: URLSearchParams,
  key: string,
  readFile: (path: string) => string,
  problems: string[],
): SourceTls | undefined {
  const sslmode = params.get('sslmode');
  const ssl = params.get('ssl');
  let mode: TlsMode | undefined;
  if (sslmode !== null) {
    if (!(TLS_MODES as readonly string[]).includes(sslmode)) {
      problems.push(`${key}: sslmode must be one of ${TLS_MODES.join(', ')}`);
      return undefined;
    }
    mode = sslmode as TlsMode;
  }
  if (ssl !== null) {
    if (ssl !== 'true' && ssl !== 'false') {
      problems.push(`${key}: ssl must be true or false`);
      return undefined;
    }
    if (mode !== undefined) {
      problems.push(`${key}: give sslmode or ssl, not both`);
      return undefined;
    }
    mode = ssl === 'true' ? 'verify-full' : 'disable';
  }
  const files: Record<'ca' | 'cert' | 'key', string | undefined> = {
    ca: readPem(params.get('sslrootcert'), 'sslrootcert', key, readFile, problems),
    cert: readPem(params.get('sslcert'), 'sslcert', key, readFile, problems),
    key: readPem(params.get('sslkey'), 'sslkey', key, readFile, problems),
  };
  const pem = Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined));
  if ((files.cert === undefined) !== (files.key === undefined)) {
    problems.push(`${key}: a client certificate needs both sslcert and sslkey`);
  }
  if (mode === undefined) {
    // A CA or a client certificate alone asks for TLS, verified (libpq's default would be prefer).
    return Object.keys(pem).length > 0 ? tlsFromMode('verify-full', pem) : undefined;
  }
  if (mode === 'disable' && Object.keys(pem).length > 0) {
    problems.push(`${key}: sslmode=disable cannot take sslrootcert, sslcert or sslkey`);
  }
  return tlsFromMode(mode, pem);
}

function readPem(
  path: string | null,
  name: string,
  key: string,
  readFile: (path: string) => string,
  problems: string[],
): string | undefined {
  if (path === null) return undefined;
  if (path === '') {
    problems.push(`${key}: ${name} is empty; give the path of a PEM file`);
    return undefined;
  }
  try {
    return readFile(path);
  } catch {
    // The path is the operator's own; the file's contents are never shown.
    problems.push(`${key}: ${name} names a file that cannot be read`);
    return undefined;
  }
}

/** A scheme or parameter name safe to print: short, no control characters. */
function shownScheme(text: string): string {
  const clean = text.replace(/[^\w.+-]/g, '?');
  return clean.length > 32 ? `${clean.slice(0, 31)}…` : clean;
}

/**
 * Whether a host is this machine: a loopback address, `localhost`, or a
 * Unix socket directory (a path). TLS across loopback protects nothing.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === '' || h === 'localhost' || h.startsWith('/')) return true;
  if (h === '::1' || h === '[::1]') return true;
  return /^127(\.\d{1,3}){3}$/.test(h);
}
