import { type EventBus, isFinalState, JobEventSchema, type JobState, topics } from '@sluice/core';

/** One entry of Linkis' `progressInfo` (`JobProgressInfo`): tasks of one engine-side job. */
export interface LinkisProgressInfo {
  id: string;
  succeedTasks: number;
  failedTasks: number;
  runningTasks: number;
  totalTasks: number;
}

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.trunc(v) : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/**
 * Turns the `info` of a connector's progress event into Linkis' `progressInfo`. Each connector words
 * its progress its own way; the shapes known here are:
 * - Trino/Presto: `queryId`, `completedSplits`, `totalSplits` (splits are the tasks);
 * - Flink: `flinkJobId`, `flinkJobState`, `tasksFinished`, `tasksTotal`;
 * - statement scripts (JDBC, DuckDB, Spark): `statement`, `statements`, with the overall `progress`
 *   telling how many statements are done; the id is Spark's `operationId` when there is one.
 * Anything else gives no entry. Like Linkis, only entries with `totalTasks > 0` are kept.
 */
export function toLinkisProgressInfo(fallbackId: string, progress: number, info: Record<string, unknown> | undefined): LinkisProgressInfo[] {
  if (!info) return [];
  const totalSplits = count(info.totalSplits);
  if (totalSplits !== undefined) {
    const done = Math.min(totalSplits, count(info.completedSplits) ?? 0);
    const failed = /FAILED/.test(String(info.state ?? '')) ? totalSplits - done : 0;
    return entry({
      id: text(info.queryId) ?? fallbackId,
      succeedTasks: done,
      failedTasks: failed,
      runningTasks: totalSplits - done - failed,
      totalTasks: totalSplits,
    });
  }
  const tasksTotal = count(info.tasksTotal);
  if (tasksTotal !== undefined) {
    const done = Math.min(tasksTotal, count(info.tasksFinished) ?? 0);
    const state = String(info.flinkJobState ?? '');
    const failed = state === 'FAILED' ? tasksTotal - done : 0;
    const running = state === 'RUNNING' || state === 'RESTARTING' ? tasksTotal - done : 0;
    return entry({ id: text(info.flinkJobId) ?? fallbackId, succeedTasks: done, failedTasks: failed, runningTasks: running, totalTasks: tasksTotal });
  }
  const statements = count(info.statements);
  if (statements !== undefined) {
    // `progress` is (statements done + fraction of the current one) / statements.
    const done = Math.min(statements, Math.floor(progress * statements + 1e-9));
    return entry({
      id: text(info.operationId) ?? fallbackId,
      succeedTasks: done,
      failedTasks: 0,
      runningTasks: done < statements ? 1 : 0,
      totalTasks: statements,
    });
  }
  return [];
}

/**
 * The detail of a job that has ended: progress events are sampled, so the last one seen may predate
 * the end. A job that succeeded did every task; in any other final state nothing runs any more.
 */
export function settleProgressInfo(info: LinkisProgressInfo[], state: JobState): LinkisProgressInfo[] {
  if (!isFinalState(state)) return info;
  return info.map((e) => (state === 'Succeed' ? { ...e, succeedTasks: e.totalTasks, failedTasks: 0, runningTasks: 0 } : { ...e, runningTasks: 0 }));
}

function entry(e: LinkisProgressInfo): LinkisProgressInfo[] {
  return e.totalTasks > 0 ? [e] : [];
}

interface Watched {
  info: LinkisProgressInfo[];
  touched: number;
  unsubscribe?: Promise<() => Promise<void>>;
  ended: boolean;
}

/** How long a watched job's latest progress info is kept after the last event or read. */
const KEEP_MS = 10 * 60_000;
/** Jobs watched at once; the least recently touched is dropped beyond this. */
const MAX_WATCHED = 5_000;

/**
 * The latest `progressInfo` of jobs, for `entrance/{id}/progress`. Sluice persists a job's progress
 * fraction but not the connector's detail, which only travels on the bus (`progress` events with
 * `info`); so this subscribes to a job's topic when the Linkis front door submits it or a client first
 * asks for its progress, keeps the last detail, and lets go once the job ends and nobody asks for a
 * while. A job first asked about mid-run shows its detail from the next progress event on.
 */
export class ProgressInfoCache {
  private readonly jobs = new Map<string, Watched>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly keepMs = KEEP_MS,
  ) {}

  /** Starts following a job's progress events (idempotent). */
  watch(jobId: string, taskID: string): void {
    const known = this.jobs.get(jobId);
    if (known) {
      known.touched = Date.now();
      return;
    }
    const w: Watched = { info: [], touched: Date.now(), ended: false };
    this.jobs.set(jobId, w);
    this.evict();
    w.unsubscribe = this.bus
      .subscribe(topics.job(jobId), (raw) => {
        const ev = JobEventSchema.safeParse(raw);
        if (!ev.success) return;
        w.touched = Date.now();
        if (ev.data.type === 'progress') {
          const info = toLinkisProgressInfo(taskID, ev.data.progress, ev.data.info);
          if (info.length) w.info = info;
        } else if (ev.data.type === 'status' && isFinalState(ev.data.state) && !w.ended) {
          w.ended = true;
          void this.release(w);
        }
      })
      .catch(() => async () => {});
    this.sweeper ??= setInterval(() => this.sweep(), Math.min(this.keepMs, 60_000)).unref();
  }

  /**
   * The latest detail of a job (empty until a connector reported some), settled once the job ended;
   * keeps following the job while it runs.
   */
  get(jobId: string, taskID: string, state: JobState): LinkisProgressInfo[] {
    const w = this.jobs.get(jobId);
    if (w) w.touched = Date.now();
    else if (!isFinalState(state)) this.watch(jobId, taskID);
    return settleProgressInfo(w?.info ?? [], state);
  }

  private async release(w: Watched): Promise<void> {
    const u = w.unsubscribe;
    w.unsubscribe = undefined;
    if (u) await (await u)().catch(() => {});
  }

  private evict(): void {
    if (this.jobs.size <= MAX_WATCHED) return;
    const oldest = [...this.jobs.entries()].sort((a, b) => a[1].touched - b[1].touched).slice(0, this.jobs.size - MAX_WATCHED);
    for (const [id, w] of oldest) {
      this.jobs.delete(id);
      void this.release(w);
    }
  }

  private sweep(): void {
    const cutoff = Date.now() - this.keepMs;
    for (const [id, w] of this.jobs) {
      if (w.touched >= cutoff) continue;
      this.jobs.delete(id);
      void this.release(w);
    }
  }

  /** Drops every subscription. */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const all = [...this.jobs.values()];
    this.jobs.clear();
    await Promise.all(all.map((w) => this.release(w)));
  }
}
