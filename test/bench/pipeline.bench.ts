/**
 * Sluice pipeline benchmark (`npm run bench`): throughput and latency of trivial DuckDB jobs on warm
 * engines from REST submit to result, beside a raw BullMQ add→process baseline measured in the same
 * run on the same Redis (and, for the PostgreSQL row, BullMQ's PostgreSQL backend). Figures are
 * reported as ratios to the baseline because the machine is noisy. Not a test: slow numbers never
 * fail the run; only a broken pipeline does (exit code 1).
 *
 *   npm run bench                              both backends, defaults of bench-settings.ts
 *   BENCH_BACKENDS=redis npm run bench         one backend
 *   BENCH_CLIENTS=16 npm run bench             more concurrent clients
 *
 * It prints a table and writes bench-results/pipeline-<timestamp>.json. PostgreSQL and Redis come
 * from DATABASE_URL / REDIS_URL, or are started through scripts/services.sh when those are unset.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { type BaselineResult, runBaseline } from './baseline-phases.ts';
import { loadBenchSettings, sluiceSettings } from './bench-settings.ts';
import { runCleanups } from './cleanup.ts';
import { LoadClientHost } from './load-client-host.ts';
import { machineFacts, postgresRoundTrips } from './machine-facts.ts';
import { type BenchReport, renderReport, verdicts, writeReport } from './report.ts';
import { ensureServices } from './services-env.ts';
import type { Backend } from './sluice-deployment.ts';
import { runSluice, type SluiceResult } from './sluice-phases.ts';
import { round } from './stats.ts';

/** Hard bound of a run; the bench normally needs about half of it. */
const WATCHDOG_MS = 7 * 60_000;

const log = (s: string) => console.log(s);

async function serverVersions(
  databaseUrl: string,
  redisUrl: string,
): Promise<{ postgres: string; redis: string; postgresRoundTripUs?: { backToBack: number; afterIdle: number } }> {
  const c = new pg.Client({ connectionString: databaseUrl });
  let postgres = 'unknown';
  let postgresRoundTripUs: { backToBack: number; afterIdle: number } | undefined;
  try {
    await c.connect();
    postgres = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? 'unknown';
    postgresRoundTripUs = await postgresRoundTrips(c);
  } catch {
    // reported as unknown
  } finally {
    await c.end().catch(() => {});
  }
  const r = new Redis(redisUrl);
  let redis = 'unknown';
  try {
    redis = /redis_version:(\S+)/.exec(await r.info('server'))?.[1] ?? 'unknown';
  } catch {
    // reported as unknown
  } finally {
    r.disconnect();
  }
  return { postgres, redis, postgresRoundTripUs };
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const t0 = performance.now();
  const { databaseUrl, redisUrl, startedServices } = ensureServices();
  const b = loadBenchSettings();
  const backends = b.BENCH_BACKENDS.split(',')
    .map((x) => x.trim())
    .filter((x): x is Backend => x === 'redis' || x === 'postgres');
  if (backends.length === 0) throw new Error('BENCH_BACKENDS names no backend (redis, postgres)');
  const versions = await serverVersions(databaseUrl, redisUrl);
  log(`Sluice pipeline bench: backends ${backends.join(', ')}; ${b.BENCH_CLIENTS} clients over ${b.BENCH_USERS} users; job "select 1"`);

  const host = LoadClientHost.start();
  const baselines: BaselineResult[] = [];
  const sluice: SluiceResult[] = [];
  let failed = false;
  try {
    for (const backend of ['redis', ...backends.filter((x) => x !== 'redis')] as Backend[]) {
      log(`baseline: raw BullMQ on ${backend}`);
      baselines.push(await runBaseline(backend, b, host, redisUrl, log));
    }
    for (const backend of backends) {
      log(`sluice: ${backend} queue and bus`);
      const r = await runSluice(backend, b, host, redisUrl, log);
      sluice.push(r);
      if (r.sustained.jobs === 0 || r.sustained.errors > r.sustained.jobs / 100) failed = true;
    }
  } finally {
    await host.stop();
  }

  const notes = [
    'ratios compare with the raw BullMQ baseline measured in the same run; absolute numbers vary with the machine and its load',
    'baseline: Worker in the bench process, producer (Queue) in the load-client process; latency is add → Worker completed → relayed to the producer over IPC',
    'sluice: all roles in the bench process; clients in the load-client process (node:http keep-alive + one WebSocket each); submit→result = before POST → results GET returned the row',
    'the saturated profile pass runs with probes and the CPU profiler on, so its throughput is below the sustained phase',
    'V8 profile times are on-stack wall time of the busy main thread: on a saturated machine they include time the thread waited for a core inside a call (mostly socket writes)',
  ];
  if (startedServices) notes.push('PostgreSQL and Redis were started by scripts/services.sh');
  const report: BenchReport = {
    bench: 'pipeline',
    startedAt: startedAt.toISOString(),
    durationSeconds: round((performance.now() - t0) / 1000, 1),
    machine: machineFacts(versions),
    settings: { ...b, sluice: sluiceSettings(b).env },
    targets: { throughputRatio: 0.5, p50Ms: 5, p99Ms: 25 },
    verdicts: verdicts(baselines, sluice),
    baselines,
    sluice,
    notes,
  };
  log('');
  log(renderReport(report));
  log('');
  log(`JSON: ${writeReport(report)}`);
  return failed ? 1 : 0;
}

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 60_000} minutes; cleaning up and exiting`);
  void runCleanups().finally(() => process.exit(2));
}, WATCHDOG_MS);
watchdog.unref();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}; cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  });
}

main().then(
  async (code) => {
    await runCleanups();
    process.exit(code);
  },
  async (err) => {
    console.error(err);
    await runCleanups();
    process.exit(1);
  },
);
