/**
 * JSON parsing that keeps integers beyond 2^53 exact. The server writes BIGINT values as JSON numbers,
 * and `JSON.parse` would round 9007199254740993 to 9007199254740992. Node 20's `JSON.parse` gives
 * revivers no access to the source text, so long integer tokens are quoted before parsing instead:
 * they arrive as decimal strings, and the value decoder keeps every BIGINT as a string anyway.
 */

/**
 * A JSON string literal (skipped as a whole, so digits inside strings are never touched), or an
 * integer token of 16 or more digits: not part of a fraction or exponent, not followed by one.
 */
const STRING_OR_LONG_INTEGER = /"[^"\\]*(?:\\.[^"\\]*)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function quoteUnsafe(token: string): string {
  if (token.charCodeAt(0) === 34 /* " */) return token;
  const n = BigInt(token);
  return n > MAX_SAFE || n < -MAX_SAFE ? `"${token}"` : token;
}

/** Parses `text` like `JSON.parse`, except that integers outside ±(2^53−1) become decimal strings. */
export function parseLosslessJson(text: string): unknown {
  return JSON.parse(text.replace(STRING_OR_LONG_INTEGER, quoteUnsafe));
}

/**
 * True when a parsed value holds a number that may be a rounded integer: an integral number beyond
 * ±(2^53−1). Every integer literal beyond that range parses to one, so none slips through; a large
 * integral double (1.0E20) also counts, which only costs a second, exact parse.
 */
export function holdsUnsafeInteger(value: unknown): boolean {
  if (typeof value === 'number') return (value > Number.MAX_SAFE_INTEGER || value < -Number.MAX_SAFE_INTEGER) && Number.isInteger(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (const item of value) if (holdsUnsafeInteger(item)) return true;
    return false;
  }
  for (const item of Object.values(value)) if (holdsUnsafeInteger(item)) return true;
  return false;
}

/**
 * Parses one protocol response. The native parser runs first, which is exact for nearly every page;
 * only a page whose `data` shows an integer beyond 2^53 is parsed again, exactly, from the text.
 * Checking the parsed rows costs far less than scanning the text of every page for long numbers.
 */
export function parseResponseJson(text: string): unknown {
  const parsed = JSON.parse(text) as { data?: unknown } | null;
  if (parsed !== null && typeof parsed === 'object' && holdsUnsafeInteger(parsed.data)) return parseLosslessJson(text);
  return parsed;
}
