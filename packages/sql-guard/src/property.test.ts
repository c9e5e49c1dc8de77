import fc from 'fast-check';
import { scanSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  analyze,
  checkRead,
  checkWrite,
  fingerprint,
  loadSqlGuard,
  statementText,
} from './guard.js';
import { lex } from './lexer.js';
import { CORPUS_OPTIONS, dialectsOf, loadCorpus } from './test-support.js';
import type { Dialect } from './types.js';

beforeAll(() => loadSqlGuard());

const corpus = loadCorpus();
const DIALECTS: readonly Dialect[] = ['postgres', 'mysql', 'odbc'];
const RUNS = 300;

// Characters that matter to SQL lexers, so mutations hit the interesting cases.
const HOSTILE = [
  ';',
  "'",
  '"',
  '`',
  '-',
  '#',
  '/',
  '*',
  '!',
  '$',
  '\\',
  '\n',
  ' ',
  '(',
  ')',
  '?',
  'M',
  'E',
  'U',
  '&',
  '{',
  '}',
  '\u0000',
];

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc
      .array(fc.constantFrom(...HOSTILE), { minLength: 1, maxLength: 4 })
      .map((a) => a.join('')),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 12 }),
  }),
);

interface Step {
  readonly kind: 'insert' | 'delete' | 'duplicate';
  readonly at: number;
  readonly text?: string;
  readonly length?: number;
}

function mutate(sql: string, steps: readonly Step[]): string {
  let out = sql;
  for (const step of steps) {
    const at = out.length === 0 ? 0 : step.at % (out.length + 1);
    if (step.kind === 'insert') out = out.slice(0, at) + (step.text ?? '') + out.slice(at);
    else if (step.kind === 'delete') out = out.slice(0, at) + out.slice(at + (step.length ?? 1));
    else out = out.slice(0, at) + out.slice(at, at + (step.length ?? 1)) + out.slice(at);
  }
  return out;
}

function isResult(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const result = value as { ok?: unknown; code?: unknown; reason?: unknown; message?: unknown };
  return (
    result.ok === true ||
    (result.ok === false &&
      result.code === 'QUERY_REJECTED' &&
      typeof result.reason === 'string' &&
      typeof result.message === 'string')
  );
}

