import type { Column, Row } from '@sluice/core';
import { z } from 'zod';

/**
 * The message catalog between the engine manager (parent) and a DuckDB worker (child). Every message
 * carries `v: 1`; both sides validate the envelope with zod when it arrives. Row payloads are checked
 * to be arrays only, never row by row.
 */
/** The protocol version every message carries as `v`. */
export const PROTOCOL_VERSION = 1 as const;

const v = z.literal(PROTOCOL_VERSION);
const taskId = z.string().min(1);

/** Parent → child. */
export const ParentMessageSchema = z.discriminatedUnion('type', [
  z.object({
    v,
    type: z.literal('init'),
    /** The engine's private directory; the worker makes it its working directory. */
    workDir: z.string().min(1),
    /** Database file, or `:memory:`. */
    database: z.string().min(1),
    /** DuckDB configuration options given when the database is opened. */
    settings: z.record(z.string(), z.string()),
    progressIntervalMs: z.number().int().positive(),
    batchRows: z.number().int().positive(),
    batchBytes: z.number().int().positive(),
  }),
  z.object({ v, type: z.literal('execute'), taskId, code: z.string(), credits: z.number().int().positive() }),
  /**
   * Prepare `code` for the task that is likely to come next (see `PrepareAheadEngine`). With `credits`,
   * a SELECT free of effects may also run ahead, under that many row-batch credits, its messages held
   * until the task's `execute` (ADR 16); without, nothing runs.
   */
  z.object({ v, type: z.literal('prepare'), taskId, code: z.string(), credits: z.number().int().positive().optional() }),
  z.object({ v, type: z.literal('credit'), taskId, batches: z.number().int().positive() }),
  z.object({ v, type: z.literal('cancel'), taskId }),
  z.object({ v, type: z.literal('ping'), id: z.number().int() }),
  z.object({ v, type: z.literal('shutdown') }),
]);
/** A message from the parent to the worker. */
export type ParentMessage = z.infer<typeof ParentMessageSchema>;

const ColumnWire = z.object({ name: z.string(), type: z.string() });

/** How a task ended in the worker. */
export const TaskOutcomeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('ok') }),
  z.object({ status: z.literal('queryFailed'), reason: z.string() }),
  z.object({ status: z.literal('cancelled') }),
  z.object({ status: z.literal('internal'), reason: z.string() }),
]);
/** How a task ended, as the worker reports it in `done`. */
export type TaskOutcome = z.infer<typeof TaskOutcomeSchema>;

/** Child → parent. */
export const ChildMessageSchema = z.discriminatedUnion('type', [
  z.object({ v, type: z.literal('ready'), duckdbVersion: z.string() }),
  z.object({ v, type: z.literal('initFailed'), reason: z.string() }),
  /**
   * `preparedAhead`: how many tasks so far ran on a statement prepared ahead; `ranAhead`: how many were
   * adopted from a run ahead.
   */
  z.object({
    v,
    type: z.literal('pong'),
    id: z.number().int(),
    rss: z.number(),
    preparedAhead: z.number().int().nonnegative(),
    ranAhead: z.number().int().nonnegative(),
  }),
  z.object({ v, type: z.literal('log'), taskId, line: z.string() }),
  z.object({ v, type: z.literal('progress'), taskId, progress: z.number().min(0).max(1), info: z.record(z.string(), z.unknown()) }),
  z.object({ v, type: z.literal('resultSet'), taskId, columns: z.array(ColumnWire) }),
  z.object({ v, type: z.literal('rows'), taskId, rows: z.custom<Row[]>((value) => Array.isArray(value), 'rows must be an array') }),
  z.object({ v, type: z.literal('done'), taskId, outcome: TaskOutcomeSchema }),
  /**
   * A task run ahead has ended before its `execute` came: its messages (log, result set, at most one
   * batch of rows; each stamped like a message sent alone) and its outcome. The parent may answer the
   * task's `execute` from it without asking the worker (ADR 16).
   */
  z.object({ v, type: z.literal('ranAhead'), taskId, code: z.string(), messages: z.array(z.unknown()), outcome: TaskOutcomeSchema }),
]);
/** A message from the worker to the parent. */
export type ChildMessage = z.infer<typeof ChildMessageSchema>;

/**
 * Several task messages in one write, in order: a short task's log, result set, rows and end cross
 * the process boundary together. Each inner message is validated like one sent alone.
 */
export const ChildBatchSchema = z.object({ v, type: z.literal('batch'), messages: z.array(z.unknown()).min(1) });

/** Distributive Omit, so `Omit<Union, 'v'>` keeps each member's own fields. */
type WithoutVersion<T> = T extends unknown ? Omit<T, 'v'> : never;

/** A child message before the version is stamped on. */
export type ChildMessageBody = WithoutVersion<ChildMessage>;
/** A parent message before the version is stamped on. */
export type ParentMessageBody = WithoutVersion<ParentMessage>;

/** Stamps the protocol version on a message body. */
export function stamp<T extends object>(body: T): T & { v: typeof PROTOCOL_VERSION } {
  return { v: PROTOCOL_VERSION, ...body };
}

/** Column as it crosses the wire (the same shape as the core Column, without `nullable`). */
export type WireColumn = Pick<Column, 'name' | 'type'>;
