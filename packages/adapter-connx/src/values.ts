/**
 * ODBC values to the cross-adapter value contract (core's result.ts), in
 * the worker, from what the `odbc` package hands over for each SQL type
 * (it binds most types as text, integers as C integers, BIGINT as a C
 * 64-bit integer, floating and exact numbers as doubles):
 *
 *  - BIGINT: its decimal text (odbc gives a BigInt);
 *  - DECIMAL / NUMERIC: their decimal text with the column's scale. odbc
 *    parses the driver's text with atof: a double keeps 15 significant
 *    digits, so the shortest text of that double is the value whenever the
 *    value had no more. A value whose double needs more than 15 digits
 *    (and is not a whole number below 2^53 in a column without scale) may
 *    have lost digits: it is refused (InexactDecimalError), never sent
 *    rounded; the message tells the agent to cast it to text. Drivers that
 *    can send such columns as text do (psqlODBC: NumericAs, config.ts);
 *  - BIT: true / false (drivers send '1' / '0');
 *  - TIMESTAMP: `YYYY-MM-DD HH:MM:SS[.ffffff]` with the fraction the
 *    driver's text holds; DATE, TIME: the driver's text;
 *  - binary: `\x` and lower-case hex;
 *  - REAL / FLOAT / DOUBLE: numbers, NaN and infinities as their text;
 *  - CHAR: as the database returns it (fixed-width padding kept), or
 *    right-trimmed of spaces when the source says `trimChar`;
 *  - anything else: the driver's text.
 */

/** ODBC SQL type codes (sql.h, sqlext.h). */
export const SQL = {
  CHAR: 1,
  NUMERIC: 2,
  DECIMAL: 3,
  INTEGER: 4,
  SMALLINT: 5,
  FLOAT: 6,
  REAL: 7,
  DOUBLE: 8,
  DATETIME: 9,
  TIME: 10,
  TIMESTAMP: 11,
  VARCHAR: 12,
  TYPE_DATE: 91,
  TYPE_TIME: 92,
  TYPE_TIMESTAMP: 93,
  LONGVARCHAR: -1,
  BINARY: -2,
  VARBINARY: -3,
  LONGVARBINARY: -4,
  BIGINT: -5,
  TINYINT: -6,
  BIT: -7,
  WCHAR: -8,
  WVARCHAR: -9,
  WLONGVARCHAR: -10,
  GUID: -11,
} as const;

/** A column as odbc describes it (Result.columns). */
export interface OdbcColumn {
  readonly name: string;
  readonly dataType: number;
  readonly dataTypeName?: string;
  readonly columnSize?: number;
  readonly decimalDigits?: number;
}

export type Converter = (value: unknown) => unknown;

const text: Converter = (value) => (typeof value === 'string' ? value : String(value));

function floating(value: unknown): unknown {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : String(n);
}

function integer(value: unknown): unknown {
  return typeof value === 'number' ? value : Number(value);
}

function bigint(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : String(value);
}

/** A decimal column's value that reached the worker as a double with digits it may have lost. */
export class InexactDecimalError extends Error {
  readonly column: string;
  constructor(column: string) {
    super(`column ${column}: a decimal past 15 significant digits arrived as a double`);
    this.column = column;
  }
}

/**
 * The double's shortest decimal text, without exponent, and how many
 * significant digits it has (`1e+21` is `1000000000000000000000`, 1 digit).
 */
export function plainDecimal(value: number): { text: string; digits: number } {
  const [mantissa = '0', exponentText = '0'] = value.toExponential().split('e');
  const negative = mantissa.startsWith('-');
  const digitText = mantissa.replace('-', '').replace('.', '');
  const exponent = Number(exponentText);
  let text: string;
  if (exponent >= digitText.length - 1) {
    text = digitText + '0'.repeat(exponent - (digitText.length - 1));
  } else if (exponent >= 0) {
    text = `${digitText.slice(0, exponent + 1)}.${digitText.slice(exponent + 1)}`;
  } else {
    text = `0.${'0'.repeat(-exponent - 1)}${digitText}`;
  }
  return { text: negative && value !== 0 ? `-${text}` : text, digits: digitText.length };
}

function exact(column: OdbcColumn): Converter {
  const scale = column.decimalDigits ?? 0;
  return (value) => {
    if (typeof value === 'string') return value;
    if (typeof value !== 'number' || !Number.isFinite(value)) return String(value);
    const { text, digits } = plainDecimal(value);
    if (digits > 15 && !(scale === 0 && Number.isSafeInteger(value))) {
      throw new InexactDecimalError(column.name);
    }
    if (scale <= 0 || scale > 1000) return text;
    const dot = text.indexOf('.');
    const fraction = dot < 0 ? 0 : text.length - dot - 1;
    if (fraction >= scale) return text;
    return `${dot < 0 ? `${text}.` : text}${'0'.repeat(scale - fraction)}`;
  };
}

function bit(value: unknown): unknown {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  const s = String(value).trim().toLowerCase();
  return s === '1' || s === 't' || s === 'true';
}

function hex(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return `\\x${Buffer.from(value).toString('hex')}`;
  if (ArrayBuffer.isView(value)) {
    return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  }
  return text(value);
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]`: a `T` separator becomes a space, trailing zeros of the fraction go. */
export function timestamp(value: unknown): unknown {
  const s = text(value) as string;
  const match = /^(\d{4,}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?$/.exec(s);
  if (match === null) return s;
  const fraction = (match[3] ?? '').slice(0, 6).replace(/0+$/, '');
  return `${match[1]} ${match[2]}${fraction === '' ? '' : `.${fraction}`}`;
}

const trimmed: Converter = (value) => (text(value) as string).replace(/ +$/, '');

export function converterFor(column: OdbcColumn, trimChar = false): Converter {
  switch (column.dataType) {
    case SQL.CHAR:
    case SQL.WCHAR:
      return trimChar ? trimmed : text;
    case SQL.BIGINT:
      return bigint;
    case SQL.DECIMAL:
    case SQL.NUMERIC:
      return exact(column);
    case SQL.INTEGER:
    case SQL.SMALLINT:
    case SQL.TINYINT:
      return integer;
    case SQL.REAL:
    case SQL.FLOAT:
    case SQL.DOUBLE:
      return floating;
    case SQL.BIT:
      return bit;
    case SQL.TIMESTAMP:
    case SQL.TYPE_TIMESTAMP:
      return timestamp;
    case SQL.BINARY:
    case SQL.VARBINARY:
    case SQL.LONGVARBINARY:
      return hex;
    default:
      return text;
  }
}

/** A column's type as reported: odbc's SQL type name without `SQL_` / `TYPE_`, lower case. */
export function typeName(column: OdbcColumn): string {
  const name = column.dataTypeName ?? '';
  const bare = name
    .replace(/^SQL_/, '')
    .replace(/^TYPE_/, '')
    .toLowerCase();
  return bare === '' || bare === 'unknown_type' ? `odbc type ${column.dataType}` : bare;
}
