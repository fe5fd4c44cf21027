import type { ByteWriter } from './byte-writer.ts';

/** A column of a RowDescription. */
export interface FieldDescription {
  name: string;
  /** OID of the table the column comes from, 0 when none. */
  tableOid?: number;
  /** Attribute number in that table, 0 when none. */
  column?: number;
  typeOid: number;
  /** pg_type.typlen: -1 for variable length. */
  typeSize: number;
  typeModifier: number;
  /** 0 text, 1 binary. */
  format: 0 | 1;
}

/** The fields of an ErrorResponse or NoticeResponse. */
export interface ErrorFields {
  severity: 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'INFO' | 'LOG';
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  /** 1-based character position in the query. */
  position?: number;
}

function simple(w: ByteWriter, type: string): void {
  w.end(w.begin(type));
}

/** AuthenticationOk. */
export function authenticationOk(w: ByteWriter): void {
  const at = w.begin('R');
  w.int32(0);
  w.end(at);
}

/** AuthenticationCleartextPassword. */
export function authenticationCleartext(w: ByteWriter): void {
  const at = w.begin('R');
  w.int32(3);
  w.end(at);
}

/** AuthenticationSASL with the mechanisms offered. */
export function authenticationSasl(w: ByteWriter, mechanisms: readonly string[]): void {
  const at = w.begin('R');
  w.int32(10);
  for (const m of mechanisms) w.cstring(m);
  w.byte(0);
  w.end(at);
}

/** AuthenticationSASLContinue (11) or AuthenticationSASLFinal (12). */
export function authenticationSaslData(w: ByteWriter, code: 11 | 12, data: string): void {
  const at = w.begin('R');
  w.int32(code);
  w.utf8(data);
  w.end(at);
}

export function parameterStatus(w: ByteWriter, name: string, value: string): void {
  const at = w.begin('S');
  w.cstring(name).cstring(value);
  w.end(at);
}

export function backendKeyData(w: ByteWriter, pid: number, secret: number): void {
  const at = w.begin('K');
  w.int32(pid).int32(secret);
  w.end(at);
}

/** NegotiateProtocolVersion: the newest minor version supported and the options not recognised. */
export function negotiateProtocolVersion(w: ByteWriter, minor: number, unrecognised: readonly string[]): void {
  const at = w.begin('v');
  w.int32(minor).int32(unrecognised.length);
  for (const o of unrecognised) w.cstring(o);
  w.end(at);
}

/** ReadyForQuery with the transaction status: I idle, T in a transaction block, E in a failed one. */
export function readyForQuery(w: ByteWriter, status: 'I' | 'T' | 'E'): void {
  const at = w.begin('Z');
  w.byte(status.charCodeAt(0));
  w.end(at);
}

export function rowDescription(w: ByteWriter, fields: readonly FieldDescription[]): void {
  const at = w.begin('T');
  w.int16(fields.length);
  for (const f of fields) {
    w.cstring(f.name)
      .int32(f.tableOid ?? 0)
      .int16(f.column ?? 0)
      .int32(f.typeOid)
      .int16(f.typeSize)
      .int32(f.typeModifier)
      .int16(f.format);
  }
  w.end(at);
}

export function parameterDescription(w: ByteWriter, oids: readonly number[]): void {
  const at = w.begin('t');
  w.int16(oids.length);
  for (const o of oids) w.int32(o);
  w.end(at);
}

export function commandComplete(w: ByteWriter, tag: string): void {
  const at = w.begin('C');
  w.cstring(tag);
  w.end(at);
}

export function errorResponse(w: ByteWriter, e: ErrorFields, type: 'E' | 'N' = 'E'): void {
  const at = w.begin(type);
  w.byte(0x53).cstring(e.severity); // S
  w.byte(0x56).cstring(e.severity); // V (not localised)
  w.byte(0x43).cstring(e.code); // C
  w.byte(0x4d).cstring(e.message); // M
  if (e.detail) w.byte(0x44).cstring(e.detail); // D
  if (e.hint) w.byte(0x48).cstring(e.hint); // H
  if (e.position) w.byte(0x50).cstring(String(e.position)); // P
  w.byte(0);
  w.end(at);
}

export const parseComplete = (w: ByteWriter): void => simple(w, '1');
export const bindComplete = (w: ByteWriter): void => simple(w, '2');
export const closeComplete = (w: ByteWriter): void => simple(w, '3');
export const noData = (w: ByteWriter): void => simple(w, 'n');
export const portalSuspended = (w: ByteWriter): void => simple(w, 's');
export const emptyQueryResponse = (w: ByteWriter): void => simple(w, 'I');
