/** Where the CLI writes: stdout for the job's log and results, stderr for everything else. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/** The process's own streams. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr };
}

/** Writes `text` and resolves once the stream accepted it (so a large result respects backpressure). */
export function write(stream: NodeJS.WritableStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise((resolve) => stream.once('drain', () => resolve()));
}

/** A status line for humans on stderr, prefixed so it stands apart from the job's own log. */
export function note(io: CliIo, text: string): void {
  io.stderr.write(`[sluice] ${text}\n`);
}
