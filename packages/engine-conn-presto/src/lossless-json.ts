/**
 * JSON parsing that keeps integers beyond 2^53 exact. The server writes BIGINT values as JSON numbers,
 * and `JSON.parse` would round 9007199254740993 to 9007199254740992. Node 20's `JSON.parse` gives
 * revivers no access to the source text, so long integer tokens are quoted before parsing instead:
 * they arrive as decimal strings, and the value decoder keeps every BIGINT as a string anyway.
 *
 * Integers of up to 15 digits are always exact in a double. The fast path (no run of 16 digits in the
 * whole text, the case for almost every page) is one regular-expression test plus the native parser.
 */

const SIXTEEN_DIGITS = /\d{16}/;

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
  if (!SIXTEEN_DIGITS.test(text)) return JSON.parse(text);
  return JSON.parse(text.replace(STRING_OR_LONG_INTEGER, quoteUnsafe));
}
