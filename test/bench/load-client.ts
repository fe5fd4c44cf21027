/**
 * The load-client process: forked by the bench so the load generator's CPU and timers are not on the
 * server's event loop. It receives {@link LoadCommand}s over IPC and answers each with a {@link LoadReply}.
 */
import { BullmqProducer } from './bullmq-target.ts';
import { closedLoop, openLoop } from './load-patterns.ts';
import type { JobSample, LoadCommand, LoadReply, LoadTarget } from './load-protocol.ts';
import { SluiceJobClient } from './sluice-job-client.ts';

interface Driver {
  /** Baseline only: the Worker completed these jobs. */
  completed?(ids: string[]): void;
  /** Runs job `index` on lane `lane` (a lane is one client: one WebSocket, one user). */
  run(index: number, lane: number): Promise<JobSample>;
  lanes: number;
  close(): Promise<void>;
}

async function openDriver(target: LoadTarget): Promise<Driver> {
  if (target.kind === 'bullmq') {
    const producer = await BullmqProducer.open(target.location);
    return { run: () => producer.runJob(), completed: (ids) => producer.complete(ids), lanes: Number.POSITIVE_INFINITY, close: () => producer.close() };
  }
  const clients = await Promise.all(
    Array.from({ length: target.clients }, (_, i) => SluiceJobClient.connect(target.url, target.tokens[i % target.tokens.length] as string)),
  );
  return {
    run: (_index, lane) => {
      const c = clients[lane % clients.length] as SluiceJobClient;
      return target.mode === 'wait'
        ? c.runJobWaiting(target.code, target.expectedRows, target.creator)
        : c.runJob(target.code, target.expectedRows, target.creator);
    },
    lanes: clients.length,
    close: async () => {
      for (const c of clients) c.close();
    },
  };
}

let driver: Driver | undefined;

function reply(msg: LoadReply): void {
  process.send?.(msg);
}

async function handle(cmd: LoadCommand): Promise<void> {
  try {
    switch (cmd.type) {
      case 'completed':
        driver?.completed?.(cmd.ids);
        return;
      case 'init':
        await driver?.close();
        driver = await openDriver(cmd.target);
        reply({ type: 'ready' });
        return;
      case 'closed': {
        const d = driver;
        if (!d) throw new Error('not initialised');
        const result = await closedLoop({ total: cmd.total, concurrency: cmd.concurrency, deadlineMs: cmd.deadlineMs, run: (i, lane) => d.run(i, lane) });
        reply({ type: 'closed', result });
        return;
      }
      case 'open': {
        const d = driver;
        if (!d) throw new Error('not initialised');
        // Arrivals are spread over the clients round robin; a client may have several jobs in flight.
        const lanes = Number.isFinite(d.lanes) ? d.lanes : 1;
        const result = await openLoop({ ...cmd, run: (i) => d.run(i, i % lanes) });
        reply({ type: 'open', result });
        return;
      }
      case 'release':
        await driver?.close();
        driver = undefined;
        reply({ type: 'released' });
        return;
      case 'close':
        await driver?.close();
        driver = undefined;
        reply({ type: 'closed-down' });
        process.disconnect?.();
        return;
    }
  } catch (e) {
    reply({ type: 'failed', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
}

process.on('message', (m) => void handle(m as LoadCommand));
process.on('disconnect', () => {
  void driver?.close().finally(() => process.exit(0));
  if (!driver) process.exit(0);
});
