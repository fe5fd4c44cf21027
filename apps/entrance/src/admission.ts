import type { JobQueue, QueuedJob } from '@sluice/core';
import type { JobStore } from './job-store.ts';

/**
 * Admission: moves a group's waiting jobs into the queue while the group has room. Called after a
 * submit, whenever a job of the group leaves the active states, and by the scheduler's periodic pass.
 * Safe to call from any process at any time: the store serialises it per group.
 */
export class Admission {
  constructor(
    private readonly store: JobStore,
    private readonly queue: JobQueue,
    private readonly onError: (err: unknown, job?: QueuedJob) => void = () => {},
  ) {}

  /** Admits what fits in the group and enqueues it. */
  async admitGroup(groupKey: string): Promise<number> {
    const admitted = await this.store.admit(groupKey);
    for (const job of admitted) await this.enqueue(job);
    return admitted.length;
  }

  /** Enqueues one admitted job; a failure is left to the reconciler, which re-enqueues lost entries. */
  async enqueue(job: QueuedJob): Promise<void> {
    try {
      await this.queue.enqueue(job);
    } catch (err) {
      this.onError(err, job);
    }
  }
}
