import type { DataSourceConnection, ErrorBody } from '@sluice/core';
import { queryPrepared } from '@sluice/infra';
import { groupKey, type JobRow, type JobStore, type NewJob } from './job-store.ts';
import type { LineageRecord, LineageRecorder } from './lineage-recorder.ts';
import type { Logger } from './scheduler.ts';

/** Where an interactive statement runs: the manager whose lease covers it and the engine it holds. */
export interface JournalRun {
  managerId: string;
  engineId: string;
  leaseMs: number;
}

/** How a statement ended, as its job records it. */
export interface StatementOutcome {
  state: 'Succeed' | 'Failed' | 'Cancelled' | 'Timeout';
  error?: ErrorBody;
  /** The job's whole log. */
  logLines: string[];
}

/** A statement the journal follows from its start to its end. */
export interface JournalEntry {
  readonly jobId: string;
  /** Records the end. Never throws; the record is written behind the caller. */
  end(outcome: StatementOutcome): void;
}

export interface StatementJournalOptions {
  store: JobStore;
  log: Logger;
  lineage?: LineageRecorder;
  /**
   * Which statements get lineage events: every one, or only those that read or write a dataset
   * (a `SELECT 1` a BI tool sends to keep its connection has none to tell). Default all.
   */
  lineageOf?: 'all' | 'datasets';
  /** Finished statements wait at most this long for their batch to be written. Default 20 ms. */
  flushMs?: number;
  /** A batch is written at once when it holds this many statements. Default 256. */
  maxBatch?: number;
  /**
   * A statement still running after this long is written as Running, as a queued job is, so that it
   * shows in the job list and can be cancelled while it runs. Default 150 ms.
   */
  runningAfterMs?: number;
}

/** A finished statement waiting for its batch. */
interface Finished {
  job: NewJob;
  run: JournalRun;
  ds: DataSourceConnection | undefined;
  startedAt: Date;
  finishedAt: Date;
  outcome: StatementOutcome;
  /** Flushes that failed on it: a statement is dropped (and logged) after three. */
  tries: number;
}

/**
 * One statement writes a whole batch: the final job rows, their state history (as if admitted,
 * claimed and ended), their logs and their lineage outbox events. The batch is one JSON document.
 */
const FLUSH_SQL = `WITH b AS (SELECT $1::jsonb AS doc),
  jobs AS (INSERT INTO sluice_jobs (id, username, creator, engine_type, code_type, group_key, code, submitted_code, variables, runtime_params,
             startup_params, labels, priority, execute_once, data_source, state, queue_timeout_s, run_timeout_s, manager_id, engine_id, error,
             progress, log_lines, created_at, scheduled_at, started_at, finished_at, updated_at)
           SELECT x.id, x.username, x.creator, x.engine_type, x.code_type, x.group_key, x.code, x.submitted_code, x.variables, x.runtime_params,
             x.startup_params, x.labels, x.priority, x.execute_once, x.data_source, x.state, x.queue_timeout_s, x.run_timeout_s, x.manager_id,
             x.engine_id, x.error, CASE WHEN x.state = 'Succeed' THEN 1 ELSE 0 END, x.log_lines, x.started_at, x.started_at, x.started_at,
             x.finished_at, x.finished_at
           FROM b, jsonb_to_recordset(b.doc->'jobs') AS x(id text, username text, creator text, engine_type text, code_type text, group_key text,
             code text, submitted_code text, variables jsonb, runtime_params jsonb, startup_params jsonb, labels jsonb, priority smallint,
             execute_once boolean, data_source text, state text, queue_timeout_s int, run_timeout_s int, manager_id text, engine_id text,
             error jsonb, log_lines int, started_at timestamptz, finished_at timestamptz)
           RETURNING id, state, started_at, finished_at),
  hist AS (INSERT INTO sluice_job_states (job_id, from_state, to_state, attempt, at)
           SELECT jobs.id, h.f, coalesce(h.t, jobs.state), 0, CASE WHEN h.t IS NULL THEN jobs.finished_at ELSE jobs.started_at END
           FROM jobs, (VALUES (1, NULL, 'Inited'), (2, 'Inited', 'Scheduled'), (3, 'Scheduled', 'Running'), (4, 'Running', NULL)) AS h(o, f, t)
           ORDER BY jobs.id, h.o),
  logs AS (INSERT INTO sluice_job_logs (job_id, line_no, text)
           SELECT l.j, l.n, l.t FROM b, jsonb_to_recordset(b.doc->'logs') AS l(j text, n int, t text)),
  lineage AS (INSERT INTO sluice_lineage_outbox (run_key, seq, payload)
           SELECT o.j, o.s, o.p FROM b, jsonb_to_recordset(b.doc->'lineage') AS o(j text, s int, p jsonb)
           ON CONFLICT (run_key, seq) DO NOTHING)
SELECT count(*)::int AS n FROM jobs`;

