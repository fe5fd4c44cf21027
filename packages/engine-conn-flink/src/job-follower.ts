import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineEvent } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { type ClusterRestClient, FINAL_JOB_STATES, type FlinkJobInfo, type FlinkJobState } from './cluster-rest-client.ts';
import { ENGINE_NAME } from './error-mapping.ts';
import { GatewayAbortedError, GatewayConnectionError, GatewayHttpError, noRoomOnCluster } from './gateway-errors.ts';

/** How a followed job is polled, and how the task's progress is scaled around it. */
export interface FollowOptions {
  signal: AbortSignal;
  pollIntervalMs: number;
  /** How long the REST API may stay unreachable before the job is reported lost. */
  lostAfterMs: number;
  /** Progress of the task before this statement, and the share of it this statement covers. */
  progressBase: number;
  progressSpan: number;
  dataSource: string;
}

/**
 * Follows a submitted Flink job on the cluster's REST API (`GET /jobs/:id`) until it reaches a final
 * state, logging each state change and reporting progress as finished subtasks over all subtasks.
 *
 * Ends when the job FINISHED. A job that FAILED fails the task with SLUICE_ENGINE_QUERY_FAILED and the
 * job's root cause, or with SLUICE_DATASOURCE_UNAVAILABLE (retryable) when its only failure says the
 * cluster had no task slots for it (`NoResourceAvailableException`): such a job never ran. One CANCELED (or SUSPENDED) outside Sluice fails it the same way, naming the state.
 * An abort of `signal` ends it with a GatewayAbortedError; cancelling the job is the caller's part.
 * Transient REST failures are retried for `lostAfterMs`; after that (or when the cluster no longer
 * knows the job) the task fails without retry, since the job may still be running.
 */
export async function* followJob(rest: ClusterRestClient, jobId: string, options: FollowOptions): AsyncGenerator<EngineEvent, FlinkJobState> {
  let lastState = '';
  let lastProgress = -1;
  let failingSince: number | undefined;
  for (;;) {
    let info: FlinkJobInfo | undefined;
    try {
      info = await rest.job(jobId, options.signal);
      failingSince = undefined;
    } catch (err) {
      if (err instanceof GatewayAbortedError || options.signal.aborted) throw new GatewayAbortedError();
      const transient = err instanceof GatewayConnectionError || (err instanceof GatewayHttpError && err.status >= 500);
      if (err instanceof GatewayHttpError && err.status === 404) {
        throw new SluiceError('SLUICE_ENGINE_QUERY_FAILED', {
          engine: ENGINE_NAME,
          reason: `the Flink cluster of ${options.dataSource} does not know job ${jobId} any more; its outcome is unknown`,
          flinkJobId: jobId,
        });
      }
      if (!transient) throw err;
      failingSince ??= Date.now();
      if (Date.now() - failingSince > options.lostAfterMs) {
        throw new SluiceError('SLUICE_ENGINE_QUERY_FAILED', {
          engine: ENGINE_NAME,
          reason: `lost track of Flink job ${jobId}: the cluster's REST API did not answer for ${Math.round(options.lostAfterMs / 1000)} s (${err.message}); the job may still be running`,
          flinkJobId: jobId,
        });
      }
    }
    if (info) {
      if (info.state !== lastState) {
        lastState = info.state;
        yield { type: 'log', line: `Flink job ${jobId}: ${info.state}` };
      }
      const share = info.tasks.total > 0 ? info.tasks.finished / info.tasks.total : 0;
      const progress = options.progressBase + options.progressSpan * Math.min(share, 0.99);
      if (progress - lastProgress >= 0.01) {
        lastProgress = progress;
        yield {
          type: 'progress',
          progress,
          info: { flinkJobId: jobId, flinkJobState: info.state, tasksFinished: info.tasks.finished, tasksTotal: info.tasks.total },
        };
      }
      if (FINAL_JOB_STATES.has(info.state)) {
        if (info.state === 'FINISHED') return info.state;
        if (info.state === 'FAILED') {
          const failure = await rest.failureCause(jobId, options.signal).catch(() => undefined);
          const reason = `Flink job ${jobId} failed${failure ? `: ${failure.cause}` : ''}`;
          // The job never ran: its one failure was that the cluster had no task slots for it. A job
          // that ran and then failed over into that (a TaskManager lost, a restart that found no
          // slots) has earlier failures too, and may have written output, so it is not retried.
          if (failure && failure.only === true && noRoomOnCluster(failure.cause)) {
            throw new SluiceError('SLUICE_DATASOURCE_UNAVAILABLE', {
              name: options.dataSource,
              detail: reason,
              engine: ENGINE_NAME,
              flinkJobId: jobId,
              flinkJobState: info.state,
            });
          }
          throw new SluiceError('SLUICE_ENGINE_QUERY_FAILED', { engine: ENGINE_NAME, reason, flinkJobId: jobId, flinkJobState: info.state });
        }
        throw new SluiceError('SLUICE_ENGINE_QUERY_FAILED', {
          engine: ENGINE_NAME,
          reason: `Flink job ${jobId} was ${info.state === 'CANCELED' ? 'cancelled' : 'suspended'} outside Sluice`,
          flinkJobId: jobId,
          flinkJobState: info.state,
        });
      }
    }
    try {
      await sleep(options.pollIntervalMs, undefined, { signal: options.signal });
    } catch {
      throw new GatewayAbortedError();
    }
  }
}

