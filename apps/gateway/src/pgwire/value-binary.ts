import type { ByteWriter } from './byte-writer.ts';
import type { PgType, ValueKind } from './pg-types.ts';

/** A value that cannot be written in the binary format of its type. */
export class BinaryEncodingError extends Error {
  constructor(kind: string, value: unknown) {
    super(`cannot encode ${JSON.stringify(value)?.slice(0, 60)} as binary ${kind}`);
    this.name = 'BinaryEncodingError';
  }
}

const PG_EPOCH_DAYS = 10_957; // 2000-01-01 − 1970-01-01
const MICROS_PER_DAY = 86_400_000_000n;
const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

/** Days since 1970-01-01 of a proleptic Gregorian date (years 0–99 are not shifted to the 1900s). */
function epochDays(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return Math.round(d.getTime() / 86_400_000);
}

const DATE = /^([+-]?\d{4,})-(\d{2})-(\d{2})/;
const TS = /^([+-]?\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?|Z)?$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?$/;

function fracMicros(f: string | undefined): bigint {
  return f ? BigInt(f.padEnd(6, '0').slice(0, 6)) : 0n;
}

function offsetSeconds(sign: string | undefined, h?: string, m?: string, s?: string): number {
  if (!sign) return 0;
  const n = Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
  return sign === '-' ? -n : n;
}

/** Microseconds since 2000-01-01 00:00 (UTC for timestamptz) of an ISO timestamp. */
export function timestampMicros(text: string, tz: boolean): bigint {
  if (text === 'infinity') return INT64_MAX;
  if (text === '-infinity') return INT64_MIN;
  const m = TS.exec(text);
  if (!m) throw new BinaryEncodingError(tz ? 'timestamptz' : 'timestamp', text);
  const days = BigInt(epochDays(Number(m[1]), Number(m[2]), Number(m[3])) - PG_EPOCH_DAYS);
  const secs = BigInt(Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]));
  let micros = days * MICROS_PER_DAY + secs * 1_000_000n + fracMicros(m[7]);
  if (tz) micros -= BigInt(offsetSeconds(m[8], m[9], m[10], m[11])) * 1_000_000n;
  return micros;
}

/** Days since 2000-01-01 of an ISO date. */
export function dateDays(text: string): number {
  if (text === 'infinity') return 0x7fffffff;
  if (text === '-infinity') return -0x80000000;
  const m = DATE.exec(text);
  if (!m) throw new BinaryEncodingError('date', text);
  return epochDays(Number(m[1]), Number(m[2]), Number(m[3])) - PG_EPOCH_DAYS;
}

/** Interval text (PostgreSQL's or DuckDB's: `1 year 2 mons 3 days 04:05:06.5`) as months, days, micros. */
export function intervalParts(text: string): { months: number; days: number; micros: bigint } {
  let months = 0;
  let days = 0;
  let micros = 0n;
  const re =
    /([+-]?\d+(?:\.\d+)?)\s*(years?|mons?|months?|days?|hours?|minutes?|mins?|seconds?|secs?|microseconds?|milliseconds?)|([+-])?(\d+):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?/gi;
  let matched = '';
  for (const m of text.matchAll(re)) {
    matched += m[0];
    if (m[1] !== undefined) {
      const n = Number(m[1]);
      const unit = (m[2] as string).toLowerCase();
      if (unit.startsWith('year')) months += n * 12;
      else if (unit.startsWith('mon')) months += n;
      else if (unit.startsWith('day')) days += n;
      else if (unit.startsWith('hour')) micros += BigInt(Math.round(n * 3_600_000_000));
      else if (unit.startsWith('min')) micros += BigInt(Math.round(n * 60_000_000));
      else if (unit.startsWith('milli')) micros += BigInt(Math.round(n * 1000));
      else if (unit.startsWith('micro')) micros += BigInt(Math.round(n));
      else micros += BigInt(Math.round(n * 1_000_000));
    } else {
      const t = BigInt(Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6] ?? 0)) * 1_000_000n + fracMicros(m[7]);
      micros += m[3] === '-' ? -t : t;
    }
  }
  if (!matched && text.trim() !== '') throw new BinaryEncodingError('interval', text);
  return { months, days, micros };
}

