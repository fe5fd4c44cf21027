import {
  type Column,
  type Config,
  type DataSourceConnection,
  EVENT_VERSION,
  type EventBus,
  type JobQueue,
  offersPrepareAhead,
  type QueuedJob,
  type ResultSetWriter,
  type ResultStore,
  type Row,
  SluiceError,
  topics,
  toSluiceError,
} from '@sluice/core';
import type { EngineCatalog } from '@sluice/engines';
import type { DirectSlot, Fence, JobRow, JobStore, LineageRecord, LineageRecorder, Logger, NewJob, SealedResultSet } from '@sluice/entrance';
import type { EnginePool, PooledEngine } from './engine-pool.ts';
import { LiveRows } from './live-rows.ts';
import { LogSink } from './log-sink.ts';
import { type Redactor, redactError, redactorFor } from './secret-redactor.ts';

/** What the runner needs from the data-source service: the published connection, checked for this user. */
export interface DataSourceResolver {
  connectionForJob(principal: { user: string; admin: boolean }, name: string): Promise<DataSourceConnection>;
}

/** Why a running job is stopped: decides its final state (`lease`: another manager owns it now). */
export type StopReason = 'user' | 'timeout' | 'lease' | 'client-lease';

interface ActiveJob {
  jobId: string;
  attempt: number;
  controller: AbortController;
  reason?: StopReason;
  /** Settles when the attempt's run has ended here (its engine given back). */
  ended: Promise<void>;
}

/** A job attempt running on this manager. */
export interface ActiveRun {
  jobId: string;
  attempt: number;
}

/** The engine task of a job attempt. */
function taskIdOf(jobId: string, attempt: number): string {
  return `${jobId}.${attempt}`;
}

const PROGRESS_INTERVAL_MS = 250;

/**
 * The longest a submit waits to claim its job (ADR 10): resolving a data source and building the
 * START event, whose SQL parse can wait for a grammar to load (seconds, right after start-up) or
 * take long for a big script. Past it the job takes the queue; the parse goes on and is remembered.
 */
const CLAIM_BUDGET_MS = 200;

/** `promise`'s value, or undefined when it takes longer than `ms` (it must not reject). */
async function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A result set of at most this many rows and bytes, all plain values, travels with the job's end as well. */
const INLINE_MAX_ROWS = 20;
const INLINE_MAX_BYTES = 2048;

/** True when every value of the rows is a string, a finite number, a boolean or null. */
function plainRows(rows: unknown[][]): boolean {
  for (const row of rows) {
    for (const v of row) {
      if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
      if (typeof v === 'number' && Number.isFinite(v)) continue;
      return false;
    }
  }
  return true;
}

/** Writes one task's result sets, enforcing the job's row and byte limits across all of them. */
class ResultWriter {
  private current: { writer: ResultSetWriter; index: number; columns: Column[]; inline: Row[] | undefined } | undefined;
  private count = 0;
  private rowsBefore = 0;
  private bytesBefore = 0;
  private readonly live: LiveRows;

  constructor(
    private readonly job: JobRow,
    private readonly results: ResultStore,
    private readonly store: JobStore,
    private readonly bus: EventBus,
    private readonly limits: { maxRows: number; maxBytes: number; liveRows: number },
  ) {
    this.live = new LiveRows(job.id, bus, limits.liveRows);
  }

  get sets(): number {
    return this.count;
  }

  async begin(columns: Column[]): Promise<void> {
    await this.end();
    const index = this.count;
    this.current = { writer: await this.results.create(this.job.id, index, columns), index, columns, inline: [] };
    this.live.begin(index);
  }

  async write(rows: unknown[][]): Promise<void> {
    if (!this.current) throw new SluiceError('SLUICE_INTERNAL', { reason: 'connector sent rows before a result set' });
    const w = this.current.writer;
    if (this.rowsBefore + w.rows + rows.length > this.limits.maxRows) throw new SluiceError('SLUICE_RESULT_ROW_LIMIT', { limit: this.limits.maxRows });
    await w.write(rows);
    if (this.bytesBefore + w.bytes > this.limits.maxBytes) throw new SluiceError('SLUICE_RESULT_BYTE_LIMIT', { limit: this.limits.maxBytes });
    const inline = this.current.inline;
    if (inline && inline.length + rows.length <= INLINE_MAX_ROWS && w.bytes <= INLINE_MAX_BYTES && plainRows(rows)) for (const r of rows) inline.push(r as Row);
    else this.current.inline = undefined;
    this.live.add(rows);
  }

