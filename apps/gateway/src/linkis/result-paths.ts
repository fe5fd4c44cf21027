/**
 * The paths Linkis clients pass back to `filesystem/*`: a job's result directory (`resultLocation`)
 * with one `_N.dolphin` entry per result set, and its log file (`logPath`). They encode only the
 * taskID (and, for readability, the user), so any gateway resolves them; the entrance still checks
 * who may read the job.
 */

/** Root of result locations. */
export const RESULT_ROOT = 'file:///sluice/result';
/** Root of log paths. */
export const LOG_ROOT = 'file:///sluice/log';

/** The result directory of a job. */
export function resultLocation(user: string, taskId: string): string {
  return `${RESULT_ROOT}/${user}/${taskId}`;
}

/** The entry of result set `index` in a job's result directory. */
export function resultSetPath(user: string, taskId: string, index: number): string {
  return `${resultLocation(user, taskId)}/_${index}.dolphin`;
}

/** The log path of a job. */
export function logPath(user: string, taskId: string): string {
  return `${LOG_ROOT}/${user}/${taskId}.log`;
}

function strip(path: string, root: string): string | null {
  const bare = root.replace(/^file:\/\//, '');
  const p = path.trim();
  if (p.startsWith(`${root}/`)) return p.slice(root.length + 1);
  if (p.startsWith(`${bare}/`)) return p.slice(bare.length + 1);
  return null;
}

/** A parsed result path: the taskID, and the result set when the path names one. */
export interface ResultPath {
  taskId: string;
  index?: number;
}

/** Parses a result directory or result-set path (with or without `file://`), or null. */
export function parseResultPath(path: string): ResultPath | null {
  const rest = strip(path, RESULT_ROOT);
  if (rest === null) return null;
  const m = /^[^/]+\/([1-9][0-9]{0,17})(?:\/_(\d{1,6})\.dolphin)?\/?$/.exec(rest);
  if (!m) return null;
  return m[2] === undefined ? { taskId: m[1] as string } : { taskId: m[1] as string, index: Number(m[2]) };
}

/** Parses a log path (with or without `file://`) to its taskID, or null. */
export function parseLogPath(path: string): string | null {
  const rest = strip(path, LOG_ROOT);
  if (rest === null) return null;
  return /^[^/]+\/([1-9][0-9]{0,17})\.log$/.exec(rest)?.[1] ?? null;
}
