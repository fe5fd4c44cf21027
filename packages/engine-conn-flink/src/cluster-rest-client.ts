import { GatewayProtocolError } from './gateway-errors.ts';
import type { RestHttp } from './rest-http.ts';

/** Job statuses of the Flink REST API; see {@link FINAL_JOB_STATES}. */
export type FlinkJobState =
  | 'INITIALIZING'
  | 'CREATED'
  | 'RUNNING'
  | 'FAILING'
  | 'FAILED'
  | 'CANCELLING'
  | 'CANCELED'
  | 'FINISHED'
  | 'RESTARTING'
  | 'SUSPENDED'
  | 'RECONCILING';

/** States a job never leaves (SUSPENDED is final for this cluster: the job moved away). */
export const FINAL_JOB_STATES: ReadonlySet<string> = new Set(['FAILED', 'CANCELED', 'FINISHED', 'SUSPENDED']);

/** What `GET /jobs/:id` says about a job, reduced to what the connector uses. */
export interface FlinkJobInfo {
  id: string;
  name: string;
  state: FlinkJobState;
  /**
   * Subtask counts over all vertices: how many there are, how many finished, and how many are still
   * starting (CREATED, SCHEDULED, DEPLOYING or INITIALIZING: their operators are not yet open).
   */
  tasks: { total: number; finished: number; starting: number };
}

/** What `GET /overview` says about the cluster. */
export interface ClusterOverview {
  flinkVersion: string;
  taskManagers: number;
  slotsTotal: number;
  slotsAvailable: number;
}

const JOB_ID = /^[0-9a-f]{32}$/;

/** Subtask states before a task runs, in the REST API's per-vertex `tasks` counts. */
const STARTING_SUBTASK_STATES = ['CREATED', 'SCHEDULED', 'DEPLOYING', 'INITIALIZING'] as const;

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** A typed client of the few Flink REST API calls the connector needs (the JobManager's `rest.port`). */
export class ClusterRestClient {
  readonly http: RestHttp;

  constructor(http: RestHttp) {
    this.http = http;
  }

  /** `GET /overview`: version, TaskManagers and slots. */
  async overview(signal?: AbortSignal): Promise<ClusterOverview> {
    const body = (await this.http.request({ method: 'GET', path: '/overview', signal })) as Record<string, unknown>;
    return {
      flinkVersion: String(body['flink-version'] ?? ''),
      taskManagers: num(body.taskmanagers),
      slotsTotal: num(body['slots-total']),
      slotsAvailable: num(body['slots-available']),
    };
  }

  /** `GET /jobs/:id`: the job's state and its subtasks' progress. */
  async job(jobId: string, signal?: AbortSignal): Promise<FlinkJobInfo> {
    if (!JOB_ID.test(jobId)) throw new GatewayProtocolError(`${JSON.stringify(jobId)} is not a Flink job id`);
    const body = (await this.http.request({ method: 'GET', path: `/jobs/${jobId}`, signal })) as Record<string, unknown>;
    const state = body.state;
    if (typeof state !== 'string') throw new GatewayProtocolError(`GET /jobs/${jobId}: the answer has no state`);
    let total = 0;
    let finished = 0;
    let starting = 0;
    for (const vertex of Array.isArray(body.vertices) ? body.vertices : []) {
      const v = vertex as { parallelism?: unknown; tasks?: Record<string, unknown> };
      total += num(v.parallelism);
      finished += num(v.tasks?.FINISHED);
      for (const s of STARTING_SUBTASK_STATES) starting += num(v.tasks?.[s]);
    }
    return { id: jobId, name: String(body.name ?? ''), state: state as FlinkJobState, tasks: { total, finished, starting } };
  }

  /** `PATCH /jobs/:id?mode=cancel`: asks the cluster to cancel the job (it answers 202 at once). */
  async cancelJob(jobId: string, signal?: AbortSignal): Promise<void> {
    if (!JOB_ID.test(jobId)) throw new GatewayProtocolError(`${JSON.stringify(jobId)} is not a Flink job id`);
    await this.http.request({ method: 'PATCH', path: `/jobs/${jobId}?mode=cancel`, signal });
  }

  /**
   * `GET /jobs/:id/exceptions`: the first line of the newest failure's stack trace (the root
   * exception), from the exception history or, on older clusters, `root-exception`; and whether that
   * failure is the job's only one (`only`: false when the history holds others, true or undefined
   * when it holds just this one or the cluster keeps no history).
   */
  async failureCause(jobId: string, signal?: AbortSignal): Promise<{ cause: string; only: boolean | undefined } | undefined> {
    if (!JOB_ID.test(jobId)) throw new GatewayProtocolError(`${JSON.stringify(jobId)} is not a Flink job id`);
    const body = (await this.http.request({ method: 'GET', path: `/jobs/${jobId}/exceptions?maxExceptions=2`, signal })) as Record<string, unknown>;
    const history = body.exceptionHistory as { entries?: { stacktrace?: unknown; exceptionName?: unknown }[]; truncated?: unknown } | undefined;
    const entries = Array.isArray(history?.entries) ? history.entries : undefined;
    const only = entries ? entries.length === 1 && history?.truncated !== true : undefined;
    const entry = entries?.[0];
    const trace = typeof entry?.stacktrace === 'string' ? entry.stacktrace : typeof body['root-exception'] === 'string' ? body['root-exception'] : undefined;
    if (trace) return { cause: firstCauseLine(trace), only };
    return typeof entry?.exceptionName === 'string' ? { cause: entry.exceptionName, only } : undefined;
  }
}

/** The deepest `Caused by:` line of a Java stack trace (or its first line), without the package names. */
export function firstCauseLine(trace: string): string {
  const lines = trace.split('\n');
  let chosen = lines[0] ?? '';
  for (const line of lines) if (line.startsWith('Caused by: ')) chosen = line.slice('Caused by: '.length);
  return chosen.replace(/^(?:[a-z_$][\w$]*\.)+([A-Z][\w$]*)/, '$1').trim();
}
