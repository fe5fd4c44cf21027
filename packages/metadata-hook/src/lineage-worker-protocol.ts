/**
 * The messages between the lineage worker pool and its worker threads. Version 1; both ends check
 * `v` and `type` before using a message, and anything else is a protocol error that replaces the worker.
 */
import type { Dialect } from './dialect.ts';
import { extractUncached } from './extract-lineage.ts';
import type { ExtractionContext, FrontEndChoice, LineageResult } from './lineage-types.ts';

/** Version of the worker protocol. */
export const LINEAGE_WORKER_PROTOCOL = 1;

/** Pool → worker: extract one script, or load a dialect's grammar ahead of its first job. */
export type WorkerRequest =
  | { v: 1; type: 'extract'; id: number; sql: string; dialect: Dialect; ctx: ExtractionContext; frontEnd: FrontEndChoice }
  | { v: 1; type: 'warm'; id: number; dialect: Dialect };

/** Worker → pool: `ready` once its modules loaded, then one answer per request. */
export type WorkerReply =
  | { v: 1; type: 'ready' }
  | { v: 1; type: 'result'; id: number; result: LineageResult }
  | { v: 1; type: 'warmed'; id: number; ms: number };

/** A statement that makes a grammar load and its parser build the common paths of its DFA. */
const WARM_SQL = 'INSERT INTO w_out SELECT a.x, count(*) AS n FROM w_in a JOIN w_dim d ON a.k = d.k WHERE a.x > 1 GROUP BY a.x';

/** Narrows an incoming message to a request of this protocol version. */
export function isWorkerRequest(m: unknown): m is WorkerRequest {
  const r = m as Partial<WorkerRequest> | null;
  return typeof r === 'object' && r !== null && r.v === LINEAGE_WORKER_PROTOCOL && (r.type === 'extract' || r.type === 'warm') && typeof r.id === 'number';
}

/** Narrows an incoming message to a reply of this protocol version. */
export function isWorkerReply(m: unknown): m is WorkerReply {
  const r = m as Partial<WorkerReply> | null;
  return typeof r === 'object' && r !== null && r.v === LINEAGE_WORKER_PROTOCOL && (r.type === 'ready' || r.type === 'result' || r.type === 'warmed');
}

/** What a worker answers to a request; runs in the worker thread and never throws. */
export function answerWorkerRequest(req: WorkerRequest): WorkerReply {
  if (req.type === 'warm') {
    const t0 = performance.now();
    extractUncached(WARM_SQL, req.dialect, { namespace: 'sluice-warm-up' }, 'auto');
    return { v: 1, type: 'warmed', id: req.id, ms: Math.round(performance.now() - t0) };
  }
  return { v: 1, type: 'result', id: req.id, result: extractUncached(req.sql, req.dialect, req.ctx, req.frontEnd) };
}
