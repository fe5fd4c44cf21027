import { execFileSync } from 'node:child_process';
import os from 'node:os';

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

/** Collects machine facts; server versions come from the clients the bench already holds. */
export function machineFacts(versions: { postgres: string; redis: string }): MachineFacts {
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
    gitCommit: tryExec('git', ['rev-parse', '--short', 'HEAD']).trim(),
    // Porcelain lines are "XY path": the status letters take the first two columns.
    gitDirty: tryExec('git', ['status', '--porcelain', '--untracked-files=no'])
      .split('\n')
      .map((l) => /^.. (.+)$/.exec(l)?.[1] ?? '')
      .filter((f) => f && !f.startsWith('test/bench/')),
  };
}
