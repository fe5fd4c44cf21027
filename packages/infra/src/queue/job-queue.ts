import { type JobQueue, type QueueConsumer, type QueuedJob, type QueueHandler, queueId } from '@sluice/core';
import { createPostgresBackend, type Job, type JobsOptions, type JobType, Queue, Worker, type WorkerOptions, withBackend } from 'bullmq';
import { Redis } from 'ioredis';
import { toBullPriority } from './priority.ts';

/** Options of {@link createJobQueue}. */
export interface JobQueueOptions {
  backend: 'redis' | 'postgres';
  /** Required for the Redis backend. */
  redisUrl?: string;
  /** Required for the PostgreSQL backend. */
  databaseUrl?: string;
  /**
   * Namespace of the queue (`[a-z0-9_]`, at most 56 characters). Redis: the BullMQ key prefix.
   * PostgreSQL: the schema `bullmq_<prefix>` (that backend ignores BullMQ's `prefix` option).
   */
  prefix: string;
  /** How long a consumer holds an entry without renewing its lock before it counts as stalled. Default 30 000. */
  lockDurationMs?: number;
  /** Called with errors of handlers (with the entry) and of the connections; default: console.error. */
  onError?: (err: Error, job?: QueuedJob) => void;
}

/** The one BullMQ queue name Sluice uses; the prefix (or schema) isolates deployments. */
export const QUEUE_NAME = 'jobs';
/** The name of every entry. */
export const ENTRY_NAME = 'run';

const PREFIX = /^[a-z0-9_]{1,56}$/;

/** The PostgreSQL schema BullMQ keeps the queue of `prefix` in. */
export function queueSchema(prefix: string): string {
  return `bullmq_${prefix}`;
}

/** The surface of a BullMQ Queue this adapter uses, identical for both backends. */
interface BullQueue {
  add(name: string, data: QueuedJob, opts: JobsOptions): Promise<unknown>;
  getJobState(jobId: string): Promise<string>;
  remove(jobId: string, opts?: { removeChildren?: boolean }): Promise<number>;
  getJobCounts(...types: JobType[]): Promise<Record<string, number>>;
  waitUntilReady(): Promise<unknown>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(): Promise<void>;
}

