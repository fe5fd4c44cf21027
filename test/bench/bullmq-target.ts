import { createPostgresBackend, type Job, Queue, QueueEvents, Worker, withBackend } from 'bullmq';
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
    return { Queue, Worker, QueueEvents, opts: () => ({ connection, prefix: loc.prefix }) };
  }
  const pg = withBackend(createPostgresBackend);
  const connection = { connectionString: loc.databaseUrl, schema: `bullmq_${loc.prefix}`, migrate: true };
  return {
    Queue: pg.Queue as typeof Queue,
    Worker: pg.Worker as typeof Worker,
    QueueEvents: pg.QueueEvents as typeof QueueEvents,
    opts: () => ({ connection }),
  };
}

/** Timings of one baseline job, ms from just before `add`. */
export interface BullmqJobSample {
  /** `add` resolved. */
  ackMs: number;
  /** The producer saw the `completed` event (QueueEvents): the add→completed latency. */
  totalMs: number;
}

/**
 * The producer side of the raw BullMQ baseline: a Queue adding jobs and a QueueEvents telling the
 * producer when each completed. Job ids are chosen here so a completion can never beat its waiter.
 */
export class BullmqProducer {
  private readonly waiters = new Map<string, (value: string) => void>();
  private seq = 0;

  private constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly tag: string,
  ) {
    events.on('completed', ({ jobId, returnvalue }) => {
      const w = this.waiters.get(jobId);
      if (!w) return;
      this.waiters.delete(jobId);
      w(typeof returnvalue === 'string' ? returnvalue : JSON.stringify(returnvalue));
    });
  }

  /** Opens the queue and starts listening for completions. */
  static async open(loc: BullmqLocation): Promise<BullmqProducer> {
    const c = classes(loc);
    const queue = new c.Queue(BASELINE_QUEUE, c.opts());
    const events = new c.QueueEvents(BASELINE_QUEUE, c.opts());
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new BullmqProducer(queue, events, `p${process.pid}`);
  }

  /** Adds one job and waits until it completed. */
  async runJob(): Promise<BullmqJobSample> {
    const jobId = `${this.tag}-${++this.seq}`;
    const t0 = performance.now();
    const done = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(jobId);
        reject(new Error(`baseline job ${jobId} did not complete within 30 s`));
      }, 30_000);
      this.waiters.set(jobId, (v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
    await this.queue.add('run', { n: this.seq }, { jobId, removeOnComplete: true, removeOnFail: true });
    const ackMs = performance.now() - t0;
    const value = await done;
    const totalMs = performance.now() - t0;
    if (value !== JSON.stringify(BASELINE_RESULT)) throw new Error(`baseline job ${jobId} returned ${value}`);
    return { ackMs, totalMs };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }
}

/** The consumer side of the baseline: a Worker with a trivial processor. */
export class BullmqConsumer {
  processed = 0;

  private constructor(private readonly worker: Worker) {}

  static async start(loc: BullmqLocation, concurrency: number): Promise<BullmqConsumer> {
    const c = classes(loc);
    let consumer: BullmqConsumer | undefined;
    const worker = new c.Worker(
      BASELINE_QUEUE,
      async (_job: Job) => {
        if (consumer) consumer.processed++;
        return BASELINE_RESULT;
      },
      { ...c.opts(), concurrency },
    );
    consumer = new BullmqConsumer(worker);
    await worker.waitUntilReady();
    return consumer;
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}

/** Removes every trace of a baseline queue (keys under its prefix, or its schema). */
export async function dropBaselineQueue(loc: BullmqLocation): Promise<void> {
  const c = classes(loc);
  const queue = new c.Queue(BASELINE_QUEUE, c.opts());
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
  if (loc.backend === 'redis') await deleteKeys(loc.redisUrl, loc.prefix);
}
