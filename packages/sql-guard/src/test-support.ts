import { readFileSync } from 'node:fs';
import type { GuardOptions } from './types.js';

/** One entry of ../shared/corpus/sql-guard-public.jsonl. */
export interface CorpusEntry {
  readonly id: string;
  readonly dialect: 'postgres' | 'mysql' | 'any';
  readonly sql: string;
  readonly expect: 'block' | 'allow';
  readonly category: string;
  readonly write_tool_expect?: 'block' | 'allow';
}

/** The corpus lives beside the repository, in ../shared; it is read at test time, never copied. */
export function loadCorpus(): CorpusEntry[] {
  const url = new URL('../../../../shared/corpus/sql-guard-public.jsonl', import.meta.url);
  return readFileSync(url, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as CorpusEntry);
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
