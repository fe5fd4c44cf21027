import { setTimeout as sleep } from 'node:timers/promises';
import { type LatencySummary, summarize } from './stats.ts';

/** What a load phase produced: the samples of the jobs that succeeded and what went wrong. */
export interface PhaseResult<T> {
  samples: T[];
  errorCount: number;
  /** The first few error messages, for the report. */
  errors: string[];
  /** Jobs started. Below the requested total when the phase hit its deadline or overload bound. */
  started: number;
  /** From the first start to the last completion. */
  elapsedMs: number;
  /** Successful jobs per second over `elapsedMs`. */
  throughput: number;
  /** True when the phase stopped early (deadline, or too many jobs in flight in an open loop). */
  truncated: boolean;
}

/** An open-loop phase also reports how late arrivals started and the peak number in flight. */
export interface OpenLoopResult<T> extends PhaseResult<T> {
  ratePerSec: number;
  /** Start time minus scheduled arrival time, ms. */
  lag: LatencySummary;
  peakInFlight: number;
}

const MAX_ERRORS_KEPT = 5;

class Tally<T> {
  readonly samples: T[] = [];
  readonly errors: string[] = [];
  errorCount = 0;

  ok(v: T): void {
    this.samples.push(v);
  }

  fail(e: unknown): void {
    this.errorCount++;
    if (this.errors.length < MAX_ERRORS_KEPT) this.errors.push(e instanceof Error ? e.message : String(e));
  }
}

/**
 * Closed loop: `concurrency` lanes each run one job after another until `total` jobs started or the
 * deadline passed. Throughput at saturation is what a closed loop with enough lanes measures.
 */
export async function closedLoop<T>(opts: {
  total: number;
  concurrency: number;
  deadlineMs: number;
  run: (index: number, lane: number) => Promise<T>;
}): Promise<PhaseResult<T>> {
  const tally = new Tally<T>();
  const t0 = performance.now();
  const deadline = t0 + opts.deadlineMs;
  let next = 0;
  let truncated = false;
  const lane = async (id: number) => {
    for (;;) {
      if (next >= opts.total) return;
      if (performance.now() > deadline) {
        truncated = true;
        return;
      }
      const i = next++;
      try {
        tally.ok(await opts.run(i, id));
      } catch (e) {
        tally.fail(e);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, (_, id) => lane(id)));
  const elapsedMs = performance.now() - t0;
  return {
    samples: tally.samples,
    errorCount: tally.errorCount,
    errors: tally.errors,
    started: next,
    elapsedMs,
    throughput: tally.samples.length / (elapsedMs / 1000),
    truncated,
  };
}

/**
 * Open loop: job `i` is due at `i / ratePerSec` seconds and starts then, whether or not earlier jobs
 * have finished (fixed-interval arrivals, so a slow system cannot slow its own load down). Bounded:
 * it stops starting jobs past the deadline or when `maxInFlight` jobs are outstanding (overload).
 */
export async function openLoop<T>(opts: {
  total: number;
  ratePerSec: number;
  maxInFlight: number;
  deadlineMs: number;
  run: (index: number, lagMs: number) => Promise<T>;
}): Promise<OpenLoopResult<T>> {
  const tally = new Tally<T>();
  const interval = 1000 / opts.ratePerSec;
  const lags: number[] = [];
  const pending = new Set<Promise<void>>();
  let peak = 0;
  let truncated = false;
  let started = 0;
  const t0 = performance.now();
  const deadline = t0 + opts.deadlineMs;
  while (started < opts.total) {
    const due = t0 + started * interval;
    const wait = due - performance.now();
    if (wait >= 1) {
      await sleep(Math.floor(wait));
      continue;
    }
    if (performance.now() > deadline || pending.size >= opts.maxInFlight) {
      truncated = true;
      break;
    }
    const lag = performance.now() - due;
    lags.push(lag);
    const p: Promise<void> = opts.run(started, lag).then(
      (v) => tally.ok(v),
      (e) => tally.fail(e),
    );
    pending.add(p);
    p.finally(() => pending.delete(p));
    peak = Math.max(peak, pending.size);
    started++;
  }
  await Promise.all(pending);
  const elapsedMs = performance.now() - t0;
  return {
    samples: tally.samples,
    errorCount: tally.errorCount,
    errors: tally.errors,
    started,
    elapsedMs,
    throughput: tally.samples.length / (elapsedMs / 1000),
    truncated,
    ratePerSec: opts.ratePerSec,
    lag: summarize(lags),
    peakInFlight: peak,
  };
}
