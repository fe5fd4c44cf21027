import { JsonNumber, plainDecimal, plainJson } from './lossless-json.ts';

/**
 * A Flink logical type as the SQL Gateway serialises it in result columns (`logicalType`): the type
 * root (`INTEGER`, `TIMESTAMP_WITHOUT_TIME_ZONE`, `ROW`, …), nullability, and the root's parameters.
 */
export interface LogicalType {
  type: string;
  nullable?: boolean;
  length?: number;
  precision?: number;
  scale?: number;
  elementType?: LogicalType;
  keyType?: LogicalType;
  valueType?: LogicalType;
  fields?: { name: string; fieldType: LogicalType; description?: string }[];
  [other: string]: unknown;
}

/** A result column of the SQL Gateway. */
export interface FlinkColumn {
  name: string;
  logicalType: LogicalType;
  comment?: string | null;
}

const MAX_LENGTH = 2_147_483_647;

function withPrecision(name: string, t: LogicalType): string {
  return t.precision === undefined ? name : `${name}(${t.precision})`;
}

function quoteName(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** Flink SQL type text of a logical type, nested nullability included: `ARRAY<INT NOT NULL>`. */
export function formatLogicalType(t: LogicalType, nested = false): string {
  const base = formatRoot(t);
  return nested && t.nullable === false ? `${base} NOT NULL` : base;
}

function formatRoot(t: LogicalType): string {
  switch (t.type) {
    case 'INTEGER':
      return 'INT';
    case 'VARCHAR':
      return t.length === MAX_LENGTH ? 'STRING' : `VARCHAR(${t.length ?? 1})`;
    case 'CHAR':
      return `CHAR(${t.length ?? 1})`;
    case 'VARBINARY':
      return t.length === MAX_LENGTH ? 'BYTES' : `VARBINARY(${t.length ?? 1})`;
    case 'BINARY':
      return `BINARY(${t.length ?? 1})`;
    case 'DECIMAL':
      return `DECIMAL(${t.precision ?? 10}, ${t.scale ?? 0})`;
    case 'TIME_WITHOUT_TIME_ZONE':
      return withPrecision('TIME', t);
    case 'TIMESTAMP_WITHOUT_TIME_ZONE':
      return withPrecision('TIMESTAMP', t);
    case 'TIMESTAMP_WITH_LOCAL_TIME_ZONE':
      return withPrecision('TIMESTAMP_LTZ', t);
    case 'TIMESTAMP_WITH_TIME_ZONE':
      return `${withPrecision('TIMESTAMP', t)} WITH TIME ZONE`;
    case 'ARRAY':
    case 'MULTISET':
      return `${t.type}<${t.elementType ? formatLogicalType(t.elementType, true) : '?'}>`;
    case 'MAP':
      return `MAP<${t.keyType ? formatLogicalType(t.keyType, true) : '?'}, ${t.valueType ? formatLogicalType(t.valueType, true) : '?'}>`;
    case 'ROW':
      return `ROW<${(t.fields ?? []).map((f) => `${quoteName(f.name)} ${formatLogicalType(f.fieldType, true)}`).join(', ')}>`;
    default:
      return t.type;
  }
}

/** Integer types whose values JavaScript numbers hold exactly, and floating-point types. */
const NUMERIC = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'FLOAT', 'DOUBLE']);
/** Exact types that travel as decimal strings (the Sluice row convention). */
const EXACT = new Set(['BIGINT', 'DECIMAL']);

/**
 * Turns one value of Flink's JSON row format (parsed losslessly) into a Sluice row value:
 * BIGINT and DECIMAL become exact decimal strings, other numbers JavaScript numbers; arrays,
 * multisets, maps and rows are decoded element by element. Dates, times and timestamps stay the
 * ISO-8601 text Flink writes, and binary values its base64 text.
 */
export function decodeValue(value: unknown, t: LogicalType | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (!t) return plainJson(value);
  if (value instanceof JsonNumber) {
    if (EXACT.has(t.type)) return plainDecimal(value.text);
    if (NUMERIC.has(t.type)) return value.toNumber();
    return plainJson(value);
  }
  switch (t.type) {
    case 'ARRAY':
      return Array.isArray(value) ? value.map((v) => decodeValue(v, t.elementType)) : plainJson(value);
    case 'MULTISET':
      // A multiset is an object of element → count (elements as object keys).
      return isObject(value) ? mapValues(value, (v) => plainJson(v)) : plainJson(value);
    case 'MAP':
      return isObject(value) ? mapValues(value, (v) => decodeValue(v, t.valueType)) : plainJson(value);
    case 'ROW': {
      if (!isObject(value)) return plainJson(value);
      const types = new Map((t.fields ?? []).map((f) => [f.name, f.fieldType]));
      return mapValues(value, (v, k) => decodeValue(v, types.get(k)));
    }
    default:
      return plainJson(value);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof JsonNumber);
}

function mapValues(value: Record<string, unknown>, f: (v: unknown, k: string) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = f(v, k);
  return out;
}
