/** Strings up to this many UTF-16 units are encoded in JavaScript when they are ASCII. */
const SHORT_STRING = 64;

/**
 * A growable buffer for building protocol messages without a copy per field. Messages are written
 * back to back; {@link ByteWriter.take} hands the bytes written so far to the socket in one piece.
 */
export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  /** Writes a UTF-8 string followed by a NUL byte. */
  cstring(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.ensure(n + 1);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
    this.buf[this.pos++] = 0;
    return this;
  }

  /** Writes a UTF-8 string without a terminator. */
  utf8(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.ensure(n);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
    return this;
  }

  /**
   * Writes a string as a length-prefixed UTF-8 value (a DataRow column): the 4-byte length, then
   * the bytes. Short ASCII strings, most column values, are copied byte by byte, which is several
   * times cheaper than a call into the native encoder per value.
   */
  lengthPrefixed(s: string): this {
    const n = s.length;
    this.ensure(4 + n * 3);
    const buf = this.buf;
    const start = this.pos + 4;
    let p = start;
    let i = 0;
    if (n <= SHORT_STRING) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
    }
    if (i < n) p = start + buf.write(s, start, 'utf8');
    const len = p - start;
    const at = this.pos;
    buf[at] = len >>> 24;
    buf[at + 1] = (len >>> 16) & 0xff;
    buf[at + 2] = (len >>> 8) & 0xff;
    buf[at + 3] = len & 0xff;
    this.pos = p;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Starts a message of `type` (a one-letter code); returns the position to pass to {@link end}. */
  begin(type: string): number {
    this.byte(type.charCodeAt(0));
    const at = this.pos;
    this.int32(0);
    return at;
  }

  /** Fills in the length of the message begun at `at`. */
  end(at: number): void {
    this.buf.writeInt32BE(this.pos - at, at);
  }

  /** Reserves a 4-byte length slot and returns its position (for a DataRow value written in place). */
  reserve32(): number {
    const at = this.pos;
    this.int32(0);
    return at;
  }

  /** Writes `value` into a slot reserved by {@link reserve32}. */
  patch32(at: number, value: number): void {
    this.buf.writeInt32BE(value, at);
  }

  /** Bytes written since `at` (a position returned by {@link reserve32}), excluding the slot itself. */
  since(at: number): number {
    return this.pos - at - 4;
  }

  /** Returns a copy of the bytes written and empties the writer. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }
}