/** Writes a decimal string as PostgreSQL's binary numeric (base-10000 digits). */
function writeNumeric(w: ByteWriter, value: unknown): void {
  let s = typeof value === 'number' ? (Number.isInteger(value) ? value.toFixed(0) : String(value)) : String(value).trim();
  if (/^nan$/i.test(s)) return void w.int16(0).int16(0).int16(0xc000).int16(0);
  if (/^\+?inf(inity)?$/i.test(s)) return void w.int16(0).int16(0).int16(0xd000).int16(0);
  if (/^-inf(inity)?$/i.test(s)) return void w.int16(0).int16(0).int16(0xf000).int16(0);
  const e = /^([+-]?)(\d*)(?:\.(\d*))?e([+-]?\d+)$/i.exec(s);
  if (e) {
    const digits = (e[2] ?? '') + (e[3] ?? '');
    const point = (e[2] ?? '').length + Number(e[4]);
    const padded = point < 0 ? '0'.repeat(-point) + digits : digits.padEnd(point, '0');
    const at = Math.max(point, 0);
    s = `${e[1]}${padded.slice(0, at) || '0'}.${padded.slice(at)}`;
  }
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === '' && !m[3])) throw new BinaryEncodingError('numeric', value);
  const negative = m[1] === '-';
  const intPart = (m[2] ?? '').replace(/^0+/, '');
  const frac = m[3] ?? '';
  const dscale = frac.length;
  const intGroups: number[] = [];
  for (let end = intPart.length; end > 0; end -= 4) intGroups.unshift(Number(intPart.slice(Math.max(0, end - 4), end)));
  const fracGroups: number[] = [];
  for (let i = 0; i < frac.length; i += 4) fracGroups.push(Number(frac.slice(i, i + 4).padEnd(4, '0')));
  let digits = [...intGroups, ...fracGroups];
  let weight = intGroups.length - 1;
  while (digits.length && digits[0] === 0) {
    digits.shift();
    weight--;
  }
  while (digits.length && digits[digits.length - 1] === 0) digits.pop();
  if (digits.length === 0) {
    weight = 0;
    digits = [];
  }
  w.int16(digits.length)
    .int16(weight)
    .int16(negative && digits.length ? 0x4000 : 0)
    .int16(dscale);
  for (const d of digits) w.int16(d);
}

function uuidBytes(v: unknown): Buffer {
  const hex = String(v).replace(/[-{}]/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new BinaryEncodingError('uuid', v);
  return Buffer.from(hex, 'hex');
}

/** Writes the binary form of one non-null scalar (without its length prefix). */
function writeScalar(w: ByteWriter, kind: ValueKind, v: unknown): void {
  switch (kind) {
    case 'bool':
      w.byte(v === true || /^(t|true|1)$/i.test(String(v)) ? 1 : 0);
      return;
    case 'int2':
      w.int16(Number(v));
      return;
    case 'int4':
      w.int32(Number(v));
      return;
    case 'int8': {
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(BigInt(typeof v === 'number' ? Math.trunc(v) : String(v)));
      w.bytes(b);
      return;
    }
    case 'float4': {
      const b = Buffer.allocUnsafe(4);
      b.writeFloatBE(Number(v));
      w.bytes(b);
      return;
    }
    case 'float8': {
      const b = Buffer.allocUnsafe(8);
      b.writeDoubleBE(Number(v));
      w.bytes(b);
      return;
    }
    case 'numeric':
      writeNumeric(w, v);
      return;
    case 'bytea':
      w.bytes(Buffer.from(String(v), 'base64'));
      return;
    case 'date':
      w.int32(dateDays(String(v)));
      return;
    case 'timestamp':
    case 'timestamptz': {
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(timestampMicros(String(v), kind === 'timestamptz'));
      w.bytes(b);
      return;
    }
    case 'time':
    case 'timetz': {
      const m = TIME.exec(String(v));
      if (!m) throw new BinaryEncodingError(kind, v);
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(BigInt(Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1_000_000n + fracMicros(m[4]));
      w.bytes(b);
      // timetz: the zone as seconds west of UTC.
      if (kind === 'timetz') w.int32(-offsetSeconds(m[5], m[6], m[7], m[8]));
      return;
    }
    case 'interval': {
      const p = intervalParts(String(v));
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(p.micros);
      w.bytes(b).int32(p.days).int32(p.months);
      return;
    }
    case 'uuid':
      w.bytes(uuidBytes(v));
      return;
    case 'jsonb':
      w.byte(1);
      w.utf8(typeof v === 'string' ? v : JSON.stringify(v));
      return;
    case 'json':
      w.utf8(typeof v === 'string' ? v : JSON.stringify(v));
      return;
    default:
      w.utf8(typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
}

function dims(v: unknown[]): number[] {
  const out = [v.length];
  let cur: unknown = v[0];
  while (Array.isArray(cur)) {
    out.push(cur.length);
    cur = cur[0];
  }
  return out;
}

/** Writes one value with its length prefix in binary format (-1 for null). */
export function writeBinaryValue(w: ByteWriter, type: PgType, v: unknown): void {
  if (v === null || v === undefined) {
    w.int32(-1);
    return;
  }
  const at = w.reserve32();
  if (type.element) {
    if (!Array.isArray(v)) throw new BinaryEncodingError('array', v);
    const shape = v.length === 0 ? [] : dims(v);
    const flat = shape.length ? (v.flat(shape.length - 1) as unknown[]) : [];
    if (flat.length !== shape.reduce((a, b) => a * b, 1) && shape.length) throw new BinaryEncodingError('array (not rectangular)', v);
    w.int32(shape.length)
      .int32(flat.some((x) => x === null || x === undefined) ? 1 : 0)
      .int32(type.element.oid);
    for (const n of shape) w.int32(n).int32(1);
    for (const x of flat) writeBinaryValue(w, type.element, x);
  } else {
    writeScalar(w, type.kind, v);
  }
  w.patch32(at, w.since(at));
}
