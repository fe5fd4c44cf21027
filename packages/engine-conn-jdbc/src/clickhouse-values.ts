import { type ChType, typeArgs, unwrapChType } from './clickhouse-types.ts';

/** How a ClickHouse scalar's text becomes a Sluice row value. */
type ChKind = 'int' | 'exact' | 'float' | 'bool' | 'datetime' | 'nothing' | 'text';

const KINDS: Readonly<Record<string, ChKind>> = {
  Int8: 'int',
  Int16: 'int',
  Int32: 'int',
  UInt8: 'int',
  UInt16: 'int',
  UInt32: 'int',
  Int64: 'exact',
  UInt64: 'exact',
  Int128: 'exact',
  UInt128: 'exact',
  Int256: 'exact',
  UInt256: 'exact',
  Decimal: 'exact',
  Decimal32: 'exact',
  Decimal64: 'exact',
  Decimal128: 'exact',
  Decimal256: 'exact',
  Float32: 'float',
  Float64: 'float',
  Bool: 'bool',
  DateTime: 'datetime',
  DateTime64: 'datetime',
  Nothing: 'nothing',
};

const ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', r: '\r', n: '\n', t: '\t', '0': '\0', a: '\x07', v: '\v', e: '\x1b' };

/** Undoes ClickHouse's backslash escaping (TSV fields and quoted strings use the same escapes). */
export function unescapeCh(text: string): string {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\' || i === text.length - 1) {
      out += c;
      continue;
    }
    const next = text[i + 1]!;
    i += 1;
    if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out += String.fromCharCode(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out += ESCAPES[next] ?? next;
    }
  }
  return out;
}

function convertScalar(text: string, kind: ChKind): unknown {
  switch (kind) {
    case 'int':
      return Number(text);
    case 'float':
      if (text === 'nan' || text === '-nan') return 'NaN';
      if (text === 'inf' || text === '+inf') return 'Infinity';
      if (text === '-inf') return '-Infinity';
      return Number(text);
    case 'bool':
      return text === 'true' || text === '1';
    case 'datetime':
      // `2024-01-31 12:00:00[.123]`, wall time in the column's (or the server's) time zone.
      return text.length >= 19 && text[10] === ' ' ? `${text.slice(0, 10)}T${text.slice(11)}` : text;
    case 'nothing':
      return null;
    default:
      // Exact numbers, dates, strings, UUID, enums, IPs: the server's text.
      return text;
  }
}

function kindOf(t: ChType): ChKind {
  return KINDS[t.name] ?? 'text';
}

function mapKey(key: unknown): string {
  return typeof key === 'string' ? key : JSON.stringify(key);
}

/** Parses a value in ClickHouse's quoted text form (as inside arrays and tuples) starting at `pos`. */
function parseQuoted(s: string, pos: number, type: ChType): [unknown, number] {
  const { type: t } = unwrapChType(type);
  let i = pos;
  while (s[i] === ' ') i += 1;
  if (s.startsWith('NULL', i) && !/[A-Za-z0-9_]/.test(s[i + 4] ?? '')) return [null, i + 4];
  const args = typeArgs(t);
  if (t.name === 'Array' || t.name === 'Tuple' || t.name === 'Map') {
    const [open, close] = t.name === 'Array' ? ['[', ']'] : t.name === 'Tuple' ? ['(', ')'] : ['{', '}'];
    if (s[i] !== open) throw new Error(`expected ${open} at ${i} in ${s.slice(0, 80)}`);
    i += 1;
    const items: unknown[] = [];
    const entries: Record<string, unknown> = {};
    let index = 0;
    while (s[i] === ' ') i += 1;
    if (s[i] === close) return [t.name === 'Map' ? entries : items, i + 1];
    for (;;) {
      if (t.name === 'Map') {
        const [key, afterKey] = parseQuoted(s, i, args[0]!);
        i = afterKey;
        while (s[i] === ' ') i += 1;
        if (s[i] !== ':') throw new Error(`expected : at ${i} in ${s.slice(0, 80)}`);
        const [value, afterValue] = parseQuoted(s, i + 1, args[1]!);
        entries[mapKey(key)] = value;
        i = afterValue;
      } else {
        const elementType = t.name === 'Array' ? args[0]! : (args[index] ?? args[args.length - 1]!);
        const [value, after] = parseQuoted(s, i, elementType);
        items.push(value);
        i = after;
      }
      index += 1;
      while (s[i] === ' ') i += 1;
      if (s[i] === ',') {
        i += 1;
        continue;
      }
      if (s[i] === close) return [t.name === 'Map' ? entries : items, i + 1];
      throw new Error(`expected , or ${close} at ${i} in ${s.slice(0, 80)}`);
    }
  }
  if (s[i] === "'") {
    let j = i + 1;
    while (j < s.length && s[j] !== "'") j += s[j] === '\\' ? 2 : 1;
    return [convertScalar(unescapeCh(s.slice(i + 1, j)), kindOf(t)), j + 1];
  }
  let j = i;
  while (j < s.length && !',])}:'.includes(s[j]!)) j += 1;
  return [convertScalar(s.slice(i, j).trim(), kindOf(t)), j];
}

/**
 * The converter of one column: the raw TabSeparated field (still escaped) to its Sluice value.
 * `\N` is null; Int64 and wider, and Decimal, are decimal strings; Float nan/inf are `NaN`,
 * `Infinity`, `-Infinity`; Bool is boolean; DateTime is ISO text without an offset; Array and Tuple
 * are arrays; Map is an object; everything else is the server's text.
 */
export function chFieldConverter(type: ChType): (raw: string) => unknown {
  const { type: t } = unwrapChType(type);
  const composite = t.name === 'Array' || t.name === 'Tuple' || t.name === 'Map';
  const kind = kindOf(t);
  return (raw) => {
    if (raw === '\\N') return null;
    if (composite) return parseQuoted(raw, 0, t)[0];
    return convertScalar(unescapeCh(raw), kind);
  };
}
