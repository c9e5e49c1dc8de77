import { describe, expect, it } from 'vitest';
import { adapterConfig, adapterPlugin } from './plugin.js';

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

  it('asks for three-part names where the driver resolves shorter ones itself', () => {
    const source = (profile?: string) =>
      ({
        id: 'legacy',
        connection: {
          odbc: { connectionString: () => 'DSN=x', ...(profile !== undefined && { profile }) },
        },
      }) as Parameters<typeof adapterConfig>[0];
    const qualified = adapterPlugin.qualifiedNamesOnly;
    expect(qualified?.(source('connx'))).toBe(true);
    expect(qualified?.(source('generic'))).toBe(true);
    expect(qualified?.(source())).toBe(true);
    expect(qualified?.(source('postgres'))).toBe(false);
    expect(qualified?.(source('mariadb'))).toBe(false);
  });
});
