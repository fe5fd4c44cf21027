/**
 * A JSON number kept as its source text. Flink writes BIGINT and DECIMAL values as JSON numbers,
 * which `JSON.parse` would round beyond 2^53 or past 17 significant digits.
 */
export class JsonNumber {
  /** The number exactly as it was written, e.g. `12345678901234567` or `1.50`. */
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** The number as a JavaScript number (possibly rounded). */
  toNumber(): number {
    return Number(this.text);
  }
}

/** A failure to parse a response body as JSON; the message says where. */
export class JsonSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Parses JSON like `JSON.parse`, except that every number becomes a {@link JsonNumber} holding its
 * source text. Strings, literals, arrays and objects come out as usual.
 */
export function parseLosslessJson(text: string): unknown {
  let pos = 0;

  const fail = (what: string): never => {
    throw new JsonSyntaxError(`invalid JSON at offset ${pos}: ${what}`);
  };
  const skip = () => {
    while (pos < text.length && WS.has(text.charCodeAt(pos))) pos += 1;
  };

  const parseString = (): string => {
    // pos is at the opening quote. Find the closing quote, honouring escapes, then let JSON.parse
    // decode the escapes of that one literal.
    let end = pos + 1;
    let escaped = false;
    for (; end < text.length; end += 1) {
      const c = text.charCodeAt(end);
      if (c === 0x5c) {
        escaped = true;
        end += 1;
      } else if (c === 0x22) break;
    }
    if (end >= text.length) fail('unterminated string');
    const literal = text.slice(pos, end + 1);
    pos = end + 1;
    return escaped ? (JSON.parse(literal) as string) : literal.slice(1, -1);
  };

  const parseValue = (): unknown => {
    skip();
    const c = text[pos];
    if (c === '"') return parseString();
    if (c === '{') {
      pos += 1;
      const out: Record<string, unknown> = {};
      skip();
      if (text[pos] === '}') {
        pos += 1;
        return out;
      }
      for (;;) {
        skip();
        if (text[pos] !== '"') fail('expected a property name');
        const key = parseString();
        skip();
        if (text[pos] !== ':') fail("expected ':'");
        pos += 1;
        out[key] = parseValue();
        skip();
        if (text[pos] === ',') {
          pos += 1;
          continue;
        }
        if (text[pos] === '}') {
          pos += 1;
          return out;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      pos += 1;
      const out: unknown[] = [];
      skip();
      if (text[pos] === ']') {
        pos += 1;
        return out;
      }
      for (;;) {
        out.push(parseValue());
        skip();
        if (text[pos] === ',') {
          pos += 1;
          continue;
        }
        if (text[pos] === ']') {
          pos += 1;
          return out;
        }
        fail("expected ',' or ']'");
      }
    }
    if (text.startsWith('true', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return null;
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (!m) return fail('unexpected character');
    pos += m[0].length;
    return new JsonNumber(m[0]);
  };

  const value = parseValue();
  skip();
  if (pos !== text.length) fail('trailing characters');
  return value;
}

/**
 * Replaces every {@link JsonNumber} in a parsed value by a plain number, or by its text when the
 * number is an integer a JavaScript number cannot hold exactly.
 */
export function plainJson(value: unknown): unknown {
  if (value instanceof JsonNumber) {
    const n = value.toNumber();
    return Number.isInteger(n) && !Number.isSafeInteger(n) && /^-?\d+$/.test(value.text) ? value.text : n;
  }
  if (Array.isArray(value)) return value.map(plainJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plainJson(v);
    return out;
  }
  return value;
}

/**
 * A decimal number's text in plain notation, exact: `1E-7` → `0.0000001`, `1.5E+3` → `1500`.
 * Text without an exponent is returned unchanged.
 */
export function plainDecimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?[eE]([+-]?\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, int = '', frac = '', expText = '0'] = m;
  const digits = `${int}${frac}`;
  const point = int.length + Number(expText);
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = `${digits}${'0'.repeat(point - digits.length)}`;
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  // Leading zeros of the integer part (from e.g. 0.5E1 → 05) go; one stays before a point.
  out = out.replace(/^0+(?=\d)/, '');
  return `${sign}${out}`;
}
