import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Live heap bytes after a full garbage collection: what the process really holds. */
export function liveHeapBytes(): number {
  gc();
  return process.memoryUsage().heapUsed;
}
