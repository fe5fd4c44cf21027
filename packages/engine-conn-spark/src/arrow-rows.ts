import type { Row } from '@sluice/core';
import { type Data, type DataType, DateUnit, IntervalUnit, RecordBatchReader, type Schema, TimeUnit, Type } from 'apache-arrow';
import { dateText, dayTimeIntervalText, timestampText, yearMonthIntervalText } from './temporal-text.ts';

/** A JSON-safe value as it travels in a Sluice row. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Reads the value at `index` of one column's data (null handling included). */
type Reader = (data: Data, index: number) => JsonValue;

const MICROS_PER_UNIT: Record<TimeUnit, [bigint, bigint]> = {
  // [multiply, divide] to get microseconds from the unit
  [TimeUnit.SECOND]: [1_000_000n, 1n],
  [TimeUnit.MILLISECOND]: [1000n, 1n],
  [TimeUnit.MICROSECOND]: [1n, 1n],
  [TimeUnit.NANOSECOND]: [1n, 1000n],
};

function toMicros(value: bigint, unit: TimeUnit): bigint {
  const [mul, div] = MICROS_PER_UNIT[unit];
  return (value * mul) / div;
}

function finite(n: number): number | string {
  return Number.isFinite(n) ? n : String(n);
}

const views = new WeakMap<Data, Buffer>();

/** A Buffer over a column's value bytes, made once per column chunk (not once per value). */
function valueBytes(data: Data): Buffer {
  let view = views.get(data);
  if (!view) {
    const values = data.values as Uint8Array;
    view = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    views.set(data, view);
  }
  return view;
}

function text(data: Data, index: number): string {
  const offsets = data.valueOffsets as Int32Array;
  return valueBytes(data).toString('utf8', Number(offsets[index]), Number(offsets[index + 1]));
}

function bytes(data: Data, index: number): string {
  const offsets = data.valueOffsets as Int32Array;
  return valueBytes(data).toString('base64', Number(offsets[index]), Number(offsets[index + 1]));
}

/** The unscaled two's-complement integer of a DECIMAL value (128 or 256 bits, little-endian words). */
function unscaled(data: Data, index: number, words: number): bigint {
  const values = data.values as Uint32Array;
  let out = 0n;
  for (let w = words - 1; w >= 0; w--) out = (out << 32n) | BigInt(values[index * words + w] as number);
  const bits = BigInt(words * 32);
  return out >= 1n << (bits - 1n) ? out - (1n << bits) : out;
}

