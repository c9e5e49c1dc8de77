/**
 * PostgreSQL's statement text for error messages: the kit's PostgreSQL
 * lexical rules (adapter-kit's sql-texts.ts, which says what they are),
 * under this adapter's session (standard_conforming_strings = on).
 */
import { postgresText } from '@sqlwarden/adapter-kit';

export const postgresTokens = postgresText.tokens;

/** The statement as error messages may quote it. */
export const postgresStatementText = postgresText.text;
