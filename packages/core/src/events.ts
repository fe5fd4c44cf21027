import { z } from 'zod';
import { ColumnSchema, JobErrorSchema, JobStateSchema } from './job.ts';

/**
 * The catalog of events that cross process boundaries on the bus. Each carries `v` so a reader can
 * refuse a message it does not understand instead of misreading it.
 */
export const EVENT_VERSION = 1 as const;

export const StatusEventSchema = z.object({
  v: z.literal(EVENT_VERSION),
  type: z.literal('status'),
  jobId: z.string(),
  state: JobStateSchema,
  at: z.string(),
  error: JobErrorSchema.nullish(),
});

export const ProgressEventSchema = z.object({
  v: z.literal(EVENT_VERSION),
  type: z.literal('progress'),
  jobId: z.string(),
  progress: z.number().min(0).max(1),
  info: z.record(z.string(), z.unknown()).optional(),
});

/**
 * New log lines `fromLine..toLine` (inclusive, 1-based). `lines` is omitted when the batch is too large
 * for the bus; subscribers then read those lines from the log store.
 */
export const LogEventSchema = z.object({
  v: z.literal(EVENT_VERSION),
  type: z.literal('log'),
  jobId: z.string(),
  fromLine: z.number().int().positive(),
  toLine: z.number().int().positive(),
  lines: z.array(z.string()).optional(),
});

export const ResultReadyEventSchema = z.object({
  v: z.literal(EVENT_VERSION),
  type: z.literal('result'),
  jobId: z.string(),
  index: z.number().int(),
  rows: z.number().int(),
  bytes: z.number().int(),
  columns: z.array(ColumnSchema),
});

/**
 * Result rows as the job produces them ("live rows"), for subscribers that asked for them: rows
 * `offset ..` of result set `index`. A job publishes at most SLUICE_LIVE_ROWS of them; the result
 * store keeps every row.
 */
export const RowsEventSchema = z.object({
  v: z.literal(EVENT_VERSION),
  type: z.literal('rows'),
  jobId: z.string(),
  index: z.number().int(),
  offset: z.number().int().nonnegative(),
  rows: z.array(z.array(z.unknown())),
});

export const JobEventSchema = z.discriminatedUnion('type', [StatusEventSchema, ProgressEventSchema, LogEventSchema, ResultReadyEventSchema, RowsEventSchema]);
export type RowsEvent = z.infer<typeof RowsEventSchema>;

const JOB_EVENT_TYPES = new Set(['status', 'progress', 'log', 'result', 'rows']);

/**
 * A cheap shape check of a job event read from the bus, for hot consumers (one per event per
 * subscriber). The bus carries only what Sluice's own processes published, so the full schema parse
 * ({@link JobEventSchema}) is for tests and untrusted input.
 */
export function asJobEvent(raw: unknown): JobEvent | undefined {
  const m = raw as { v?: unknown; type?: unknown; jobId?: unknown } | null;
  return m && m.v === EVENT_VERSION && typeof m.jobId === 'string' && JOB_EVENT_TYPES.has(m.type as string) ? (m as JobEvent) : undefined;
}
export type JobEvent = z.infer<typeof JobEventSchema>;
export type StatusEvent = z.infer<typeof StatusEventSchema>;
export type LogEvent = z.infer<typeof LogEventSchema>;

/**
 * Commands sent to one engine manager: cancel a job it runs, or stop one of its idle engines so
 * another manager can start an engine within the user's quota.
 */
export const ManagerCommandSchema = z.discriminatedUnion('type', [
  z.object({
    v: z.literal(EVENT_VERSION),
    type: z.literal('cancel'),
    jobId: z.string(),
    reason: z.enum(['user', 'timeout', 'lease', 'client-lease']),
  }),
  z.object({ v: z.literal(EVENT_VERSION), type: z.literal('reclaim'), engineId: z.string() }),
]);
export type ManagerCommand = z.infer<typeof ManagerCommandSchema>;

/** Bus topics. Keep them here so producers and consumers cannot drift apart. */
export const topics = {
  job: (jobId: string) => `job.${jobId}`,
  /** Every status change, for admission and the scheduler. */
  jobStates: 'jobs.states',
  manager: (managerId: string) => `manager.${managerId}`,
  /** PostgreSQL CancelRequests a gateway could not match: the gateway holding the connection acts on it. */
  pgwireCancel: 'pgwire.cancel',
} as const;
