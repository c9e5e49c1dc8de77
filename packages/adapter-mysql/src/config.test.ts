import { ConfigError } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import { connectionOptions, type MysqlAdapterConfig, normalizeConfig } from './config.js';
import { sessionSetup, setTimeoutStatement } from './session.js';

const base: MysqlAdapterConfig = {
  source: 'shop',
  connection: { uri: 'mysql://reader@db.example:3307/shop' },
  defaultSchema: 'shop',
  statementTimeoutMs: 5000,
};

function problems(config: MysqlAdapterConfig): readonly string[] {
  try {
    normalizeConfig(config);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('takes a URI apart and applies the defaults', () => {
    expect(normalizeConfig(base)).toMatchObject({
      host: 'db.example',
      port: 3307,
      user: 'reader',
      defaultSchema: 'shop',
      allowWrites: false,
      applicationName: 'sqlwarden',
      pool: { max: 10, idleTimeoutMs: 30_000, connectionTimeoutMs: 5_000 },
    });
  });

  it('refuses a URI with query parameters: mysql2 would make driver options of them', () => {
    expect(
      problems({ ...base, connection: { uri: 'mysql://u@h/shop?multipleStatements=true' } }),
    ).toEqual([expect.stringMatching(/^connection\.uri: query parameters are not allowed/)]);
  });

  it('reports every problem at once, each naming its key', () => {
    expect(
      problems({
        source: 'shop',
        connection: {
          uri: 'postgres://u@h/other',
          password: 'secret' as unknown as () => string,
        },
        defaultSchema: 'shop',
        statementTimeoutMs: 0,
        pool: { max: 0 },
      }),
    ).toEqual([
      expect.stringMatching(/^connection\.uri: the scheme/),
      expect.stringMatching(/^connection\.database: .*\(other\) must be the same/),
      expect.stringMatching(/^connection\.password: must be a function/),
      expect.stringMatching(/^statementTimeoutMs:/),
      expect.stringMatching(/^pool\.max:/),
    ]);
  });

  it('never lets a connection run several statements, read client files or stream several results', async () => {
    let calls = 0;
    const options = await connectionOptions(
      normalizeConfig({
        ...base,
        connection: { host: 'h', user: 'u', password: () => `pw${++calls}` },
      }),
    );
    expect(options).toMatchObject({
      host: 'h',
      port: 3306,
      user: 'u',
      password: 'pw1',
      database: 'shop',
      multipleStatements: false,
      flags: ['-MULTI_STATEMENTS', '-LOCAL_FILES', '-MULTI_RESULTS', '-IGNORE_SPACE'],
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      jsonStrings: true,
    });
    expect(options).not.toHaveProperty('infileStreamFactory');
    expect(calls).toBe(1);
  });
});

describe('session setup', () => {
  it('is one SET statement per flavor', () => {
    const cap = (name: string, n: number) =>
      `${name} = IF(@@SESSION.${name} > ${n}, ${n}, @@SESSION.${name})`;
    const caps = [
      cap('tmp_table_size', 16777216),
      cap('max_heap_table_size', 16777216),
      cap('sort_buffer_size', 2097152),
      cap('join_buffer_size', 1048576),
      cap('group_concat_max_len', 1048576),
    ].join(', ');
    expect(sessionSetup({ flavor: 'mariadb', statementTimeoutMs: 2500 })).toBe(
      `SET SESSION sql_mode = 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', NAMES utf8mb4, time_zone = '+00:00', autocommit = 1, tx_read_only = 1, max_statement_time = 2.500, ${caps}, ${cap('tmp_disk_table_size', 1073741824)}`,
    );
    expect(sessionSetup({ flavor: 'mysql', statementTimeoutMs: 2500 })).toBe(
      `SET SESSION sql_mode = 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', NAMES utf8mb4, time_zone = '+00:00', autocommit = 1, transaction_read_only = 1, max_execution_time = 2500, ${caps}`,
    );
    expect(setTimeoutStatement('mysql', 300)).toBe('SET SESSION max_execution_time = 300');
    expect(() => sessionSetup({ flavor: 'mysql', statementTimeoutMs: Number.NaN })).toThrow(
      RangeError,
    );
  });
});
