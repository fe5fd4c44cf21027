/** Knobs of the pipeline bench. Every one can be overridden by an environment variable of the same name. */
export interface BenchSettings {
  /** Bench users; each has its own token, job group and DuckDB engines. */
  BENCH_USERS: number;
  /** Concurrent Sluice clients (one WebSocket each) in the closed loop; also the lanes of the open loop. */
  BENCH_CLIENTS: number;
  /** Warm-up jobs per client before anything is measured (starts and warms every engine). */
  BENCH_WARMUP_JOBS_PER_CLIENT: number;
  /** Jobs of the closed-loop throughput phase, and its time bound. */
  BENCH_SUSTAINED_JOBS: number;
  BENCH_SUSTAINED_MAX_SECONDS: number;
  /** Jobs of the open-loop latency phase at half the sustained rate, bounded by a duration. */
  BENCH_LATENCY_JOBS: number;
  BENCH_LATENCY_MAX_SECONDS: number;
  /** Baseline: jobs, producer lanes (jobs in flight) and Worker concurrency. */
  BENCH_BASELINE_JOBS: number;
  BENCH_BASELINE_LANES: number;
  BENCH_BASELINE_WORKER_CONCURRENCY: number;
  /** Jobs of the instrumented passes: one client (critical path), then all clients (CPU profile). */
  BENCH_PROFILE_SEQUENTIAL_JOBS: number;
  BENCH_PROFILE_SATURATED_JOBS: number;
  /** Backends to run, comma separated: redis,postgres. */
  BENCH_BACKENDS: string;
}

const DEFAULTS: BenchSettings = {
  BENCH_USERS: 4,
  BENCH_CLIENTS: 8,
  BENCH_WARMUP_JOBS_PER_CLIENT: 8,
  BENCH_SUSTAINED_JOBS: 2000,
  BENCH_SUSTAINED_MAX_SECONDS: 35,
  BENCH_LATENCY_JOBS: 1000,
  BENCH_LATENCY_MAX_SECONDS: 25,
  BENCH_BASELINE_JOBS: 10_000,
  BENCH_BASELINE_LANES: 256,
  BENCH_BASELINE_WORKER_CONCURRENCY: 32,
  BENCH_PROFILE_SEQUENTIAL_JOBS: 150,
  BENCH_PROFILE_SATURATED_JOBS: 400,
  BENCH_BACKENDS: 'redis,postgres',
};

/** Reads the settings from the environment over the defaults. */
export function loadBenchSettings(env: Record<string, string | undefined> = process.env): BenchSettings {
  const out = { ...DEFAULTS } as Record<string, number | string>;
  for (const [k, def] of Object.entries(DEFAULTS)) {
    const v = env[k];
    if (v === undefined || v === '') continue;
    if (typeof def === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${k} must be a positive number, got "${v}"`);
      out[k] = n;
    } else out[k] = v;
  }
  return out as unknown as BenchSettings;
}

/**
 * The SLUICE_* settings of the deployment under test, as a real deployment would set them for this
 * load, with the reason for each.
 */
export function sluiceSettings(b: BenchSettings): { env: Record<string, string>; why: Record<string, string> } {
  const perUser = Math.ceil(b.BENCH_CLIENTS / b.BENCH_USERS);
  const env = {
    SLUICE_ENGINE_CONCURRENCY: '1',
    SLUICE_MAX_ENGINES_PER_USER: String(Math.max(1, perUser)),
    SLUICE_MAX_RUNNING_PER_GROUP: '32',
    SLUICE_MANAGER_CONCURRENCY: '32',
  };
  const why = {
    SLUICE_ENGINE_CONCURRENCY: 'a DuckDB engine runs one task at a time; a higher value only queues tasks inside the engine while the pool counts it busy',
    SLUICE_MAX_ENGINES_PER_USER: `clients per user (${b.BENCH_CLIENTS}/${b.BENCH_USERS}): every client can have a warm engine of its own, so no job waits for an engine slot`,
    SLUICE_MAX_RUNNING_PER_GROUP: 'raised from 8 so open-loop bursts are admitted at once instead of parking in Inited',
    SLUICE_MANAGER_CONCURRENCY: `default (32): far above the ${b.BENCH_CLIENTS} jobs a closed loop keeps in flight; the open loop reports its peak in flight`,
  };
  return { env, why };
}