  /**
   * Seals the current result set without indexing it: the caller indexes it with the job's final
   * transition, in the same statement. Undefined when no set is open.
   */
  async seal(): Promise<SealedResultSet | undefined> {
    this.live.flush();
    const cur = this.current;
    if (!cur) return undefined;
    this.current = undefined;
    const done = await cur.writer.finish();
    this.rowsBefore += done.rows;
    this.bytesBefore += done.bytes;
    this.count++;
    return {
      index: cur.index,
      columns: cur.columns,
      rows: done.rows,
      bytes: done.bytes,
      uri: done.uri,
      truncated: false,
      ...(cur.inline && cur.inline.length === done.rows ? { inline: cur.inline } : {}),
      ...(done.lines !== undefined ? { lines: done.lines } : {}),
    };
  }

  /** Seals the current result set, indexes it and announces it. */
  async end(): Promise<void> {
    const done = await this.seal();
    if (!done) return;
    await this.store.addResultSet(this.job.id, done);
    await this.bus
      .publish(topics.job(this.job.id), {
        v: EVENT_VERSION,
        type: 'result',
        jobId: this.job.id,
        index: done.index,
        rows: done.rows,
        bytes: done.bytes,
        columns: done.columns,
      })
      .catch(() => {});
  }

  async abort(): Promise<void> {
    const cur = this.current;
    this.current = undefined;
    await cur?.writer.abort().catch(() => {});
  }
}

/**
 * Runs one queued job attempt: claims it, gets an engine, streams the task's events into the log and
 * result stores, and ends it in exactly one state. Every write is fenced by (manager, attempt), so a
 * manager that lost its lease can no longer change a job someone else now runs.
 */
