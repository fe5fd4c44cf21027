import { createReadStream } from 'node:fs';

/**
 * Streams the `\n`-terminated lines of a file from byte `start`, in batches (one per read chunk) so
 * callers pay one await per chunk rather than per line. Each line is decoded as UTF-8 on its own (a
 * line is cut only at a newline byte, so multi-byte characters are never split). Memory is bounded
 * by the read buffer plus the longest line. Stopping the iteration closes the file.
 */
export async function* readLineBatches(file: string, start = 0): AsyncGenerator<string[]> {
  const stream = createReadStream(file, { start, highWaterMark: 256 * 1024 });
  let pieces: Buffer[] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const lines: string[] = [];
      let pos = 0;
      for (let nl = chunk.indexOf(10, pos); nl !== -1; nl = chunk.indexOf(10, pos)) {
        if (pieces.length > 0) {
          pieces.push(chunk.subarray(pos, nl));
          lines.push(Buffer.concat(pieces).toString('utf8'));
          pieces = [];
        } else {
          lines.push(chunk.toString('utf8', pos, nl));
        }
        pos = nl + 1;
      }
      if (pos < chunk.length) pieces.push(chunk.subarray(pos));
      if (lines.length > 0) yield lines;
    }
    // A last line without its newline (a file cut short) is still a line.
    if (pieces.length > 0) yield [Buffer.concat(pieces).toString('utf8')];
  } finally {
    stream.destroy();
  }
}
