import { describe, expect, it } from 'vitest';
import { statementFailure } from './statement-failures.js';
import { type StatementName, StatementText } from './statement-text.js';

const cause = new Error('server message with PARAMCANARY');
// Names as the rule lets them through: words of a statement.
const statement = new StatementText('SELECT id FROM o JOIN c', [
  { kind: 'word', start: 0, end: 6, name: 'SELECT' },
  { kind: 'word', start: 7, end: 9, name: 'id' },
  { kind: 'word', start: 10, end: 14, name: 'FROM' },
  { kind: 'word', start: 15, end: 16, name: 'o' },
  { kind: 'word', start: 17, end: 21, name: 'JOIN' },
  { kind: 'word', start: 22, end: 23, name: 'c' },
]);
const id = statement.name('id');

describe('statementFailure', () => {
  it('says what is wrong, names what the statement holds, then what to do', () => {
    const ambiguous = statementFailure.ambiguousColumn(cause, id, statement.qualifiers());
    expect(ambiguous.code).toBe('QUERY_FAILED');
    expect(ambiguous.message).toBe(
      'Column id is ambiguous: qualify it with its table or alias (o.id or c.id).',
    );
    expect(ambiguous.cause).toBe(cause);
    expect(statementFailure.unknownTable(cause, undefined).code).toBe('NOT_FOUND');
    expect(statementFailure.forbidden(cause).code).toBe('FORBIDDEN');
    expect(statementFailure.readOnly(cause, 'INSERT').message).toBe(
      'The statement tried to write (INSERT); reads run in read-only transactions.',
    );
  });

  it('reads well without the name when the rule left it out', () => {
    expect(statementFailure.ambiguousColumn(cause, undefined, []).message).toBe(
      'A column name of the statement is ambiguous: qualify it with its table or alias.',
    );
    expect(statementFailure.notGrouped(cause, undefined).message).toBe(
      'A selected column must appear in GROUP BY or be used in an aggregate function (such as max or count).',
    );
  });

  it('counts parameters in words, and falls back when the counts do not disagree', () => {
    expect(
      statementFailure.parameterCount(cause, { expected: 2, given: 1, placeholder: '$n' }).message,
    ).toBe('The statement takes 2 parameters but 1 value was given: give one value for each $n.');
    expect(
      statementFailure.parameterCount(cause, { expected: 1, given: 1, placeholder: '?' }).message,
    ).toBe('The parameters do not match the statement: give one value for each ?.');
  });

  it('says where in the statement, by line only when it has lines', () => {
    const at = { line: 1, character: 10, multiline: false };
    expect(statementFailure.syntaxError(cause, { word: statement.wordAt(10), at }).message).toBe(
      'Syntax error near the word FROM (character 10): fix the statement there.',
    );
    expect(
      statementFailure.syntaxError(cause, {
        unclosed: 'quote',
        at: { line: 2, character: 3, multiline: true },
      }).message,
    ).toBe('A quoted string or name is not closed (line 2, character 3): close it.');
  });

  it('falls back by what the SQLSTATE class means, with the reference and never a server word', () => {
    expect(statementFailure.bySqlState(cause, '23000', 'errno 4025, SQLSTATE 23000').message).toBe(
      "The statement breaks an integrity constraint (errno 4025, SQLSTATE 23000): check the values against the table's keys and constraints with describe_table.",
    );
    expect(statementFailure.bySqlState(cause, 'XX000', 'SQLSTATE XX000').message).toBe(
      'The database refused the statement (SQLSTATE XX000).',
    );
    expect(statementFailure.bySqlState(cause, undefined, 'errno 1105').message).toBe(
      'The database refused the statement (errno 1105).',
    );
  });

  it('takes names only from StatementText: a plain string does not compile', () => {
    // @ts-expect-error a server's text is not a StatementName
    statementFailure.unknownColumn(cause, 'paramcanary');
    // @ts-expect-error nor is any clause word outside the closed union
    statementFailure.aggregateNotAllowed(cause, 'WHERE 1=1; --');
    const name: StatementName | undefined = statement.name('paramcanary');
    expect(statementFailure.unknownColumn(cause, name).message).not.toContain('paramcanary');
  });
});
