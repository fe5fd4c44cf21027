import {
  DuckDBArrayValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimeNSValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeTZValue,
  DuckDBTimeValue,
  DuckDBUnionValue,
  type DuckDBValue,
  DuckDBVariantValue,
} from '@duckdb/node-api';
import { formatDate, formatOffset, formatTimeOfDay, formatTimestamp } from './temporal-text.ts';

/** A JSON-safe value as it travels in a Sluice row. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

function infinity(finite: boolean, negative: boolean): string | undefined {
  if (finite) return undefined;
  return negative ? '-infinity' : 'infinity';
}

function mapKey(key: JsonValue): string {
  return typeof key === 'string' ? key : JSON.stringify(key);
}

/**
 * Converts one DuckDB value to its Sluice row form: exact types (BIGINT, HUGEINT, UBIGINT, DECIMAL)
 * as decimal strings, DATE as `YYYY-MM-DD`, TIME/TIMESTAMP as ISO-8601 text (TIMESTAMPTZ and TIMETZ
 * with their offset, UTC for TIMESTAMPTZ), BLOB as base64, LIST/ARRAY as arrays, STRUCT/MAP as
 * objects, UNION as `{ tag, value }`, INTERVAL and everything else as DuckDB's text form; non-finite
 * doubles become the strings `Infinity`, `-Infinity` and `NaN`.
 */
export function toJsonValue(value: DuckDBValue): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    default:
      break;
  }
  if (value === null) return null;
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) return value.items.map(toJsonValue);
  if (value instanceof DuckDBStructValue) {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value.entries)) out[key] = toJsonValue(item);
    return out;
  }
  if (value instanceof DuckDBMapValue) {
    const out: { [key: string]: JsonValue } = {};
    for (const entry of value.entries) out[mapKey(toJsonValue(entry.key))] = toJsonValue(entry.value);
    return out;
  }
  if (value instanceof DuckDBDateValue) return infinity(value.isFinite, value.days < 0) ?? formatDate(value.days);
  if (value instanceof DuckDBTimestampValue) return infinity(value.isFinite, value.micros < 0n) ?? formatTimestamp(value.micros);
  if (value instanceof DuckDBTimestampTZValue) return infinity(value.isFinite, value.micros < 0n) ?? `${formatTimestamp(value.micros)}+00:00`;
  if (value instanceof DuckDBTimestampSecondsValue) return infinity(value.isFinite, value.seconds < 0n) ?? formatTimestamp(value.seconds, 1n);
  if (value instanceof DuckDBTimestampMillisecondsValue) return infinity(value.isFinite, value.millis < 0n) ?? formatTimestamp(value.millis, 1000n);
  if (value instanceof DuckDBTimestampNanosecondsValue) return infinity(value.isFinite, value.nanos < 0n) ?? formatTimestamp(value.nanos, 1_000_000_000n);
  if (value instanceof DuckDBTimeValue) return formatTimeOfDay(value.micros);
  if (value instanceof DuckDBTimeNSValue) return formatTimeOfDay(value.nanos, 1_000_000_000n);
  if (value instanceof DuckDBTimeTZValue) return formatTimeOfDay(value.micros) + formatOffset(value.offset);
  if (value instanceof DuckDBBlobValue) return Buffer.from(value.bytes.buffer, value.bytes.byteOffset, value.bytes.byteLength).toString('base64');
  if (value instanceof DuckDBUnionValue) return { tag: value.tag, value: toJsonValue(value.value) };
  if (value instanceof DuckDBVariantValue) return toJsonValue(value.value);
  // DECIMAL, INTERVAL, UUID, BIT, GEOMETRY…: DuckDB's own text form.
  return String(value);
}
