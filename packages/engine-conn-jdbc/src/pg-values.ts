import { isoDate, isoTimestamp, isoTimeTz } from './temporal-text.ts';

/**
 * How a PostgreSQL value's text becomes a Sluice row value. Domains convert as their base type;
 * every type not listed is `text` (its PostgreSQL text form).
 */
export type PgKind = 'int' | 'bigint' | 'numeric' | 'float' | 'bool' | 'date' | 'timestamp' | 'timestamptz' | 'time' | 'timetz' | 'bytea' | 'json' | 'text';

/** What a converter needs to know about the session's output settings. */
export interface PgOutputStyle {
  /** True while the session's DateStyle is ISO; otherwise dates and timestamps pass as the server's text. */
  isoDates: boolean;
}

/** The conversion of one column: scalar, or an array of scalars with the element type's delimiter. */
export interface PgConversion {
  kind: PgKind;
  /** Set for arrays: elements convert with `kind`. */
  array?: { delimiter: string };
}

function float(text: string): number | string {
  if (text === 'NaN') return 'NaN';
  if (text === 'Infinity' || text === '-Infinity') return text;
  return Number(text);
}

/** bytea text in either output format (`\x0a0b` hex or the legacy escape format) as base64. */
export function byteaToBase64(text: string): string {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex').toString('base64');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) {
      if (text[i + 1] === '\\') {
        bytes.push(92);
        i += 1;
      } else {
        bytes.push(Number.parseInt(text.slice(i + 1, i + 4), 8));
        i += 3;
      }
    } else {
      bytes.push(c);
    }
  }
  return Buffer.from(bytes).toString('base64');
}

/** Converts the text of one scalar value. */
export function convertScalar(text: string, kind: PgKind, style: PgOutputStyle): unknown {
  switch (kind) {
    case 'int':
      return Number(text);
    case 'float':
      return float(text);
    case 'bool':
      return text === 't' || text === 'true';
    case 'date':
      return style.isoDates ? isoDate(text) : text;
    case 'timestamp':
    case 'timestamptz':
      return style.isoDates ? isoTimestamp(text) : text;
    case 'timetz':
      return isoTimeTz(text);
    case 'bytea':
      return byteaToBase64(text);
    case 'json':
      return JSON.parse(text);
    default:
      // bigint, numeric, time, text and everything else: exact text.
      return text;
  }
}

/** Converts one column value (null stays null). */
export function convertValue(text: string | null, conversion: PgConversion, style: PgOutputStyle): unknown {
  if (text === null) return null;
  if (conversion.array) return parsePgArray(text, conversion.array.delimiter, (item) => convertScalar(item, conversion.kind, style));
  return convertScalar(text, conversion.kind, style);
}

/**
 * Parses PostgreSQL's array text (`{1,2,NULL}`, `{{"a b","c\"d"},{e,f}}`, `[0:1]={1,2}`) into nested
 * arrays, converting each element with `convert`. Unquoted `NULL` is null.
 */
export function parsePgArray(text: string, delimiter: string, convert: (item: string) => unknown): unknown[] {
  let i = 0;
  // Optional dimension decoration: [1:2][0:1]={...}
  if (text[0] === '[') {
    const eq = text.indexOf('=');
    if (eq > 0) i = eq + 1;
  }
  const parseLevel = (): unknown[] => {
    if (text[i] !== '{') throw new Error(`malformed array literal at ${i}: ${text.slice(0, 80)}`);
    i += 1;
    const out: unknown[] = [];
    if (text[i] === '}') {
      i += 1;
      return out;
    }
    for (;;) {
      while (text[i] === ' ') i += 1;
      if (text[i] === '{') {
        out.push(parseLevel());
      } else if (text[i] === '"') {
        i += 1;
        let value = '';
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i += 1;
          value += text[i] ?? '';
          i += 1;
        }
        i += 1;
        out.push(convert(value));
      } else {
        let end = i;
        while (end < text.length && text[end] !== delimiter && text[end] !== '}') end += 1;
        const raw = text.slice(i, end).trim();
        i = end;
        out.push(raw === 'NULL' ? null : convert(raw));
      }
      while (text[i] === ' ') i += 1;
      if (text[i] === delimiter) {
        i += 1;
        continue;
      }
      if (text[i] === '}') {
        i += 1;
        return out;
      }
      throw new Error(`malformed array literal at ${i}: ${text.slice(0, 80)}`);
    }
  };
  return parseLevel();
}
