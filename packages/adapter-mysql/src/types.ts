/**
 * MySQL and MariaDB values as the result contract (ReadResultSchema in
 * @sqlwarden/core) carries them, column type names, and parameters as
 * mysql2 binds them. The bounded read that uses these is read.ts.
 *
 * Values (mysql2 options set in config.ts: supportBigNumbers +
 * bigNumberStrings, dateStrings, jsonStrings):
 *  - TINYINT, SMALLINT, MEDIUMINT, INT (signed or unsigned), YEAR: numbers;
 *  - BIGINT (signed and unsigned) and DECIMAL: decimal text, always;
 *  - FLOAT: the shortest decimal that is the same 32-bit float (0.1, not
 *    0.10000000149011612), as the text protocol prints it; DOUBLE: the
 *    number; not finite: text;
 *  - DATE `YYYY-MM-DD`; DATETIME `YYYY-MM-DD HH:MM:SS[.ffffff]` with the
 *    column's fraction digits; TIMESTAMP the same in UTC plus `+00` (the
 *    session's time_zone is +00:00); TIME `[-]HH:MM:SS[.ffffff]` (hours can
 *    pass 24: it is a duration type) with the column's fraction digits;
 *  - BINARY, VARBINARY, BLOB and binary expressions: `\x` + lower-case hex;
 *  - BIT(n): its n bits as text, `'0101'` for b'0101' in a BIT(4) (what
 *    PostgreSQL sends for bit(n), so both adapters agree);
 *  - JSON (MySQL's JSON type, MariaDB's LONGTEXT marked json): the
 *    document's text;
 *  - GEOMETRY: `\x` + hex of the server's bytes (SRID + WKB);
 *  - everything else (CHAR, VARCHAR, TEXT, ENUM, SET, UUID...): the text.
 */
import type { MysqlField } from './config.js';

/** mysql2 / protocol column type codes (include/mysql_com.h `enum_field_types`). */
const T = {
  DECIMAL: 0x00,
  TINY: 0x01,
  SHORT: 0x02,
  LONG: 0x03,
  FLOAT: 0x04,
  DOUBLE: 0x05,
  NULL: 0x06,
  TIMESTAMP: 0x07,
  LONGLONG: 0x08,
  INT24: 0x09,
  DATE: 0x0a,
  TIME: 0x0b,
  DATETIME: 0x0c,
  YEAR: 0x0d,
  NEWDATE: 0x0e,
  VARCHAR: 0x0f,
  BIT: 0x10,
  VECTOR: 0xf2,
  JSON: 0xf5,
  NEWDECIMAL: 0xf6,
  ENUM: 0xf7,
  SET: 0xf8,
  TINY_BLOB: 0xf9,
  MEDIUM_BLOB: 0xfa,
  LONG_BLOB: 0xfb,
  BLOB: 0xfc,
  VAR_STRING: 0xfd,
  STRING: 0xfe,
  GEOMETRY: 0xff,
} as const;

const ENUM_FLAG = 256;
const SET_FLAG = 2048;
/** The `binary` character set: the column holds bytes, not text. */
const BINARY_CHARSET = 63;

const isBinary = (field: MysqlField) => field.characterSet === BINARY_CHARSET;

function blobName(field: MysqlField): string {
  const length = field.columnLength;
  if (isBinary(field)) {
    if (length <= 255) return 'tinyblob';
    if (length <= 65_535) return 'blob';
    if (length <= 16_777_215) return 'mediumblob';
    return 'longblob';
  }
  // Text columns report bytes: characters times the character set's width (up to 4).
  if (length <= 255 * 4) return 'tinytext';
  if (length <= 65_535 * 4) return 'text';
  if (length <= 16_777_215 * 4) return 'mediumtext';
  return 'longtext';
}

/**
 * A result column's type name: the MySQL type name in lower case, as
 * information_schema.COLUMNS.DATA_TYPE spells it (`int`, `bigint`,
 * `varchar`, `decimal`, `datetime`, `timestamp`, `json`, `blob`...).
 * MariaDB's extended metadata refines it where it has one (`json` for its
 * LONGTEXT JSON, `uuid`, `inet6`, `point`).
 */
export function typeName(field: MysqlField): string {
  if (field.extendedFormat === 'json') return 'json';
  if (field.extendedTypeName !== undefined && field.extendedTypeName !== '')
    return field.extendedTypeName.toLowerCase();
  switch (field.columnType) {
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return 'decimal';
    case T.TINY:
      return 'tinyint';
    case T.SHORT:
      return 'smallint';
    case T.INT24:
      return 'mediumint';
    case T.LONG:
      return 'int';
    case T.LONGLONG:
      return 'bigint';
    case T.FLOAT:
      return 'float';
    case T.DOUBLE:
      return 'double';
    case T.NULL:
      return 'null';
    case T.TIMESTAMP:
      return 'timestamp';
    case T.DATE:
    case T.NEWDATE:
      return 'date';
    case T.TIME:
      return 'time';
    case T.DATETIME:
      return 'datetime';
    case T.YEAR:
      return 'year';
    case T.BIT:
      return 'bit';
    case T.JSON:
      return 'json';
    case T.ENUM:
      return 'enum';
    case T.SET:
      return 'set';
    case T.GEOMETRY:
      return 'geometry';
    case T.VECTOR:
      return 'vector';
    case T.VARCHAR:
    case T.VAR_STRING:
      return isBinary(field) ? 'varbinary' : 'varchar';
    case T.STRING:
      if (field.flags & ENUM_FLAG) return 'enum';
      if (field.flags & SET_FLAG) return 'set';
      return isBinary(field) ? 'binary' : 'char';
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
      return blobName(field);
    default:
      return 'unknown';
  }
}

