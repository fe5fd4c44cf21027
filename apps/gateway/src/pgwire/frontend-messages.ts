import { ByteReader, ProtocolViolation } from './byte-reader.ts';

/** Protocol codes of the startup-phase packets. */
export const PROTOCOL_3_0 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** A startup-phase packet: a startup message, an SSL/GSS request or a cancel request. */
export type StartupPacket =
  | { kind: 'startup'; major: number; minor: number; params: Map<string, string> }
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; pid: number; secret: number };

/** Parses the body (after the length) of a startup-phase packet. */
export function parseStartupPacket(body: Buffer): StartupPacket {
  const r = new ByteReader(body);
  const code = r.int32();
  if (code === SSL_REQUEST) return { kind: 'ssl' };
  if (code === GSSENC_REQUEST) return { kind: 'gssenc' };
  if (code === CANCEL_REQUEST) return { kind: 'cancel', pid: r.int32(), secret: r.int32() };
  const major = code >>> 16;
  const minor = code & 0xffff;
  if (major !== 3) throw new ProtocolViolation(`unsupported frontend protocol ${major}.${minor}: server supports 3.0`);
  const params = new Map<string, string>();
  for (;;) {
    if (r.remaining === 0) throw new ProtocolViolation('startup packet is not terminated');
    const key = r.cstring();
    if (key === '') break;
    params.set(key, r.cstring());
  }
  return { kind: 'startup', major, minor, params };
}

/** Parse ('P'). */
export interface ParseMessage {
  name: string;
  query: string;
  paramTypes: number[];
}

export function parseParse(body: Buffer): ParseMessage {
  const r = new ByteReader(body);
  const name = r.cstring();
  const query = r.cstring();
  const n = r.int16();
  if (n < 0) throw new ProtocolViolation('negative parameter count');
  const paramTypes: number[] = [];
  for (let i = 0; i < n; i++) paramTypes.push(r.int32() >>> 0);
  return { name, query, paramTypes };
}

/** Bind ('B'): parameter values stay raw until their types are known. */
export interface BindMessage {
  portal: string;
  statement: string;
  paramFormats: number[];
  values: (Buffer | null)[];
  resultFormats: number[];
}

function formats(r: ByteReader): number[] {
  const n = r.int16();
  if (n < 0) throw new ProtocolViolation('negative format count');
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = r.int16();
    if (f !== 0 && f !== 1) throw new ProtocolViolation(`invalid format code ${f}`);
    out.push(f);
  }
  return out;
}

export function parseBind(body: Buffer): BindMessage {
  const r = new ByteReader(body);
  const portal = r.cstring();
  const statement = r.cstring();
  const paramFormats = formats(r);
  const n = r.int16();
  if (n < 0) throw new ProtocolViolation('negative parameter count');
  const values: (Buffer | null)[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.int32();
    if (len < -1) throw new ProtocolViolation('invalid parameter length');
    values.push(len === -1 ? null : Buffer.from(r.bytes(len)));
  }
  const resultFormats = formats(r);
  return { portal, statement, paramFormats, values, resultFormats };
}

/** Describe ('D') or Close ('C'): 'S' a statement or 'P' a portal, and its name. */
export function parseTarget(body: Buffer): { kind: 'S' | 'P'; name: string } {
  const r = new ByteReader(body);
  const kind = String.fromCharCode(r.byte());
  if (kind !== 'S' && kind !== 'P') throw new ProtocolViolation(`invalid describe/close target ${JSON.stringify(kind)}`);
  return { kind, name: r.cstring() };
}

/** Execute ('E'): the portal and the most rows to return (0: all). */
export function parseExecute(body: Buffer): { portal: string; maxRows: number } {
  const r = new ByteReader(body);
  return { portal: r.cstring(), maxRows: r.int32() };
}

/** Query ('Q'). */
export function parseQuery(body: Buffer): string {
  return new ByteReader(body).cstring();
}

/** SASLInitialResponse ('p' during SASL): the mechanism and the client-first message. */
export function parseSaslInitial(body: Buffer): { mechanism: string; data: string } {
  const r = new ByteReader(body);
  const mechanism = r.cstring();
  const len = r.int32();
  const data = len < 0 ? '' : r.bytes(len).toString('utf8');
  return { mechanism, data };
}

/** PasswordMessage ('p'): the cleartext password. */
export function parsePassword(body: Buffer): string {
  return new ByteReader(body).cstring();
}
