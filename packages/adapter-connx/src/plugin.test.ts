import { describe, expect, it } from 'vitest';
import { adapterConfig } from './plugin.js';

describe('the ODBC plugin', () => {
  it('passes every odbc key of a source on to the adapter', () => {
    const connectionString = () => 'DSN=legacy';
    const config = adapterConfig({
      id: 'legacy',
      defaultSchema: 'dbo',
      statementTimeoutMs: 5000,
      allowWrites: false,
      connection: {
        odbc: {
          connectionString,
          profile: 'connx',
          fetchSize: 20,
          trimChar: true,
          workerMemoryMb: 256,
        },
      },
    } as Parameters<typeof adapterConfig>[0]);
    expect(config.connection).toEqual({
      connectionString,
      profile: 'connx',
      fetchSize: 20,
      trimChar: true,
      workerMemoryMb: 256,
    });
  });
});
