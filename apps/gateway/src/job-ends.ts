import { type EventBus, isFinalState, type JobState, type JobView, type Principal, topics } from '@sluice/core';
import type { EntranceApi, JobEnd } from '@sluice/entrance';

/**
 * How long a final state is remembered, to cover a job that ends before its waiter registers (a gap
 * of milliseconds), and at most how many (each holds the job's view, about 1 KB).
 */
const REMEMBER_MS = 15_000;
const REMEMBER_MAX = 20_000;
const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 1_000;

/**
 * Tells callers when jobs reach a final state, for every wait of one server (REST `?wait=`, pgwire
 * statements run as queued jobs). One bus subscription to the topic every final state is published on
 * serves all waiters; a job's end is remembered for a few seconds so a job that ends before its waiter
 * registers is not missed. The bus is best effort, so a wait also re-reads the job's state now and
 * then (from 50 ms, doubling up to 1 s): a lost event costs latency, never a hang.
 */
export class JobEnds {
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Recently ended jobs, oldest first (a Map keeps insertion order): when, and what the event told. */
  private readonly ended = new Map<string, { at: number; end?: JobEnd; local?: boolean }>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private stopLocal: (() => void) | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly entrance: EntranceApi,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(topics.jobStates, (raw) => {
      const m = raw as { type?: unknown; jobId?: unknown; state?: unknown; ended?: JobEnd };
      if (m?.type !== 'status' || typeof m.jobId !== 'string' || !isFinalState(m.state as JobState)) return;
      // Already told by this process's own store: the bus's copy adds nothing.
      if (this.ended.get(m.jobId)?.local) return;
      this.remember(m.jobId, m.ended?.job?.id === m.jobId ? m.ended : undefined);
      this.wake(m.jobId);
    });
    // Jobs that end in this process are known at once, without the bus's round trip.
    this.stopLocal = this.entrance.onJobEnded?.((jobId, end) => {
      this.remember(jobId, end, true);
      this.wake(jobId);
    });
  }

  private wake(jobId: string): void {
    for (const wake of this.waiters.get(jobId) ?? []) wake();
  }

  async stop(): Promise<void> {
    this.stopLocal?.();
    this.stopLocal = undefined;
    await this.unsubscribe?.().catch(() => {});
    this.unsubscribe = undefined;
    for (const set of this.waiters.values()) for (const wake of set) wake();
  }

  private remember(jobId: string, end: JobEnd | undefined, local = false): void {
    const now = Date.now();
    this.ended.delete(jobId);
    this.ended.set(jobId, local ? { at: now, end, local } : { at: now, end });
    // Oldest first: drop from the front until the first entry is recent enough (amortized O(1)).
    for (const [id, { at }] of this.ended) {
      if (at >= now - REMEMBER_MS && this.ended.size <= REMEMBER_MAX) break;
      this.ended.delete(id);
    }
  }

  /**
   * Resolves once the job is final: with what its final status event told (`end`, when it carried
   * it), or `{}` when the end was seen otherwise. False when `timeoutMs` passed first. The principal
   * must be allowed to read the job (the polls read it as that principal).
   */
  async until(principal: Principal, jobId: string, timeoutMs: number): Promise<false | { end?: JobEnd }> {
    const seen = await this.seen(principal, jobId, timeoutMs);
    return seen ? { end: this.ended.get(jobId)?.end } : false;
  }

  /** Resolves with the job once it is final: as its end event told it, or as read then. */
  async wait(principal: Principal, jobId: string): Promise<JobView> {
    for (;;) {
      const seen = await this.until(principal, jobId, 3_600_000);
      if (seen) return seen.end?.job ?? this.entrance.get(principal, jobId);
    }
  }

  private async seen(principal: Principal, jobId: string, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    let wake!: () => void;
    let gate = new Promise<void>((r) => {
      wake = r;
    });
    const onEnd = () => wake();
    const set = this.waiters.get(jobId) ?? new Set<() => void>();
    this.waiters.set(jobId, set);
    set.add(onEnd);
    try {
      if (this.ended.has(jobId)) return true;
      let delay = FIRST_POLL_MS;
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) return false;
        let timer: NodeJS.Timeout | undefined;
        const woke = await Promise.race([
          gate.then(() => true),
          new Promise<false>((r) => {
            timer = setTimeout(() => r(false), Math.min(delay, left));
          }),
        ]);
        clearTimeout(timer);
        if (woke || this.ended.has(jobId)) return true;
        if (!this.unsubscribe) return isFinalState((await this.entrance.get(principal, jobId)).state);
        gate = new Promise<void>((r) => {
          wake = r;
        });
        if (isFinalState((await this.entrance.get(principal, jobId)).state)) return true;
        delay = Math.min(delay * 2, MAX_POLL_MS);
      }
    } finally {
      set.delete(onEnd);
      if (set.size === 0) this.waiters.delete(jobId);
    }
  }
}
