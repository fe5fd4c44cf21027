import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// The test runner starts files without --expose-gc; this turns it on for this process.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Live heap bytes after a full garbage collection: what the process really holds. */
export function liveHeapBytes(): number {
  gc();
  return process.memoryUsage().heapUsed;
}
