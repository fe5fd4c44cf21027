import type { JobView } from '@sluice/core';
import { execIdOf, type JobIdParts, shortExecId } from './exec-id.ts';
import { linkisErrorNumber } from './linkis-error-codes.ts';
import { logPath, resultLocation } from './result-paths.ts';
import { LINKIS_ENGINE_LABEL } from './submit-translation.ts';

const ms = (iso: string | null): number | null => (iso ? Date.parse(iso) : null);

/** The id parts of a job (creator, user, engine name, seq). */
export function idParts(job: JobView): JobIdParts {
  return { seq: job.seq, user: job.user, creator: job.creator, engine: job.engineType };
}

/** The Linkis engine type of a job: the label it was submitted with, else its Sluice engine label. */
export function linkisEngineTypeOf(job: JobView): string {
  return job.labels[LINKIS_ENGINE_LABEL] ?? job.engineType;
}

/** Progress as Linkis reports it: a fraction, 1 once the job ended. */
export function linkisProgress(job: JobView): number {
  return job.state === 'Succeed' ? 1 : job.progress;
}

/**
 * A job as Linkis job history returns it (`QueryTaskVO`): numeric `taskID`, dates as epoch
 * milliseconds, the execID (`strongerExecId`) and short id (`execId`), the result and log paths the
 * `filesystem` routes read, and errors as a numeric `errCode` with the Sluice code in `errDesc`.
 * Error fields are null while the job has not failed.
 */
export function queryTaskVO(job: JobView, opts: { instance: string; code?: string | null }): Record<string, unknown> {
  const engineType = linkisEngineTypeOf(job);
  const engineName = engineType.split('-')[0] ?? engineType;
  const started = ms(job.startedAt);
  const finished = ms(job.finishedAt);
  const created = ms(job.createdAt) ?? 0;
  const end = finished ?? Date.now();
  const labels = [`engineType:${engineType}`, `userCreator:${job.user}-${job.creator}`, `codeType:${job.codeType}`];
  if (job.dataSource) labels.push(`dataSource:${job.dataSource}`);
  return {
    taskID: Number(job.seq),
    instance: opts.instance,
    execId: shortExecId(idParts(job)),
    umUser: job.user,
    submitUser: job.user,
    executeUser: job.user,
    engineInstance: job.engineId,
    executionCode: opts.code ?? null,
    progress: Number.isInteger(linkisProgress(job)) ? linkisProgress(job).toFixed(1) : String(linkisProgress(job)),
    logPath: logPath(job.user, job.seq),
    resultLocation: resultLocation(job.user, job.seq),
    status: job.state,
    createdTime: created,
    updatedTime: ms(job.updatedAt),
    engineType: engineName,
    errCode: job.error ? linkisErrorNumber(job.error.code) : null,
    errDesc: job.error ? `${job.error.code}: ${job.error.message}` : null,
    executeApplicationName: engineName,
    requestApplicationName: job.creator,
    runType: job.codeType,
    paramsJson: JSON.stringify({ labels: job.labels, dataSource: job.dataSource }),
    costTime: started !== null ? end - started : end - created,
    strongerExecId: execIdOf(idParts(job), opts.instance),
    sourceJson: JSON.stringify(job.labels['linkis.scriptPath'] ? { scriptPath: job.labels['linkis.scriptPath'] } : {}),
    sourceTailor: job.labels['linkis.scriptPath'] ?? '',
    engineStartTime: started,
    labels,
    canRetry: false,
    observeInfo: null,
    isReuse: null,
    requestStartTime: created,
    requestEndTime: finished,
    requestSpendTime: end - created,
    metrics: { sluiceJobId: job.id, attempt: job.attempt, resultSets: job.resultSets, logLines: job.logLines, scheduledTime: ms(job.scheduledAt) },
    engineLogPath: null,
    ecmInstance: null,
    ticketId: null,
    subJobs: null,
    sluiceJobId: job.id,
    sluiceErrorCode: job.error?.code ?? null,
  };
}
