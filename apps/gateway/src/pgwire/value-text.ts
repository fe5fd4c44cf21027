import type { PgType, ValueKind } from './pg-types.ts';

/** `+00:00` → `+00` as PostgreSQL prints offsets with no minutes. */
function offsetText(s: string): string {
  return s.replace(/([+-]\d{2}):00$/, '$1');
}

/** A Sluice timestamp (ISO-8601 text) in PostgreSQL's ISO output style: a space instead of the `T`. */
function timestampText(s: string, tz: boolean): string {
  const t = s.length > 10 && s[10] === 'T' ? `${s.slice(0, 10)} ${s.slice(11)}` : s;
  return tz ? offsetText(t) : t;
}

function jsonText(v: unknown): string {
  if (typeof v === 'string') {
    try {
      JSON.parse(v);
      return v;
    } catch {
      return JSON.stringify(v);
    }
  }
  return JSON.stringify(v);
}

/** The text form of one scalar value of `kind` (never null). */
export function scalarText(kind: ValueKind, v: unknown): string {
  switch (kind) {
    case 'bool':
      if (typeof v === 'boolean') return v ? 't' : 'f';
      return /^(t|true|1|y|yes|on)$/i.test(String(v)) ? 't' : 'f';
    case 'bytea':
      return `\\x${Buffer.from(String(v), 'base64').toString('hex')}`;
    case 'timestamp':
      return timestampText(String(v), false);
    case 'timestamptz':
      return timestampText(String(v), true);
    case 'timetz':
      return offsetText(String(v));
    case 'json':
    case 'jsonb':
      return jsonText(v);
    default:
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
      return JSON.stringify(v);
  }
}

const NEEDS_QUOTES = /^$|^null$|[{}",\\\s]/i;

function arrayElement(kind: ValueKind, v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (Array.isArray(v)) return arrayText(kind, v);
  const s = scalarText(kind, v);
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/[\\"]/g, '\\$&')}"` : s;
}

/** PostgreSQL array text: `{1,2,NULL}`, `{"a b","c\"d"}`, nested arrays as nested braces. */
export function arrayText(kind: ValueKind, items: readonly unknown[]): string {
  let out = '{';
  for (let i = 0; i < items.length; i++) {
    if (i) out += ',';
    out += arrayElement(kind, items[i]);
  }
  return `${out}}`;
}

/** The text form of a (non-null) column value as PostgreSQL prints values of `type`. */
export function valueText(type: PgType, v: unknown): string {
  if (type.element) return Array.isArray(v) ? arrayText(type.element.kind, v) : String(v);
  return scalarText(type.kind, v);
}
