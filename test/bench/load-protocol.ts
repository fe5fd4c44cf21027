import type { BullmqJobSample, BullmqLocation } from './bullmq-target.ts';
import type { OpenLoopResult, PhaseResult } from './load-patterns.ts';
import type { SluiceJobSample } from './sluice-job-client.ts';

/** What the load-client process drives: the Sluice gateway, or the raw BullMQ baseline. */
export type LoadTarget =
  | {
      kind: 'sluice';
      url: string;
      tokens: string[];
      clients: number;
      code: string;
      expectedRows: unknown[][];
      creator: string;
      /** `wait`: one request per job (POST ?wait=, rows inline); `ws`: POST, WebSocket subscribe, GET rows. */
      mode: 'wait' | 'ws';
    }
  | { kind: 'bullmq'; location: BullmqLocation };

/** A sample of either target. */
export type JobSample = SluiceJobSample | BullmqJobSample;

/** Commands from the bench to the load-client process. */
export type LoadCommand =
  | { type: 'init'; target: LoadTarget }
  | { type: 'closed'; total: number; concurrency: number; deadlineMs: number }
  | { type: 'open'; total: number; ratePerSec: number; maxInFlight: number; deadlineMs: number }
  | { type: 'release' }
  /** One-way: baseline jobs the Worker completed (no reply). */
  | { type: 'completed'; ids: string[] }
  | { type: 'close' };

/** Replies of the load-client process, one per command. */
export type LoadReply =
  | { type: 'ready' }
  | { type: 'closed'; result: PhaseResult<JobSample> }
  | { type: 'open'; result: OpenLoopResult<JobSample> }
  | { type: 'released' }
  | { type: 'closed-down' }
  | { type: 'failed'; error: string };
