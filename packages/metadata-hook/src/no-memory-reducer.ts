import v8 from 'node:v8';
import type { Worker } from 'node:worker_threads';

/**
 * Starts worker threads whose isolates run without V8's memory reducer, leaving every other isolate
 * of the process as it was.
 *
 * Why: a lineage worker holds its grammars' caches (about 115 MiB, nearly all live) and sits idle
 * between scripts. Some seconds after each busy spell, the memory reducer collects that heap two or
 * three times to shrink it. Each time it marks 115 MiB on the platform threads every isolate of the
 * process shares, which on a 2-core machine stalls the whole server for a few hundred milliseconds,
 * and it frees about 4 MiB (docs/benchmarks.md, session 9).
 *
 * How: V8 reads `--memory-reducer` when an isolate sets up its heap. The flag is switched off before
 * the worker is constructed and back on once every worker started this way is online (or gone).
 */
let starting = 0;

/** Sets V8 flags; `v8.setFlagsFromString` but in tests, which record the calls. */
export type SetFlags = (flags: string) => void;

export function startWithoutMemoryReducer(start: () => Worker, setFlags: SetFlags = v8.setFlagsFromString): Worker {
  const settle = () => {
    starting -= 1;
    if (starting === 0) setFlags('--memory-reducer');
  };
  if (starting === 0) setFlags('--no-memory-reducer');
  starting += 1;
  let worker: Worker;
  try {
    worker = start();
  } catch (err) {
    settle();
    throw err;
  }
  let settled = false;
  const once = () => {
    if (settled) return;
    settled = true;
    settle();
  };
  worker.once('online', once);
  worker.once('exit', once);
  return worker;
}