/**
 * The record of interactive statements (the PostgreSQL wire protocol's). Each statement is a job like
 * any other, with its row in the job history, its state history, its log and its lineage events, but
 * a short one is not written while it runs: it is kept in memory and, once finished, written already
 * final together with the other statements that finished within the same few milliseconds, in one
 * statement. A statement that is still running after `runningAfterMs` is written as Running at that
 * moment (so it is listed and can be cancelled while it runs) and ended with its own transition, as
 * before.
 *
 * The trade: a crash loses the records of the statements that finished in the last flush interval
 * (their clients already had their answers), and a short statement shows in the job list a flush
 * interval after it ended rather than while it ran. See docs/adr/0009-statement-journal.md.
 */
export class StatementJournal {
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly runningAfterMs: number;
  private pending: Finished[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The flush in progress: flushes never overlap, so batches reach the database in order. */
  private flushing: Promise<void> = Promise.resolve();
  /** Ends of statements that were written as Running, not yet transitioned. */
  private readonly transitions = new Set<Promise<void>>();
  private closed = false;
  /** Statements begun and not ended. */
  private open = 0;
  private whenIdle: (() => void) | undefined;
  /**
   * Statements that will be written as Running if they have not ended by their deadline, in the
   * order they began (so by deadline): one timer watches the first, instead of a timer each.
   */
  private watched: { deadline: number; entry: { ended: boolean; promote(): void } }[] = [];
  private watchTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: StatementJournalOptions) {
    this.flushMs = deps.flushMs ?? 20;
    this.maxBatch = deps.maxBatch ?? 256;
    this.runningAfterMs = deps.runningAfterMs ?? 150;
  }

  /** Statements finished and not yet written. */
  get backlog(): number {
    return this.pending.length;
  }

  /** Follows a statement that starts now on `run`'s engine. */
  begin(job: NewJob, run: JournalRun, ds?: DataSourceConnection): JournalEntry {
    const startedAt = new Date();
    let running: Promise<JobRow> | undefined;
    this.open++;
    const state = {
      ended: false,
      promote: () => {
        if (state.ended) return;
        running = (async () =>
          this.deps.store.insertRunning(job, run, (await this.hasLineage(job, ds)) ? await this.deps.lineage?.started(lineageRow(job), ds) : undefined))();
        running.catch((e) => this.deps.log.warn({ jobId: job.id, err: String(e) }, 'interactive statement could not be recorded as Running'));
      },
    };
    // After close (a stopping process) nothing is kept in memory: every statement is written as it starts.
    if (this.closed) state.promote();
    else this.watch(startedAt.getTime() + this.runningAfterMs, state);
    return {
      jobId: job.id,
      end: (outcome) => {
        if (state.ended) return;
        state.ended = true;
        if (--this.open === 0) this.whenIdle?.();
        if (running) {
          this.track(this.endRunning(job, ds, running, outcome));
          return;
        }
        this.pending.push({ job, run, ds, startedAt, finishedAt: new Date(), outcome, tries: 0 });
        this.schedule();
      },
    };
  }

  private watch(deadline: number, entry: { ended: boolean; promote(): void }): void {
    this.watched.push({ deadline, entry });
    if (!this.watchTimer) this.armWatch();
  }

