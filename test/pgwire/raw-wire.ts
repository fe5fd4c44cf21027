import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { clientProof } from '../../apps/gateway/src/pgwire/index.ts';

/** A backend message as a raw test client sees it. */
export interface RawMessage {
  type: string;
  body: Buffer;
}

/**
 * A deliberately small protocol client for the tests that must send what no real client sends
 * (garbage, lies about lengths, truncated messages) or count bytes without keeping rows.
 */
export class RawWire {
  private buf: Buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  /** When set, DataRow messages are counted and dropped instead of queued. */
  countDataRows = false;
  dataRows = 0;
  private readonly queue: RawMessage[] = [];

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.parse();
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawWire> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawWire(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private parse(): void {
    let pos = 0;
    while (this.buf.length - pos >= 5) {
      const len = this.buf.readInt32BE(pos + 1);
      if (this.buf.length - pos < len + 1) break;
      const type = String.fromCharCode(this.buf[pos] as number);
      if (type === 'D' && this.countDataRows) this.dataRows++;
      else this.queue.push({ type, body: Buffer.from(this.buf.subarray(pos + 5, pos + 1 + len)) });
      pos += len + 1;
    }
    this.buf = this.buf.subarray(pos);
  }

  /** Raw bytes received but not parsed (e.g. the one-byte SSL answer). */
  takeRaw(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  async waitRaw(n: number, timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.closed || Date.now() > deadline) throw new Error(`waited for ${n} raw bytes, have ${this.buf.length}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return this.takeRaw(n);
  }

  /** The next message, or null once the server closed the connection. */
  async next(timeoutMs = 30_000): Promise<RawMessage | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.queue.shift();
      if (m) return m;
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error('timed out waiting for a message');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  /** Reads messages until one of `type` (returned) or the close (null). */
  async until(type: string, timeoutMs = 30_000): Promise<RawMessage | null> {
    for (;;) {
      const m = await this.next(timeoutMs);
      if (!m || m.type === type) return m;
    }
  }

  /** Waits until the server has closed the connection. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return this.closed;
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** A typed message: type letter, length, body. */
  send(type: string, body: Buffer): void {
    const head = Buffer.alloc(5);
    head[0] = type.charCodeAt(0);
    head.writeInt32BE(body.length + 4, 1);
    this.write(Buffer.concat([head, body]));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The fields of an ErrorResponse body: code letter → value. */
export function errorFields(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < body.length && body[pos] !== 0) {
    const code = String.fromCharCode(body[pos] as number);
    const end = body.indexOf(0, pos + 1);
    out[code] = body.toString('utf8', pos + 1, end);
    pos = end + 1;
  }
  return out;
}

export function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}

/** A startup packet for protocol 3.0 with the given parameters. */
export function startupPacket(params: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(params).flatMap(([k, v]) => [cstr(k), cstr(v)]), Buffer.from([0])]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(body.length + 8, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

/** Connects and logs in with SCRAM-SHA-256; resolves once ReadyForQuery arrives. */
export async function rawLogin(port: number, user: string, token: string, database = 'duckdb', params: Record<string, string> = {}): Promise<RawWire> {
  const w = await RawWire.connect(port);
  w.write(startupPacket({ user, database, ...params }));
  const req = await w.next();
  if (req?.type !== 'R' || req.body.readInt32BE(0) !== 10) throw new Error(`expected AuthenticationSASL, got ${req?.type}`);
  const nonce = randomBytes(18).toString('base64');
  const first = `n=,r=${nonce}`;
  const gs2 = 'n,,';
  const data = Buffer.from(gs2 + first);
  const len = Buffer.alloc(4);
  len.writeInt32BE(data.length);
  w.send('p', Buffer.concat([cstr('SCRAM-SHA-256'), len, data]));
  const cont = await w.next();
  if (cont?.type !== 'R' || cont.body.readInt32BE(0) !== 11) throw new Error('expected SASLContinue');
  const serverFirst = cont.body.subarray(4).toString('utf8');
  const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
  const finalNoProof = `c=${Buffer.from(gs2).toString('base64')},r=${attrs.r}`;
  const { proof } = clientProof(token, Buffer.from(attrs.s as string, 'base64'), Number(attrs.i), `${first},${serverFirst},${finalNoProof}`);
  w.send('p', Buffer.from(`${finalNoProof},p=${proof.toString('base64')}`));
  const ready = await w.until('Z');
  if (!ready) throw new Error('login failed');
  return w;
}
