import { describe, expect, it } from 'vitest';
import { normalizeSource, POOL_DEFAULTS } from './config.js';

describe('normalizeSource', () => {
  it('applies the defaults', () => {
    const problems: string[] = [];
    expect(
      normalizeSource(
        { source: 'main', defaultSchema: 'public', statementTimeoutMs: 5000 },
        problems,
      ),
    ).toEqual({
      source: 'main',
      defaultSchema: 'public',
      statementTimeoutMs: 5000,
      allowWrites: false,
      applicationName: 'sqlwarden',
      pool: { ...POOL_DEFAULTS },
    });
    expect(problems).toEqual([]);
  });

  it('reports every problem at once, each naming its key', () => {
    const problems: string[] = [];
    normalizeSource(
      {
        source: '',
        defaultSchema: '',
        statementTimeoutMs: 0,
        pool: { max: -1, idleTimeoutMs: 1.5, connectionTimeoutMs: 0 },
        allowWrites: 'yes' as unknown as boolean,
      },
      problems,
    );
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'source',
      'defaultSchema',
      'statementTimeoutMs',
      'pool.max',
      'pool.idleTimeoutMs',
      'pool.connectionTimeoutMs',
      'allowWrites',
    ]);
  });
});
