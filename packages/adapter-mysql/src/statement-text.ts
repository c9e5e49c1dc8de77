/**
 * MySQL's statement text for error messages: the kit's MySQL lexical rules
 * (adapter-kit's sql-texts.ts, which says what they are), under this
 * adapter's session sql_mode (no ANSI_QUOTES, no NO_BACKSLASH_ESCAPES).
 */
import { mysqlText } from '@sqlwarden/adapter-kit';

export const mysqlTokens = mysqlText.tokens;

/** The statement as error messages may quote it. */
export const mysqlStatementText = mysqlText.text;
