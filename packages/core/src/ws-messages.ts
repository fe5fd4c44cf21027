import { z } from 'zod';
import { ProgressEventSchema, ResultReadyEventSchema, RowsEventSchema, StatusEventSchema } from './events.ts';
import { JobErrorSchema, JobViewSchema, SubmitJobSchema } from './job.ts';

/** WebSocket protocol of `/api/v1/ws`. Every frame is JSON with a version `v`. */
export const WS_PROTOCOL_VERSION = 1 as const;

/** Close code sent when a client reads too slowly and its buffer is full; resubscribe from the last line. */
export const WS_CLOSE_SLOW_CONSUMER = 4008;
/** Close code sent when a client sends too many invalid frames. */
export const WS_CLOSE_PROTOCOL_ERROR = 4002;

const v = z.literal(WS_PROTOCOL_VERSION);
const reqId = z.string().max(64).optional();

export const WsClientMessageSchema = z.discriminatedUnion('type', [
  z.object({
    v,
    type: z.literal('submit'),
    reqId,
    job: SubmitJobSchema,
    idempotencyKey: z.string().max(128).optional(),
    /** Subscribe to the new job from line 1 (default true). */
    subscribe: z.boolean().optional(),
    /** Also receive result rows as the job produces them (`rows` frames; see `subscribe.rows`). */
    rows: z.boolean().optional(),
  }),
  z.object({
    v,
    type: z.literal('subscribe'),
    reqId,
    jobId: z.string().min(1),
    fromLine: z.number().int().positive().optional(),
    /**
     * Also receive result rows as the job produces them, as `rows` frames (up to SLUICE_LIVE_ROWS per
     * job; every row stays readable through the results API). Rows produced before the subscription
     * are not replayed.
     */
    rows: z.boolean().optional(),
  }),
  z.object({ v, type: z.literal('unsubscribe'), reqId, jobId: z.string().min(1) }),
  z.object({ v, type: z.literal('cancel'), reqId, jobId: z.string().min(1) }),
  z.object({ v, type: z.literal('ping'), reqId }),
]);
export type WsClientMessage = z.infer<typeof WsClientMessageSchema>;

export const WsServerMessageSchema = z.discriminatedUnion('type', [
  z.object({ v, type: z.literal('submitted'), reqId, job: JobViewSchema }),
  z.object({ v, type: z.literal('subscribed'), reqId, jobId: z.string(), job: JobViewSchema }),
  z.object({ v, type: z.literal('unsubscribed'), reqId, jobId: z.string() }),
  z.object({ v, type: z.literal('cancelled'), reqId, job: JobViewSchema }),
  StatusEventSchema,
  ProgressEventSchema,
  z.object({ v, type: z.literal('log'), jobId: z.string(), fromLine: z.number().int(), lines: z.array(z.string()) }),
  ResultReadyEventSchema,
  RowsEventSchema,
  z.object({ v, type: z.literal('error'), reqId, jobId: z.string().optional(), error: JobErrorSchema }),
  z.object({ v, type: z.literal('pong'), reqId }),
]);
export type WsServerMessage = z.infer<typeof WsServerMessageSchema>;
