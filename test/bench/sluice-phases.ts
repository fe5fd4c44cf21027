import { type BenchSettings, sluiceSettings } from './bench-settings.ts';
import { CpuAccounting } from './cpu-accounting.ts';
import { CpuProfiler, type CpuProfileSummary } from './cpu-profile.ts';
import type { LoadClientHost } from './load-client-host.ts';
import { figures, type PhaseFigures, withCpu } from './phase-metrics.ts';
import { type AheadCounts, type Backend, type BenchDeployment, startDeployment } from './sluice-deployment.ts';
import { type ProbeReport, StageProbes } from './stage-probes.ts';
import { round } from './stats.ts';
import { untilIdle } from './until-idle.ts';

/** The job every measured request runs: trivial DuckDB SQL. */
export const JOB_CODE = 'select 1';
/** The rows result set 0 of {@link JOB_CODE} must hold. */
export const JOB_ROWS = [[1]];

/** Everything measured on one Sluice backend. */
export interface SluiceResult {
  backend: Backend;
  settings: Record<string, string>;
  settingsWhy: Record<string, string>;
  clients: number;
  users: number;
  warmup: { jobs: number; seconds: number; engines: number; errors: number };
  /** Closed loop, `clients` concurrent clients: sustained throughput. */
  sustained: PhaseFigures;
  /** Open loop at half the sustained rate: submit→result latency, one `POST ?wait=` request per job. */
  halfRate: PhaseFigures;
  /** The same open loop with the three-step client: POST, WebSocket subscribe to the final status, GET the rows. */
  halfRateWs: PhaseFigures;
  /** Jobs of the sustained and half-rate phases that ran on work their engine did ahead (ADR 13 and 16). */
  ahead: { sustained: AheadCounts; halfRate: AheadCounts };
  profile: {
    /** One client, jobs one after another: the uncontended critical path, with probes on. */
    sequential: { figures: PhaseFigures; probes: ProbeReport };
    /** All clients with probes and the CPU profiler on (slower than the sustained phase by the probes' cost). */
    saturated: { figures: PhaseFigures; probes: ProbeReport; cpuProfile: CpuProfileSummary | undefined };
  };
}

function aheadDelta(before: AheadCounts, after: AheadCounts): AheadCounts {
  return { prepared: after.prepared - before.prepared, ran: after.ran - before.ran, answered: after.answered - before.answered };
}

/**
 * Starts a deployment on `backend`, warms its engines, then measures: sustained throughput (closed
 * loop), latency at half that rate (open loop), and two instrumented passes for the profile.
 */
