import { BASE_TYPES, pgTypeByOid } from './pg-types.ts';
import type { SqlDialect } from './sql-lexer.ts';
import { dateDays, timestampMicros } from './value-binary.ts';

/** A parameter value that cannot be turned into a literal of its declared type. */
export class ParameterError extends Error {
  constructor(
    message: string,
    readonly sqlState: string,
  ) {
    super(message);
    this.name = 'ParameterError';
  }
}

/** A quoted string literal: quotes doubled; in MySQL, backslashes escaped too. NUL is refused. */
export function quoteString(s: string, dialect: SqlDialect): string {
  if (s.includes('\u0000')) throw new ParameterError('invalid byte sequence for encoding "UTF8": 0x00', '22021');
  const body = dialect === 'mysql' ? s.replace(/\\/g, '\\\\').replace(/'/g, "''") : s.replace(/'/g, "''");
  return `'${body}'`;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function isoFromMicros(micros: bigint, tz: boolean): string {
  const ms = Number(micros / 1000n) + 946_684_800_000;
  const frac = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const iso = new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  return `${iso}.${String(frac).padStart(6, '0')}${tz ? '+00' : ''}`;
}

/** PostgreSQL's binary numeric (base-10000 digits) as decimal text. */
function numericText(raw: Buffer, bad: () => Error): string {
  if (raw.length < 8) throw bad();
  const n = raw.readInt16BE(0);
  const weight = raw.readInt16BE(2);
  const sign = raw.readUInt16BE(4);
  const dscale = raw.readInt16BE(6);
  if (sign === 0xc000) return 'NaN';
  if (sign === 0xd000) return 'Infinity';
  if (sign === 0xf000) return '-Infinity';
  if (n < 0 || raw.length !== 8 + 2 * n || dscale < 0) throw bad();
  const digit = (i: number) => (i >= 0 && i < n ? raw.readInt16BE(8 + 2 * i) : 0);
  let int = '';
  for (let i = 0; i <= weight; i++) int += i === 0 ? String(digit(i)) : String(digit(i)).padStart(4, '0');
  let frac = '';
  for (let k = 0; k * 4 < dscale; k++) frac += String(digit(weight + 1 + k)).padStart(4, '0');
  const text = `${int || '0'}${dscale > 0 ? `.${frac.slice(0, dscale)}` : ''}`;
  return sign === 0x4000 ? `-${text}` : text;
}

/** Decodes a binary-format parameter of type `oid` to text, for the types clients send in binary. */
export function binaryParamText(oid: number, raw: Buffer): string {
  const type = pgTypeByOid(oid);
  const bad = () => new ParameterError(`incorrect binary data format in bind parameter of type ${oid}`, '22P03');
  switch (type?.element ? 'array' : type?.kind) {
    case 'bool':
      if (raw.length !== 1) throw bad();
      return raw[0] ? 'true' : 'false';
    case 'int2':
      if (raw.length !== 2) throw bad();
      return String(raw.readInt16BE(0));
    case 'int4':
      if (raw.length !== 4) throw bad();
      return String(raw.readInt32BE(0));
    case 'int8':
      if (raw.length !== 8) throw bad();
      return raw.readBigInt64BE(0).toString();
    case 'float4':
      if (raw.length !== 4) throw bad();
      return String(raw.readFloatBE(0));
    case 'float8':
      if (raw.length !== 8) throw bad();
      return String(raw.readDoubleBE(0));
    case 'date': {
      if (raw.length !== 4) throw bad();
      return new Date((raw.readInt32BE(0) + 10_957) * 86_400_000).toISOString().slice(0, 10);
    }
    case 'timestamp':
    case 'timestamptz':
      if (raw.length !== 8) throw bad();
      return isoFromMicros(raw.readBigInt64BE(0), type?.kind === 'timestamptz');
    case 'numeric':
      return numericText(raw, bad);
    case 'uuid':
      if (raw.length !== 16) throw bad();
      return raw.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    case 'bytea':
      return raw.toString('hex');
    case 'text':
    case 'json':
      return raw.toString('utf8');
    case 'jsonb':
      return raw.subarray(1).toString('utf8');
    default:
      if (oid === 0 || oid === 705) return raw.toString('utf8');
      throw new ParameterError(`binary format is not supported for parameters of type ${oid}; send it as text`, '0A000');
  }
}

/**
 * The SQL literal of one bound parameter, for substitution into the statement text. Values are
 * never pasted raw: numbers are checked to be numbers, everything else is a quoted string literal
 * (with a typed prefix for dates, timestamps and bytea), so no parameter can change the statement.
 */
export function parameterLiteral(oid: number, format: number, raw: Buffer | null, dialect: SqlDialect, engine: string): string {
  if (raw === null) return 'NULL';
  const isBytea = oid === BASE_TYPES.bytea.oid;
  if (isBytea) {
    const hex =
      format === 1
        ? raw.toString('hex')
        : (() => {
            const t = raw.toString('utf8');
            if (t.startsWith('\\x')) return t.slice(2);
            return Buffer.from(t, 'utf8').toString('hex');
          })();
    if (!/^[0-9a-fA-F]*$/.test(hex)) throw new ParameterError('invalid hexadecimal data in bytea parameter', '22023');
    if (dialect === 'mysql') return `X'${hex}'`;
    if (engine === 'duckdb') return `from_hex('${hex}')`;
    return `'\\x${hex}'::bytea`;
  }
  const text = format === 1 ? binaryParamText(oid, raw) : raw.toString('utf8');
  const type = pgTypeByOid(oid);
  switch (type?.element ? 'array' : type?.kind) {
    case 'int2':
    case 'int4':
    case 'int8':
      if (!INTEGER.test(text.trim())) throw new ParameterError(`invalid input syntax for type integer: "${text.slice(0, 40)}"`, '22P02');
      return text.trim().startsWith('-') ? `(${text.trim()})` : text.trim();
    case 'float4':
    case 'float8':
    case 'numeric': {
      const t = text.trim();
      if (DECIMAL.test(t)) return t.startsWith('-') ? `(${t})` : t;
      if (/^(NaN|[+-]?Infinity)$/i.test(t)) return `CAST(${quoteString(t, dialect)} AS DOUBLE PRECISION)`;
      throw new ParameterError(`invalid input syntax for type numeric: "${t.slice(0, 40)}"`, '22P02');
    }
    case 'bool':
      if (/^(t|true|y|yes|on|1)$/i.test(text.trim())) return 'TRUE';
      if (/^(f|false|n|no|off|0)$/i.test(text.trim())) return 'FALSE';
      throw new ParameterError(`invalid input syntax for type boolean: "${text.slice(0, 40)}"`, '22P02');
    case 'date':
      dateDays(text.trim());
      return `DATE ${quoteString(text.trim(), dialect)}`;
    case 'timestamp':
      timestampMicros(text.trim().replace(' ', 'T'), false);
      return `TIMESTAMP ${quoteString(text.trim(), dialect)}`;
    case 'timestamptz':
      return dialect === 'mysql' ? quoteString(text, dialect) : `CAST(${quoteString(text, dialect)} AS TIMESTAMP WITH TIME ZONE)`;
    default:
      return quoteString(text, dialect);
  }
}