describe('the guard never throws', () => {
  it.each(DIALECTS)('%s: on arbitrary strings, it returns a result', (dialect) => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expect(isResult(checkRead(text, CORPUS_OPTIONS[dialect]))).toBe(true);
        expect(isResult(checkWrite(text, CORPUS_OPTIONS[dialect]))).toBe(true);
        expect(isResult(analyze(text, { dialect }))).toBe(true);
        expect(fingerprint(text, { dialect })).toMatch(/^[0-9a-f]{12}$/);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(DIALECTS)('%s: on mutated corpus entries, it returns a result', (dialect) => {
    fc.assert(
      fc.property(
        fc.constantFrom(...corpus.map((e) => e.sql)),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (sql, steps) => {
          const text = mutate(sql, steps);
          expect(isResult(checkRead(text, CORPUS_OPTIONS[dialect]))).toBe(true);
          expect(isResult(checkWrite(text, CORPUS_OPTIONS[dialect]))).toBe(true);
          expect(fingerprint(text, { dialect })).toMatch(/^[0-9a-f]{12}$/);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });
});

// Statements every dialect reads; the generator knows it joins two of them.
const READS = [
  'SELECT 1',
  'SELECT * FROM orders',
  "SELECT id FROM orders WHERE note = 'a;b'",
  'SELECT count(*) FROM orders GROUP BY status',
  'SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id',
];
const SEPARATORS = {
  common: [
    ';',
    ' ; ',
    ';\n',
    '\n;\n',
    '/* c */;',
    ';/* c */',
    '-- c\n;',
    ';-- c\n',
    '/* ; */ ;',
    "; -- '\n",
  ],
  mysql: ['#c\n;', ';#c\n', '; /*!50000 ', '; /*M! '],
} as const;

describe('the guard never accepts two statements', () => {
  it.each(DIALECTS)('%s: refuses any two statements, however they are joined', (dialect) => {
    const separators = [...SEPARATORS.common, ...(dialect === 'mysql' ? SEPARATORS.mysql : [])];
    fc.assert(
      fc.property(
        fc.constantFrom(...READS),
        fc.constantFrom(...READS, 'DROP TABLE orders', 'DELETE FROM orders', 'COMMIT'),
        fc.constantFrom(...separators),
        fc.constantFrom('', ' ', '\t', '\n', '  \n '),
        (first, second, separator, padding) => {
          const text = `${padding}${first}${separator}${second}${separator.includes('/*!') || separator.includes('/*M!') ? ' */' : ''}${padding}`;
          const result = checkRead(text, CORPUS_OPTIONS[dialect]);
          expect(result.ok).toBe(false);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it.each(DIALECTS)(
    '%s: when it accepts a mutant, the text sent to the server holds no `;` outside literals and comments',
    (dialect) => {
      fc.assert(
        fc.property(
          fc.constantFrom(...READS),
          fc.array(mutation, { minLength: 1, maxLength: 6 }),
          (sql, steps) => {
            const text = mutate(sql, steps);
            const result = checkRead(text, CORPUS_OPTIONS[dialect]);
            if (!result.ok) return;
            // An independent look with the dialect's own scanner: at most one `;`, the
            // last token (none on ODBC), and none left in what the adapter receives.
            const semicolons = (t: string) => {
              if (dialect === 'postgres') {
                const code = scanSync(t).tokens.filter(
                  (k) => k.tokenName !== 'SQL_COMMENT' && k.tokenName !== 'C_COMMENT',
                );
                return {
                  count: code.filter((k) => k.text === ';').length,
                  last: code.at(-1)?.text === ';',
                };
              }
              const lexed = lex(t, dialect);
              if (!lexed.ok) return { count: -1, last: false };
              const isSemi = (k: { kind: string; start: number }) =>
                k.kind === 'punct' && t[k.start] === ';';
              const last = lexed.tokens.at(-1);
              return {
                count: lexed.tokens.filter(isSemi).length,
                last: last !== undefined && isSemi(last),
              };
            };
            const seen = semicolons(text);
            if (dialect === 'odbc') expect(seen.count).toBe(0);
            else expect(seen.count === 0 || (seen.count === 1 && seen.last)).toBe(true);
            expect(semicolons(statementText(text, { dialect })).count).toBe(0);
            expect(result.analysis.statementCount).toBe(1);
          },
        ),
        { numRuns: RUNS * 2 },
      );
    },
  );
});

const TEMPLATES = [
  'SELECT * FROM orders WHERE id = %n',
  'SELECT * FROM orders WHERE note = %s AND total > %n',
  'SELECT id, %n AS k FROM orders WHERE status IN (%s, %s) ORDER BY id LIMIT %n',
  'SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.name LIKE %s',
];

function fill(template: string, numbers: readonly number[], strings: readonly string[]): string {
  let n = 0;
  let s = 0;
  return template.replace(/%[ns]/g, (hole) =>
    hole === '%n'
      ? String(numbers[n++ % numbers.length])
      : `'${(strings[s++ % strings.length] ?? '').replaceAll("'", "''")}'`,
  );
}

describe('fingerprints are stable under literal changes', () => {
  const safeString = fc
    .string({ maxLength: 20 })
    .filter(
      (s) =>
        !s.includes('\\') &&
        !s.includes('\u0000') &&
        (s as unknown as { isWellFormed(): boolean }).isWellFormed(),
    );
  it.each(DIALECTS)('%s', (dialect) => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TEMPLATES),
        fc.array(fc.nat({ max: 1_000_000 }), { minLength: 1, maxLength: 4 }),
        fc.array(safeString, { minLength: 1, maxLength: 3 }),
        (template, numbers, strings) => {
          const reference = fingerprint(fill(template, [7], ['x']), { dialect });
          expect(fingerprint(fill(template, numbers, strings), { dialect })).toBe(reference);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/** Token spans of a statement, from the dialect's own scanner, or null if it cannot be scanned. */
function spans(
  text: string,
  dialect: Dialect,
): Array<{ start: number; end: number; word: boolean }> | null {
  if (dialect === 'postgres') {
    // The scanner's positions are UTF-8 byte offsets: turn them into string indices.
    const bytes = Buffer.from(text, 'utf8');
    const index = (offset: number) => bytes.subarray(0, offset).toString('utf8').length;
    try {
      return scanSync(text)
        .tokens.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT')
        .map((t) => ({
          start: index(t.start),
          end: index(t.end),
          // Quoted identifiers keep their case: changing it names another object.
          word: (t.tokenName === 'IDENT' || t.keywordKind > 0) && !t.text.includes('"'),
        }));
    } catch {
      return null;
    }
  }
  const lexed = lex(text, dialect);
  if (!lexed.ok) return null;
  return lexed.tokens.map((t) => ({ start: t.start, end: t.end, word: t.kind === 'word' }));
}

const FILLERS = [' ', '  ', '\t', '\n', ' /* x */ ', '/**/', ' -- note\n'];

describe('a refused statement stays refused', () => {
  const refused = corpus.flatMap((entry) =>
    dialectsOf(entry)
      .filter(() => entry.expect === 'block' && entry.category !== 'trailing-semicolon')
      .map((dialect) => ({ entry, dialect })),
  );

  it('under any amount of whitespace, comment and case change', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...refused),
        fc.array(fc.constantFrom(...FILLERS), { minLength: 1, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        ({ entry, dialect }, fillers, upper) => {
          const tokens = spans(entry.sql, dialect);
          if (tokens === null) return; // refused by its lexer already; nothing to vary
          let out = '';
          tokens.forEach((token, i) => {
            const raw = entry.sql.slice(token.start, token.end);
            const cased = token.word
              ? upper[i % upper.length]
                ? raw.toUpperCase()
                : raw.toLowerCase()
              : raw;
            const gap = i === 0 ? '' : (fillers[i % fillers.length] ?? ' ');
            // A MySQL "--" comment needs a preceding space to stay one.
            out += gap + cased;
          });
          const result = checkRead(out, CORPUS_OPTIONS[dialect]);
          expect(result.ok ? `accepted: ${out}` : 'refused').toBe('refused');
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });
});
