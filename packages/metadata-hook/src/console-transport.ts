import { appendFile } from 'node:fs/promises';
import type { RunEvent } from './run-event.ts';
import type { LineageTransport } from './transport.ts';

/** Writes each event as one JSON line to a stream (stdout by default), for debugging. */
export class ConsoleTransport implements LineageTransport {
  readonly kind = 'console';
  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  async send(event: RunEvent): Promise<void> {
    await new Promise<void>((resolve, reject) => this.out.write(`${JSON.stringify(event)}\n`, (e) => (e ? reject(e) : resolve())));
  }
}

/** Appends each event as one JSON line to a file (NDJSON), for debugging and offline loading. */
export class FileTransport implements LineageTransport {
  readonly kind = 'file';
  constructor(private readonly path: string) {}

  async send(event: RunEvent): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(event)}\n`, 'utf8');
  }
}