/** The surface of a BullMQ Worker this adapter uses. */
interface BullWorker {
  on(event: 'failed', listener: (job: Job<QueuedJob> | undefined, err: Error) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  waitUntilReady(): Promise<unknown>;
  close(force?: boolean): Promise<void>;
}

type Processor = (job: Job<QueuedJob>) => Promise<void>;
type WorkerSettings = Pick<WorkerOptions, 'concurrency' | 'lockDuration' | 'stalledInterval' | 'maxStalledCount' | 'autorun'>;

interface Backend {
  queue: BullQueue;
  worker(processor: Processor, settings: WorkerSettings): { worker: BullWorker; release(): Promise<void> };
  release(): Promise<void>;
}

function redisBackend(url: string, prefix: string, onError: (err: Error) => void): Backend {
  const connect = (worker: boolean) => {
    // Workers block on their connection: BullMQ requires maxRetriesPerRequest null there. The
    // producer keeps ioredis' default so enqueue fails (after retries) rather than hang while Redis is down.
    const c = worker ? new Redis(url, { maxRetriesPerRequest: null }) : new Redis(url);
    c.on('error', onError);
    return c;
  };
  const quit = async (c: Redis) => {
    try {
      await c.quit();
    } catch {
      c.disconnect();
    }
  };
  const conn = connect(false);
  const queue = new Queue<QueuedJob>(QUEUE_NAME, { connection: conn, prefix }) as unknown as BullQueue;
  return {
    queue,
    worker(processor, settings) {
      const wconn = connect(true);
      const worker = new Worker<QueuedJob>(QUEUE_NAME, processor, { connection: wconn, prefix, ...settings }) as unknown as BullWorker;
      return { worker, release: () => quit(wconn) };
    },
    release: () => quit(conn),
  };
}

function postgresBackend(databaseUrl: string, prefix: string): Backend {
  const pg = withBackend(createPostgresBackend);
  // The PostgreSQL backend namespaces by schema, not by key prefix: the schema is only read from the
  // config-object form of the connection (a bare connection string always means schema "bullmq").
  const connection = { connectionString: databaseUrl, schema: queueSchema(prefix), migrate: true };
  const queue = new pg.Queue<QueuedJob>(QUEUE_NAME, { connection }) as unknown as BullQueue;
  return {
    queue,
    worker(processor, settings) {
      const worker = new pg.Worker<QueuedJob>(QUEUE_NAME, processor, { connection, ...settings }) as unknown as BullWorker;
      return { worker, release: async () => {} };
    },
    release: async () => {},
  };
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * A {@link JobQueue} on BullMQ, backed by Redis or PostgreSQL. The queue is transport only: entries are
 * removed when they complete or fail, stalled entries are dropped rather than re-run (the entrance's
 * reconciler owns retries), and the entry id is `queueId(jobId, attempt)` so enqueueing twice is a no-op.
 */
export function createJobQueue(opts: JobQueueOptions): JobQueue {
  if (!PREFIX.test(opts.prefix)) throw new Error(`queue prefix must match ${PREFIX}, got "${opts.prefix}"`);
  const onError = opts.onError ?? ((err: Error) => console.error('[sluice queue]', err));
  const reportError = (err: Error) => {
    try {
      onError(err);
    } catch {
      // A faulty error callback must not take the queue down.
    }
  };
  let backend: Backend;
  if (opts.backend === 'redis') {
    if (!opts.redisUrl) throw new Error('the redis queue backend needs redisUrl');
    backend = redisBackend(opts.redisUrl, opts.prefix, reportError);
  } else if (opts.backend === 'postgres') {
    if (!opts.databaseUrl) throw new Error('the postgres queue backend needs databaseUrl');
    backend = postgresBackend(opts.databaseUrl, opts.prefix);
  } else {
    throw new Error(`unknown queue backend ${String(opts.backend)}`);
  }
  const { queue } = backend;
  queue.on('error', reportError);
  const lockDuration = opts.lockDurationMs ?? 30_000;
  const consumers = new Set<QueueConsumer>();
  let closing: Promise<void> | undefined;

  const assertOpen = () => {
    if (closing) throw new Error('the job queue is closed');
  };

  return {
    async enqueue(job) {
      assertOpen();
      const id = queueId(job.jobId, job.attempt);
      if (id.includes(':') || `${Number.parseInt(id, 10)}` === id) throw new Error(`job id "${id}" cannot be a queue id (no ':' and not an integer)`);
      const data: QueuedJob = { jobId: job.jobId, attempt: job.attempt, priority: job.priority };
      // An existing id makes BullMQ return the existing entry untouched, which is the no-op we want.
      await queue.add(ENTRY_NAME, data, { jobId: id, priority: toBullPriority(job.priority), removeOnComplete: true, removeOnFail: true });
    },

    async has(jobId, attempt) {
      assertOpen();
      const state = await queue.getJobState(queueId(jobId, attempt));
      return state !== 'unknown' && state !== 'completed' && state !== 'failed';
    },

    async remove(jobId, attempt) {
      assertOpen();
      const id = queueId(jobId, attempt);
      const state = await queue.getJobState(id);
      if (state !== 'waiting' && state !== 'prioritized') return;
      // Both backends refuse to remove a locked entry, so one that turned active meanwhile stays.
      await queue.remove(id, { removeChildren: false });
    },

    async consume(handler: QueueHandler, { concurrency }) {
      assertOpen();
      if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
      const processor: Processor = async (job) => {
        await handler(job.data);
      };
      const { worker, release } = backend.worker(processor, {
        concurrency,
        lockDuration,
        stalledInterval: lockDuration,
        maxStalledCount: 0,
        autorun: true,
      });
      worker.on('failed', (job, err) => {
        try {
          onError(asError(err), job?.data);
        } catch {
          // See reportError.
        }
      });
      worker.on('error', reportError);
      await worker.waitUntilReady();
      let stopped: Promise<void> | undefined;
      const consumer: QueueConsumer = {
        close(graceful = true) {
          stopped ??= (async () => {
            try {
              await worker.close(!graceful);
            } finally {
              consumers.delete(consumer);
              await release();
            }
          })();
          return stopped;
        },
      };
      consumers.add(consumer);
      return consumer;
    },

    async counts() {
      assertOpen();
      const c = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
      return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0), active: c.active ?? 0 };
    },

    close() {
      closing ??= (async () => {
        await Promise.allSettled([...consumers].map((c) => c.close(true)));
        try {
          await queue.close();
        } finally {
          await backend.release();
        }
      })();
      return closing;
    },
  };
}
