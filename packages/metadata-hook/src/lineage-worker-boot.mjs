// Bootstrap of a lineage worker thread. Sluice runs from TypeScript source under
// `node --conditions=sluice-source --import tsx`; a worker inherits those flags, but on Node 20 tsx
// registers its loader in the main thread only, so a `.ts` entry fails with ERR_UNKNOWN_FILE_EXTENSION.
// This plain module imports the entry (workerData.entry), and if the runtime cannot load TypeScript,
// registers tsx in this thread and imports it again. Compiled builds (`.js` entries) load directly.
import { workerData } from 'node:worker_threads';

const entry = workerData?.entry;
if (typeof entry !== 'string') throw new Error('lineage worker: workerData.entry is missing');
try {
  await import(entry);
} catch (err) {
  if (err?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
  const { register } = await import('tsx/esm/api');
  register();
  // A new URL: the failed attempt may be remembered under the first one.
  await import(`${entry}${entry.includes('?') ? '&' : '?'}tsx`);
}
