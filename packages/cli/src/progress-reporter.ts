import type { JobState } from '@sluice/core';
import { type CliIo, write } from './io.ts';

function isFinal(state: JobState | undefined): boolean {
  return state === 'Succeed' || state === 'Failed' || state === 'Cancelled' || state === 'Timeout';
}

/**
 * The CLI's console while it follows a job: log lines go to stdout, status to stderr. On a terminal
 * (stderr is a TTY) a one-line progress bar is drawn on stderr and kept below the log; otherwise
 * state changes and progress steps of 10 % are printed as plain `[sluice] …` lines.
 */
export class ProgressReporter {
  private state: JobState | undefined;
  private progress = 0;
  private lastPlainStep = -1;
  private barShown = false;
  private readonly tty: boolean;

  constructor(
    private readonly io: CliIo,
    private readonly label: string,
    opts: { tty?: boolean } = {},
  ) {
    this.tty = opts.tty ?? !!io.stderr.isTTY;
  }

  /** Prints log lines to stdout, keeping the bar below them. */
  async log(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    this.clearBar();
    await write(this.io.stdout, `${lines.join('\n')}\n`);
    this.drawBar();
  }

  /** A status line on stderr. */
  note(text: string): void {
    this.clearBar();
    this.io.stderr.write(`[sluice] ${text}\n`);
    this.drawBar();
  }

  /** The job's state changed. */
  setState(state: JobState): void {
    if (state === this.state) return;
    this.state = state;
    if (this.tty) this.drawBar();
    else this.note(`${this.label}: ${state}`);
  }

  /** The job reported progress, from 0 to 1. */
  setProgress(progress: number): void {
    this.progress = Math.max(0, Math.min(1, progress));
    if (this.tty) {
      this.drawBar();
      return;
    }
    const step = Math.floor(this.progress * 10);
    if (step > this.lastPlainStep && step > 0 && !isFinal(this.state)) {
      this.lastPlainStep = step;
      this.note(`${this.label}: ${step * 10}%`);
    }
  }

  /** Removes the bar for good. */
  finish(): void {
    this.clearBar();
  }

  private drawBar(): void {
    if (!this.tty || this.state === undefined) return;
    const width = 30;
    const filled = Math.round(this.progress * width);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    this.io.stderr.write(`\r\x1b[K[sluice] ${this.label} ${this.state.padEnd(9)} [${bar}] ${String(Math.round(this.progress * 100)).padStart(3)}%`);
    this.barShown = true;
  }

  private clearBar(): void {
    if (!this.barShown) return;
    this.io.stderr.write('\r\x1b[K');
    this.barShown = false;
  }
}
