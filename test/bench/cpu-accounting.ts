import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds spent by each group of processes over an interval (Linux /proc; empty elsewhere). */
export interface CpuSplit {
  wallSeconds: number;
  /** Busy CPU seconds of the whole machine (all cores). */
  machineBusy: number;
  /** Cores the machine has; `machineBusy / wallSeconds / cores` is its utilisation. */
  cores: number;
  groups: Record<string, number>;
}

/** How to label a process: by pid and command line. */
export interface CpuGroups {
  serverPid: number;
  clientPid: number;
  /** Database names whose PostgreSQL backends belong to the run. */
  databases: string[];
}

interface ProcSample {
  comm: string;
  ppid: number;
  ticks: number;
}

interface Snapshot {
  at: number;
  machineBusyTicks: number;
  procs: Map<number, ProcSample>;
  mainThreadTicks: number;
  cmdlines: Map<number, string>;
}

let clkTck: number | undefined;
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

function parseStat(text: string): ProcSample | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // After "pid (comm) ": state=0 ppid=1 ... utime=11 stime=12 (0-based in this slice).
  return { comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** User and system CPU seconds one local process has used so far; undefined where /proc is missing. */
export function processCpuSeconds(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  const sample = stat ? parseStat(stat) : undefined;
  return sample ? sample.ticks / ticksPerSecond() : undefined;
}

function snapshot(): Snapshot | undefined {
  const stat = read('/proc/stat');
  if (!stat) return undefined;
  const cpu = (stat.split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = (cpu[0] ?? 0) + (cpu[1] ?? 0) + (cpu[2] ?? 0) + (cpu[5] ?? 0) + (cpu[6] ?? 0) + (cpu[7] ?? 0);
  const procs = new Map<number, ProcSample>();
  const cmdlines = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = read(`/proc/${name}/stat`);
    const p = s ? parseStat(s) : undefined;
    if (!p) continue;
    procs.set(Number(name), p);
    if (p.comm === 'postgres') cmdlines.set(Number(name), (read(`/proc/${name}/cmdline`) ?? '').replace(/\0/g, ' '));
  }
  const main = read(`/proc/${process.pid}/task/${process.pid}/stat`);
  return { at: performance.now(), machineBusyTicks: busy, procs, mainThreadTicks: main ? (parseStat(main)?.ticks ?? 0) : 0, cmdlines };
}

function label(pid: number, p: ProcSample, g: CpuGroups, cmdline: string | undefined): string {
  if (pid === g.serverPid) return 'sluice process (all threads)';
  if (pid === g.clientPid) return 'load client';
  if (p.ppid === g.serverPid) return 'duckdb engines (children)';
  if (p.comm === 'postgres') return g.databases.some((d) => cmdline?.includes(` ${d} `)) ? 'postgres: this run' : 'postgres: other';
  if (p.comm.startsWith('redis-server')) return 'redis-server';
  return 'other processes';
}

/**
 * Measures CPU per process group between `start()` and `stop()`: the Sluice process (and its main
 * thread), its DuckDB engines, the load client, PostgreSQL backends of the run, Redis, the rest.
 */
export class CpuAccounting {
  private first: Snapshot | undefined;

  constructor(private readonly groups: CpuGroups) {}

  /** Takes the first snapshot. */
  start(): void {
    this.first = snapshot();
  }

  /** Takes the second snapshot and returns the split; undefined where /proc is missing. */
  stop(): CpuSplit | undefined {
    const a = this.first;
    const b = snapshot();
    if (!a || !b) return undefined;
    const hz = ticksPerSecond();
    const groups: Record<string, number> = {};
    for (const [pid, p] of b.procs) {
      const before = a.procs.get(pid);
      const delta = before && before.comm === p.comm ? p.ticks - before.ticks : p.ticks;
      if (delta <= 0) continue;
      const key = label(pid, p, this.groups, b.cmdlines.get(pid) ?? a.cmdlines.get(pid));
      groups[key] = (groups[key] ?? 0) + delta / hz;
    }
    groups['sluice process: main thread'] = (b.mainThreadTicks - a.mainThreadTicks) / hz;
    const r = (x: number) => Math.round(x * 100) / 100;
    for (const k of Object.keys(groups)) groups[k] = r(groups[k] as number);
    return {
      wallSeconds: r((b.at - a.at) / 1000),
      machineBusy: r((b.machineBusyTicks - a.machineBusyTicks) / hz),
      cores: (read('/proc/cpuinfo')?.match(/^processor\s*:/gm) ?? []).length,
      groups,
    };
  }
}
