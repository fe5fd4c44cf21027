import type { Column } from '@sluice/core';

/** What a MySQL/MariaDB result column says about itself (the protocol's column definition). */
export interface MysqlField {
  name: string;
  columnType?: number;
  flags: number | string[];
  decimals: number;
  columnLength?: number;
  characterSet?: number;
  encoding?: string;
  /** MariaDB 10.5+: `uuid`, `inet4`, `inet6`, `point`… */
  extendedTypeName?: string;
  /** MariaDB 10.5+: `json` for JSON columns (stored as LONGTEXT). */
  extendedFormat?: string;
}

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

const NOT_NULL = 1;
const UNSIGNED = 32;
const ENUM_FLAG = 256;
const SET_FLAG = 2048;
/** The `binary` character set: the bytes are not text. */
const BINARY_CHARSET = 63;

function flagsOf(field: MysqlField): number {
  return typeof field.flags === 'number' ? field.flags : 0;
}

type Kind = 'int' | 'exact' | 'float' | 'date' | 'datetime' | 'bytes' | 'json' | 'bit' | 'null' | 'text';

/** How one column converts, and its SQL type name. */
export interface MysqlColumnPlan {
  column: Column;
  kind: Kind;
  encoding: BufferEncoding;
}

function decimalName(field: MysqlField): string {
  const unsigned = (flagsOf(field) & UNSIGNED) !== 0;
  const length = field.columnLength ?? 0;
  const scale = field.decimals;
  const precision = length - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1);
  return `DECIMAL(${precision},${scale})`;
}

function withFsp(name: string, field: MysqlField): string {
  return field.decimals > 0 && field.decimals <= 6 ? `${name}(${field.decimals})` : name;
}

const TEXT_ENCODINGS = new Set<string>(['utf8', 'utf-8', 'latin1', 'ascii', 'ucs2', 'utf16le']);

/** Plans the conversion of one column from its definition. */
export function planColumn(field: MysqlField): MysqlColumnPlan {
  const flags = flagsOf(field);
  const unsigned = (flags & UNSIGNED) !== 0 ? ' UNSIGNED' : '';
  const binary = field.characterSet === BINARY_CHARSET;
  const encoding = (field.encoding && TEXT_ENCODINGS.has(field.encoding) ? field.encoding : 'utf8') as BufferEncoding;
  const nullable = (flags & NOT_NULL) === 0;
  const plan = (type: string, kind: Kind): MysqlColumnPlan => ({ column: { name: field.name, type, nullable }, kind, encoding });
  if (field.extendedFormat === 'json') return plan('JSON', 'json');
  if (field.extendedTypeName) return plan(field.extendedTypeName.toUpperCase(), binary ? 'bytes' : 'text');
  switch (field.columnType) {
    case T.TINY:
      return plan(`TINYINT${unsigned}`, 'int');
    case T.SHORT:
      return plan(`SMALLINT${unsigned}`, 'int');
    case T.INT24:
      return plan(`MEDIUMINT${unsigned}`, 'int');
    case T.LONG:
      return plan(`INT${unsigned}`, 'int');
    case T.YEAR:
      return plan('YEAR', 'int');
    case T.LONGLONG:
      return plan(`BIGINT${unsigned}`, 'exact');
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return plan(`${decimalName(field)}${unsigned}`, 'exact');
    case T.FLOAT:
      return plan('FLOAT', 'float');
    case T.DOUBLE:
      return plan('DOUBLE', 'float');
    case T.DATE:
    case T.NEWDATE:
      return plan('DATE', 'date');
    case T.DATETIME:
      return plan(withFsp('DATETIME', field), 'datetime');
    case T.TIMESTAMP:
      return plan(withFsp('TIMESTAMP', field), 'datetime');
    case T.TIME:
      return plan(withFsp('TIME', field), 'text');
    case T.BIT:
      return plan(`BIT(${field.columnLength ?? 1})`, 'bit');
    case T.JSON:
      return plan('JSON', 'json');
    case T.NULL:
      return plan('NULL', 'null');
    case T.GEOMETRY:
      return plan('GEOMETRY', 'bytes');
    case T.VECTOR:
      return plan('VECTOR', 'bytes');
    case T.ENUM:
      return plan('ENUM', 'text');
    case T.SET:
      return plan('SET', 'text');
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
      return binary ? plan('BLOB', 'bytes') : plan('TEXT', 'text');
    case T.STRING:
      if (flags & ENUM_FLAG) return plan('ENUM', 'text');
      if (flags & SET_FLAG) return plan('SET', 'text');
      return binary ? plan('BINARY', 'bytes') : plan('CHAR', 'text');
    default:
      // VARCHAR, VAR_STRING and anything newer.
      return binary ? plan('VARBINARY', 'bytes') : plan('VARCHAR', 'text');
  }
}

/**
 * Converts one value, read as raw bytes, by its column's plan. Integers up to INT are numbers; BIGINT
 * and DECIMAL are decimal strings; FLOAT/DOUBLE are numbers; DATE is `YYYY-MM-DD`; DATETIME and
 * TIMESTAMP are ISO text without an offset (TIMESTAMP in the session time zone); zero dates and TIME
 * stay as the server prints them; BLOB/BINARY/GEOMETRY are base64; BIT is the decimal string of its
 * value; JSON is parsed.
 */
export function convertMysqlValue(raw: Buffer | null | undefined, plan: MysqlColumnPlan): unknown {
  if (raw === null || raw === undefined) return null;
  switch (plan.kind) {
    case 'bytes':
      return raw.toString('base64');
    case 'bit': {
      let value = 0n;
      for (const byte of raw) value = (value << 8n) | BigInt(byte);
      return value.toString();
    }
    case 'null':
      return null;
    default:
      break;
  }
  const text = raw.toString(plan.encoding);
  switch (plan.kind) {
    case 'int':
      return Number(text);
    case 'float':
      return Number(text);
    case 'datetime':
      return text.length >= 19 && text[10] === ' ' ? `${text.slice(0, 10)}T${text.slice(11)}` : text;
    case 'json':
      return JSON.parse(text);
    default:
      // exact numbers, dates, TIME, text, enums.
      return text;
  }
}
