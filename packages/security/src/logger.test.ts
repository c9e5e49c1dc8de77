import { serializeError as coreSerializeError } from '@sqlwarden/core';
import { Capture } from '@sqlwarden/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, serializeError } from './logger.js';
import { clearSecretRegistry, redactConnectionString, Secret } from './secrets.js';

afterEach(() => clearSecretRegistry());

describe('createLogger', () => {
  it('censors fields named like SQL, parameters and credentials', () => {
    const capture = new Capture();
    const logger = createLogger({ destination: capture });
    logger.info(
      { sql: 'SELECT card FROM cards', params: ['4111'], source: { password: 'pw', dsn: 'x' } },
      'hello',
    );
    expect(capture.text).not.toMatch(/SELECT|4111|"pw"/);
    expect(capture.lines()[0]).toMatchObject({
      sql: '[redacted]',
      params: '[redacted]',
      msg: 'hello',
    });
  });

  it('logs an error without its message, which may quote SQL or values', () => {
    const capture = new Capture();
    const logger = createLogger({ destination: capture });
    const error = Object.assign(new Error('invalid input syntax for type integer: "4111-1111"'), {
      code: '22P02',
    });
    logger.error({ err: error }, 'query failed');
    expect(capture.text).not.toContain('4111');
    expect(capture.lines()[0]).toMatchObject({ err: { type: 'Error', code: '22P02' } });
  });

  it('scrubs registered secrets anywhere in a line, message included', () => {
    const capture = new Capture();
    const secret = new Secret('PGPASSWORD', 's3cr3t-"quoted"\\pw');
    const logger = createLogger({ destination: capture });
    logger.warn({ note: `connecting with ${secret.reveal()}` }, `pw is ${secret.reveal()}`);
    expect(capture.text).not.toContain('s3cr3t');
    expect(capture.lines()).toHaveLength(1);
  });
});

describe('serializeError', () => {
  it("is core's: the logger and every adapter serialize errors with one function", () => {
    expect(serializeError).toBe(coreSerializeError);
  });

  it('leaves an error an adapter already serialized as it is', () => {
    const capture = new Capture();
    const logger = createLogger({ destination: capture });
    const error = Object.assign(new Error('relation "secret_table" does not exist'), {
      code: '42P01',
    });
    logger.warn({ err: coreSerializeError(error) }, 'from an adapter');
    expect(capture.text).not.toContain('secret_table');
    expect(capture.lines()[0]).toMatchObject({ err: { type: 'Error', code: '42P01' } });
  });
});

describe('redactConnectionString', () => {
  it('hides the password and secret-looking parameters', () => {
    expect(
      redactConnectionString('postgres://app:hunter2@db:5432/shop?sslpassword=x&sslmode=require'),
    ).toBe('postgres://app:***@db:5432/shop?sslpassword=***&sslmode=require');
    expect(redactConnectionString('not a url with hunter2')).toBe('[connection string]');
  });
});
