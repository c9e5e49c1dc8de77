import { ConfigError } from '@sqlwarden/core';
import { describe, expect, it } from 'vitest';
import {
  type ConnxAdapterConfig,
  connectionStringPairs,
  effectiveConnectionString,
  normalizeConfig,
  sessionSetup,
} from './config.js';

const base = (connection: Partial<ConnxAdapterConfig['connection']> = {}): ConnxAdapterConfig => ({
  source: 'legacy',
  defaultSchema: 'PAYROLL',
  statementTimeoutMs: 5000,
  connection: { connectionString: 'DSN=payroll', ...connection },
});

describe('ODBC source configuration', () => {
  it('reads a connection string into its pairs, braces holding ;', () => {
    expect(
      connectionStringPairs(
        'DRIVER={PostgreSQL Unicode};SERVER=db;ConnSettings={SET a=1;SET b=2};PWD=x;',
      ),
    ).toEqual([
      ['DRIVER', '{PostgreSQL Unicode}'],
      ['SERVER', 'db'],
      ['ConnSettings', '{SET a=1;SET b=2}'],
      ['PWD', 'x'],
    ]);
  });

  it("adds the postgres profile's options, replacing the same keys of the source's string", () => {
    const config = normalizeConfig(
      base({
        connectionString: 'DRIVER={PostgreSQL Unicode};usedeclarefetch=0;Fetch=5000;UID=r',
        profile: 'postgres',
        fetchSize: 50,
      }),
    );
    expect(effectiveConnectionString(config)).toBe(
      'DRIVER={PostgreSQL Unicode};UID=r;UseDeclareFetch=1;Fetch=50;BoolsAsChar=0;NumericAs=-1',
    );
    expect(sessionSetup('postgres', 'pay"roll', 5000)).toEqual([
      'SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY',
      'SET statement_timeout = 5000',
      "SELECT set_config('client_connection_check_interval', '1000', false) FROM pg_settings WHERE name = 'client_connection_check_interval'",
      'SET search_path TO "pay""roll"',
    ]);
    expect(sessionSetup('mariadb', 'pay`roll', 5000)).toEqual([
      "SET SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00', autocommit = 1, max_statement_time = 5.000",
      'SET SESSION TRANSACTION READ ONLY',
      'USE `pay``roll`',
    ]);
  });

  it('adds READONLY=1 to a CONNX string, fetches row by row by default, and calls a function for the secret', () => {
    let calls = 0;
    const config = normalizeConfig(
      base({
        connectionString: () => {
          calls++;
          return 'DSN=payroll;PWD=s';
        },
        profile: 'connx',
      }),
    );
    expect(config.fetchSize).toBe(1);
    expect(calls).toBe(0);
    expect(effectiveConnectionString(config)).toBe('DSN=payroll;PWD=s;READONLY=1');
    expect(calls).toBe(1);
    expect(sessionSetup('connx', 'PAYROLL')).toEqual([]);
    // The source's own READONLY=0 is replaced; a source that writes opens without it.
    const reading = normalizeConfig(
      base({ connectionString: 'DSN=p;readonly=0', profile: 'connx' }),
    );
    expect(effectiveConnectionString(reading)).toBe('DSN=p;READONLY=1');
    const writing = normalizeConfig({
      ...base({ connectionString: 'DSN=p', profile: 'connx' }),
      allowWrites: true,
    });
    expect(effectiveConnectionString(writing)).toBe('DSN=p');
  });

  it('names every problem at once (writes are allowed)', () => {
    let error: unknown;
    try {
      normalizeConfig({
        ...base({ connectionString: ' ', profile: 'mariadb', fetchSize: 10 }),
        allowWrites: true,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'connection.connectionString: give the ODBC connection string (DSN=...;UID=...)',
      'connection.fetchSize: MariaDB ODBC loses rows with a fetch size above 1; leave it out',
    ]);
  });
});
