import type { JobState, JobView } from '@sluice/core';

/** Sluice job states by the names linkis-cli prints (`LinkisJobStatus`), which DolphinScheduler parses. */
export const LINKIS_STATUS: Readonly<Record<JobState, string>> = {
  Inited: 'INITED',
  WaitForRetry: 'WAIT_FOR_RETRY',
  Scheduled: 'SCHEDULED',
  Running: 'RUNNING',
  Succeed: 'SUCCEED',
  Failed: 'FAILED',
  Cancelled: 'CANCELLED',
  Timeout: 'TIMEOUT',
};

function epochMs(iso: string | null): number | null {
  return iso ? Date.parse(iso) : null;
}

/**
 * A job in the shape of linkis-cli's job-info JSON (`--status`): ids as strings (`"taskID": "42"`),
 * `status` as a `LinkisJobStatus` name, times in epoch milliseconds. DolphinScheduler's Linkis task
 * finds `"taskID": "<digits>` and `"status": "<NAME>` in it. Sluice's own id is `execId` and `id`.
 */
export function linkisJobInfo(job: JobView, now = Date.now()): Record<string, unknown> {
  const started = epochMs(job.startedAt);
  const ended = epochMs(job.finishedAt);
  return {
    taskID: job.seq,
    jobId: job.seq,
    execId: job.id,
    id: job.id,
    status: LINKIS_STATUS[job.state],
    state: job.state,
    umUser: job.user,
    engineType: job.engineType,
    runType: job.codeType,
    requestApplicationName: job.creator,
    executeApplicationName: job.engineType.split('-')[0],
    dataSource: job.dataSource,
    progress: job.progress,
    attempt: job.attempt,
    resultSets: job.resultSets,
    logLines: job.logLines,
    labels: job.labels,
    createdTime: epochMs(job.createdAt),
    updatedTime: epochMs(job.updatedAt),
    engineStartTime: started,
    costTime: started === null ? 0 : (ended ?? now) - started,
    errCode: job.error?.code ?? null,
    errMsg: job.error?.message ?? null,
  };
}

/** Pretty JSON with `": "` separators, as linkis-cli prints its job info. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/**
 * One line that DolphinScheduler's Linkis task finds `"taskID": "<digits>` in, even in versions that
 * look only at the last line of the output: `{"taskID": "42", "execId": "01J…", "status": "SCHEDULED"}`.
 */
export function taskIdLine(job: JobView): string {
  return `{"taskID": ${JSON.stringify(job.seq)}, "execId": ${JSON.stringify(job.id)}, "status": ${JSON.stringify(LINKIS_STATUS[job.state])}}`;
}
