/**
 * PostgreSQL values as the result contract (ReadResultSchema in
 * @sqlwarden/core) carries them, type names of result columns, and
 * parameters as the wire carries them. The bounded read that uses these is
 * read.ts.
 *
 * Values: int2/int4/oid and finite float4/float8 become numbers, bool a
 * boolean; everything else (int8, numeric, dates and times, bytea, json,
 * arrays, enums) stays the exact text the server sent, since JSON cannot
 * hold them exactly. The session runs with TimeZone UTC and DateStyle ISO.
 *
 * Type names come from the type OIDs in RowDescription. The built-in types
 * are known here; other OIDs (enums, domains, extension types) are looked
 * up in pg_type once and cached per source.
 */
import type { PgClient } from './config.js';

const INTEGER_OIDS = new Set([21, 23, 26]); // int2, int4, oid
const FLOAT_OIDS = new Set([700, 701]); // float4, float8
const BOOL_OID = 16;

export type Parser = (raw: string) => unknown;
export const asText: Parser = (raw) => raw;
const asInteger: Parser = (raw) => Number(raw);
const asFloat: Parser = (raw) => {
  const value = Number(raw);
  return Number.isFinite(value) ? value : raw; // NaN and Infinity stay text: JSON has no such numbers
};
const asBool: Parser = (raw) => raw === 't';

export function parserFor(oid: number): Parser {
  if (INTEGER_OIDS.has(oid)) return asInteger;
  if (FLOAT_OIDS.has(oid)) return asFloat;
  if (oid === BOOL_OID) return asBool;
  return asText;
}

/** A parameter as the wire carries it: text or NULL. Arrays become PostgreSQL array literals. */
export function toWireValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('a parameter is not a finite number');
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) {
    const items = value.map((item) => {
      const text = toWireValue(item);
      return text === null ? 'NULL' : `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
    });
    return `{${items.join(',')}}`;
  }
  throw new TypeError('a parameter must be text, a number, a boolean, null or an array of those');
}

const BUILTIN: Readonly<Record<number, string>> = {
  16: 'bool',
  17: 'bytea',
  18: 'char',
  19: 'name',
  20: 'int8',
  21: 'int2',
  23: 'int4',
  25: 'text',
  26: 'oid',
  114: 'json',
  142: 'xml',
  600: 'point',
  650: 'cidr',
  700: 'float4',
  701: 'float8',
  705: 'unknown',
  790: 'money',
  829: 'macaddr',
  869: 'inet',
  1000: 'bool[]',
  1001: 'bytea[]',
  1005: 'int2[]',
  1007: 'int4[]',
  1009: 'text[]',
  1014: 'bpchar[]',
  1015: 'varchar[]',
  1016: 'int8[]',
  1021: 'float4[]',
  1022: 'float8[]',
  1042: 'bpchar',
  1043: 'varchar',
  1082: 'date',
  1083: 'time',
  1114: 'timestamp',
  1115: 'timestamp[]',
  1182: 'date[]',
  1184: 'timestamptz',
  1185: 'timestamptz[]',
  1186: 'interval',
  1231: 'numeric[]',
  1266: 'timetz',
  1560: 'bit',
  1562: 'varbit',
  1700: 'numeric',
  2249: 'record',
  2278: 'void',
  2950: 'uuid',
  2951: 'uuid[]',
  3614: 'tsvector',
  3615: 'tsquery',
  3802: 'jsonb',
  3807: 'jsonb[]',
  3904: 'int4range',
  3906: 'numrange',
  3910: 'tstzrange',
  3912: 'daterange',
  3926: 'int8range',
};

export class TypeNames {
  readonly #names = new Map<number, string>(
    Object.entries(BUILTIN).map(([oid, name]) => [Number(oid), name]),
  );

  name(oid: number): string {
    return this.#names.get(oid) ?? 'unknown';
  }

  /** Looks up the names of OIDs not seen before, on a client the caller holds. */
  async resolve(client: PgClient, oids: Iterable<number>): Promise<void> {
    const missing = [...new Set(oids)].filter((oid) => !this.#names.has(oid));
    if (missing.length === 0) return;
    const result = await client.query<[number, string, string]>({
      text: `SELECT t.oid::int, t.typname, e.typname
               FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
              WHERE t.oid = ANY($1::oid[])`,
      values: [missing],
      rowMode: 'array',
    });
    for (const [oid, name, element] of result.rows)
      this.#names.set(oid, element ? `${element}[]` : name);
    for (const oid of missing) if (!this.#names.has(oid)) this.#names.set(oid, 'unknown');
  }
}
