import { beforeAll, describe, expect, it, vi } from 'vitest';
import { checkRead, loadSqlGuard } from './guard.js';
import { CORPUS_OPTIONS, dialectsOf, loadCorpus } from './test-support.js';

// The second MySQL parser's walker must be sound on its own, not only on the
// statements node-sql-parser happens to refuse today. With node-sql-parser
// failing every parse (in this file only), every MySQL read goes to the
// second parser, and the whole corpus is judged on its tree alone.
vi.mock('node-sql-parser/build/mysql.js', () => ({
  default: {
    Parser: class {
      astify(): never {
        throw new Error('node-sql-parser is switched off in this file');
      }
    },
  },
}));

beforeAll(() => loadSqlGuard());

const corpus = loadCorpus().filter((e) => dialectsOf(e).includes('mysql'));

describe('the second MySQL parser alone', () => {
  const blocks = corpus.filter((e) => e.expect === 'block' && e.category !== 'trailing-semicolon');
  it.each(blocks.map((e) => [`${e.id} (${e.category}, ${e.file})`, e] as const))(
    'refuses %s',
    (_label, entry) => {
      expect(checkRead(entry.sql, CORPUS_OPTIONS.mysql).ok).toBe(false);
    },
  );

  it('accepts every allow entry but GROUP BY ... WITH ROLLUP, which only node-sql-parser reads', () => {
    const allows = corpus.filter(
      (e) => e.expect === 'allow' || e.category === 'trailing-semicolon',
    );
    const refused = allows
      .filter((e) => !checkRead(e.sql, CORPUS_OPTIONS.mysql).ok)
      .map((e) => e.id);
    expect(refused).toEqual(['analyst-my-062']);
    expect(allows.length).toBeGreaterThan(100);
  });
});