  /** Promotes the watched statements past their deadline and still running, and waits for the next. */
  private armWatch(): void {
    const now = Date.now();
    let i = 0;
    for (; i < this.watched.length; i++) {
      const w = this.watched[i] as (typeof this.watched)[number];
      if (w.entry.ended) continue;
      if (w.deadline > now) break;
      w.entry.promote();
    }
    this.watched = i === 0 ? this.watched : this.watched.slice(i);
    const next = this.watched[0];
    if (!next) return;
    this.watchTimer = setTimeout(() => {
      this.watchTimer = undefined;
      this.armWatch();
    }, next.deadline - now);
    this.watchTimer.unref();
  }

  private track(p: Promise<void>): void {
    this.transitions.add(p);
    void p.finally(() => this.transitions.delete(p));
  }

  /** The end of a statement already written as Running: one transition, as a queued job's. */
  private async endRunning(job: NewJob, ds: DataSourceConnection | undefined, running: Promise<JobRow>, outcome: StatementOutcome): Promise<void> {
    try {
      await running;
    } catch {
      return; // logged where it failed
    }
    const lines = outcome.logLines;
    try {
      await this.deps.store.transition(
        job.id,
        ['Running'],
        outcome.state,
        { error: outcome.error ?? null, logs: { first: 1, lines }, logLines: lines.length, resultSets: 0 },
        { managerId: (await running).manager_id ?? undefined, attempt: 0 },
        undefined,
        (await this.hasLineage(job, ds)) ? await this.deps.lineage?.ended(lineageRow(job), outcome.state, { ds, error: outcome.error?.message }) : undefined,
      );
    } catch (e) {
      this.deps.log.warn({ jobId: job.id, err: String(e) }, 'interactive statement end could not be recorded');
    }
  }

  /** Whether the statement's lineage events are written (see {@link StatementJournalOptions.lineageOf}). */
  private async hasLineage(job: NewJob, ds: DataSourceConnection | undefined): Promise<boolean> {
    const lineage = this.deps.lineage;
    if (!lineage) return false;
    return this.deps.lineageOf !== 'datasets' || lineage.touchesData(lineageRow(job), ds);
  }

