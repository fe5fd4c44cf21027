import WebSocket from 'ws';

/** A Linkis WebSocket message as the tests see it. */
export interface LinkisFrame {
  method: string | null;
  status: number;
  message: string;
  data: Record<string, unknown>;
}

/** A real client of `/ws/api/entrance/connect` that records every message and lets a test wait for one. */
export class LinkisWsClient {
  readonly frames: LinkisFrame[] = [];
  closeCode: number | undefined;
  private readonly waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as LinkisFrame);
      this.wake();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  /** Connects with the given upgrade headers (token headers or a session cookie). */
  static async connect(url: string, headers: Record<string, string>): Promise<LinkisWsClient> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/api/entrance/connect`, { headers });
    const client = new LinkisWsClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Sends a Linkis frame `{method, data, websocketTag}` (or raw text). */
  send(frame: { method: string; data?: Record<string, unknown>; websocketTag?: string } | string): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits until `pred` holds for the messages received so far. */
  async until<T>(pred: (frames: LinkisFrame[]) => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred(this.frames);
      if (v) return v;
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames.map((f) => [f.method, f.message]))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Resolves with the close code. */
  async closed(timeoutMs = 10_000): Promise<number> {
    await this.until(() => this.closeCode !== undefined, 'close', timeoutMs).catch(() => {});
    if (this.closeCode === undefined) throw new Error('socket still open');
    return this.closeCode;
  }

  close(): void {
    this.socket.close();
  }
}