/** `12345` with scale 2 → `123.45`; exact for any precision. */
export function decimalText(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  if (scale <= 0) return (negative ? '-' : '') + digits + '0'.repeat(-scale);
  const padded = digits.padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

function nullable(read: Reader): Reader {
  return (data, index) => (data.nullCount > 0 && !data.getValid(index) ? null : read(data, index));
}

function mapKey(key: JsonValue): string {
  return typeof key === 'string' ? key : JSON.stringify(key);
}

/**
 * Compiles the reader of one Arrow type into Sluice row values, following the conventions of the
 * other connectors: BIGINT and DECIMAL as exact decimal strings; DATE `YYYY-MM-DD`; TIMESTAMP as
 * ISO-8601 text with `Z` (TIMESTAMP_NTZ without); BINARY as base64; intervals as ISO-8601 durations;
 * arrays as arrays, structs and maps as objects; non-finite doubles as `NaN`/`Infinity` strings.
 */
export function compileReader(type: DataType): Reader {
  switch (type.typeId) {
    case Type.Null:
      return () => null;
    case Type.Bool:
      return nullable((data, index) => {
        const bit = data.offset + index;
        return ((data.values as Uint8Array)[bit >> 3]! & (1 << (bit % 8))) !== 0;
      });
    case Type.Int: {
      const { bitWidth } = type as unknown as { bitWidth: number };
      if (bitWidth === 64) return nullable((data, index) => (data.values as BigInt64Array | BigUint64Array)[index]!.toString());
      return nullable((data, index) => Number((data.values as Int32Array)[index]));
    }
    case Type.Float:
      return nullable((data, index) => finite(Number((data.values as Float64Array)[index])));
    case Type.Decimal: {
      const { scale, bitWidth } = type as unknown as { scale: number; bitWidth: number };
      const words = bitWidth / 32;
      return nullable((data, index) => decimalText(unscaled(data, index, words), scale));
    }
    case Type.Utf8:
    case Type.LargeUtf8:
      return nullable(text);
    case Type.Binary:
    case Type.LargeBinary:
      return nullable(bytes);
    case Type.Date: {
      const { unit } = type as unknown as { unit: DateUnit };
      if (unit === DateUnit.DAY) return nullable((data, index) => dateText(Number((data.values as Int32Array)[index])));
      return nullable((data, index) => dateText(Math.floor(Number((data.values as BigInt64Array)[index]) / 86_400_000)));
    }
    case Type.Timestamp: {
      const { unit, timezone } = type as unknown as { unit: TimeUnit; timezone: string | null };
      const utc = Boolean(timezone);
      return nullable((data, index) => timestampText(toMicros((data.values as BigInt64Array)[index]!, unit), utc));
    }
    case Type.Duration: {
      const { unit } = type as unknown as { unit: TimeUnit };
      return nullable((data, index) => dayTimeIntervalText(toMicros((data.values as BigInt64Array)[index]!, unit)));
    }
    case Type.Interval: {
      const { unit } = type as unknown as { unit: IntervalUnit };
      if (unit === IntervalUnit.YEAR_MONTH) return nullable((data, index) => yearMonthIntervalText((data.values as Int32Array)[index]!));
      return nullable(() => 'unsupported interval');
    }
    case Type.List:
    case Type.LargeList: {
      const element = compileReader((type.children[0] as { type: DataType }).type);
      return nullable((data, index) => {
        const offsets = data.valueOffsets as Int32Array;
        const child = data.children[0] as Data;
        const out: JsonValue[] = [];
        for (let i = Number(offsets[index]); i < Number(offsets[index + 1]); i++) out.push(element(child, i));
        return out;
      });
    }
    case Type.FixedSizeList: {
      const { listSize } = type as unknown as { listSize: number };
      const element = compileReader((type.children[0] as { type: DataType }).type);
      return nullable((data, index) => {
        const child = data.children[0] as Data;
        const out: JsonValue[] = [];
        for (let i = index * listSize; i < (index + 1) * listSize; i++) out.push(element(child, i));
        return out;
      });
    }
    case Type.Struct: {
      const fields = (type.children as { name: string; type: DataType }[]).map((f) => ({ name: f.name, read: compileReader(f.type) }));
      return nullable((data, index) => {
        const out: { [key: string]: JsonValue } = {};
        fields.forEach((f, c) => {
          out[f.name] = f.read(data.children[c] as Data, index);
        });
        return out;
      });
    }
    case Type.Map: {
      const entries = (type.children[0] as { type: DataType }).type;
      const [keyField, valueField] = entries.children as { type: DataType }[];
      const readKey = compileReader((keyField as { type: DataType }).type);
      const readValue = compileReader((valueField as { type: DataType }).type);
      return nullable((data, index) => {
        const offsets = data.valueOffsets as Int32Array;
        const struct = data.children[0] as Data;
        const out: { [key: string]: JsonValue } = {};
        for (let i = Number(offsets[index]); i < Number(offsets[index + 1]); i++) {
          out[mapKey(readKey(struct.children[0] as Data, i))] = readValue(struct.children[1] as Data, i);
        }
        return out;
      });
    }
    default:
      return nullable(() => `unsupported Arrow type ${String(type)}`);
  }
}

/** A decoded Arrow IPC stream: its schema and its rows, in order. */
export interface DecodedBatches {
  schema: Schema;
  rows: Row[];
}

/**
 * Decodes one Arrow IPC stream (Spark Connect sends one per `arrow_batch`: a schema message and its
 * record batches) into Sluice rows.
 */
export function decodeArrowBatches(ipc: Uint8Array): DecodedBatches {
  const reader = RecordBatchReader.from(ipc);
  reader.open();
  // The reader forgets its schema once it is exhausted and closes itself.
  const schema = reader.schema;
  const rows: Row[] = [];
  let readers: Reader[] | undefined;
  for (const batch of reader) {
    readers ??= batch.schema.fields.map((f) => compileReader(f.type));
    const columns = batch.data.children;
    for (let r = 0; r < batch.numRows; r++) {
      const row: JsonValue[] = new Array(readers.length);
      for (let c = 0; c < readers.length; c++) row[c] = (readers[c] as Reader)(columns[c] as Data, r);
      rows.push(row);
    }
  }
  return { schema, rows };
}
