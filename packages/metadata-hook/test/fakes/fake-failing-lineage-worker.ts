/**
 * FAKE lineage worker, for tests only. A real parser cannot be made to hang or die on demand, so this
 * worker answers exactly like the real one (same protocol, same extraction code) except for scripts
 * carrying a marker: `/* fake:hang *\/` spins forever, `/* fake:throw *\/` throws out of the message
 * handler (an uncaught error ends the thread) and `/* fake:exit *\/` exits the thread with code 7.
 */
import { parentPort } from 'node:worker_threads';
import { answerWorkerRequest, isWorkerRequest } from '../../src/lineage-worker-protocol.ts';

const port = parentPort;
if (port) {
  port.on('message', (m: unknown) => {
    if (!isWorkerRequest(m)) throw new Error('fake lineage worker: unexpected message');
    if (m.type === 'extract' && m.sql.includes('/* fake:hang */')) for (;;);
    if (m.type === 'extract' && m.sql.includes('/* fake:throw */')) throw new Error('fake lineage worker: thrown on request');
    if (m.type === 'extract' && m.sql.includes('/* fake:exit */')) process.exit(7);
    port.postMessage(answerWorkerRequest(m));
  });
  port.postMessage({ v: 1, type: 'ready' });
}
