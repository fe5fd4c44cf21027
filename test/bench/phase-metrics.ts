import type { BullmqJobSample } from './bullmq-target.ts';
import type { CpuSplit } from './cpu-accounting.ts';
import type { OpenLoopResult, PhaseResult } from './load-patterns.ts';
import type { SluiceJobSample } from './sluice-job-client.ts';
import { type LatencySummary, round, summarize } from './stats.ts';

/** What the report keeps of a load phase. */
export interface PhaseFigures {
  jobs: number;
  errors: number;
  errorSamples: string[];
  truncated: boolean;
  seconds: number;
  jobsPerSec: number;
  /** Submit→result (Sluice) or add→completed (baseline). */
  latency: LatencySummary;
  /** Sluice only: POST acknowledged; ack→final status on the WebSocket; final→rows fetched. */
  split?: { ack: LatencySummary; ackToFinal: LatencySummary; fetch: LatencySummary };
  /** Sluice only: share of jobs whose final state was already in the `subscribed` frame; frames per job. */
  ws?: { finalInSubscribedPct: number; framesPerJob: number };
  /** Baseline only: `add` acknowledged. */
  ack?: LatencySummary;
  /** Open loop only. */
  open?: { ratePerSec: number; arrivalLag: LatencySummary; peakInFlight: number };
  /** Closed loop only: utilisation of the Sluice (or baseline worker) event loop, 0..1. */
  mainThreadElu?: number;
  /**
   * CPU seconds by process group over the phase, and per job (ms). `pipelineMsPerJob` counts every
   * process of the run (server, engines, its PostgreSQL backends, Redis, load client) and leaves out
   * other processes of the machine; `cpuCeilingJobsPerSec` = cores / pipelineMsPerJob, the rate at
   * which the run's own work would fill every core: a figure far less sensitive to a noisy machine.
   */
  cpu?: CpuSplit & { msPerJob: Record<string, number>; pipelineMsPerJob: number; cpuCeilingJobsPerSec: number };
}

/** Groups that are not the run's own work ('main thread' is a part of 'sluice process'). */
const NOT_PIPELINE = new Set(['other processes', 'postgres: other', 'sluice process: main thread']);

function isSluice(s: unknown): s is SluiceJobSample {
  return typeof (s as SluiceJobSample).finalMs === 'number';
}

/** Turns a phase result into report figures. */
export function figures(r: PhaseResult<SluiceJobSample | BullmqJobSample> | OpenLoopResult<SluiceJobSample | BullmqJobSample>): PhaseFigures {
  const out: PhaseFigures = {
    jobs: r.samples.length,
    errors: r.errorCount,
    errorSamples: r.errors,
    truncated: r.truncated,
    seconds: round(r.elapsedMs / 1000, 2),
    jobsPerSec: round(r.throughput, 1),
    latency: summarize(r.samples.map((s) => s.totalMs)),
  };
  const sluice = r.samples.filter(isSluice);
  if (sluice.length === r.samples.length && sluice.length > 0) {
    out.split = {
      ack: summarize(sluice.map((s) => s.ackMs)),
      ackToFinal: summarize(sluice.map((s) => s.finalMs - s.ackMs)),
      fetch: summarize(sluice.map((s) => s.totalMs - s.finalMs)),
    };
    out.ws = {
      finalInSubscribedPct: round((sluice.filter((s) => s.finalInSubscribed).length / sluice.length) * 100, 1),
      framesPerJob: round(sluice.reduce((a, s) => a + s.frames, 0) / sluice.length, 2),
    };
  } else if (r.samples.length > 0) {
    out.ack = summarize(r.samples.map((s) => s.ackMs));
  }
  if ('ratePerSec' in r) out.open = { ratePerSec: round(r.ratePerSec, 1), arrivalLag: r.lag, peakInFlight: r.peakInFlight };
  return out;
}

/** Adds a CPU split (and per-job CPU) to phase figures. */
export function withCpu(f: PhaseFigures, cpu: CpuSplit | undefined, elu?: number): PhaseFigures {
  if (elu !== undefined) f.mainThreadElu = round(elu, 3);
  if (!cpu || f.jobs === 0) return f;
  const msPerJob: Record<string, number> = { 'machine (all cores)': round((cpu.machineBusy * 1000) / f.jobs, 2) };
  let pipeline = 0;
  for (const [k, v] of Object.entries(cpu.groups)) {
    msPerJob[k] = round((v * 1000) / f.jobs, 2);
    if (!NOT_PIPELINE.has(k)) pipeline += (v * 1000) / f.jobs;
  }
  f.cpu = { ...cpu, msPerJob, pipelineMsPerJob: round(pipeline, 3), cpuCeilingJobsPerSec: pipeline > 0 ? round((cpu.cores * 1000) / pipeline, 1) : 0 };
  return f;
}
