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

/** A read's offset or limit, checked: a non-negative integer (a limit may also be unbounded). */
export function readBound(name: 'offset' | 'limit', value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (value === Number.POSITIVE_INFINITY && name === 'limit') return value;
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
  return value;
}

/** Rows `offset .. offset+limit-1` of a whole set held as JSON lines, parsed in one call. */
export function sliceLines(text: string, offset: number, limit: number): Row[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const picked = lines.slice(offset, limit === Number.POSITIVE_INFINITY ? undefined : offset + limit);
  return picked.length === 0 ? [] : (JSON.parse(`[${picked.join(',')}]`) as Row[]);
}
