import path from 'node:path';
import { type Config, type EventBus, type JobQueue, type ResultStore, topics } from '@sluice/core';
import type pg from 'pg';
import { createEventBus } from './bus/event-bus.ts';
import { MIGRATIONS, type Migration, migrate } from './db/migrations.ts';
import { createPool } from './db/pool.ts';
import { type EmbeddedPg, startEmbeddedPostgres } from './embedded-postgres.ts';
import { createJobQueue } from './queue/job-queue.ts';
import { withInlineSets } from './results/inline-sets.ts';
import { createLocalResultStore } from './results/local-result-store.ts';

/** The shared infrastructure of one Sluice process, opened from configuration. */
export interface Infra {
  databaseUrl: string;
  db: pg.Pool;
  bus: EventBus;
  queue: JobQueue;
  results: ResultStore;
  embedded: EmbeddedPg | undefined;
  close(): Promise<void>;
}

/**
 * Opens PostgreSQL (the embedded server when DATABASE_URL is unset), applies migrations, and builds
 * the queue, bus and result store the configuration picks.
 */
export async function openInfra(
  config: Config,
  opts: { application: string; onError?: (err: Error) => void; log?: (line: string) => void; migrations?: readonly Migration[] },
): Promise<Infra> {
  let embedded: EmbeddedPg | undefined;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: path.join(config.home, 'pg', 'data'), port: config.SLUICE_EMBEDDED_PG_PORT, log: opts.log });
    databaseUrl = embedded.url;
  }
  const db = createPool(databaseUrl, { application: opts.application, max: 20 });
  try {
    await migrate(db, [...MIGRATIONS, ...(opts.migrations ?? [])]);
    const prefix = config.SLUICE_QUEUE_PREFIX;
    const jobTopic = topics.job('');
    const bus = await createEventBus({
      backend: config.busBackend,
      redisUrl: config.REDIS_URL,
      databaseUrl,
      prefix,
      onError: opts.onError,
      hold: { holdMs: config.SLUICE_BUS_HOLD_MS, held: (topic) => topic.startsWith(jobTopic) },
    });
    const queue = createJobQueue({ backend: config.queueBackend, redisUrl: config.REDIS_URL, databaseUrl, prefix, onError: opts.onError });
    const results = withInlineSets(createLocalResultStore(path.join(config.home, 'results')), config.SLUICE_RESULT_INLINE_BYTES);
    return {
      databaseUrl,
      db,
      bus,
      queue,
      results,
      embedded,
      async close() {
        await queue.close().catch(() => {});
        await bus.close().catch(() => {});
        await db.end().catch(() => {});
        await embedded?.stop().catch(() => {});
      },
    };
  } catch (err) {
    await db.end().catch(() => {});
    await embedded?.stop().catch(() => {});
    throw err;
  }
}
