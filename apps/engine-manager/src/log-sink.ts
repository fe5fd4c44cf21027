import type { Fence, JobStore } from '@sluice/entrance';

const MAX_BATCH_LINES = 500;
const MAX_LINE_CHARS = 64 * 1024;

/**
 * Numbers a job's log lines, persists them in batches and publishes each persisted batch on the bus.
 * Lines are persisted before they are published, so a subscriber that sees line n can always read
 * lines 1..n from the store: that is what makes resume-from-offset lossless.
 */
export class LogSink {
  private pending: string[] = [];
  private next: number;
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private engineId: string | undefined;
  private flushed = false;

  constructor(
    private readonly jobId: string,
    firstLine: number,
    private readonly store: JobStore,
    private readonly fence: Fence,
    private readonly redact: (line: string) => string = (l) => l,
    private readonly flushMs = 20,
    /**
     * The first batch waits longer: a short job ends before it, and its lines then go with the final
     * transition instead of a write of their own. A watcher sees a long job's first lines this late.
     */
    private readonly firstFlushMs = 100,
  ) {
    this.next = firstLine;
  }

  /** Number of the last line accepted so far. */
  get lastLine(): number {
    return this.next - 1 + this.pending.length;
  }

  /** Records the engine with the next batch of lines (saves a separate write per job). */
  setEngine(engineId: string): void {
    this.engineId = engineId;
  }

  write(line: string): void {
    const clean = this.redact(line);
    const text = clean.length > MAX_LINE_CHARS ? `${clean.slice(0, MAX_LINE_CHARS)}… [line truncated]` : clean;
    this.pending.push(text);
    if (this.pending.length >= MAX_BATCH_LINES) this.flushInBackground();
    else if (!this.timer) this.timer = setTimeout(() => this.flushInBackground(), this.flushed ? this.flushMs : this.firstFlushMs);
  }

  /**
   * A flush nobody waits for. Its failure (the database gone while the process stops, say) is not
   * lost: the job's final write waits for `flushing` and sees it there.
   */
  private flushInBackground(): void {
    this.flush().catch(() => {});
  }

  /**
   * Hands the lines not yet persisted to the caller, who writes them with the job's final transition
   * (one round trip instead of two), after any flush in flight. The engine id, when not yet written,
   * comes with them.
   */
  async takePending(): Promise<{ logs?: { first: number; lines: string[] }; engineId?: string }> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.flushing;
    const lines = this.pending;
    this.pending = [];
    const engineId = this.engineId;
    this.engineId = undefined;
    if (lines.length === 0) return { engineId };
    const first = this.next;
    this.next += lines.length;
    return { logs: { first, lines }, engineId };
  }

  /** Persists and publishes everything written so far. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return this.flushing;
    this.flushed = true;
    const from = this.next;
    this.next += batch.length;
    const engineId = this.engineId;
    this.engineId = undefined;
    this.flushing = this.flushing.then(async () => {
      await this.store.appendLogs(this.jobId, from, batch, this.fence, engineId);
      await this.store.publishLogs(this.jobId, from, batch);
    });
    return this.flushing;
  }
}