export async function runSluice(backend: Backend, b: BenchSettings, host: LoadClientHost, redisUrl: string, log: (s: string) => void): Promise<SluiceResult> {
  const { env: settings, why } = sluiceSettings(b);
  const t0 = performance.now();
  const dep: BenchDeployment = await startDeployment({ backend, redisUrl, users: b.BENCH_USERS, settings });
  log(`  sluice ${backend}: stack up in ${Math.round(performance.now() - t0)} ms at ${dep.url}`);
  try {
    const clients = b.BENCH_CLIENTS;
    const target = { kind: 'sluice', url: dep.url, tokens: dep.tokens, clients, code: JOB_CODE, expectedRows: JOB_ROWS, creator: 'bench' } as const;
    await host.init({ ...target, mode: 'ws' });
    const wsWarm = await host.closed(clients * 2, clients, 60_000);
    await host.init({ ...target, mode: 'wait' });

    // Warm-up: every client runs jobs at once, so each user's engines get launched and used.
    const w = await host.closed(clients * b.BENCH_WARMUP_JOBS_PER_CLIENT, clients, 90_000);
    const warmup = {
      jobs: w.samples.length + wsWarm.samples.length,
      seconds: round((w.elapsedMs + wsWarm.elapsedMs) / 1000, 1),
      engines: dep.engineCount(),
      errors: w.errorCount + wsWarm.errorCount,
    };
    log(`  sluice ${backend}: warm-up ${warmup.jobs} jobs in ${warmup.seconds} s, ${warmup.engines} DuckDB engines warm`);
    // The stack's start-up work (lineage grammars warming in a worker thread) is not a job's cost.
    log(`  sluice ${backend}: idle after start-up work in ${await untilIdle()} ms`);

    const ahead0 = await dep.aheadCounts();
    const cpu = new CpuAccounting({ serverPid: process.pid, clientPid: host.pid, databases: [new URL(dep.env.DATABASE_URL ?? '').pathname.slice(1)] });
    const elu0 = performance.eventLoopUtilization();
    cpu.start();
    const closed = await host.closed(b.BENCH_SUSTAINED_JOBS, clients, b.BENCH_SUSTAINED_MAX_SECONDS * 1000);
    const sustained = withCpu(figures(closed), cpu.stop(), performance.eventLoopUtilization(elu0).utilization);
    log(
      `  sluice ${backend}: sustained ${sustained.jobsPerSec} jobs/s over ${sustained.jobs} jobs (${sustained.errors} errors), event loop ${round((sustained.mainThreadElu ?? 0) * 100)}% busy`,
    );

    const ahead1 = await dep.aheadCounts();
    const rate = Math.max(1, sustained.jobsPerSec / 2);
    const jobs = Math.max(50, Math.min(b.BENCH_LATENCY_JOBS, Math.round(rate * b.BENCH_LATENCY_MAX_SECONDS)));
    const open = await host.open(jobs, rate, 2000, (b.BENCH_LATENCY_MAX_SECONDS + 10) * 1000);
    const halfRate = figures(open);
    log(
      `  sluice ${backend}: at ${halfRate.open?.ratePerSec} jobs/s (${halfRate.jobs} jobs) p50 ${halfRate.latency.p50} ms p99 ${halfRate.latency.p99} ms (${halfRate.errors} errors)`,
    );
    const ahead = { sustained: aheadDelta(ahead0, ahead1), halfRate: aheadDelta(ahead1, await dep.aheadCounts()) };
    for (const [phase, c] of [
      ['closed loop', ahead.sustained],
      ['half rate', ahead.halfRate],
    ] as const) {
      log(`  sluice ${backend}: ${phase}: ${c.ran} jobs run ahead (${c.answered} answered without a round trip), ${c.prepared} prepared ahead`);
    }

    // The WebSocket client at the same rate (its warm-up was before the sustained phase).
    await host.init({ ...target, mode: 'ws' });
    const halfRateWs = figures(await host.open(jobs, rate, 2000, (b.BENCH_LATENCY_MAX_SECONDS + 10) * 1000));
    log(
      `  sluice ${backend}: WebSocket client at ${halfRateWs.open?.ratePerSec} jobs/s p50 ${halfRateWs.latency.p50} ms p99 ${halfRateWs.latency.p99} ms (${halfRateWs.errors} errors)`,
    );
    await host.init({ ...target, mode: 'wait' });

    const probes = new StageProbes();
    probes.install(dep);
    let profile: SluiceResult['profile'];
    try {
      probes.reset();
      const seq = await host.closed(b.BENCH_PROFILE_SEQUENTIAL_JOBS, 1, 30_000);
      const seqFigures = figures(seq);
      const seqProbes = probes.report(Math.max(1, seqFigures.jobs));
      probes.reset();
      const profiler = new CpuProfiler();
      await profiler.start();
      const sat = await host.closed(b.BENCH_PROFILE_SATURATED_JOBS, clients, 30_000);
      const satFigures = figures(sat);
      const cpuProfile = await profiler.stop(Math.max(1, satFigures.jobs));
      profile = {
        sequential: { figures: seqFigures, probes: seqProbes },
        saturated: { figures: satFigures, probes: probes.report(Math.max(1, satFigures.jobs)), cpuProfile },
      };
      log(`  sluice ${backend}: profiled ${seqFigures.jobs} sequential and ${satFigures.jobs} saturated jobs`);
    } finally {
      probes.uninstall();
    }
    return { backend, settings, settingsWhy: why, clients, users: b.BENCH_USERS, warmup, sustained, halfRate, halfRateWs, ahead, profile };
  } finally {
    await host.release().catch(() => {});
    await dep.stop();
  }
}
