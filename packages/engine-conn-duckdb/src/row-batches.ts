import type { JsonValue } from './value-conversion.ts';

/** A rough, cheap estimate of a value's serialized size in bytes (close to its JSON length). */
export function estimateBytes(value: JsonValue): number {
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'number':
      return 8;
    case 'boolean':
      return 5;
    default:
      break;
  }
  if (value === null) return 4;
  let total = 2;
  if (Array.isArray(value)) {
    for (const item of value) total += estimateBytes(item) + 1;
    return total;
  }
  for (const key in value) total += key.length + 4 + estimateBytes(value[key] as JsonValue);
  return total;
}

/**
 * Splits rows into batches of at most `maxRows` rows and about `maxBytes` bytes each; a single row
 * larger than `maxBytes` travels alone.
 */
export function splitIntoBatches(rows: JsonValue[][], maxRows: number, maxBytes: number): JsonValue[][][] {
  const batches: JsonValue[][][] = [];
  let current: JsonValue[][] = [];
  let bytes = 0;
  for (const row of rows) {
    let rowBytes = 2;
    for (const value of row) rowBytes += estimateBytes(value) + 1;
    if (current.length > 0 && (current.length >= maxRows || bytes + rowBytes > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += rowBytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
