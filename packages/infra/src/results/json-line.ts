import type { Row } from '@sluice/core';

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * Serializes a row as one JSON line (without the newline). Rows are meant to be JSON-safe already
 * (big numbers as strings); a stray bigint is written as its decimal string instead of throwing.
 */
export function rowToJson(row: Row): string {
  if (!Array.isArray(row)) throw new TypeError(`a result row must be an array, got ${row === null ? 'null' : typeof row}`);
  try {
    return JSON.stringify(row);
  } catch (e) {
    // Only bigints are worth a slower second pass; anything else (cycles) is a real error.
    if (e instanceof TypeError && /BigInt/i.test(e.message)) return JSON.stringify(row, bigintAsString);
    throw e;
  }
}