export class JobRunner {
  /**
   * Attempts running here, by task id (job and attempt): a manager that was stalled past its lease
   * may claim a job's retry while the attempt taken from it is still being stopped.
   */
  private readonly active = new Map<string, ActiveJob>();
  /** Run slots left of the manager's concurrency: a queued job waits for one, a job claimed at submit takes a free one. */
  private free: number;
  private readonly waiters: (() => void)[] = [];
  /** Runs of jobs claimed at submit (the queue's consumer tracks its own). */
  private readonly direct = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly config: Config,
    private readonly managerId: string,
    private readonly store: JobStore,
    private readonly bus: EventBus,
    private readonly queue: JobQueue,
    private readonly results: ResultStore,
    private readonly catalog: EngineCatalog,
    private readonly engines: EnginePool,
    private readonly log: Logger,
    private readonly dataSources?: DataSourceResolver,
    private readonly lineage?: LineageRecorder,
  ) {
    this.free = config.SLUICE_MANAGER_CONCURRENCY;
  }

  private async takeSlot(): Promise<boolean> {
    if (this.closed) return false;
    if (this.free > 0 && this.waiters.length === 0) {
      this.free--;
      return true;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
    return !this.closed;
  }

  private releaseSlot(): void {
    const next = this.waiters.shift();
    if (next && !this.closed) next();
    else this.free++;
  }

  /**
   * A slot for a job the entrance is submitting now, to be claimed in the submit's own statement and
   * run here without the queue (ADR 10). None while every slot is taken or queued jobs wait for one:
   * the job then takes the queue like any other.
   */
  reserve(): DirectSlot | undefined {
    if (this.closed || this.free <= 0 || this.waiters.length > 0) return undefined;
    this.free--;
    let taken = false;
    const take = () => {
      if (taken) throw new Error('a run slot is used once');
      taken = true;
    };
    // A job on a data source runs on the connection resolved for its claim (and checked then, as a
    // claim from the queue checks it); the START event names its datasets.
    let dataSource: DataSourceConnection | undefined;
    return {
      claim: async (job: NewJob) => {
        this.prepareAhead(job);
        const prepared = await withinMs(this.prepareClaim(job), CLAIM_BUDGET_MS);
        if (!prepared) return undefined;
        dataSource = prepared.dataSource;
        return { managerId: this.managerId, leaseMs: this.config.SLUICE_LEASE_MS, lineage: prepared.lineage };
      },
      start: (row: JobRow) => {
        take();
        const run = this.execute(row, dataSource)
          .catch((err) => this.log.error({ jobId: row.id, err: String(err) }, 'job run failed'))
          .finally(() => {
            this.direct.delete(run);
            this.releaseSlot();
          });
        this.direct.add(run);
      },
      release: () => {
        if (taken) return;
        take();
        this.releaseSlot();
      },
    };
  }

  /**
   * Takes no more jobs: queued jobs still waiting for a slot are left to the queue and the reconciler.
   * Returns once the runs of jobs claimed at submit have ended (they were stopped by the caller), or
   * after `waitMs`.
   */
  async close(waitMs = 5_000): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
    if (this.direct.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.direct]), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  /** The job attempts running here now. */
  activeRuns(): ActiveRun[] {
    return [...this.active.values()].map(({ jobId, attempt }) => ({ jobId, attempt }));
  }

  /** Stops a job's attempts running here (or only `attempt`); `reason` decides its final state. */
  stop(jobId: string, reason: StopReason, attempt?: number): boolean {
    let stopped = false;
    for (const a of this.active.values()) {
      if (a.jobId !== jobId || (attempt !== undefined && a.attempt !== attempt)) continue;
      a.reason ??= reason;
      a.controller.abort();
      stopped = true;
    }
    return stopped;
  }

  /**
   * Tells the idle engine a job submitted here will likely run on that it comes next, so that the
   * engine prepares it while the submit is written (`PrepareAheadEngine`). Only for jobs that need no
   * data-source connection or fresh engine, which a claim would have to resolve first. The engine may
   * also run a statement without effects ahead (ADR 16), unless the submit carries an idempotency key:
   * a retried request is answered with the job it repeats, and its own statement never runs.
   */
  private prepareAhead(job: NewJob): void {
    if (job.dataSource !== null || job.executeOnce) return;
    try {
      const resolved = this.catalog.resolve(job.engineType);
      const pooled = this.engines.peekIdle(job.user, resolved, {
        executeOnce: false,
        startupParams: job.startupParams,
        labels: { ...job.labels, creator: job.creator, jobId: job.id },
      });
      if (pooled && offersPrepareAhead(pooled.engine)) {
        pooled.engine.prepareAhead(
          { taskId: taskIdOf(job.id, 0), code: job.code, codeType: job.codeType },
          { mayRun: this.config.SLUICE_RUN_AHEAD && job.idempotencyKey === null },
        );
      }
    } catch {
      // Only a hint: the run resolves the engine again and reports what is wrong.
    }
  }

  /**
   * What a claim at submit needs: the job's data-source connection, resolved and checked, and its
   * START event. Undefined when the connection cannot be used now: the job then takes the queue,
   * whose claim fails it with the reason. Never rejects.
   */
  private async prepareClaim(job: NewJob): Promise<{ dataSource?: DataSourceConnection; lineage?: LineageRecord } | undefined> {
    try {
      let dataSource: DataSourceConnection | undefined;
      if (job.dataSource !== null) {
        if (!this.dataSources) return undefined;
        dataSource = await this.dataSources.connectionForJob({ user: job.user, admin: false }, job.dataSource);
      }
      const started = { id: job.id, attempt: 0, engine_type: job.engineType, code_type: job.codeType, code: job.code, labels: job.labels };
      return { dataSource, lineage: await this.lineage?.started(started, dataSource) };
    } catch {
      return undefined;
    }
  }

  /** Runs a job attempt taken from the queue, once a run slot is free. */
  async run(q: QueuedJob): Promise<void> {
    if (!(await this.takeSlot())) return; // closing: the entry is left to the queue and the reconciler
    try {
      await this.claimAndRun(q);
    } finally {
      this.releaseSlot();
    }
  }

  private async claimAndRun(q: QueuedJob): Promise<void> {
    const pending = await this.store.getForRun(q.jobId, q.attempt);
    if (!pending || pending.attempt !== q.attempt || (pending.state !== 'Scheduled' && pending.state !== 'WaitForRetry')) return;
    // Permission, publication and expiry of the data source are checked again now: they may have
    // changed since submit. Its connection also names the lineage datasets of the START event.
    let dataSource: DataSourceConnection | undefined;
    let refused: unknown;
    if (pending.data_source) {
      try {
        if (!this.dataSources) throw new SluiceError('SLUICE_DATASOURCE_NOT_FOUND', { name: pending.data_source });
        dataSource = await this.dataSources.connectionForJob({ user: pending.username, admin: false }, pending.data_source);
      } catch (err) {
        refused = err;
      }
    }
    // The START event first: its SQL parse can take seconds (a grammar's first load under load). The
    // lease counts from the claim's write, not from before that wait, or it would be over at once.
    const started = refused ? undefined : await this.lineage?.started(pending, dataSource);
    const claimed = await this.store.transition(
      q.jobId,
      ['Scheduled', 'WaitForRetry'],
      'Running',
      // Brief: the code, variables and parameters were just read; they are not shipped twice.
      { managerId: this.managerId, leaseUntilMs: Date.now() + this.config.SLUICE_LEASE_MS, progress: 0, brief: true },
      { attempt: q.attempt, notCancelRequested: true },
      undefined,
      started,
    );
    if (!claimed) return; // cancelled, timed out, or already taken: nothing to do
    await this.execute({ ...pending, ...claimed }, dataSource, refused);
  }

  /** Runs a job claimed for this manager, and ends it in exactly one state. */
  private async execute(row: JobRow, dataSource?: DataSourceConnection, refused?: unknown): Promise<void> {
    const fence: Fence = { managerId: this.managerId, attempt: row.attempt };
    // An earlier attempt still here was taken from this manager (it stalled past its lease): it ends
    // before this one starts, so two attempts of a job never run side by side on one manager.
    const earlier = [...this.active.values()].filter((a) => a.jobId === row.id && a.attempt < row.attempt);
    for (const a of earlier) this.stop(a.jobId, 'lease', a.attempt);
    await Promise.all(earlier.map((a) => a.ended));
    // A first attempt starts a fresh log; a retry continues the numbering of the attempts before it.
    const firstLine = row.attempt === 0 ? 1 : (await this.store.lastLogLine(row.id)) + 1;
    let endRun = () => {};
    const key = taskIdOf(row.id, row.attempt);
    const active: ActiveJob = {
      jobId: row.id,
      attempt: row.attempt,
      controller: new AbortController(),
      ended: new Promise<void>((resolve) => {
        endRun = resolve;
      }),
    };
    this.active.set(key, active);
    const runMs = Math.max(0, (row.started_at?.getTime() ?? Date.now()) + row.run_timeout_s * 1000 - Date.now());
    const timer = setTimeout(() => this.stop(row.id, 'timeout', row.attempt), runMs);
    let redact: Redactor = (t) => t;
    const logs = new LogSink(row.id, firstLine, this.store, fence, (line) => redact(line));
    const results = new ResultWriter(row, this.results, this.store, this.bus, {
      maxRows: this.config.SLUICE_RESULT_MAX_ROWS,
      maxBytes: this.config.SLUICE_RESULT_MAX_BYTES,
      liveRows: this.config.SLUICE_LIVE_ROWS,
    });
    let pooled: PooledEngine | undefined;
    let broken = false;
    try {
      if (row.attempt > 0) {
        await this.results.deleteJob(row.id);
        await this.store.clearResultSets(row.id);
        logs.write(`Retrying: attempt ${row.attempt + 1} of ${this.config.SLUICE_MAX_RETRIES + 1}`);
      }
      const resolved = this.catalog.resolve(row.engine_type);
      if (refused) throw refused;
      if (dataSource) {
        redact = redactorFor(dataSource);
        logs.write(`Data source ${dataSource.name} (${dataSource.type}), version ${dataSource.version}`);
      }
      pooled = await this.engines.acquire(row.username, resolved, {
        executeOnce: row.execute_once,
        startupParams: row.startup_params,
        signal: active.controller.signal,
        dataSource,
        labels: { ...row.labels, creator: row.creator, jobId: row.id },
      });
      logs.setEngine(pooled.id);
      logs.write(`Job ${row.id} runs on ${resolved.label} engine ${pooled.id} for ${row.username}`);
      let lastProgress = 0;
      for await (const ev of pooled.engine.execute({
        taskId: taskIdOf(row.id, row.attempt),
        user: row.username,
        code: row.code,
        codeType: row.code_type,
        runtimeParams: row.runtime_params,
        signal: active.controller.signal,
      })) {
        if (ev.type === 'rows') await results.write(ev.rows);
        else if (ev.type === 'log') logs.write(ev.line);
        else if (ev.type === 'resultSet') await results.begin(ev.columns);
        else if (ev.type === 'progress' && Date.now() - lastProgress >= PROGRESS_INTERVAL_MS) {
          lastProgress = Date.now();
          await this.store.updateProgress(row.id, ev.progress, fence);
          await this.bus
            .publish(topics.job(row.id), { v: EVENT_VERSION, type: 'progress', jobId: row.id, progress: ev.progress, info: ev.info })
            .catch(() => {});
        }
      }
      if (active.controller.signal.aborted) throw new SluiceError('SLUICE_JOB_CANCELLED', {});
      // The last result set, the log lines still pending and the final state go in one statement.
      const sealed = await results.seal();
      const tail = await logs.takePending();
      await this.store.transition(
        row.id,
        ['Running'],
        'Succeed',
        {
          resultSets: results.sets,
          logLines: logs.lastLine,
          error: null,
          logs: tail.logs,
          resultSet: sealed,
          brief: true,
          ...(tail.engineId ? { engineId: tail.engineId } : {}),
        },
        fence,
        undefined,
        await this.lineage?.ended(row, 'Succeed', { ds: dataSource }),
      );
    } catch (thrown) {
      await results.abort();
      const err = redactError(toSluiceError(thrown), redact);
      broken = err.code === 'SLUICE_ENGINE_CRASHED';
      await this.finishWithError(row, fence, err, active.reason, logs, results.sets, dataSource);
    } finally {
      clearTimeout(timer);
      this.active.delete(key);
      if (pooled) await this.engines.release(pooled, { broken }).catch((e) => this.log.warn({ err: String(e) }, 'engine release failed'));
      endRun();
    }
  }

  private async finishWithError(
    row: JobRow,
    fence: Fence,
    err: SluiceError,
    reason: StopReason | undefined,
    logs: LogSink,
    sets: number,
    ds: DataSourceConnection | undefined,
  ): Promise<void> {
    const ended = (to: 'Failed' | 'Cancelled' | 'Timeout', error?: string) => this.lineage?.ended(row, to, { ds, error });
    if (reason === 'lease') return; // another manager owns the job now; leave it alone
    if (reason === 'timeout') {
      const e = new SluiceError('SLUICE_JOB_RUN_TIMEOUT', { seconds: row.run_timeout_s });
      logs.write(e.message);
      await logs.flush();
      await this.store.transition(
        row.id,
        ['Running'],
        'Timeout',
        { error: e.toBody(), logLines: logs.lastLine, resultSets: sets },
        fence,
        undefined,
        await ended('Timeout', e.message),
      );
      return;
    }
    if (reason === 'user' || reason === 'client-lease') {
      const details = reason === 'client-lease' ? { by: 'sluice', reason: 'client lease lapsed' } : {};
      logs.write(reason === 'client-lease' ? 'The job was cancelled: its client stopped renewing its lease' : 'The job was cancelled');
      await logs.flush();
      await this.store.transition(
        row.id,
        ['Running'],
        'Cancelled',
        { error: new SluiceError('SLUICE_JOB_CANCELLED', details).toBody(), logLines: logs.lastLine, resultSets: sets },
        fence,
        undefined,
        await ended('Cancelled'),
      );
      return;
    }
    logs.write(`ERROR ${err.code}: ${err.message}`);
    await logs.flush();
    if (err.retryable && row.attempt < this.config.SLUICE_MAX_RETRIES) {
      const next = await this.store.transition(
        row.id,
        ['Running'],
        'WaitForRetry',
        { attempt: row.attempt + 1, managerId: null, engineId: null, leaseUntilMs: null, error: err.toBody(), logLines: logs.lastLine },
        fence,
      );
      if (next) await this.queue.enqueue({ jobId: row.id, attempt: next.attempt, priority: next.priority }).catch(() => {});
      return;
    }
    const final = err.retryable ? new SluiceError('SLUICE_JOB_RETRIES_EXHAUSTED', { attempts: row.attempt + 1, reason: err.message, cause: err.code }) : err;
    await this.store.transition(
      row.id,
      ['Running'],
      'Failed',
      { error: final.toBody(), logLines: logs.lastLine, resultSets: 0 },
      fence,
      undefined,
      await ended('Failed', final.message),
    );
  }
}
