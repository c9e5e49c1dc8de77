import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkRead, checkWrite, loadSqlGuard } from './guard.js';
import {
  CORPUS_OPTIONS,
  type CorpusEntry,
  dialectsOf,
  loadOdbcNamesCorpus,
  loadOwnCorpus,
  loadPublicCorpus,
  ODBC_NAMES_CORPUS_FILE,
  ODBC_NAMES_OPTIONS,
  OWN_CORPUS_FILES,
  PUBLIC_CORPUS_URL,
} from './test-support.js';

// Table-driven from the corpus: the project's own files (corpus/, in the
// repository) and, when it is there, the public corpus beside the
// repository (../shared). Every block entry refused (for the reason it
// names, where it names one), every allow entry accepted, each failure
// named with its file.
const own = loadOwnCorpus();
const shared = loadPublicCorpus();
const corpus = [...own, ...shared];
const cases = corpus.flatMap((entry) => dialectsOf(entry).map((dialect) => ({ entry, dialect })));
const label = ({ entry, dialect }: { entry: CorpusEntry; dialect: string }) =>
  `${entry.id} (${dialect}, ${entry.category}, ${entry.file})`;

// `trailing-semicolon` entries (`SELECT 1;`) are allowed on PostgreSQL and MySQL,
// which accept one trailing `;`, and refused on ODBC, whatever their `expect`
// says (the public corpus marks its one such entry `block`, from before this rule).
const TRAILING = 'trailing-semicolon';
const verdictOf = (entry: CorpusEntry) => (entry.category === TRAILING ? 'allow' : entry.expect);

beforeAll(() => loadSqlGuard());

describe('the corpus files', () => {
  // Our files are pinned: a changed corpus is noticed, and updated here on purpose.
  const PINNED = {
    'corpus/sqlwarden.jsonl': {
      entries: 321,
      sha256: 'cb1db349fe5501463a803aca4a68a6ed3cf1b837237374748fc23768b5e39fa9',
    },
    'corpus/analyst.jsonl': {
      entries: 162,
      sha256: '209a94155b5245663c89017a557480e45b73bfa74d8c345f8ab35d21b13005a8',
    },
  } as const;

  it.each(OWN_CORPUS_FILES)('%s has its pinned size and content', (file) => {
    const text = readFileSync(new URL(`../${file}`, import.meta.url));
    expect({
      entries: own.filter((e) => e.file === file).length,
      sha256: createHash('sha256').update(text).digest('hex'),
    }).toEqual(PINNED[file]);
  });

  it('has unique ids, known dialects and verdicts, and reasons only on block entries', () => {
    expect(new Set(own.map((e) => e.id)).size).toBe(own.length);
    for (const entry of own) {
      expect(['postgres', 'mysql', 'any']).toContain(entry.dialect);
      expect(['block', 'allow']).toContain(entry.expect);
      if (entry.reason !== undefined) expect(entry.expect).toBe('block');
    }
  });

  it('covers every category of the public corpus on both dialects', () => {
    const categories = [
      'stacked',
      'read-only-escape',
      'write',
      'ddl',
      'side-effect-fn',
      'file-access',
      'lock',
      'dos',
      'session-state',
      'encoding',
      'comment-trick',
      'allowlist',
      'exfil',
      'malformed',
      'legit-trap',
      'runtime-limit',
      'non-select',
      'rce',
      TRAILING,
    ];
    for (const category of categories) {
      for (const dialect of ['postgres', 'mysql'] as const) {
        const covered = own.some((e) => e.category === category && dialectsOf(e).includes(dialect));
        expect(`${category} ${dialect}: ${covered}`).toBe(`${category} ${dialect}: true`);
      }
    }
  });

  it('reads the public corpus beside the repository when it is there, and needs nothing else', () => {
    // ../shared is optional: a fresh clone has none, and every test above and below still runs.
    if (existsSync(PUBLIC_CORPUS_URL)) expect(shared.length).toBeGreaterThanOrEqual(321);
    else expect(shared).toEqual([]);
  });
});

