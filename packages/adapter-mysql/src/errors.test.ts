import { describe, expect, it } from 'vitest';
import { mapMysqlError } from './errors.js';

const serverError = (errno: number, sqlState: string, sqlMessage: string) =>
  Object.assign(new Error(sqlMessage), {
    errno,
    sqlState,
    sqlMessage,
    code: 'ER_X',
    sql: 'SELECT secret',
  });

describe('mapMysqlError', () => {
  it.each([
    [1064, '42000', 'QUERY_FAILED'],
    [1146, '42S02', 'NOT_FOUND'],
    [1054, '42S22', 'QUERY_FAILED'],
    [1792, '25006', 'READ_ONLY'],
    [1142, '42000', 'FORBIDDEN'],
    [1143, '42000', 'FORBIDDEN'],
    [1044, '42000', 'FORBIDDEN'],
    [1045, '28000', 'DB_UNAVAILABLE'],
    [1049, '42000', 'DB_UNAVAILABLE'],
    [2006, 'HY000', 'DB_UNAVAILABLE'],
    [2013, 'HY000', 'DB_UNAVAILABLE'],
    [1040, '08004', 'DB_UNAVAILABLE'],
    [1969, '70100', 'QUERY_TIMEOUT'],
    [3024, 'HY000', 'QUERY_TIMEOUT'],
    [1317, '70100', 'QUERY_CANCELLED'],
    [1062, '23000', 'QUERY_FAILED'],
    [1451, '23000', 'QUERY_FAILED'],
    [1452, '23000', 'QUERY_FAILED'],
    [1205, 'HY000', 'QUERY_FAILED'],
    [1213, '40001', 'QUERY_FAILED'],
    [1366, '22007', 'QUERY_FAILED'],
    [1105, 'HY000', 'QUERY_FAILED'],
  ])('maps errno %i (SQLSTATE %s) to %s', (errno, sqlState, expected) => {
    expect(mapMysqlError(serverError(errno, sqlState, 'x'), null, 1000).code).toBe(expected);
  });

  it('maps lost and refused connections to DB_UNAVAILABLE', () => {
    for (const error of [
      Object.assign(new Error('connect'), { code: 'ECONNREFUSED', errno: -111, fatal: true }),
      Object.assign(new Error('Connection lost'), {
        code: 'PROTOCOL_CONNECTION_LOST',
        fatal: true,
      }),
      Object.assign(new Error('connect'), { code: 'ETIMEDOUT' }),
    ]) {
      expect(mapMysqlError(error, null, 1000).code).toBe('DB_UNAVAILABLE');
    }
  });

  it('says QUERY_TIMEOUT or QUERY_CANCELLED when the adapter stopped the statement itself', () => {
    const interrupted = serverError(1317, '70100', 'Query execution was interrupted');
    expect(mapMysqlError(interrupted, 'abort', 1000).code).toBe('QUERY_CANCELLED');
    expect(mapMysqlError(interrupted, 'timeout', 1000).code).toBe('QUERY_TIMEOUT');
    expect(mapMysqlError(new Error('anything'), 'timeout', 1000).message).toMatch(
      /time limit of 1000 ms/,
    );
  });

  it('says to try again after a lock wait or a deadlock', () => {
    expect(mapMysqlError(serverError(1205, 'HY000', 'x'), null, 1000).message).toMatch(/try again/);
    expect(mapMysqlError(serverError(1213, '40001', 'x'), null, 1000).message).toMatch(/try again/);
  });

  it('never passes on the values, file paths or SQL a server message quotes', () => {
    const secret = '4111-1111-1111-1111';
    const errors = [
      serverError(1062, '23000', `Duplicate entry '${secret}' for key 'card'`),
      serverError(1366, '22007', `Incorrect integer value: '${secret}' for column 'n' at row 1`),
      serverError(1292, '22007', `Truncated incorrect DOUBLE value: '${secret}'`),
      serverError(1690, '22003', `BIGINT value is out of range in '${secret} * 2'`),
      serverError(29, 'HY000', `File '/etc/${secret}' not found (Errcode: 2)`),
      serverError(1064, '42000', `You have an error in your SQL syntax near '${secret}'`),
    ];
    for (const error of errors) {
      const mapped = mapMysqlError(error, null, 1000);
      expect(mapped.message).not.toContain('4111');
      expect(mapped.message).not.toContain('SELECT secret');
    }
  });

  it('names the missing table or column and the duplicated key, as the server quoted them', () => {
    expect(
      mapMysqlError(serverError(1146, '42S02', "Table 'shop.ordres' doesn't exist"), null, 1000)
        .message,
    ).toMatch(/does not exist: shop\.ordres;/);
    expect(
      mapMysqlError(
        serverError(1054, '42S22', "Unknown column 'o.totl' in 'field list'"),
        null,
        1000,
      ).message,
    ).toMatch(/does not exist: o\.totl;/);
    expect(
      mapMysqlError(
        serverError(1062, '23000', "Duplicate entry 'x' for key 'items.email'"),
        null,
        1000,
      ).message,
    ).toBe('The statement would duplicate a unique key (items.email).');
    expect(
      mapMysqlError(
        serverError(
          1452,
          '23000',
          'Cannot add or update a child row: a foreign key constraint fails (`db`.`items`, CONSTRAINT `items_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`))',
        ),
        null,
        1000,
      ).message,
    ).toBe('The statement breaks a constraint (items_customer) (errno 1452).');
  });

  it('keeps the driver error as cause for the operator log, and a SqlwardenError as it is', () => {
    const error = serverError(1064, '42000', 'syntax');
    const mapped = mapMysqlError(error, null, 1000);
    expect(mapped.cause).toBe(error);
    expect(mapMysqlError(mapped, 'timeout', 1000)).toBe(mapped);
  });

  it('is INTERNAL for anything that is not a database error', () => {
    expect(mapMysqlError(new TypeError('boom'), null, 1000).code).toBe('INTERNAL');
  });
});
