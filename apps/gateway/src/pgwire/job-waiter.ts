import { type EventBus, isFinalState, type JobState, type JobView, type Principal, topics } from '@sluice/core';
import type { EntranceApi } from '@sluice/entrance';

const RECENT_MS = 60_000;
const MAX_POLL_MS = 1_000;

/**
 * Waits for jobs to reach a final state. One bus subscription (the topic every final state is
 * published on) serves every connection of the server; because the bus is best effort, each wait
 * also re-reads the job with a growing interval, so a lost event costs latency, never a hang.
 */
export class JobWaiter {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly recent = new Map<string, number>();
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly entrance: EntranceApi,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(topics.jobStates, (raw) => {
      const m = raw as { type?: unknown; jobId?: unknown; state?: unknown };
      if (m?.type !== 'status' || typeof m.jobId !== 'string' || !isFinalState(m.state as JobState)) return;
      this.recent.set(m.jobId, Date.now());
      if (this.recent.size > 10_000) {
        const old = Date.now() - RECENT_MS;
        for (const [id, at] of this.recent) if (at < old) this.recent.delete(id);
      }
      for (const wake of this.waiters.get(m.jobId) ?? []) wake();
    });
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.().catch(() => {});
    this.unsubscribe = undefined;
  }

  /** Resolves with the job once it is final. */
  async wait(principal: Principal, jobId: string): Promise<JobView> {
    let wake!: () => void;
    let gate = new Promise<void>((r) => {
      wake = r;
    });
    const onEvent = () => wake();
    const set = this.waiters.get(jobId) ?? new Set<() => void>();
    this.waiters.set(jobId, set);
    set.add(onEvent);
    try {
      let delay = 25;
      for (;;) {
        const job = await this.entrance.get(principal, jobId);
        if (isFinalState(job.state)) return job;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          gate,
          new Promise<void>((r) => {
            timer = setTimeout(r, delay);
          }),
        ]);
        clearTimeout(timer);
        gate = new Promise<void>((r) => {
          wake = r;
        });
        delay = Math.min(delay * 2, MAX_POLL_MS);
      }
    } finally {
      set.delete(onEvent);
      if (set.size === 0) this.waiters.delete(jobId);
    }
  }
}
