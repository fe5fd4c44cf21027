import { EVENT_VERSION, type EventBus, topics } from '@sluice/core';

/** How long live rows gather before they are published (a streaming query's rows arrive in trickles). */
const LIVE_ROWS_FLUSH_MS = 100;

/**
 * Publishes a job's result rows as they are written, for WebSocket subscribers that ask for them,
 * up to a budget per job. Rows gather for {@link LIVE_ROWS_FLUSH_MS}; each message fits the bus.
 */
export class LiveRows {
  private pending: unknown[][] = [];
  /** Row number (in the current set) of the first pending row. */
  private pendingFrom = 0;
  /** Rows of the current set written so far. */
  private seen = 0;
  private index = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly jobId: string,
    private readonly bus: EventBus,
    private budget: number,
  ) {}

  /** A new result set starts: pending rows of the previous one go out first. */
  begin(index: number): void {
    this.flush();
    this.index = index;
    this.seen = 0;
  }

  add(rows: unknown[][]): void {
    if (this.budget > 0) {
      // Pending rows are always contiguous: once the budget is spent nothing more is added.
      const take = rows.length <= this.budget ? rows : rows.slice(0, this.budget);
      this.budget -= take.length;
      if (this.pending.length === 0) this.pendingFrom = this.seen;
      for (const r of take) this.pending.push(r);
      if (!this.timer) {
        this.timer = setTimeout(() => this.flush(), LIVE_ROWS_FLUSH_MS);
        this.timer.unref();
      }
    }
    this.seen += rows.length;
  }

  /** Publishes what gathered; the bus keeps the order of one publisher's messages. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    this.publish(rows, this.pendingFrom);
  }

  private publish(rows: unknown[][], offset: number): void {
    const event = { v: EVENT_VERSION, type: 'rows' as const, jobId: this.jobId, index: this.index, offset, rows };
    if (rows.length > 1 && Buffer.byteLength(JSON.stringify(event)) > this.bus.maxMessageBytes - 512) {
      const half = Math.ceil(rows.length / 2);
      this.publish(rows.slice(0, half), offset);
      this.publish(rows.slice(half), offset + half);
      return;
    }
    // A single row too big for the bus is left to the results API.
    if (Buffer.byteLength(JSON.stringify(event)) > this.bus.maxMessageBytes - 512) return;
    void this.bus.publish(topics.job(this.jobId), event).catch(() => {});
  }
}
