import { existsSync, readFileSync } from 'node:fs';
import type { RejectionReason } from './reasons.js';
import type { GuardOptions } from './types.js';

/**
 * One corpus entry: a statement and the verdict a read tool must give it.
 * Fields as in every corpus file (packages/sql-guard/corpus/README.md).
 */
export interface CorpusEntry {
  readonly id: string;
  readonly dialect: 'postgres' | 'mysql' | 'any';
  readonly sql: string;
  readonly expect: 'block' | 'allow';
  readonly category: string;
  readonly write_tool_expect?: 'block' | 'allow';
  /** The rejection reason a read gives it, where the entry says (ours only). */
  readonly reason?: RejectionReason;
  /** The file it came from, so a failure names it. */
  readonly file: string;
}

/** The project's own corpus files, in the repository: the tests need nothing else. */
export const OWN_CORPUS_FILES = ['corpus/sqlwarden.jsonl', 'corpus/analyst.jsonl'] as const;

/**
 * The public corpus beside the repository (../shared, read-only, never
 * copied in): it ADDS cases when it is there, and is never required.
 */
export const PUBLIC_CORPUS_URL = new URL(
  '../../../../shared/corpus/sql-guard-public.jsonl',
  import.meta.url,
);

function readEntries<T extends { readonly file: string } = CorpusEntry>(
  url: URL,
  file: string,
): T[] {
  return readFileSync(url, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => ({ ...(JSON.parse(line) as Omit<T, 'file'>), file }) as T);
}

/**
 * The corpus of ODBC names (catalog.schema.table, catalog..table, as CONNX
 * writes them), judged with `ODBC_NAMES_OPTIONS`: its own file, since its
 * verdicts assume a source that names catalogs.
 */
export const ODBC_NAMES_CORPUS_FILE = 'corpus/odbc-names.jsonl';

export type OdbcNamesEntry = Omit<CorpusEntry, 'dialect'> & { readonly dialect: 'odbc' };

export function loadOdbcNamesCorpus(): OdbcNamesEntry[] {
  return readEntries<OdbcNamesEntry>(
    new URL(`../${ODBC_NAMES_CORPUS_FILE}`, import.meta.url),
    ODBC_NAMES_CORPUS_FILE,
  );
}

/** What the ODBC names corpus assumes: a CONNX source with both defaults. */
export const ODBC_NAMES_OPTIONS = {
  dialect: 'odbc',
  defaultCatalog: 'daea',
  defaultSchema: 'dbo',
  allowedTables: ['daea.dbo.*', 'vsam.dbo.customers'],
} as const satisfies GuardOptions;

export function loadOwnCorpus(): CorpusEntry[] {
  return OWN_CORPUS_FILES.flatMap((file) =>
    readEntries(new URL(`../${file}`, import.meta.url), file),
  );
}

/** The public corpus, or [] when ../shared is not there (a fresh clone). */
export function loadPublicCorpus(): CorpusEntry[] {
  if (!existsSync(PUBLIC_CORPUS_URL)) return [];
  return readEntries(PUBLIC_CORPUS_URL, '../shared/corpus/sql-guard-public.jsonl');
}

/** Ours, plus the public corpus when it is there. */
export function loadCorpus(): CorpusEntry[] {
  return [...loadOwnCorpus(), ...loadPublicCorpus()];
}

/** The allow lists the corpus verdicts assume (see the corpus README). */
export const CORPUS_OPTIONS = {
  postgres: { dialect: 'postgres', defaultSchema: 'public', allowedTables: ['public.*'] },
  mysql: { dialect: 'mysql', defaultSchema: 'app', allowedTables: ['app.*'] },
  odbc: { dialect: 'odbc', defaultSchema: 'public', allowedTables: ['public.*'] },
} as const satisfies Record<string, GuardOptions>;

export function dialectsOf(entry: CorpusEntry): Array<'postgres' | 'mysql'> {
  return entry.dialect === 'any' ? ['postgres', 'mysql'] : [entry.dialect];
}
