import type pg from 'pg';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
import {
  deleteDeliveredBefore,
  lockDueHeads,
  lockNextInRun,
  markDeadLetter,
  markDelivered,
  markFailed,
  type OutboxRow,
  type Queryable,
} from './outbox-store.ts';
import { type LineageTransport, TransportError } from './transport.ts';

/** The logging the dispatcher does (pino-compatible). */
export interface DispatcherLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What one pass did. */
export interface DispatchPass {
  /** Runs whose head this pass held. */
  runs: number;
  delivered: number;
  /** Attempts that failed and will be retried. */
  failed: number;
  /** Events the receiver refused for good, moved to the dead letters. */
  deadLettered: number;
}

/**
 * Whether a delivery failure is final: the receiver answered a 4xx other than 408 (timeout) and 429
 * (too many requests), so sending the same event again cannot succeed.
 */
export function isPermanentFailure(e: unknown): boolean {
  if (!(e instanceof TransportError) || e.status === undefined) return false;
  return e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429;
}

/** Settings of a {@link LineageDispatcher}. */
export interface LineageDispatcherOptions {
  /** The PostgreSQL pool holding the outbox. */
  pool: Pick<pg.Pool, 'connect'>;
  transport: LineageTransport;
  /** Runs handled per pass (each run's head is locked for the pass); 32 by default. */
  batchSize?: number;
  /** Events delivered per run per pass, in order; 16 by default. */
  maxPerRun?: number;
  /** Runs delivered to at once within a pass; 4 by default. */
  concurrency?: number;
  /** Pause between passes when there was nothing more to do; 1 s by default. */
  pollIntervalMs?: number;
  backoff?: BackoffPolicy;
  logger?: DispatcherLogger;
  /** How long delivered events stay in the outbox; 0 keeps them forever. 7 days by default. */
  retentionMs?: number;
  /** Delivered events deleted per cleanup statement; 500 by default. */
  cleanupBatchSize?: number;
  /** Batches deleted per cleanup round (the rest waits for the next round); 20 by default. */
  cleanupMaxBatches?: number;
  /** Time between cleanup rounds; 60 s by default. */
  cleanupIntervalMs?: number;
}

/**
 * Delivers the outbox: at least once, in `seq` order within each run, with capped exponential
 * backoff per event. Any number of dispatchers (processes) may run: each pass locks the head event of
 * the runs it takes with `FOR UPDATE SKIP LOCKED` for the length of its transaction, so two
 * dispatchers never hold the same run, and event n+1 of a run is only taken once n is delivered.
 * A receiver that is down only delays delivery; nothing leaves the outbox undelivered.
 */
export class LineageDispatcher {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly opts: Required<Omit<LineageDispatcherOptions, 'logger'>> & { logger?: DispatcherLogger };

  constructor(options: LineageDispatcherOptions) {
    this.opts = {
      batchSize: 32,
      maxPerRun: 16,
      concurrency: 4,
      pollIntervalMs: 1000,
      backoff: DEFAULT_BACKOFF,
      retentionMs: 7 * 24 * 3_600_000,
      cleanupBatchSize: 500,
      cleanupMaxBatches: 20,
      cleanupIntervalMs: 60_000,
      ...options,
    };
  }

  /** Starts delivering in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the current pass (whose deliveries are committed) and waits for it. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  /** Asks for a pass now instead of after the poll interval (e.g. after writing an event). */
  poke(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    let lastCleanup = 0;
    while (this.running) {
      let pass: DispatchPass | undefined;
      try {
        pass = await this.runOnce();
      } catch (e) {
        this.opts.logger?.warn({ err: e instanceof Error ? e.message : String(e) }, 'lineage dispatch pass failed');
      }
      if (this.opts.retentionMs > 0 && Date.now() - lastCleanup >= this.opts.cleanupIntervalMs) {
        lastCleanup = Date.now();
        try {
          await this.cleanup();
        } catch (e) {
          this.opts.logger?.warn({ err: e instanceof Error ? e.message : String(e) }, 'lineage outbox cleanup failed');
        }
      }
      if (!this.running) break;
      if (pass && pass.runs >= this.opts.batchSize) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.opts.pollIntervalMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /**
   * Deletes delivered events older than the retention, in batches of `cleanupBatchSize` (each its own
   * short statement, so the outbox is never locked for long), at most `cleanupMaxBatches` per call.
   * Pending events and dead letters stay. Returns how many were deleted.
   */
  async cleanup(): Promise<number> {
    if (this.opts.retentionMs <= 0) return 0;
    let total = 0;
    const client = await this.opts.pool.connect();
    try {
      for (let i = 0; i < this.opts.cleanupMaxBatches; i++) {
        const n = await deleteDeliveredBefore(client, this.opts.retentionMs, this.opts.cleanupBatchSize);
        total += n;
        if (n < this.opts.cleanupBatchSize) break;
      }
    } finally {
      client.release();
    }
    if (total > 0) this.opts.logger?.info({ deleted: total, retentionMs: this.opts.retentionMs }, 'lineage outbox: delivered events past retention deleted');
    return total;
  }

  /** One pass: lock due run heads, deliver each run's events in order, record the outcome, commit. */
  async runOnce(): Promise<DispatchPass> {
    const client = await this.opts.pool.connect();
    const pass: DispatchPass = { runs: 0, delivered: 0, failed: 0, deadLettered: 0 };
    try {
      await client.query('BEGIN');
      try {
        // Runs are delivered concurrently, but one connection takes one query at a time.
        const tx = serialized(client);
        const heads = await lockDueHeads(tx, this.opts.batchSize);
        pass.runs = heads.length;
        let next = 0;
        const worker = async () => {
          while (next < heads.length) {
            const head = heads[next++] as OutboxRow;
            await this.drainRun(tx, head, pass);
          }
        };
        await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, heads.length) }, worker));
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    } finally {
      client.release();
    }
    return pass;
  }

  private async drainRun(tx: Queryable, head: OutboxRow, pass: DispatchPass): Promise<void> {
    let row: OutboxRow | undefined = head;
    for (let n = 0; row && n < this.opts.maxPerRun; n++) {
      try {
        await this.opts.transport.send(row.payload);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (isPermanentFailure(e)) {
          // Retrying cannot help; keep the event for operators and let the rest of the run flow.
          const status = (e as TransportError).status;
          await markDeadLetter(tx, row.id, message, status);
          pass.deadLettered++;
          this.opts.logger?.warn(
            { runKey: row.run_key, seq: row.seq, eventType: row.payload.eventType, status, attempts: row.attempts + 1, err: message },
            'lineage event refused by the receiver: moved to the dead letters',
          );
          row = await lockNextInRun(tx, row.run_key, row.seq);
          continue;
        }
        const delay = backoffDelay(row.attempts + 1, this.opts.backoff);
        await markFailed(tx, row.id, message, delay);
        pass.failed++;
        this.opts.logger?.warn(
          { runKey: row.run_key, seq: row.seq, attempts: row.attempts + 1, retryInMs: delay, err: message },
          'lineage event not delivered',
        );
        return;
      }
      await markDelivered(tx, row.id);
      pass.delivered++;
      row = await lockNextInRun(tx, row.run_key, row.seq);
    }
  }
}

/** A view of a connection that queues its queries one after another. */
function serialized(client: Queryable): Queryable {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    query(text: string, values?: unknown[]) {
      const run = tail.then(() => client.query(text, values));
      tail = run.catch(() => undefined);
      return run;
    },
  } as Queryable;
}
