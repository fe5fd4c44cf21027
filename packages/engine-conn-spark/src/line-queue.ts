import type { Readable } from 'node:stream';

/** Buffered lines at which the streams are paused until the consumer catches up. */
export const LINE_HIGH_WATER = 512;
const MAX_LINE = 64 * 1024;

/**
 * The lines of one or more output streams, in arrival order, pulled one at a time. Streams are
 * paused while {@link LINE_HIGH_WATER} lines wait, so a process that writes faster than the consumer
 * reads blocks on its own output. Overlong lines are cut at 64 KiB.
 */
export class LineQueue {
  private readonly lines: string[] = [];
  private readonly streams: Readable[] = [];
  private open = 0;
  private wake: (() => void) | undefined;

  /** Adds a stream; its last partial line is delivered when it ends. */
  add(stream: Readable): void {
    this.streams.push(stream);
    this.open += 1;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      if (partial.length > MAX_LINE) {
        parts.push(partial.slice(0, MAX_LINE));
        partial = '';
      }
      for (const part of parts) this.lines.push(part.replace(/\r$/, '').slice(0, MAX_LINE));
      if (this.lines.length >= LINE_HIGH_WATER) for (const s of this.streams) s.pause();
      this.notify();
    });
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (partial) this.lines.push(partial);
      partial = '';
      this.open -= 1;
      this.notify();
    };
    stream.once('end', end);
    stream.once('close', end);
    stream.once('error', end);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The next line, or undefined once every stream ended and all lines were taken. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) {
        if (this.lines.length < LINE_HIGH_WATER / 2) for (const s of this.streams) s.resume();
        return line;
      }
      if (this.open <= 0) return undefined;
      for (const s of this.streams) s.resume();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Drops what is buffered and stops pausing the streams (used when the run is being stopped). */
  drain(): void {
    this.lines.length = 0;
    for (const s of this.streams) {
      s.removeAllListeners('data');
      s.resume();
    }
    this.notify();
  }
}