/**
 * Cancels a job (`PATCH /jobs/:id?mode=cancel`) and waits up to `waitMs` for it to reach a final
 * state. Returns the last state seen, or undefined when the REST API could not be reached.
 */
export async function cancelJob(rest: ClusterRestClient, jobId: string, waitMs: number): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  try {
    await rest.cancelJob(jobId, AbortSignal.timeout(Math.max(500, waitMs)));
  } catch (err) {
    // A job that already ended cannot be cancelled; its state says what happened.
    if (!(err instanceof GatewayHttpError)) return undefined;
  }
  let state: string | undefined;
  while (Date.now() < deadline) {
    try {
      state = (await rest.job(jobId, AbortSignal.timeout(Math.max(200, deadline - Date.now())))).state;
    } catch {
      return state;
    }
    if (FINAL_JOB_STATES.has(state)) return state;
    await sleep(100);
  }
  return state;
}

/**
 * Cancels a job that may not exist yet: a statement abandoned while the gateway was still planning
 * it can submit its job moments later, and nobody would stop that job. Looks for the job every second
 * for `windowMs`; once the cluster knows it, waits for its tasks to run (see {@link untilTasksRun})
 * and cancels it. Resolves true once the cluster took the cancel (or the job had ended, or the REST
 * API could not be reached), false when the job never appeared. Run it in the background: while the
 * job is unknown its timers do not keep the process alive.
 */
export async function sweepJob(rest: ClusterRestClient, jobId: string, windowMs: number): Promise<boolean> {
  const deadline = Date.now() + windowMs;
  for (;;) {
    // mayAppear false: an unknown job ends the wait at once, and this loop looks again later.
    const outcome = await untilTasksRun(rest, jobId, { waitMs: SWEEP_START_WAIT_MS, pollIntervalMs: 200, mayAppear: async () => false });
    if (outcome === 'ended' || outcome === 'unreachable') return true;
    if (outcome !== 'never-submitted') {
      try {
        await rest.cancelJob(jobId, AbortSignal.timeout(2000));
        return true;
      } catch (err) {
        // 404: the job went away between the two calls; anything else (it ended meanwhile, no connection): done.
        if (!(err instanceof GatewayHttpError && err.status === 404)) return true;
      }
    }
    if (Date.now() >= deadline) return false;
    await sleep(1000, undefined, { ref: false });
  }
}

/** Longest wait of {@link sweepJob} for a found job's tasks to run before it cancels the job. */
const SWEEP_START_WAIT_MS = 20_000;

/** How a query's job is waited for before it is cancelled; see {@link untilTasksRun}. */
export interface SettleOptions {
  /** The longest wait; the job is cancelled after it whatever its state. */
  waitMs: number;
  pollIntervalMs: number;
  /**
   * Asked while the cluster does not know the job: whether it can still appear (the statement that
   * submits it is still running). False ends the wait at once.
   */
  mayAppear: () => Promise<boolean>;
}

/** How {@link untilTasksRun} ended. */
export type SettleOutcome = 'running' | 'ended' | 'never-submitted' | 'unreachable' | 'timed-out';

/**
 * Waits until it is safe to cancel a query's Flink job: every subtask runs (none is CREATED,
 * SCHEDULED, DEPLOYING or INITIALIZING) and the job is RUNNING, or the job ended, or it will never be
 * submitted. Gives up after `waitMs`, or at once when the REST API cannot be reached.
 *
 * Why: in Flink 2.x the collect sink that serves a query's rows throws in its teardown when it is
 * closed before it was opened (FLINK-39330). The task raises that while handling its cancellation,
 * and the TaskManager treats it as fatal and exits, taking every other job's tasks with it. A query
 * cancelled a moment after it was submitted (a reader that stops at the columns, a cancel right
 * after submit) hits that window, so its cancellation waits for the tasks to run.
 */
export async function untilTasksRun(rest: ClusterRestClient, jobId: string, options: SettleOptions): Promise<SettleOutcome> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return 'timed-out';
    try {
      const info = await rest.job(jobId, AbortSignal.timeout(Math.max(200, Math.min(left, 2000))));
      if (FINAL_JOB_STATES.has(info.state)) return 'ended';
      if (info.state === 'RUNNING' && info.tasks.starting === 0) return 'running';
    } catch (err) {
      if (!(err instanceof GatewayHttpError && err.status === 404)) return 'unreachable';
      if (!(await options.mayAppear().catch(() => false))) return 'never-submitted';
    }
    // A kept (ref'd) timer: close() awaits this wait, and the process must not end under it.
    await sleep(Math.min(options.pollIntervalMs, Math.max(0, deadline - Date.now())));
  }
}
