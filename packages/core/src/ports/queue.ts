/**
 * The job queue port. The entrance enqueues admitted jobs; engine managers consume them. The queue is
 * never the only copy of a job: PostgreSQL is, and the entrance's reconciler re-enqueues what the queue lost.
 */
export interface QueuedJob {
  /** Sluice job id. */
  jobId: string;
  /** Attempt number; the queue id is derived from it so a retry is a fresh queue entry. */
  attempt: number;
  /** 0–10, higher first. */
  priority: number;
}

export type QueueHandler = (job: QueuedJob) => Promise<void>;

export interface JobQueue {
  /** Adds a job. Adding the same (jobId, attempt) twice is a no-op. */
  enqueue(job: QueuedJob): Promise<void>;
  /** True if the (jobId, attempt) entry is waiting or active. */
  has(jobId: string, attempt: number): Promise<boolean>;
  /** Removes a waiting entry; a no-op if it is active or gone. */
  remove(jobId: string, attempt: number): Promise<void>;
  /** Starts consuming with at most `concurrency` handlers at once. */
  consume(handler: QueueHandler, opts: { concurrency: number }): Promise<QueueConsumer>;
  /** Counts of waiting and active entries. */
  counts(): Promise<{ waiting: number; active: number }>;
  close(): Promise<void>;
}

export interface QueueConsumer {
  /** Stops taking new entries and waits for running handlers when `graceful`. */
  close(graceful?: boolean): Promise<void>;
}

/** The queue id of an attempt: the job id itself for the first, `<id>-r<n>` for retries. */
export function queueId(jobId: string, attempt: number): string {
  return attempt === 0 ? jobId : `${jobId}-r${attempt}`;
}
