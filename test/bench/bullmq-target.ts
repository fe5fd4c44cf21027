import { createPostgresBackend, type Job, Queue, Worker, withBackend } from 'bullmq';
import { deleteKeys } from './redis-keys.ts';

/** Where a raw BullMQ queue lives: Redis (key prefix) or PostgreSQL (schema, BullMQ's own backend). */
export type BullmqLocation = { backend: 'redis'; redisUrl: string; prefix: string } | { backend: 'postgres'; databaseUrl: string; prefix: string };

/** The queue name of the baseline (its prefix or schema isolates it). */
export const BASELINE_QUEUE = 'baseline';

/** The trivial processor's return value: the "result" of a baseline job, like `select 1`'s row. */
export const BASELINE_RESULT = [[1]];

function classes(loc: BullmqLocation) {
  if (loc.backend === 'redis') {
    // Options, not a client: BullMQ then owns its connections and closes them with the queue.
    const u = new URL(loc.redisUrl);
    const connection = { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
    return { Queue, Worker, opts: () => ({ connection, prefix: loc.prefix }) };
  }
  const pg = withBackend(createPostgresBackend);
  const connection = { connectionString: loc.databaseUrl, schema: `bullmq_${loc.prefix}`, migrate: true };
  return { Queue: pg.Queue as typeof Queue, Worker: pg.Worker as typeof Worker, opts: () => ({ connection }) };
}

/** Timings of one baseline job, ms from just before `add`. */
export interface BullmqJobSample {
  /** `add` resolved. */
  ackMs: number;
  /** The producer learnt that the Worker completed the job: the add→completed latency. */
  totalMs: number;
}

/**
 * The producer side of the raw BullMQ baseline: a Queue adding jobs. It learns of completions through
 * {@link complete}, which the bench calls with the ids its Worker reports (relayed over IPC, one hop,
 * like Sluice's WebSocket push). QueueEvents is not used: on BullMQ's PostgreSQL backend it dropped or
 * delayed (10 s) a share of the events under load. Job ids are chosen here so a completion can never
 * beat its waiter.
 */
export class BullmqProducer {
  private readonly waiters = new Map<string, () => void>();
  private readonly early = new Set<string>();
  private seq = 0;

  private constructor(
    private readonly queue: Queue,
    private readonly tag: string,
  ) {}

  /** Opens the queue. */
  static async open(loc: BullmqLocation): Promise<BullmqProducer> {
    const c = classes(loc);
    const queue = new c.Queue(BASELINE_QUEUE, c.opts());
    queue.on('error', (err: Error) => console.error(`[baseline producer] ${err.message}`));
    await queue.waitUntilReady();
    return new BullmqProducer(queue, `p${process.pid}x${Date.now().toString(36)}`);
  }

  /** Marks jobs completed (ids reported by the Worker). */
  complete(ids: readonly string[]): void {
    for (const id of ids) {
      const w = this.waiters.get(id);
      if (w) {
        this.waiters.delete(id);
        w();
      } else if (id.startsWith(this.tag)) this.early.add(id);
    }
  }

  /** Adds one job and waits until the Worker completed it. */
  async runJob(): Promise<BullmqJobSample> {
    const jobId = `${this.tag}-${++this.seq}`;
    const t0 = performance.now();
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(jobId);
        reject(new Error(`baseline job ${jobId} did not complete within 30 s`));
      }, 30_000);
      this.waiters.set(jobId, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await this.queue.add('run', { n: this.seq }, { jobId, removeOnComplete: true, removeOnFail: true });
    const ackMs = performance.now() - t0;
    if (this.early.delete(jobId)) this.complete([jobId]);
    await done;
    return { ackMs, totalMs: performance.now() - t0 };
  }

  /** Releases every waiter and closes the queue. */
  async close(): Promise<void> {
    for (const id of this.waiters.keys()) this.complete([id]);
    await this.queue.close().catch(() => {});
  }
}

/** The consumer side of the baseline: a Worker with a trivial processor, reporting each completion. */
export class BullmqConsumer {
  private constructor(private readonly worker: Worker) {}

  /** Starts a Worker with `concurrency` and waits until it is ready. */
  static async start(loc: BullmqLocation, concurrency: number, onCompleted: (jobId: string) => void): Promise<BullmqConsumer> {
    const c = classes(loc);
    const worker = new c.Worker(BASELINE_QUEUE, async (_job: Job) => BASELINE_RESULT, { ...c.opts(), concurrency });
    worker.on('error', (err: Error) => console.error(`[baseline worker] ${err.message}`));
    worker.on('completed', (job: Job) => {
      if (job.id) onCompleted(job.id);
    });
    await worker.waitUntilReady();
    return new BullmqConsumer(worker);
  }

  /** Closes the Worker (waits for jobs in progress). */
  async close(): Promise<void> {
    await this.worker.close();
  }
}

/** Removes every trace of a baseline queue (keys under its prefix, or its schema). */
export async function dropBaselineQueue(loc: BullmqLocation): Promise<void> {
  const c = classes(loc);
  const queue = new c.Queue(BASELINE_QUEUE, c.opts());
  queue.on('error', () => {});
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
  if (loc.backend === 'redis') await deleteKeys(loc.redisUrl, loc.prefix);
}
