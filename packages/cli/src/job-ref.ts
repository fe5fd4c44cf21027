import type { JobView } from '@sluice/core';
import type { SluiceApi } from './api.ts';
import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';

const ULID = /^[0-9A-Z]{26}$/;
const TASK_ID = /^[1-9][0-9]{0,17}$/;

/**
 * Finds the job a command names: a job id (the 26-character ULID of the job view's `id`) or a
 * numeric taskID (its `seq`, what `--async` prints for DolphinScheduler). Nothing is stored
 * locally. The API reads a job by either (`GET /api/v1/jobs/{id or taskID}`). A server from before
 * taskIDs were accepted there answers not-found; the CLI then looks the taskID up in the job list:
 * `GET /api/v1/jobs?cursor=<taskID + 1>&limit=1` returns the newest job this token may see with
 * `seq <= taskID`, which is the job when its `seq` matches.
 */
export async function resolveJob(api: SluiceApi, ref: string): Promise<JobView> {
  const trimmed = ref.trim();
  if (ULID.test(trimmed.toUpperCase())) return api.getJob(trimmed.toUpperCase());
  if (!TASK_ID.test(trimmed)) throw new CliError(EXIT.usage, `${JSON.stringify(ref)} is neither a job id (26 characters, e.g. 01JD3…) nor a numeric taskID`);
  try {
    return await api.getJob(trimmed);
  } catch (err) {
    if (!(err instanceof CliError) || err.code !== 'SLUICE_JOB_NOT_FOUND') throw err;
  }
  const job = await api.newestJobUpTo(BigInt(trimmed));
  if (job && job.seq === trimmed) return job;
  throw new CliError(EXIT.rejected, `no job with taskID ${trimmed} that this token may see`, 'SLUICE_JOB_NOT_FOUND', 'cannot find the job');
}
