import type { Row } from '@sluice/core';
import { type ProtocolColumn, rowFields, type TypeSignature, typeArguments } from './type-signature.ts';

/** Turns one protocol value into a Sluice row value; `null` stands for "unchanged". */
type Decoder = ((value: unknown) => unknown) | null;

/** BIGINT as a decimal string: exact numbers stay exact, and consumers see one type either way. */
function decodeBigint(value: unknown): unknown {
  return typeof value === 'number' ? String(value) : value;
}

/** `2024-01-02 03:04:05.123456` → `2024-01-02T03:04:05.123456`: ISO-8601, every digit kept. */
function decodeTimestamp(value: unknown): unknown {
  return typeof value === 'string' ? value.replace(' ', 'T') : value;
}

const OFFSET = /^[+-]\d{2}:\d{2}$/;

/**
 * `2024-01-02 03:04:05.1 +05:30` → `2024-01-02T03:04:05.1+05:30`; `… UTC` → `…Z`; a region zone,
 * which has no fixed offset, is kept by name: `2024-01-02T03:04:05.123[Europe/Paris]`.
 */
function decodeTimestampWithZone(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const first = value.indexOf(' ');
  const last = value.lastIndexOf(' ');
  if (first < 0 || last <= first) return value;
  const local = `${value.slice(0, first)}T${value.slice(first + 1, last)}`;
  const zone = value.slice(last + 1);
  if (OFFSET.test(zone)) return `${local}${zone}`;
  if (zone === 'UTC' || zone === 'Z') return `${local}Z`;
  return `${local}[${zone}]`;
}

function compile(sig: TypeSignature): Decoder {
  switch (sig.rawType.toLowerCase()) {
    case 'bigint':
      return decodeBigint;
    case 'timestamp':
      return decodeTimestamp;
    case 'timestamp with time zone':
      return decodeTimestampWithZone;
    case 'array': {
      const [elementType] = typeArguments(sig);
      const element = elementType ? compile(elementType) : null;
      if (!element) return null;
      return (value) => (Array.isArray(value) ? value.map(element) : value);
    }
    case 'map': {
      const [, valueType] = typeArguments(sig);
      const entry = valueType ? compile(valueType) : null;
      if (!entry) return null;
      return (value) => {
        if (value === null || typeof value !== 'object') return value;
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value)) out[key] = entry(item);
        return out;
      };
    }
    case 'row': {
      const fields = rowFields(sig);
      const decoders = fields.map((f) => compile(f.type));
      const names = fields.map((f) => f.name);
      // A row with field names becomes an object, like a DuckDB STRUCT; an anonymous row stays a list.
      if (names.every((n): n is string => n !== undefined)) {
        return (value) => {
          if (!Array.isArray(value)) return value;
          const out: Record<string, unknown> = {};
          for (let i = 0; i < names.length; i++) {
            const d = decoders[i];
            out[names[i] as string] = d ? d(value[i]) : value[i];
          }
          return out;
        };
      }
      if (decoders.every((d) => d === null)) return null;
      return (value) => (Array.isArray(value) ? value.map((item, i) => (decoders[i] ? (decoders[i] as (v: unknown) => unknown)(item) : item)) : value);
    }
    default:
      // Numbers, booleans, VARCHAR, DECIMAL (a string already), DATE, TIME, VARBINARY (base64),
      // JSON, UUID, intervals and non-finite doubles ("NaN", "Infinity") are JSON-safe as they come.
      return null;
  }
}

/**
 * Compiles the decoder of a result's rows from its columns. It rewrites rows in place (they are fresh
 * from the parser), touching only the columns that need it; null when no column does.
 */
export function compileRowDecoder(columns: readonly ProtocolColumn[]): ((rows: Row[]) => void) | null {
  const steps: { index: number; decode: (value: unknown) => unknown }[] = [];
  columns.forEach((column, index) => {
    const decode = column.typeSignature ? compile(column.typeSignature) : compile({ rawType: column.type.replace(/\(\s*\d+\s*(,\s*\d+\s*)?\)/g, '') });
    if (decode) steps.push({ index, decode });
  });
  if (steps.length === 0) return null;
  return (rows) => {
    for (const row of rows) {
      for (const { index, decode } of steps) row[index] = decode(row[index]);
    }
  };
}