  private schedule(): void {
    if (this.pending.length >= this.maxBatch) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
      return;
    }
    if (this.timer || this.closed) {
      if (this.closed) void this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushMs);
  }

  /** Writes what has finished so far. Resolves once it is written (or given up on, and logged). */
  flush(): Promise<void> {
    const next = this.flushing.then(() => this.writePending());
    this.flushing = next.catch(() => {});
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    // Only what had finished when this flush began. Statements that finish while it writes wait for
    // their own window (end() scheduled it), so a steady stream is written one window per batch, not
    // in a small batch after every write.
    let left = this.pending.length;
    while (left > 0 && this.pending.length > 0) {
      const batch = this.pending.splice(0, Math.min(this.maxBatch, left));
      left -= batch.length;
      try {
        await this.write(batch);
      } catch (e) {
        if (batch.length > 1 && refused(e)) {
          // A statement the database refuses (a value it cannot store, an id it has already) must not
          // take its batch with it: each is written alone, and only the refused one is lost.
          await this.writeAlone(batch);
          continue;
        }
        const again = batch.filter((f) => ++f.tries < 3);
        this.deps.log.warn(
          { statements: batch.length, retried: again.length, err: String(e) },
          again.length === batch.length ? 'interactive statements could not be recorded; retrying' : 'interactive statements could not be recorded',
        );
        this.pending.unshift(...again);
        left += again.length;
        if (again.length > 0 && !this.closed) {
          // Try again a little later rather than in a tight loop against a database that refuses.
          this.timer ??= setTimeout(() => {
            this.timer = undefined;
            void this.flush();
          }, 250);
          return;
        }
      }
    }
  }

  private async writeAlone(batch: Finished[]): Promise<void> {
    for (const f of batch) {
      try {
        await this.write([f]);
      } catch (e) {
        if (!refused(e) && ++f.tries < 3) this.pending.push(f);
        else this.deps.log.warn({ jobId: f.job.id, err: String(e) }, 'interactive statement could not be recorded');
      }
    }
  }

  private async write(batch: Finished[]): Promise<void> {
    const lineage = this.deps.lineage;
    const jobs: unknown[] = [];
    const logs: { j: string; n: number; t: string }[] = [];
    const events: { j: string; s: number; p: unknown }[] = [];
    // The lineage events are built here, off the statements' path (the recorder remembers the
    // analysis of a text it has seen).
    const built = await Promise.all(
      batch.map(async (f): Promise<LineageRecord[]> => {
        if (!lineage || !(await this.hasLineage(f.job, f.ds))) return [];
        const row = lineageRow(f.job);
        const start = await lineage.started(row, f.ds);
        const end = await lineage.ended(row, f.outcome.state, { ds: f.ds, error: f.outcome.error?.message });
        return [start, end];
      }),
    );
    batch.forEach((f, i) => {
      const j = f.job;
      jobs.push({
        id: j.id,
        username: j.user,
        creator: j.creator,
        engine_type: j.engineType,
        code_type: j.codeType,
        group_key: groupKey(j.user, j.creator, j.engineType),
        code: j.code,
        submitted_code: j.submittedCode,
        variables: j.variables,
        runtime_params: j.runtimeParams,
        startup_params: j.startupParams,
        labels: j.labels,
        priority: j.priority,
        execute_once: j.executeOnce,
        data_source: j.dataSource,
        state: f.outcome.state,
        queue_timeout_s: j.queueTimeoutS,
        run_timeout_s: j.runTimeoutS,
        manager_id: f.run.managerId,
        engine_id: f.run.engineId,
        error: f.outcome.error ?? null,
        log_lines: f.outcome.logLines.length,
        started_at: f.startedAt.toISOString(),
        finished_at: f.finishedAt.toISOString(),
      });
      f.outcome.logLines.forEach((t, n) => {
        logs.push({ j: j.id, n: n + 1, t });
      });
      for (const e of built[i] ?? []) events.push({ j: j.id, s: e.seqOffset, p: e.event });
    });
    const batchDoc = { jobs, logs, lineage: events };
    let doc = JSON.stringify(batchDoc);
    // jsonb holds no NUL and no lone surrogate: such a character in a log line or an error message is
    // dropped (or replaced) rather than the record. Rare, so the document is looked at once and only
    // then built again with every string cleaned.
    if (UNSTORABLE.test(doc)) doc = JSON.stringify(batchDoc, (_k, v) => (typeof v === 'string' ? v.replaceAll('\0', '').replace(LONE_SURROGATE, '\ufffd') : v));
    await queryPrepared(this.deps.store.pool, FLUSH_SQL, [doc]);
  }

  /**
   * Waits (up to `waitMs`, default 2 s) for the statements still running to end, writes everything
   * still in memory and waits for the ends of statements written as Running. From now on a statement
   * is written as Running when it starts. Call it when the process stops.
   */
  async close(opts: { waitMs?: number } = {}): Promise<void> {
    this.closed = true;
    // Statements that a closing listener has just cancelled end in a moment: their records are kept.
    if (this.open > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, opts.waitMs ?? 2_000);
        this.whenIdle = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.whenIdle = undefined;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    await Promise.all([...this.transitions]);
    if (this.pending.length > 0) await this.flush();
  }
}

/** Escapes JSON.stringify writes for characters jsonb refuses: NUL and lone surrogates. */
const UNSTORABLE = /\\u0000|\\ud[89a-f]/i;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** An error of the data (class 22) or of a constraint (class 23): writing it again fails again. */
function refused(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/** What the lineage recorder reads of a job, for a statement not (yet) stored. */
function lineageRow(job: NewJob): JobRow {
  return {
    id: job.id,
    attempt: 0,
    username: job.user,
    creator: job.creator,
    engine_type: job.engineType,
    code_type: job.codeType,
    code: job.code,
    labels: job.labels,
    data_source: job.dataSource,
    run_timeout_s: job.runTimeoutS,
  } as unknown as JobRow;
}
