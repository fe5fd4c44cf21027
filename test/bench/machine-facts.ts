import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';

/** The machine a run happened on, for the JSON report. */
export interface MachineFacts {
  cores: number;
  availableParallelism: number;
  cpuModel: string;
  totalMemoryMiB: number;
  loadAverage: number[];
  platform: string;
  kernel: string;
  node: string;
  v8: string;
  postgres: string;
  redis: string;
  /**
   * Median `SELECT 1` round trip to PostgreSQL in µs: back to back, and after 2 ms idle. The
   * difference is what waking the processes costs on this machine. Every hop of a job (HTTP,
   * PostgreSQL, the engine's IPC) pays it when its processes had gone idle.
   */
  postgresRoundTripUs?: { backToBack: number; afterIdle: number };
  gitCommit: string;
  /** Files changed in the work tree outside test/bench when the run started (others may be editing). */
  gitDirty: string[];
}

function tryExec(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
  } catch {
    return 'unknown';
  }
}

/** Median `SELECT 1` round trips (µs) on `client`, back to back and after `idleMs` without traffic. */
export async function postgresRoundTrips(client: pg.Client, rounds = 300, idleMs = 2): Promise<{ backToBack: number; afterIdle: number }> {
  const once = async () => {
    const t0 = performance.now();
    await client.query('SELECT 1');
    return (performance.now() - t0) * 1000;
  };
  const median = (xs: number[]) => Math.round(xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN);
  for (let i = 0; i < 50; i++) await once();
  const hot: number[] = [];
  const idle: number[] = [];
  // Taking turns, so that a burst of other load touches both alike.
  for (let i = 0; i < rounds; i++) {
    hot.push(await once());
    await sleep(idleMs);
    idle.push(await once());
  }
  return { backToBack: median(hot), afterIdle: median(idle) };
}

/** Collects machine facts; server versions come from the clients the bench already holds. */
export function machineFacts(versions: { postgres: string; redis: string; postgresRoundTripUs?: { backToBack: number; afterIdle: number } }): MachineFacts {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryMiB: Math.round(os.totalmem() / 1048576),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    v8: process.versions.v8,
    postgres: versions.postgres,
    redis: versions.redis,
    postgresRoundTripUs: versions.postgresRoundTripUs,
    gitCommit: tryExec('git', ['rev-parse', '--short', 'HEAD']).trim(),
    // Porcelain lines are "XY path": the status letters take the first two columns.
    gitDirty: tryExec('git', ['status', '--porcelain', '--untracked-files=no'])
      .split('\n')
      .map((l) => /^.. (.+)$/.exec(l)?.[1] ?? '')
      .filter((f) => f && !f.startsWith('test/bench/')),
  };
}
