/**
 * One trailing `;`: agents end statements with one (`SELECT count(*) FROM
 * orders;`), and both PostgreSQL (extended-protocol Parse) and MariaDB/MySQL
 * (COM_STMT_PREPARE) run `SELECT 1;` and `SELECT 1; -- x` as one prepared
 * statement. On the postgres and mysql dialects the guard accepts exactly
 * one `;` that is the last token of the text, with at least one token before
 * it: only whitespace and comments may follow. `;;`, `; SELECT`, a leading
 * `;` and anything else after it stay refused (SEMICOLON or
 * MULTI_STATEMENT). On ODBC sources every `;` is refused: ODBC drivers may
 * run batches.
 *
 * The adapters never see the terminator: `statementText` cuts the text at
 * it, so the server receives the statement and nothing after it (whatever a
 * comment after the `;` holds, it is not sent). It is derived on every call
 * from that call's own text, by the same scanner the guard's verdict rests
 * on (PostgreSQL's own scanner, or our MySQL lexer): never from a cached
 * verdict, whose text may be another statement of the same shape
 * (`statementText` in guard.ts). Why cut instead of sending the text as
 * written: see docs/sql-guard.md.
 */
import { scanSync } from 'libpg-query';
import type { Token } from './lexer.js';

export interface SemicolonScan {
  /** A `;` that is not the one accepted terminator (so the text is refused). */
  readonly stray: boolean;
  /** Index (UTF-16) of the accepted trailing `;`, or null. */
  readonly terminator: number | null;
}

export const NO_SEMICOLON: SemicolonScan = { stray: false, terminator: null };
const STRAY: SemicolonScan = { stray: true, terminator: null };

/** The verdict on the `;` tokens of a token list in which comments are not tokens. */
function judge(semicolons: number, lastIsSemicolon: boolean, count: number, at: number) {
  if (semicolons === 0) return NO_SEMICOLON;
  if (semicolons === 1 && lastIsSemicolon && count >= 2) return { stray: false, terminator: at };
  return STRAY;
}

/** The `;` tokens of MySQL or ODBC text, from our lexer's tokens (comments are not tokens). */
export function lexedSemicolons(text: string, tokens: readonly Token[]): SemicolonScan {
  let semicolons = 0;
  for (const token of tokens)
    if (token.kind === 'punct' && text[token.start] === ';') semicolons += 1;
  const last = tokens.at(-1);
  const lastIsSemicolon = last?.kind === 'punct' && text[last.start] === ';';
  return judge(semicolons, lastIsSemicolon, tokens.length, last?.start ?? -1);
}

/**
 * The `;` tokens of PostgreSQL text, by PostgreSQL's own scanner (so dollar
 * quotes, nested comments and E'' strings are read as the server reads
 * them). Scanner positions are UTF-8 byte offsets; the index returned is a
 * string index. A text the scanner cannot read counts as stray: refused.
 */
export function scannedSemicolons(text: string): SemicolonScan {
  if (!text.includes(';')) return NO_SEMICOLON;
  let tokens: ReadonlyArray<{ start: number; text: string; tokenName: string }>;
  try {
    tokens = scanSync(text).tokens;
  } catch {
    return STRAY;
  }
  const code = tokens.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT');
  let semicolons = 0;
  for (const token of code) if (token.text === ';') semicolons += 1;
  const last = code.at(-1);
  const at =
    last === undefined
      ? -1
      : Buffer.from(text, 'utf8').subarray(0, last.start).toString('utf8').length;
  return judge(semicolons, last?.text === ';', code.length, at);
}
