import { ProtocolViolation } from './byte-reader.ts';

/** One frontend message: its type letter (`''` for the startup-phase packets) and its body. */
export interface FrontendMessage {
  type: string;
  body: Buffer;
  /** The whole message as it came, type and length included (a view of the received bytes). */
  frame?: Buffer;
}

/**
 * Cuts the byte stream of one connection into messages. Lengths are checked before anything is
 * buffered: a length below 4 or above the limit is a protocol violation, so a peer cannot make the
 * gateway wait for (or allocate) a gigabyte it announced.
 */
export class MessageFramer {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Until the startup packet is read, messages have no type byte. */
  startup = true;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly maxStartupBytes = 10_000,
  ) {}

  /** Bytes received and not yet returned as messages. */
  get buffered(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  private peek(n: number): Buffer {
    if (this.chunks.length > 1 && (this.chunks[0] as Buffer).length < n) {
      const all = Buffer.concat(this.chunks, this.size);
      this.chunks = [all];
    }
    return this.chunks[0] as Buffer;
  }

  private consume(n: number): Buffer {
    const head = this.peek(n);
    const out = head.subarray(0, n);
    if (head.length === n) this.chunks.shift();
    else this.chunks[0] = head.subarray(n);
    this.size -= n;
    return out;
  }

  /** The next complete message, or undefined until more bytes arrive. Throws on a bad length. */
  next(): FrontendMessage | undefined {
    if (this.startup) {
      if (this.size < 4) return undefined;
      const len = this.peek(4).readInt32BE(0);
      if (len < 8 || len > this.maxStartupBytes) throw new ProtocolViolation(`invalid startup packet length ${len}`);
      if (this.size < len) return undefined;
      return { type: '', body: this.consume(len).subarray(4) };
    }
    if (this.size < 5) return undefined;
    const head = this.peek(5);
    const type = String.fromCharCode(head[0] as number);
    const len = head.readInt32BE(1);
    if (len < 4) throw new ProtocolViolation(`invalid message length ${len}`);
    if (len > this.maxMessageBytes) throw new MessageTooLarge(type, len, this.maxMessageBytes);
    if (this.size < len + 1) return undefined;
    const whole = this.consume(len + 1);
    return { type, body: Buffer.from(whole.subarray(5)), frame: whole };
  }
}

/** A message announced a length above the limit. */
export class MessageTooLarge extends ProtocolViolation {
  constructor(
    readonly messageType: string,
    readonly length: number,
    readonly limit: number,
  ) {
    super(`message of ${length} bytes is larger than the limit of ${limit} bytes`);
    this.name = 'MessageTooLarge';
  }
}
