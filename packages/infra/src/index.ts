/** @sluice/infra — adapters behind the core ports and the PostgreSQL plumbing. */

export { createEventBus, type EventBusOptions } from './bus/event-bus.ts';
export { notifyChannel } from './bus/notify-channel.ts';
export { createPostgresEventBus, POSTGRES_BUS_MAX_MESSAGE_BYTES, type PostgresEventBusOptions } from './bus/postgres-event-bus.ts';
export type { PublishHoldOptions } from './bus/publish-hold.ts';
export { createRedisEventBus, REDIS_BUS_MAX_MESSAGE_BYTES } from './bus/redis-event-bus.ts';
export * from './db/liveness.ts';
export * from './db/migrations.ts';
export * from './db/pool.ts';
export * from './embedded-postgres.ts';
export * from './logger.ts';
export { createJobQueue, ENTRY_NAME, type JobQueueOptions, QUEUE_NAME, queueSchema } from './queue/job-queue.ts';
export { MAX_SLUICE_PRIORITY, MIN_SLUICE_PRIORITY, toBullPriority } from './queue/priority.ts';
export { INLINE_URI, MAX_INLINE_BYTES, withInlineSets } from './results/inline-sets.ts';
export { createLocalResultStore, OFFSET_STRIDE, type ResultIndexFile } from './results/local-result-store.ts';
export { csvField, csvRecord, jsonlKeys, type ResultDownloadFormat, streamResultAs, streamRowsAs } from './results/result-download.ts';
export { assertResultIndex, assertResultJobId, MAX_RESULT_INDEX, RESULT_JOB_ID } from './results/result-paths.ts';
export * from './runtime.ts';
