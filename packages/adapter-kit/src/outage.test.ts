import type { OperatorLogger } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import { OutageLog } from './outage.js';

/** A logger that keeps the raw objects it is given, as an embedder's own logger would see them. */
function rawRecorder() {
  const lines: Array<{ level: string; object: Record<string, unknown>; message: string }> = [];
  const record = (level: string) => (object: Record<string, unknown>, message: string) => {
    lines.push({ level, object, message });
  };
  const logger: OperatorLogger = {
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  return { lines, logger };
}

describe('OutageLog', () => {
  it('tells the operator once when the database stops answering, and once when it answers again', () => {
    const { lines, logger } = rawRecorder();
    const outages = new OutageLog('main', logger);
    const error = Object.assign(new Error('database "secret_db" does not exist'), {
      code: '3D000',
    });
    outages.unavailable(error);
    outages.unavailable(error);
    outages.answered();
    outages.answered();
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['warn', 'the database is unavailable; calls fail with DB_UNAVAILABLE until it answers'],
      ['info', 'the database answers again'],
    ]);
    expect(lines[0]?.object).toMatchObject({
      source: 'main',
      err: { type: 'Error', code: '3D000' },
    });
  });

  it("gives any logger the error without the driver's message: a raw recorder sees no message", () => {
    const { lines, logger } = rawRecorder();
    const error = Object.assign(new Error('duplicate key value: (card)=(4111-1111)'), {
      code: '23505',
      sql: 'INSERT INTO cards VALUES (4111)',
    });
    new OutageLog('main', logger).unavailable(error);
    const err = lines[0]?.object.err;
    expect(err).not.toBeInstanceOf(Error);
    expect(JSON.stringify(lines)).not.toContain('4111');
  });
});
