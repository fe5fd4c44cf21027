/**
 * Entry of a lineage worker thread (loaded by `lineage-worker-boot.mjs`): answers the pool's requests
 * one at a time. Parsing is CPU-bound and synchronous, so it runs here and not on the event loop that
 * also renews leases, sends heartbeats and serves HTTP.
 */
import { parentPort } from 'node:worker_threads';
import { answerWorkerRequest, isWorkerRequest } from './lineage-worker-protocol.ts';

const port = parentPort;
if (port) {
  port.on('message', (m: unknown) => {
    // A message of another version means the two ends disagree; dying lets the pool replace us.
    if (!isWorkerRequest(m)) throw new Error('lineage worker: unexpected message');
    port.postMessage(answerWorkerRequest(m));
  });
  port.postMessage({ v: 1, type: 'ready' });
}
