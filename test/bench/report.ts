import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BaselineResult } from './baseline-phases.ts';
import type { MachineFacts } from './machine-facts.ts';
import type { SluiceResult } from './sluice-phases.ts';
import { round } from './stats.ts';

/** The targets of the issue. */
export const TARGETS = { throughputRatio: 0.5, p50Ms: 5, p99Ms: 25 } as const;

/** One row of the verdict: a Sluice backend against the raw BullMQ baseline of the same run. */
export interface Verdict {
  backend: string;
  baselineBackend: string;
  baselineJobsPerSec: number;
  sluiceJobsPerSec: number;
  ratio: number;
  throughputMet: boolean;
  halfRateJobsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  latencyMet: boolean;
  /** Ratio of CPU ceilings (cores / CPU per job of the run's own processes): robust to other load on the machine. */
  cpuCeilingRatio: number | null;
}

/** The whole JSON document of a run. */
export interface BenchReport {
  bench: 'pipeline';
  startedAt: string;
  durationSeconds: number;
  machine: MachineFacts;
  settings: Record<string, unknown>;
  targets: typeof TARGETS;
  verdicts: Verdict[];
  baselines: BaselineResult[];
  sluice: SluiceResult[];
  notes: string[];
}

/** Compares each Sluice backend with the Redis baseline (the reference) and its own backend's. */
export function verdicts(baselines: BaselineResult[], sluice: SluiceResult[]): Verdict[] {
  const out: Verdict[] = [];
  for (const s of sluice) {
    const refs = baselines.filter((b) => b.backend === 'redis' || b.backend === s.backend);
    for (const b of refs) {
      const ratio = b.sustained.jobsPerSec > 0 ? s.sustained.jobsPerSec / b.sustained.jobsPerSec : 0;
      out.push({
        backend: s.backend,
        baselineBackend: b.backend,
        baselineJobsPerSec: b.sustained.jobsPerSec,
        sluiceJobsPerSec: s.sustained.jobsPerSec,
        ratio: round(ratio, 4),
        throughputMet: ratio >= TARGETS.throughputRatio,
        halfRateJobsPerSec: s.halfRate.open?.ratePerSec ?? 0,
        p50Ms: s.halfRate.latency.p50,
        p99Ms: s.halfRate.latency.p99,
        latencyMet: s.halfRate.latency.p50 <= TARGETS.p50Ms && s.halfRate.latency.p99 <= TARGETS.p99Ms,
        cpuCeilingRatio:
          s.sustained.cpu && b.sustained.cpu?.cpuCeilingJobsPerSec
            ? round(s.sustained.cpu.cpuCeilingJobsPerSec / b.sustained.cpu.cpuCeilingJobsPerSec, 4)
            : null,
      });
    }
  }
  return out;
}

/** A plain-text table: first column left-aligned, the rest right-aligned. */
function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: 1 }) : '-');