export type Converter = (value: unknown) => unknown;

const hex = (bytes: Uint8Array) =>
  `\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;

/** A value of a type the plan did not expect: never an object in a row. */
export function fallback(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return hex(value);
  if (ArrayBuffer.isView(value))
    return JSON.stringify(Array.from(value as unknown as ArrayLike<number>));
  return JSON.stringify(value);
}

const asText: Converter = (value) => (typeof value === 'string' ? value : fallback(value));
const asNumber: Converter = (value) =>
  typeof value === 'number' && Number.isFinite(value) ? value : fallback(value);
const asDecimalText: Converter = (value) =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'bigint'
      ? String(value)
      : fallback(value);
const asBytes: Converter = (value) => (value instanceof Uint8Array ? hex(value) : fallback(value));
const asTimestamp: Converter = (value) =>
  typeof value === 'string' ? `${value}+00` : fallback(value);

/** The shortest decimal that reads back as the same 32-bit float (what the text protocol prints). */
export function float32(value: number): number {
  if (!Number.isFinite(value)) return value;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

const asFloat: Converter = (value) => {
  if (typeof value !== 'number') return fallback(value);
  return Number.isFinite(value) ? float32(value) : String(value);
};

function bitsOf(width: number): Converter {
  return (value) => {
    if (!(value instanceof Uint8Array)) return fallback(value);
    let bits = '';
    for (const byte of value) bits += byte.toString(2).padStart(8, '0');
    return width > 0 && width <= bits.length ? bits.slice(bits.length - width) : bits;
  };
}

/**
 * The column's fraction digits, as the text protocol prints them: mysql2
 * trims a TIME's fraction ("10:00:00.5") and leaves out a zero fraction of
 * a DATETIME(3) ("... 08:00:00"); both get the column's digits back
 * ("10:00:00.500", "... 08:00:00.000").
 */
function withDigits(digits: number, then: Converter = asText): Converter {
  if (!(digits >= 1 && digits <= 6)) return then;
  return (value) => {
    if (typeof value !== 'string') return fallback(value);
    const dot = value.indexOf('.');
    const text =
      dot < 0
        ? `${value}.${'0'.repeat(digits)}`
        : value.slice(0, dot + 1) + value.slice(dot + 1).padEnd(digits, '0');
    return then(text);
  };
}

export function converterFor(field: MysqlField): Converter {
  if (field.extendedFormat === 'json') return asText;
  switch (field.columnType) {
    case T.TINY:
    case T.SHORT:
    case T.INT24:
    case T.LONG:
    case T.YEAR:
    case T.DOUBLE:
      return asNumber;
    case T.FLOAT:
      return asFloat;
    case T.LONGLONG:
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return asDecimalText;
    case T.TIMESTAMP:
      return withDigits(field.decimals, asTimestamp);
    case T.DATETIME:
      return withDigits(field.decimals);
    case T.TIME:
      return withDigits(field.decimals);
    case T.BIT:
      return bitsOf(field.columnLength);
    case T.GEOMETRY:
      return asBytes;
    case T.NULL:
      return () => null;
    case T.DATE:
    case T.NEWDATE:
    case T.JSON:
    case T.ENUM:
    case T.SET:
      return asText;
    default:
      return isBinary(field) ? asBytes : asText;
  }
}

/** Whether a result has GEOMETRY columns (read raw, see `geometryAsBytes`). */
export function hasGeometry(fields: readonly MysqlField[]): boolean {
  return fields.some((field) => field.columnType === T.GEOMETRY);
}

/**
 * A mysql2 typeCast that reads GEOMETRY values as the server's bytes
 * (mysql2 would parse them into objects and drop the SRID). Only set for
 * results with such a column: a typeCast makes mysql2's row parser about
 * ten times slower.
 */
export const geometryAsBytes = (
  field: { readonly type: string; buffer(): unknown },
  next: () => unknown,
): unknown => (field.type === 'GEOMETRY' ? field.buffer() : next());

/** A parameter as mysql2 binds it: text, a finite number, a boolean or NULL. */
export function toBindValue(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('a parameter is not a finite number');
    return value;
  }
  if (typeof value === 'bigint') return value.toString();
  throw new TypeError('a parameter must be text, a number, a boolean or null');
}
