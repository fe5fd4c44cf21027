import { freshDatabase, uniqueSuffix } from '@sluice/testkit';
import type { BenchSettings } from './bench-settings.ts';
import { BullmqConsumer, type BullmqLocation, dropBaselineQueue } from './bullmq-target.ts';
import { onCleanup } from './cleanup.ts';
import { CpuAccounting } from './cpu-accounting.ts';
import type { LoadClientHost } from './load-client-host.ts';
import { figures, type PhaseFigures, withCpu } from './phase-metrics.ts';

/** The raw BullMQ baseline of one backend. */
export interface BaselineResult {
  backend: 'redis' | 'postgres';
  workerConcurrency: number;
  lanes: number;
  /** Closed loop with `lanes` jobs in flight: sustained add→processed throughput. */
  sustained: PhaseFigures;
  /** Open loop at half the sustained rate: add→completed latency as the producer sees it (Worker completion relayed over IPC). */
  halfRate: PhaseFigures;
}

/**
 * Runs the raw BullMQ baseline: a Worker in this process (trivial processor returning the row) and the
 * producer, a Queue, in the load-client process, so the two sides are placed like the Sluice server
 * and its clients; each completion is relayed to the producer over IPC. Redis: a unique prefix on the same Redis. PostgreSQL: BullMQ's own
 * PostgreSQL backend in a fresh database.
 */
export async function runBaseline(
  backend: 'redis' | 'postgres',
  b: BenchSettings,
  host: LoadClientHost,
  redisUrl: string,
  log: (s: string) => void,
): Promise<BaselineResult> {
  const prefix = `benchb${uniqueSuffix()}`;
  const db = backend === 'postgres' ? await freshDatabase('benchb') : undefined;
  const location: BullmqLocation = db ? { backend: 'postgres', databaseUrl: db.url, prefix } : { backend: 'redis', redisUrl, prefix };
  const concurrency = b.BENCH_BASELINE_WORKER_CONCURRENCY;
  const lanes = b.BENCH_BASELINE_LANES;
  let consumer: BullmqConsumer | undefined;
  const unregister = onCleanup(async () => {
    await consumer?.close().catch(() => {});
    await dropBaselineQueue(location).catch(() => {});
    await db?.drop().catch(() => {});
  });
  try {
    consumer = await BullmqConsumer.start(location, concurrency, (id) => host.completed(id));
    await host.init({ kind: 'bullmq', location });
    await host.closed(Math.min(2000, b.BENCH_BASELINE_JOBS), lanes, 20_000); // warm-up
    const cpu = new CpuAccounting({ serverPid: process.pid, clientPid: host.pid, databases: db ? [db.name] : [] });
    const elu0 = performance.eventLoopUtilization();
    cpu.start();
    const closed = await host.closed(b.BENCH_BASELINE_JOBS, lanes, 20_000);
    const sustained = withCpu(figures(closed), cpu.stop(), performance.eventLoopUtilization(elu0).utilization);
    log(`  baseline ${backend}: sustained ${sustained.jobsPerSec} jobs/s over ${sustained.jobs} jobs`);
    const rate = Math.max(1, sustained.jobsPerSec / 2);
    const jobs = Math.max(100, Math.min(b.BENCH_LATENCY_JOBS * 3, Math.round(rate * 5)));
    const open = await host.open(jobs, rate, 10_000, 15_000);
    const halfRate = figures(open);
    log(`  baseline ${backend}: at ${halfRate.open?.ratePerSec} jobs/s p50 ${halfRate.latency.p50} ms p99 ${halfRate.latency.p99} ms`);
    return { backend, workerConcurrency: concurrency, lanes, sustained, halfRate };
  } finally {
    await host.release().catch(() => {});
    await consumer?.close().catch(() => {});
    await dropBaselineQueue(location).catch(() => {});
    await db?.drop().catch(() => {});
    unregister();
  }
}
