/** Longest line passed on whole; longer lines are cut into pieces of this many characters. */
export const MAX_LINE_LENGTH = 64 * 1024;

/**
 * Turns decoded text chunks of one stream into lines (without `\n` or a trailing `\r`), in order. A
 * partial last line is kept until more text or end() arrives.
 */
export class LineSplitter {
  private partial = '';

  constructor(private readonly maxLineLength: number = MAX_LINE_LENGTH) {}

  push(text: string): string[] {
    const lines: string[] = [];
    let start = 0;
    let newline = text.indexOf('\n', start);
    while (newline >= 0) {
      this.emit(this.partial + text.slice(start, newline), lines);
      this.partial = '';
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    this.partial += text.slice(start);
    while (this.partial.length > this.maxLineLength) {
      lines.push(this.partial.slice(0, this.maxLineLength));
      this.partial = this.partial.slice(this.maxLineLength);
    }
    return lines;
  }

  /** The last line when the stream did not end with a newline. */
  end(): string[] {
    const rest = this.partial;
    this.partial = '';
    const lines: string[] = [];
    if (rest.length > 0) this.emit(rest, lines);
    return lines;
  }

  private emit(line: string, out: string[]): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    for (let i = 0; i < text.length; i += this.maxLineLength) out.push(text.slice(i, i + this.maxLineLength));
    if (text.length === 0) out.push('');
  }
}
