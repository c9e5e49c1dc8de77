/** Errors from the database: the same mistake reads the same on every target. (conformance suite, docs/conformance.md) */
import { describe, expect, it } from 'vitest';
import {
  type ConformanceContext,
  LIMITS,
  LITERAL_CANARY,
  outcomeOf,
  PARAM_CANARY,
  signal,
} from './context.js';

export function describeDatabaseErrors(ctx: ConformanceContext): void {
  const { p, can } = ctx;
  // The same mistake reads the same on every database (statementFailure in
  // @sqlwarden/core), naming only what the statement's text holds as an
  // identifier: never a parameter value, never a string literal.
  describe('errors from the database', () => {
    const placeholderWord = p(1) === '?' ? '?' : '$n';
    const readOutcome = (sql: string, params: readonly unknown[] = []) =>
      outcomeOf(ctx.adapter.read({ sql, params, limits: LIMITS, signal: signal() }));
    /**
     * The outcome is `want`; without errorWords (target.ts) it has want's
     * code, and its message names none of `words` (what the server's words
     * would have named), no literal and no parameter value.
     */
    const expectOutcome = (
      outcome: { code: string; message: string },
      want: { code: string; message: string },
      words: readonly string[],
    ) => {
      if (can.errorWords) {
        expect(outcome).toEqual(want);
        return;
      }
      expect(outcome.code).toBe(want.code);
      const message = outcome.message.toLowerCase();
      expect(message).not.toContain('canary');
      for (const word of words) expect(message).not.toContain(word.toLowerCase());
    };

    it('names the ambiguous column and offers the aliases of the statement', async () => {
      expectOutcome(
        await readOutcome(
          `SELECT id FROM cf_parent p JOIN cf_child c ON c.parent_id = p.id WHERE p.code <> '${LITERAL_CANARY}' OR p.code = ${p(1)}`,
          [PARAM_CANARY],
        ),
        {
          code: 'QUERY_FAILED',
          message: 'Column id is ambiguous: qualify it with its table or alias (p.id or c.id).',
        },
        ['p.id', 'c.id', 'cf_parent', 'cf_child'],
      );
    });

    it('names the unknown column and the unknown table as the statement spells them', async () => {
      expectOutcome(
        await readOutcome(
          `SELECT p.nope_col FROM cf_parent p WHERE p.code = '${LITERAL_CANARY}' OR p.code = ${p(1)}`,
          [PARAM_CANARY],
        ),
        {
          code: 'QUERY_FAILED',
          message: 'Column p.nope_col does not exist: check the columns with describe_table.',
        },
        ['nope_col', 'cf_parent'],
      );
      expectOutcome(
        await readOutcome(
          `SELECT * FROM cf_nope WHERE code = '${LITERAL_CANARY}' OR code = ${p(1)}`,
          [PARAM_CANARY],
        ),
        {
          code: 'NOT_FOUND',
          message: 'Table cf_nope does not exist: check the tables with list_tables.',
        },
        ['cf_nope'],
      );
    });

    it('says a selected column must be grouped or aggregated', async () => {
      const outcome = await readOutcome(`SELECT p.code, count(*) FROM cf_parent p GROUP BY p.name`);
      expectOutcome(
        outcome,
        {
          code: 'QUERY_FAILED',
          message:
            'Column p.code must appear in GROUP BY or be used in an aggregate function (such as max or count).',
        },
        ['p.code', 'cf_parent'],
      );
    });

    it('says where a syntax error is, naming a word of the statement but never a literal', async () => {
      expectOutcome(
        await readOutcome(`SELECT * FORM cf_parent WHERE code = '${LITERAL_CANARY}'`),
        {
          code: 'QUERY_FAILED',
          message: 'Syntax error near the word FORM (character 10): fix the statement there.',
        },
        ['form', 'cf_parent'],
      );
      expectOutcome(
        await readOutcome(`SELECT * FROM cf_parent WHERE code = '${LITERAL_CANARY}`),
        {
          code: 'QUERY_FAILED',
          message: 'A quoted string or name is not closed (character 38): close it.',
        },
        ['cf_parent'],
      );
    });

    it('says how many parameters the statement takes and how many came', async () => {
      expect(await readOutcome(`SELECT ${p(1)} AS a, ${p(2)} AS b`, [PARAM_CANARY])).toEqual({
        code: 'QUERY_FAILED',
        message: `The statement takes 2 parameters but 1 value was given: give one value for each ${placeholderWord}.`,
      });
    });

    it('never echoes a parameter value or a string literal the server quoted', async () => {
      const cases: Array<[string, unknown[]]> = [
        [`SELECT * FROM cf_parent WHERE id = ${p(1)} AND nope_col = 1`, [PARAM_CANARY]],
        [`SELECT * FROM cf_parent WHERE code = '${LITERAL_CANARY}' ORDER BY 9`, []],
        [`SELECT (SELECT code FROM cf_parent WHERE code <> '${LITERAL_CANARY}')`, []],
      ];
      for (const [sql, params] of cases) {
        const outcome = await readOutcome(sql, params);
        expect(outcome.code, sql).toMatch(/^(QUERY_FAILED|NOT_FOUND)$/);
        expect(outcome.message.toLowerCase(), sql).not.toContain('canary');
      }
    });
  });
}