/** The human-readable summary printed at the end of a run. */
export function renderReport(r: BenchReport): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`Sluice pipeline bench: ${m.cores} cores (${m.cpuModel}), node ${m.node}, ${r.durationSeconds} s`);
  if (m.postgresRoundTripUs) {
    const { backToBack, afterIdle } = m.postgresRoundTripUs;
    out.push(
      `PostgreSQL SELECT 1 round trip (median): ${backToBack} µs back to back, ${afterIdle} µs after 2 ms idle: waking its processes costs this machine ${afterIdle - backToBack} µs per hop`,
    );
  }
  out.push('');
  out.push(
    table(
      [
        'Sluice backend',
        'vs baseline',
        'baseline jobs/s',
        'Sluice jobs/s',
        'ratio',
        '≥50%',
        'half rate/s',
        'p50 ms',
        'p99 ms',
        '≤5 / ≤25 ms',
        'CPU-ceiling ratio',
      ],
      r.verdicts.map((v) => [
        v.backend,
        `bullmq ${v.baselineBackend}`,
        fmt(v.baselineJobsPerSec),
        fmt(v.sluiceJobsPerSec),
        `${fmt(v.ratio * 100)}%`,
        v.throughputMet ? 'met' : 'NOT met',
        fmt(v.halfRateJobsPerSec),
        fmt(v.p50Ms),
        fmt(v.p99Ms),
        v.latencyMet ? 'met' : 'NOT met',
        v.cpuCeilingRatio === null ? '-' : `${fmt(v.cpuCeilingRatio * 100)}%`,
      ]),
    ),
  );
  out.push('');
  out.push('Latency detail (ms): closed loop = sustained phase; half rate = open loop at half the sustained rate');
  const rows: (string | number)[][] = [];
  for (const b of r.baselines) {
    rows.push([
      `bullmq ${b.backend} closed`,
      fmt(b.sustained.jobsPerSec),
      b.sustained.latency.p50,
      b.sustained.latency.p90,
      b.sustained.latency.p99,
      b.sustained.latency.max,
      '',
      '',
      '',
      b.sustained.errors,
    ]);
    rows.push([
      `bullmq ${b.backend} half rate`,
      fmt(b.halfRate.open?.ratePerSec ?? 0),
      b.halfRate.latency.p50,
      b.halfRate.latency.p90,
      b.halfRate.latency.p99,
      b.halfRate.latency.max,
      b.halfRate.ack?.p50 ?? '',
      '',
      '',
      b.halfRate.errors,
    ]);
  }
  for (const s of r.sluice) {
    for (const [name, f] of [
      ['closed', s.sustained],
      ['half rate', s.halfRate],
      ['half rate, WebSocket client', s.halfRateWs],
      ['1 client', s.profile.sequential.figures],
    ] as const) {
      rows.push([
        `sluice ${s.backend} ${name}`,
        fmt(name.startsWith('half rate') ? (f.open?.ratePerSec ?? 0) : f.jobsPerSec),
        f.latency.p50,
        f.latency.p90,
        f.latency.p99,
        f.latency.max,
        f.split?.ack.p50 ?? '',
        f.split?.ackToFinal.p50 ?? '',
        f.split?.fetch.p50 ?? '',
        f.errors,
      ]);
    }
  }
  out.push(table(['run', 'jobs/s', 'p50', 'p90', 'p99', 'max', 'ack p50', 'ack→final p50', 'fetch p50', 'errors'], rows));
  out.push('');
  out.push("CPU per job of the run's own processes in the closed loop (ms), and the rate that would fill every core with it:");
  for (const b of r.baselines) {
    const c = b.sustained.cpu;
    if (c) out.push(`  bullmq ${b.backend}: ${c.pipelineMsPerJob} ms/job → ceiling ${fmt(c.cpuCeilingJobsPerSec)} jobs/s`);
  }
  for (const s of r.sluice) {
    const c = s.sustained.cpu;
    if (c) out.push(`  sluice ${s.backend}: ${c.pipelineMsPerJob} ms/job → ceiling ${fmt(c.cpuCeilingJobsPerSec)} jobs/s`);
  }
  for (const s of r.sluice) {
    out.push('');
    const cpu = s.sustained.cpu;
    if (cpu) {
      const parts = Object.entries(cpu.msPerJob)
        .filter(([, v]) => v >= 0.05)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      out.push(`sluice ${s.backend}: CPU ms per job in the closed loop: ${parts}; server event loop ${round((s.sustained.mainThreadElu ?? 0) * 100)}% busy`);
    }
    const p = s.profile.saturated.probes;
    out.push(
      `sluice ${s.backend}: per job ${p.db.roundTripsPerJob} PostgreSQL round trips (${p.db.transactionsPerJob} transactions), ${p.redis.commandsPerJob} Redis commands, ${p.bus.publishesPerJob} bus publishes, 1 HTTP request (POST ?wait=)`,
    );
    const seq = s.profile.sequential.probes;
    out.push(`sluice ${s.backend}: stages of one job, 1 client (count per job × mean ms; nested stages overlap):`);
    for (const st of seq.stages.slice(0, 14)) out.push(`    ${String(st.perJob).padStart(5)} × ${String(st.meanMs).padStart(6)}  ${st.name}`);
    out.push(`sluice ${s.backend}: costliest statements, 1 client (count per job × mean ms):`);
    for (const st of seq.db.statements.slice(0, 6)) out.push(`    ${String(st.perJob).padStart(5)} × ${String(st.meanMs).padStart(6)}  ${st.name}`);
    const top = s.profile.saturated.cpuProfile?.byCaller.slice(0, 10).map((o) => `${o.owner} ${o.msPerJob}`);
    if (top) out.push(`sluice ${s.backend}: server main-thread CPU ms per job, charged to the calling package: ${top.join(', ')}`);
  }
  if (r.notes.length) {
    out.push('');
    for (const n of r.notes) out.push(`note: ${n}`);
  }
  return out.join('\n');
}

/** Writes the JSON report to bench-results/pipeline-<timestamp>.json and returns its path. */
export function writeReport(r: BenchReport): string {
  const dir = fileURLToPath(new URL('../../bench-results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `pipeline-${r.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
