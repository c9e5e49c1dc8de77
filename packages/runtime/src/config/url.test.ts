import { describe, expect, it } from 'vitest';
import { adapterCatalog } from '../adapters.js';
import { isLoopbackHost, kindOfUrl, parseSourceUrl } from './url.js';

const catalog = adapterCatalog();

const files: Record<string, string> = { '/ca.pem': 'CA PEM', '/c.pem': 'CERT', '/k.pem': 'KEY' };
const readFile = (path: string) => {
  const text = files[path];
  if (text === undefined) throw new Error('ENOENT');
  return text;
};
const parse = (url: string, kind: 'postgres' | 'mysql' = 'postgres') =>
  parseSourceUrl(url, kind, 'sources.main.url', catalog, readFile);

describe('source URLs', () => {
  it('knows the kind of each supported scheme, and no other', () => {
    expect(kindOfUrl('postgres://a@b/c', catalog)).toBe('postgres');
    expect(kindOfUrl('POSTGRESQL://a@b/c', catalog)).toBe('postgres');
    expect(kindOfUrl('mysql://a@b/c', catalog)).toBe('mysql');
    expect(kindOfUrl('mariadb://a@b/c', catalog)).toBe('mysql');
    expect(kindOfUrl('mssql://a@b/c', catalog)).toBeUndefined();
    expect(kindOfUrl('foo://a@b/c', catalog)).toBeUndefined();
    expect(kindOfUrl('a@b/c', catalog)).toBeUndefined();
  });

  it('refuses an unknown scheme, listing the supported ones, without quoting the URL', () => {
    const result = parse('mssql://sa:hunter2@db/x');
    expect(result).toEqual({
      ok: false,
      problems: [
        'sources.main.url: has the scheme mssql://, which sqlwarden does not serve; a postgres source takes postgres:// or postgresql:// (sqlwarden serves postgres://, postgresql://, mysql://, mariadb://)',
      ],
    });
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });

  it('refuses a URL of the other kind', () => {
    expect(parse('mysql://a@b/c')).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/^sources\.main\.url: is a mysql URL \(mysql:\/\/\)/)],
    });
  });

  it('takes the TLS parameters out of the URL', () => {
    expect(parse('postgres://a@db.example/shop?sslmode=verify-full&sslrootcert=/ca.pem')).toEqual({
      ok: true,
      url: 'postgres://a@db.example/shop',
      host: 'db.example',
      tls: { rejectUnauthorized: true, verifyHostname: true, ca: 'CA PEM' },
    });
    expect(parse('mysql://a@db/shop?sslmode=verify-ca', 'mysql')).toMatchObject({
      tls: { rejectUnauthorized: true, verifyHostname: false },
    });
    expect(parse('mysql://a@db/shop?sslmode=require', 'mysql')).toMatchObject({
      tls: { rejectUnauthorized: false, verifyHostname: false },
    });
    expect(parse('mysql://a@db/shop?ssl=true', 'mysql')).toMatchObject({
      tls: { rejectUnauthorized: true, verifyHostname: true },
    });
    expect(parse('postgres://a@db/shop?sslmode=disable')).toMatchObject({ tls: false });
    expect(parse('postgres://a@db/shop')).toMatchObject({ ok: true, tls: undefined });
    expect(
      parse('postgres://a@db/shop?sslmode=verify-full&sslcert=/c.pem&sslkey=/k.pem'),
    ).toMatchObject({ tls: { cert: 'CERT', key: 'KEY' } });
  });

  it('refuses every other query parameter, multipleStatements first', () => {
    for (const url of [
      'mysql://a@db/shop?multipleStatements=true',
      'mysql://a@db/shop?ssl=true&flags=MULTI_STATEMENTS',
      'postgres://a@db/shop?options=-c%20default_transaction_read_only%3Doff',
    ]) {
      const result = parse(url, url.startsWith('mysql') ? 'mysql' : 'postgres');
      expect(result.ok).toBe(false);
      expect(result.ok ? '' : result.problems[0]).toMatch(
        /the query parameter \w+ is not allowed; a URL may only carry TLS settings/,
      );
    }
  });

  it('says what is wrong with a TLS parameter', () => {
    const problem = (url: string) => {
      const result = parse(url);
      return result.ok ? undefined : result.problems;
    };
    expect(problem('postgres://a@db/s?sslmode=prefer')).toEqual([
      'sources.main.url: sslmode must be one of disable, require, verify-ca, verify-full',
    ]);
    expect(problem('postgres://a@db/s?ssl=yes')).toEqual([
      'sources.main.url: ssl must be true or false',
    ]);
    expect(problem('postgres://a@db/s?ssl=true&sslmode=require')).toEqual([
      'sources.main.url: give sslmode or ssl, not both',
    ]);
    expect(problem('postgres://a@db/s?sslrootcert=/missing.pem')).toEqual([
      'sources.main.url: sslrootcert names a file that cannot be read',
    ]);
    expect(problem('postgres://a@db/s?sslcert=/c.pem')).toEqual([
      'sources.main.url: a client certificate needs both sslcert and sslkey',
    ]);
    expect(problem('postgres://a@db/s?sslmode=disable&sslrootcert=/ca.pem')).toEqual([
      'sources.main.url: sslmode=disable cannot take sslrootcert, sslcert or sslkey',
    ]);
    expect(problem('postgres://a@db/s?sslmode=require&sslmode=disable')).toEqual([
      'sources.main.url: the query parameter sslmode is given more than once',
    ]);
  });

  it('counts loopback addresses, localhost and socket paths as this machine', () => {
    for (const host of ['127.0.0.1', '127.9.9.9', 'localhost', '::1', '', '/var/run/postgresql'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['10.0.0.5', 'db.example', '128.0.0.1', '::2', '1270.0.0.1'])
      expect(isLoopbackHost(host)).toBe(false);
  });
});
