import type { EngineEvent, SluiceError } from '@sluice/core';

/** What the consumer side of a channel takes next. */
export type ChannelItem = { kind: 'event'; event: EngineEvent } | { kind: 'end'; error?: SluiceError };

/**
 * The parent-side buffer of one task's events, between the IPC channel and the task's async iterator.
 * It holds what the worker sent ahead of the consumer (at most the credited row batches, plus small
 * log/progress events; consecutive progress events are coalesced). Once ended, the end is final.
 */
export class TaskChannel {
  private readonly queue: EngineEvent[] = [];
  private ending: { error?: SluiceError } | undefined;
  private waiter: ((item: ChannelItem) => void) | undefined;
  private cancelError: SluiceError | undefined;
  private readonly endListeners: (() => void)[] = [];

  constructor(readonly taskId: string) {}

  /** Row batches received but not yet taken by the consumer. */
  get bufferedBatches(): number {
    let n = 0;
    for (const event of this.queue) if (event.type === 'rows') n += 1;
    return n;
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** True once cancel() was called. */
  get cancelling(): boolean {
    return this.cancelError !== undefined;
  }

  push(event: EngineEvent): void {
    if (this.ending || this.cancelError) return;
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake({ kind: 'event', event });
      return;
    }
    const last = this.queue[this.queue.length - 1];
    if (event.type === 'progress' && last?.type === 'progress') this.queue[this.queue.length - 1] = event;
    else this.queue.push(event);
  }

  /**
   * Drops what is buffered and ignores further events: only the end still matters, and whatever the
   * worker reports, the channel then ends with `error` (the task was cancelled).
   */
  cancel(error: SluiceError): void {
    this.cancelError ??= error;
    this.queue.length = 0;
  }

  /** Runs `listener` once the channel has ended. */
  onEnd(listener: () => void): void {
    if (this.ending) listener();
    else this.endListeners.push(listener);
  }

  /** Ends the channel; the first end wins. */
  end(error?: SluiceError): void {
    if (this.ending) return;
    const final = this.cancelError ?? error;
    this.ending = final ? { error: final } : {};
    for (const listener of this.endListeners.splice(0)) listener();
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake(this.endItem());
    }
  }

  /** The next event, or the end once the buffer is drained. */
  next(): Promise<ChannelItem> {
    const event = this.queue.shift();
    if (event) return Promise.resolve({ kind: 'event', event });
    if (this.ending) return Promise.resolve(this.endItem());
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  private endItem(): ChannelItem {
    return this.ending?.error ? { kind: 'end', error: this.ending.error } : { kind: 'end' };
  }
}