describe('the corpus', () => {
  const blocks = cases.filter((c) => verdictOf(c.entry) === 'block');
  it.each(blocks.map((c) => [label(c), c] as const))('refuses %s', (_label, { entry, dialect }) => {
    const result = checkRead(entry.sql, CORPUS_OPTIONS[dialect]);
    const got = result.ok ? 'accepted' : result.reason;
    if (entry.reason !== undefined) expect(got).toBe(entry.reason);
    else expect(got).not.toBe('accepted');
  });

  const allows = cases.filter((c) => verdictOf(c.entry) === 'allow');
  it.each(allows.map((c) => [label(c), c] as const))('accepts %s', (_label, { entry, dialect }) => {
    const result = checkRead(entry.sql, CORPUS_OPTIONS[dialect]);
    expect(result.ok ? 'accepted' : `${result.reason}: ${result.message}`).toBe('accepted');
  });

  // A refusal rests neither on a trailing `;` nor on its absence.
  it.each(blocks.map((c) => [label(c), c] as const))(
    'still refuses %s without its trailing semicolons, and with one more',
    (_label, { entry, dialect }) => {
      const stripped = entry.sql.replace(/[\s;]+$/, '');
      expect(checkRead(`${entry.sql};`, CORPUS_OPTIONS[dialect]).ok).toBe(false);
      // Except the entries whose refusal is about the semicolons themselves (`SELECT 1;;`).
      if (entry.reason === 'SEMICOLON') return;
      expect(checkRead(stripped, CORPUS_OPTIONS[dialect]).ok).toBe(false);
      expect(checkRead(`${stripped};`, CORPUS_OPTIONS[dialect]).ok).toBe(false);
    },
  );

  const odbcBlocks = corpus.filter(
    (e) => e.dialect !== 'mysql' && (e.expect === 'block' || e.category === TRAILING),
  );
  it.each(odbcBlocks.map((e) => [`${e.id} (${e.category}, ${e.file})`, e] as const))(
    'refuses %s under the stricter ODBC rules too',
    (_id, entry) => {
      expect(checkRead(entry.sql, CORPUS_OPTIONS.odbc).ok).toBe(false);
    },
  );

  const writes = cases.filter((c) => c.entry.write_tool_expect !== undefined);
  it.each(writes.map((c) => [label(c), c] as const))(
    'gives the write tool its verdict for %s',
    (_label, { entry, dialect }) => {
      const result = checkWrite(entry.sql, CORPUS_OPTIONS[dialect]);
      const verdict = result.ok ? 'allow' : 'block';
      expect(`${verdict}${result.ok ? '' : ` (${result.reason})`}`).toMatch(
        new RegExp(`^${entry.write_tool_expect}`),
      );
    },
  );
});

describe('the ODBC names corpus (catalog.schema.table)', () => {
  const names = loadOdbcNamesCorpus();

  it('has its pinned size and content, unique ids and the odbc dialect', () => {
    const text = readFileSync(new URL(`../${ODBC_NAMES_CORPUS_FILE}`, import.meta.url));
    expect({
      entries: names.length,
      sha256: createHash('sha256').update(text).digest('hex'),
    }).toEqual({
      entries: 34,
      sha256: '0f06b2023dd8dc0719ddc8a57d51744c4eb6eb2b7bdb3bc9e87eda0e7503facf',
    });
    expect(new Set(names.map((e) => e.id)).size).toBe(names.length);
    for (const entry of names) expect(entry.dialect).toBe('odbc');
  });

  const named = (e: (typeof names)[number]) => [`${e.id} (${e.category})`, e] as const;

  it.each(names.filter((e) => e.expect === 'block').map(named))('refuses %s', (_id, entry) => {
    const result = checkRead(entry.sql, ODBC_NAMES_OPTIONS);
    expect(result.ok ? 'accepted' : result.reason).toBe(entry.reason);
  });

  it.each(names.filter((e) => e.expect === 'allow').map(named))('accepts %s', (_id, entry) => {
    const result = checkRead(entry.sql, ODBC_NAMES_OPTIONS);
    expect(result.ok ? 'accepted' : `${result.reason}: ${result.message}`).toBe('accepted');
    // Every table resolved to a full name.
    if (result.ok) {
      for (const table of result.analysis.resolvedTables) {
        expect(table.catalog !== undefined && table.schema !== null).toBe(true);
      }
    }
  });

  it.each(names.filter((e) => e.write_tool_expect !== undefined).map(named))(
    'gives the write tool its verdict for %s',
    (_id, entry) => {
      const result = checkWrite(entry.sql, ODBC_NAMES_OPTIONS);
      expect(result.ok ? 'allow' : 'block').toBe(entry.write_tool_expect);
    },
  );

  it.each(names.filter((e) => e.expect === 'allow').map(named))(
    'refuses %s as AMBIGUOUS_TABLE, or accepts it fully qualified, without the defaults',
    (_id, entry) => {
      const { defaultCatalog: _c, defaultSchema: _s, ...bare } = ODBC_NAMES_OPTIONS;
      const result = checkRead(entry.sql, bare);
      if (result.ok) {
        for (const table of result.analysis.resolvedTables) {
          expect(table.catalog !== undefined && table.schema !== null).toBe(true);
        }
      } else {
        expect(result.reason).toBe('AMBIGUOUS_TABLE');
      }
    },
  );
});
