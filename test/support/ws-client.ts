import WebSocket from 'ws';

/** A server frame as the tests see it. */
export type Frame = Record<string, unknown> & { type: string };

/** A real WebSocket client that records every frame and lets a test wait for one. */
export class WsTestClient {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  private readonly waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.wake();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  static async connect(url: string, token?: string): Promise<WsTestClient> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/ws`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const client = new WsTestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify({ v: 1, ...frame }));
  }

  /** Waits until `pred` holds for the frames received so far. */
  async until<T>(pred: (frames: Frame[]) => T | undefined | false, timeoutMs = 20_000, what = 'frame'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred(this.frames);
      if (v) return v;
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.frames.map((f) => f.type).join(',')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  waitForClose(timeoutMs = 20_000): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.closeCode !== undefined) return resolve(this.closeCode);
      const t = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.socket.once('close', (code) => {
        clearTimeout(t);
        resolve(code);
      });
    });
  }

  /** Log lines received for a job, keyed by line number. */
  logLines(jobId: string): Map<number, string> {
    const out = new Map<number, string>();
    for (const f of this.frames) {
      if (f.type !== 'log' || f.jobId !== jobId) continue;
      (f.lines as string[]).forEach((text, i) => {
        const n = (f.fromLine as number) + i;
        if (out.has(n)) throw new Error(`line ${n} delivered twice`);
        out.set(n, text);
      });
    }
    return out;
  }

  close(): void {
    this.socket.close();
  }

  /** Drops the connection without a close handshake, like a network failure. */
  terminate(): void {
    this.socket.terminate();
  }
}
