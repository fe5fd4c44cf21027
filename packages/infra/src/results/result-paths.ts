import path from 'node:path';

/** Job ids the result store accepts: letters, digits, `_ - .`, not starting with a dot, at most 128 characters. */
export const RESULT_JOB_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
/** Highest result set index. */
export const MAX_RESULT_INDEX = 100_000;

/** The files of one result set. */
export interface ResultPaths {
  /** Directory of the job's result sets. */
  dir: string;
  /** The sealed rows, one JSON array per line. */
  data: string;
  /** Where rows are written until the set is sealed. */
  partial: string;
  /** The sidecar with columns, counts and row offsets. */
  index: string;
  /** The sidecar naming the columns while rows go to `partial`, for followers in other processes. */
  live: string;
}

/** Throws unless `jobId` is safe to use as one path segment. */
export function assertResultJobId(jobId: string): void {
  if (typeof jobId !== 'string' || !RESULT_JOB_ID.test(jobId)) throw new Error(`invalid job id for the result store: ${JSON.stringify(jobId)}`);
}

/** Throws unless `index` is an integer from 0 to {@link MAX_RESULT_INDEX}. */
export function assertResultIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > MAX_RESULT_INDEX) throw new Error(`invalid result set index: ${String(index)}`);
}

/** The directory of a job under `root`, after validating the id; never outside `root`. */
export function jobDir(root: string, jobId: string): string {
  assertResultJobId(jobId);
  const dir = path.resolve(root, jobId);
  const rel = path.relative(root, dir);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`job id ${JSON.stringify(jobId)} escapes the result directory`);
  return dir;
}

/** The files of result set `index` of `jobId` under `root` (an absolute path). */
export function resultPaths(root: string, jobId: string, index: number): ResultPaths {
  assertResultIndex(index);
  const dir = jobDir(root, jobId);
  const data = path.join(dir, `${index}.ndjson`);
  return { dir, data, partial: `${data}.partial`, index: path.join(dir, `${index}.index.json`), live: path.join(dir, `${index}.live.json`) };
}
