import {
  ALLOWED_TRANSITIONS,
  type Column,
  type ErrorBody,
  EVENT_VERSION,
  type EventBus,
  isFinalState,
  type JobListQuery,
  type JobState,
  type JobView,
  type LogEvent,
  type LogLine,
  type QueuedJob,
  type ResultSetView,
  type Row,
  type StatusEvent,
  topics,
} from '@sluice/core';
import type { Pool, PoolClient } from '@sluice/infra';
import { managerGoneSql, queryPrepared, withTransaction } from '@sluice/infra';
import { outboxInsertSql } from '@sluice/metadata-hook';
import type { LineageRecord } from './lineage-recorder.ts';

/** A job row as stored. */
export interface JobRow {
  id: string;
  seq: string;
  username: string;
  creator: string;
  engine_type: string;
  code_type: string;
  group_key: string;
  code: string;
  submitted_code: string;
  variables: Record<string, string>;
  runtime_params: Record<string, unknown>;
  startup_params: Record<string, unknown>;
  labels: Record<string, string>;
  priority: number;
  execute_once: boolean;
  data_source: string | null;
  state: JobState;
  attempt: number;
  progress: number;
  queue_timeout_s: number;
  run_timeout_s: number;
  idempotency_key: string | null;
  request_hash: string | null;
  manager_id: string | null;
  engine_id: string | null;
  lease_until: Date | null;
  cancel_requested: string | null;
  error: ErrorBody | null;
  result_sets: number;
  log_lines: number;
  client_lease_s: number | null;
  client_lease_until: Date | null;
  created_at: Date;
  scheduled_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

/** What a new job carries into the store (after validation and interceptors). */
export interface NewJob {
  id: string;
  user: string;
  creator: string;
  engineType: string;
  codeType: string;
  code: string;
  submittedCode: string;
  variables: Record<string, string>;
  runtimeParams: Record<string, unknown>;
  startupParams: Record<string, unknown>;
  labels: Record<string, string>;
  priority: number;
  executeOnce: boolean;
  dataSource: string | null;
  queueTimeoutS: number;
  runTimeoutS: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  clientLeaseS: number | null;
}

/** Fields a transition may set besides the state. */
export interface TransitionPatch {
  error?: ErrorBody | null;
  attempt?: number;
  managerId?: string | null;
  engineId?: string | null;
  leaseUntilMs?: number | null;
  progress?: number;
  cancelRequested?: string | null;
  resultSets?: number;
  logLines?: number;
  /** Log lines still pending at the transition, written in the same statement (saves a round trip). */
  logs?: { first: number; lines: string[] };
  /** Return only the brief columns (no code, variables, parameters): for callers that hold them already. */
  brief?: boolean;
  /** A sealed result set indexed in the same statement (the last set of a job that just ended). */
  resultSet?: SealedResultSet;
}

/** A result set the store has sealed, ready for the index. */
export interface SealedResultSet {
  index: number;
  columns: Column[];
  rows: number;
  bytes: number;
  uri: string;
  truncated: boolean;
  /** Every row of the set, when it is small enough to travel with the job's end (see {@link JobEnd}). */
  inline?: Row[];
  /** The set as JSON lines, when the result store left it to the index (the store's `SealedSet.lines`). */
  lines?: string;
}

/** Guards a write so a manager that lost its lease cannot touch a job another manager now runs. */
export interface Fence {
  managerId: string;
  attempt: number;
}

/** What a submit records to claim an admitted job for an engine manager of its own process (ADR 10). */
export interface SubmitClaim {
  managerId: string;
  leaseMs: number;
  /** The job's START event, written in the same statement when the claim holds. */
  lineage?: LineageRecord;
}

/** Conditions a transition must meet besides the source state. */
export interface Guard {
  managerId?: string;
  attempt?: number;
  /** Refuse when a cancellation was requested (used when claiming a job). */
  notCancelRequested?: boolean;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A row of sluice_result_sets (bigints arrive as strings, or as numbers through json_agg). */
interface StoredResultSet {
  idx: number;
  columns: Column[];
  row_count: string | number;
  bytes: string | number;
  uri: string;
  truncated: boolean;
  inline_lines: string | null;
}

/** A set of the result index as a reader needs it: where it is, and its rows when the index keeps them. */
export type IndexedResultSet = ResultSetView & { uri: string; lines?: string };

function toResultSetView(x: StoredResultSet): IndexedResultSet {
  const set: IndexedResultSet = { index: x.idx, columns: x.columns, rows: Number(x.row_count), bytes: Number(x.bytes), truncated: x.truncated, uri: x.uri };
  if (x.inline_lines !== null && x.inline_lines !== undefined) set.lines = x.inline_lines;
  return set;
}

/**
 * What the final status event on `topics.jobStates` carries besides the state: the job's view, and its
 * result index when the final transition knew all of it (`sets`; absent otherwise).
 */
export interface JobEnd {
  job: JobView;
  /**
   * `inline`: every row of a small set, so a waiting request reads no result file either. `lines`: the
   * set as the result index keeps it, when it is kept there (ADR 11).
   */
  sets?: (ResultSetView & { inline?: Row[]; lines?: string })[];
}

/** The most bytes of a {@link JobEnd} put on the bus (PostgreSQL's NOTIFY takes under 8,000). */
const MAX_END_BYTES = 4000;

/**
 * The end as it fits on the bus: whole, or without its rows when they make it too big. A set kept in
 * the index cannot lose its lines (a reader would look for it in the store), so then the end goes
 * without its result index, which readers read instead. Not at all when even that is too big.
 */
function fitEnd(ended: JobEnd): { ended?: JobEnd } {
  if (JSON.stringify(ended).length <= MAX_END_BYTES) return { ended };
  if (!ended.sets?.some((s) => s.inline || s.lines !== undefined)) return {};
  const bare: JobEnd = ended.sets.some((s) => s.lines !== undefined)
    ? { job: ended.job }
    : { ...ended, sets: ended.sets.map(({ inline: _rows, ...set }) => set) };
  return JSON.stringify(bare).length <= MAX_END_BYTES ? { ended: bare } : {};
}

/** A result set indexed again (a retried attempt's) replaces the old entry whole. */
const RESULT_SET_UPSERT = `ON CONFLICT (job_id, idx) DO UPDATE SET columns = EXCLUDED.columns, row_count = EXCLUDED.row_count,
  bytes = EXCLUDED.bytes, uri = EXCLUDED.uri, truncated = EXCLUDED.truncated, inline_lines = EXCLUDED.inline_lines`;

/** A job row without its code, variables and parameters: what views and authorization read. */
export type JobBrief = Omit<JobRow, 'code' | 'submitted_code' | 'variables' | 'runtime_params' | 'startup_params' | 'request_hash'>;

/** The columns of {@link JobBrief}: a status read does not ship (and parse) the job's code and variables. */
const BRIEF_COLUMNS = `id, seq, username, creator, engine_type, code_type, group_key, labels, priority, execute_once, data_source, state, attempt,
  progress, queue_timeout_s, run_timeout_s, idempotency_key, manager_id, engine_id, lease_until, cancel_requested, error, result_sets,
  log_lines, client_lease_s, client_lease_until, created_at, scheduled_at, started_at, finished_at, updated_at`;

const BRIEF_RETURNING = BRIEF_COLUMNS.split(',')
  .map((c) => `sluice_jobs.${c.trim()}`)
  .join(', ');

/** Maps a stored row to the public view. */
export function toJobView(r: JobBrief): JobView {
  return {
    id: r.id,
    state: r.state,
    user: r.username,
    creator: r.creator,
    engineType: r.engine_type,
    codeType: r.code_type,
    priority: r.priority,
    progress: r.progress,
    attempt: r.attempt,
    engineId: r.engine_id,
    error: r.error,
    resultSets: r.result_sets,
    logLines: r.log_lines,
    labels: r.labels,
    dataSource: r.data_source,
    seq: r.seq,
    clientLeaseUntil: iso(r.client_lease_until),
    createdAt: r.created_at.toISOString(),
    scheduledAt: iso(r.scheduled_at),
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** The (user, creator, engineType) group that admission is fair within. */
export function groupKey(user: string, creator: string, engineType: string): string {
  return `${user}\u001f${creator}\u001f${engineType}`;
}

const ACTIVE: JobState[] = ['Scheduled', 'Running', 'WaitForRetry'];

/**
 * Bounds of the rows kept for a runner of the same process: a job that another process runs is
 * dropped oldest first. Only jobs with code up to 64 KiB are kept, at most 16 MiB of code in all.
 */
const ADMITTED_HERE_MAX = 2000;
const ADMITTED_HERE_MAX_CODE = 64 * 1024;
const ADMITTED_HERE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The system of record for jobs and their state machine. Every state change is one transaction that
 * also appends to the state history; the status event is published after the commit.
 */
export class JobStore {
  /** Jobs inserted and admitted by this process and not yet picked up by a runner here, oldest first. */
  private readonly admittedHere = new Map<string, JobRow>();
  private admittedBytes = 0;
  private runsHere = false;
  /** Told of every final state this store commits, before the bus is (see {@link onEnded}). */
  private readonly endListeners = new Set<(jobId: string, end: JobEnd) => void>();
  /** Bus publishes issued and not yet answered; {@link settled} waits for them. */
  private readonly publishing = new Set<Promise<unknown>>();

  constructor(
    readonly pool: Pool,
    private readonly bus: EventBus,
    private readonly opts: { maxRunningPerGroup: number },
  ) {}

  /**
   * Calls `listener` with each job's end as this process commits it: a waiter in the same process
   * learns of it without the bus's round trip (the bus still carries it to every other process).
   * Returns the call that removes the listener.
   */
  onEnded(listener: (jobId: string, end: JobEnd) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  private track(p: Promise<unknown>): void {
    this.publishing.add(p);
    const done = () => this.publishing.delete(p);
    p.then(done, done);
  }

  /** Waits until every bus publish this store issued has been answered (before the bus closes). */
  async settled(): Promise<void> {
    while (this.publishing.size > 0) await Promise.allSettled([...this.publishing]);
  }

  async get(id: string): Promise<JobRow | null> {
    const r = await queryPrepared<JobRow>(this.pool, 'SELECT * FROM sluice_jobs WHERE id = $1', [id]);
    return r.rows[0] ?? null;
  }

  /** A job's state and metadata without its code and variables, by id or (`bySeq`) by sequence. */
  async getBrief(ref: string, bySeq = false): Promise<JobBrief | null> {
    const r = await queryPrepared<JobBrief>(this.pool, `SELECT ${BRIEF_COLUMNS} FROM sluice_jobs WHERE ${bySeq ? 'seq' : 'id'} = $1`, [ref]);
    return r.rows[0] ?? null;
  }

  /**
   * A job (by id, or by seq when `bySeq`) with its result index, in one round trip: what a result
   * read needs to authorize and find its set. `lines` says whose inline lines come along (ADR 11):
   * every set's (`'all'`), one set's (its index) or none (`'none'`), so a read of one set of a job
   * with many small ones does not ship them all.
   */
  async getWithResultSets(ref: string, bySeq = false, lines: 'all' | 'none' | number = 'all'): Promise<{ row: JobBrief; sets: IndexedResultSet[] } | null> {
    const r = await queryPrepared<JobBrief & { result_index: StoredResultSet[] | null }>(
      this.pool,
      `SELECT ${BRIEF_COLUMNS}, (SELECT json_agg(json_build_object('idx', r.idx, 'columns', r.columns, 'row_count', r.row_count, 'bytes', r.bytes,
         'uri', r.uri, 'truncated', r.truncated, 'inline_lines', CASE WHEN $2::int IS NULL OR r.idx = $2 THEN r.inline_lines END) ORDER BY r.idx)
         FROM sluice_result_sets r WHERE r.job_id = j.id) AS result_index
       FROM sluice_jobs j WHERE ${bySeq ? 'j.seq' : 'j.id'} = $1`,
      [ref, lines === 'all' ? null : lines === 'none' ? -1 : lines],
    );
    const found = r.rows[0];
    if (!found) return null;
    const { result_index, ...row } = found;
    return { row, sets: (result_index ?? []).map(toResultSetView) };
  }

  async findByIdempotencyKey(user: string, key: string): Promise<JobRow | null> {
    const r = await queryPrepared<JobRow>(this.pool, 'SELECT * FROM sluice_jobs WHERE username = $1 AND idempotency_key = $2', [user, key]);
    return r.rows[0] ?? null;
  }

  /**
   * Persists a new job and, when its group has room, admits it straight to Scheduled in the same
   * transaction. With a `claim`, an admitted job is claimed too: stored Running on the claim's manager
   * and lease, with its START lineage event, for that manager to run without the queue (ADR 10).
   * Returns the stored row, whether it must be enqueued and whether it was claimed.
   */
  async insert(job: NewJob, claim?: SubmitClaim): Promise<{ row: JobRow; enqueue: boolean; duplicate: boolean; claimed: boolean }> {
    const key = groupKey(job.user, job.creator, job.engineType);
    // One round trip: sluice_submit_job (migrations 3 and 4) locks the group, checks the idempotency
    // key, admits the job when its group has room and nothing waits ahead of it, claims it when asked,
    // and writes the history. The lineage event is written only if the job was claimed.
    const lineage = claim?.lineage;
    const r = await queryPrepared<JobRow>(
      this.pool,
      lineage
        ? `WITH sub AS (SELECT * FROM sluice_submit_job($1, $2, $3)),
                claimed AS (SELECT * FROM sub WHERE sub.id = $6 AND sub.state = 'Running'),
                ${outboxInsertSql(4, 'lineage', 'claimed')}
           SELECT * FROM sub`
        : 'SELECT * FROM sluice_submit_job($1, $2, $3)',
      [
        {
          id: job.id,
          username: job.user,
          creator: job.creator,
          engine_type: job.engineType,
          code_type: job.codeType,
          group_key: key,
          code: job.code,
          submitted_code: job.submittedCode,
          variables: job.variables,
          runtime_params: job.runtimeParams,
          startup_params: job.startupParams,
          labels: job.labels,
          priority: job.priority,
          execute_once: job.executeOnce,
          data_source: job.dataSource,
          queue_timeout_s: job.queueTimeoutS,
          run_timeout_s: job.runTimeoutS,
          idempotency_key: job.idempotencyKey,
          request_hash: job.requestHash,
          client_lease_s: job.clientLeaseS,
        },
        this.opts.maxRunningPerGroup,
        claim ? { manager_id: claim.managerId, lease_ms: claim.leaseMs } : null,
        ...(lineage ? [JSON.stringify(lineage.event), lineage.seqOffset, job.id] : []),
      ],
    );
    const row = r.rows[0] as JobRow;
    const duplicate = row.id !== job.id;
    const claimed = !duplicate && claim !== undefined && row.state === 'Running';
    const enqueue = !duplicate && row.state === 'Scheduled';
    if (enqueue) this.keepForRun(row);
    // Admitted only: no status event, since nobody can be subscribed to a job whose id did not exist a
    // moment ago and the scheduler's admission only listens for states that free a slot. A claimed
    // job announces Running, as a claim from the queue does.
    if (claimed) this.track(this.publishStatus(row));
    return { row, enqueue, duplicate, claimed };
  }

  private keepForRun(row: JobRow): void {
    if (!this.runsHere || row.code.length > ADMITTED_HERE_MAX_CODE) return;
    this.admittedHere.set(row.id, row);
    this.admittedBytes += row.code.length;
    while (this.admittedHere.size > ADMITTED_HERE_MAX || this.admittedBytes > ADMITTED_HERE_MAX_BYTES) {
      const [id, old] = this.admittedHere.entries().next().value as [string, JobRow];
      this.admittedHere.delete(id);
      this.admittedBytes -= old.code.length;
    }
  }

  /** Called by an engine manager of the same process: from now on, admitted jobs are kept for it. */
  keepAdmittedJobsForRunners(): void {
    this.runsHere = true;
  }

  /**
   * The job a runner is about to claim. A job this process inserted and admitted at once is taken
   * from memory, not read back: what the runner uses of it (code, parameters, labels, data source)
   * never changes after submit, and the claim re-checks state, attempt and cancellation in the
   * database. Any other job (another process's, a retry) is read.
   */
  async getForRun(id: string, attempt: number): Promise<JobRow | null> {
    const mine = this.admittedHere.get(id);
    if (mine) {
      this.admittedHere.delete(id);
      this.admittedBytes -= mine.code.length;
      if (mine.attempt === attempt) return mine;
    }
    return this.get(id);
  }

  /**
   * Records a job that an interactive session runs at once on an engine it holds: stored straight as
   * Running on `managerId`'s lease (its history as if admitted and claimed), with its START lineage
   * event in the same statement. Interactive statements skip admission and the queue.
   */
  async insertRunning(job: NewJob, run: { managerId: string; engineId: string; leaseMs: number }, lineage?: LineageRecord): Promise<JobRow> {
    const key = groupKey(job.user, job.creator, job.engineType);
    const args: unknown[] = [
      job.id,
      job.user,
      job.creator,
      job.engineType,
      job.codeType,
      key,
      job.code,
      job.submittedCode,
      job.variables,
      job.runtimeParams,
      job.startupParams,
      job.labels,
      job.priority,
      job.executeOnce,
      job.dataSource,
      job.queueTimeoutS,
      job.runTimeoutS,
      run.managerId,
      run.engineId,
      String(run.leaseMs),
    ];
    let lineageCte = '';
    if (lineage) {
      args.push(JSON.stringify(lineage.event), lineage.seqOffset);
      lineageCte = `, ${outboxInsertSql(args.length - 1, 'lineage', 'ins')}`;
    }
    const r = await queryPrepared<JobRow>(
      this.pool,
      `WITH ins AS (INSERT INTO sluice_jobs (id, username, creator, engine_type, code_type, group_key, code, submitted_code, variables, runtime_params,
           startup_params, labels, priority, execute_once, data_source, state, queue_timeout_s, run_timeout_s, manager_id, engine_id, lease_until,
           scheduled_at, started_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,'Running',$16,$17,$18,$19, now() + ($20 || ' milliseconds')::interval, now(), now())
         RETURNING *),
         hist AS (INSERT INTO sluice_job_states (job_id, from_state, to_state, attempt)
                  SELECT id, f, t, 0 FROM ins, (VALUES (NULL, 'Inited'), ('Inited', 'Scheduled'), ('Scheduled', 'Running')) AS h(f, t))${lineageCte}
       SELECT * FROM ins`,
      args,
    );
    const row = r.rows[0] as JobRow;
    this.track(this.publishStatus(row));
    return row;
  }

  private async countActive(c: PoolClient, key: string): Promise<number> {
    const r = await c.query<{ n: string }>('SELECT count(*) AS n FROM sluice_jobs WHERE group_key = $1 AND state = ANY($2)', [key, ACTIVE]);
    return Number(r.rows[0]?.n ?? 0);
  }

  /**
   * Moves waiting jobs of a group to Scheduled while the group has room: highest priority first, FIFO
   * within a priority. Returns the jobs to enqueue.
   */
  async admit(key: string): Promise<QueuedJob[]> {
    // Cheap check first: most groups have nothing waiting, and then no transaction is needed.
    const waiting = await queryPrepared(this.pool, "SELECT 1 FROM sluice_jobs WHERE group_key = $1 AND state = 'Inited' LIMIT 1", [key]);
    if (waiting.rowCount === 0) return [];
    const rows = await withTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
      const room = this.opts.maxRunningPerGroup - (await this.countActive(c, key));
      if (room <= 0) return [];
      const r = await c.query<JobRow>(
        `UPDATE sluice_jobs SET state = 'Scheduled', scheduled_at = now(), updated_at = now()
         WHERE id IN (SELECT id FROM sluice_jobs WHERE group_key = $1 AND state = 'Inited' ORDER BY priority DESC, seq LIMIT $2 FOR UPDATE)
         RETURNING *`,
        [key, room],
      );
      if (r.rows.length > 0) {
        await c.query(`INSERT INTO sluice_job_states (job_id, from_state, to_state, attempt) SELECT unnest($1::text[]), 'Inited', 'Scheduled', 0`, [
          r.rows.map((x) => x.id),
        ]);
      }
      return r.rows;
    });
    for (const row of rows) await this.publishStatus(row);
    return rows.map((r) => ({ jobId: r.id, attempt: r.attempt, priority: r.priority }));
  }

  /** Groups that have waiting jobs, for the scheduler's periodic admission pass. */
  async groupsWithWaitingJobs(): Promise<string[]> {
    const r = await this.pool.query<{ group_key: string }>("SELECT DISTINCT group_key FROM sluice_jobs WHERE state = 'Inited'");
    return r.rows.map((x) => x.group_key);
  }

  /**
   * Applies a state transition if the job is in one of `from` (and, with a fence, still held by that
   * manager and attempt). Returns the updated row, or null when the job had moved on: a lost race,
   * never an error.
   */
  async transition(
    id: string,
    from: JobState[],
    to: JobState,
    patch: TransitionPatch = {},
    guard?: Guard,
    reason?: unknown,
    lineage?: LineageRecord,
  ): Promise<JobRow | null> {
    for (const f of from) {
      if (!ALLOWED_TRANSITIONS[f].includes(to)) throw new Error(`illegal transition ${f} -> ${to}`);
    }
    const sets = ['state = $2', 'updated_at = now()'];
    const args: unknown[] = [id, to, from];
    const add = (sql: string, v: unknown) => {
      args.push(v);
      sets.push(sql.replace('?', `$${args.length}`));
    };
    if (patch.error !== undefined) add('error = ?', patch.error);
    if (patch.attempt !== undefined) add('attempt = ?', patch.attempt);
    if (patch.managerId !== undefined) add('manager_id = ?', patch.managerId);
    if (patch.engineId !== undefined) add('engine_id = ?', patch.engineId);
    if (patch.leaseUntilMs !== undefined) add('lease_until = ?', patch.leaseUntilMs === null ? null : new Date(patch.leaseUntilMs));
    if (patch.progress !== undefined) add('progress = ?', patch.progress);
    if (patch.cancelRequested !== undefined) add('cancel_requested = ?', patch.cancelRequested);
    if (patch.resultSets !== undefined) add('result_sets = ?', patch.resultSets);
    if (patch.logLines !== undefined) add('log_lines = ?', patch.logLines);
    if (to === 'Running') sets.push('started_at = coalesce(started_at, now())');
    if (to === 'Scheduled') sets.push('scheduled_at = now()');
    if (to === 'Succeed' || to === 'Failed' || to === 'Cancelled' || to === 'Timeout') sets.push('finished_at = now()', 'lease_until = NULL');
    if (to === 'Succeed') sets.push('progress = 1');
    let where = 'sluice_jobs.id = $1 AND sluice_jobs.state = ANY($3)';
    if (guard?.managerId !== undefined) {
      args.push(guard.managerId);
      where += ` AND manager_id = $${args.length}`;
    }
    if (guard?.attempt !== undefined) {
      args.push(guard.attempt);
      where += ` AND attempt = $${args.length}`;
    }
    if (guard?.notCancelRequested) where += ' AND cancel_requested IS NULL';
    // One statement: lock the row, update it and append the history row, atomically and in one round trip.
    args.push(reason === undefined ? null : JSON.stringify(reason));
    const reasonArg = args.length;
    // The lineage event joins the same statement: it exists exactly when the transition happened.
    let lineageCte = '';
    if (lineage) {
      args.push(JSON.stringify(lineage.event), lineage.seqOffset);
      lineageCte = `, ${outboxInsertSql(args.length - 1)}`;
    }
    // Pending log lines and the last result set ride on the same statement, fenced by the update.
    let extraCtes = '';
    if (patch.logs && patch.logs.lines.length > 0) {
      args.push(
        patch.logs.lines.map((_, i) => (patch.logs?.first ?? 0) + i),
        patch.logs.lines,
      );
      extraCtes += `, logs AS (INSERT INTO sluice_job_logs (job_id, line_no, text)
                     SELECT upd.id, x.n, x.t FROM upd, unnest($${args.length - 1}::int[], $${args.length}::text[]) AS x(n, t))`;
    }
    if (patch.resultSet) {
      const s = patch.resultSet;
      args.push(s.index, JSON.stringify(s.columns), s.rows, s.bytes, s.uri, s.truncated, s.lines ?? null);
      const a = args.length - 6;
      extraCtes += `, rs AS (INSERT INTO sluice_result_sets (job_id, idx, columns, row_count, bytes, uri, truncated, inline_lines)
                     SELECT upd.id, $${a}, $${a + 1}::jsonb, $${a + 2}, $${a + 3}, $${a + 4}, $${a + 5}, $${a + 6} FROM upd
                     ${RESULT_SET_UPSERT})`;
    }
    // A transition that frees a group slot says whether the group has jobs waiting, so admission
    // runs only when there is something to admit.
    const freesSlot = isFinalState(to) || to === 'WaitForRetry';
    const waiting = freesSlot ? `, EXISTS (SELECT 1 FROM sluice_jobs w WHERE w.group_key = upd.group_key AND w.state = 'Inited') AS group_waiting` : '';
    const r = await queryPrepared<JobRow & { prev_state: JobState; group_waiting?: boolean }>(
      this.pool,
      `WITH prev AS (SELECT id, state AS prev_state FROM sluice_jobs WHERE id = $1 FOR UPDATE),
            upd AS (UPDATE sluice_jobs SET ${sets.join(', ')} FROM prev WHERE sluice_jobs.id = prev.id AND ${where}
                    RETURNING ${patch.brief ? BRIEF_RETURNING : 'sluice_jobs.*'}, prev.prev_state),
            hist AS (INSERT INTO sluice_job_states (job_id, from_state, to_state, attempt, reason)
                     SELECT id, prev_state, $2, attempt, $${reasonArg}::jsonb FROM upd)${lineageCte}${extraCtes}
       SELECT upd.*${waiting} FROM upd`,
      args,
    );
    const row = r.rows[0] ?? null;
    if (!row) return null;
    const { group_waiting: groupWaiting, prev_state: _prev, ...stored } = row;
    // Issued together, not one after the other: the bus keeps the order of one publisher's messages,
    // and they can leave in one write.
    const published: Promise<void>[] = [];
    if (patch.logs && patch.logs.lines.length > 0) published.push(this.publishLogs(stored.id, patch.logs.first, patch.logs.lines));
    if (patch.resultSet) {
      const s = patch.resultSet;
      const event = { v: EVENT_VERSION, type: 'result', jobId: stored.id, index: s.index, rows: s.rows, bytes: s.bytes, columns: s.columns };
      published.push(this.bus.publish(topics.job(stored.id), event).catch(() => {}));
    }
    // The end of a job carries the job as a reader would see it, and its result index when this
    // statement wrote all of it, so a caller waiting for the end needs no read of its own.
    let ended: JobEnd | undefined;
    if (isFinalState(to)) {
      const sets =
        stored.result_sets === 0
          ? []
          : stored.result_sets === 1 && patch.resultSet?.index === 0
            ? [
                {
                  index: 0,
                  columns: patch.resultSet.columns,
                  rows: patch.resultSet.rows,
                  bytes: patch.resultSet.bytes,
                  truncated: patch.resultSet.truncated,
                  ...(patch.resultSet.inline ? { inline: patch.resultSet.inline } : {}),
                  ...(patch.resultSet.lines !== undefined ? { lines: patch.resultSet.lines } : {}),
                },
              ]
            : undefined;
      ended = { job: toJobView(stored as JobBrief), ...(sets ? { sets } : {}) };
      for (const listener of this.endListeners) {
        try {
          listener(stored.id, ended);
        } catch {
          // a listener's failure is its own; the state is committed either way
        }
      }
    }
    published.push(this.publishStatus(stored as JobRow, groupWaiting, ended));
    // Not awaited: the state is committed, and each publish is handed to the bus before this returns,
    // so the bus keeps their order against the caller's next ones. Waiting for the bus's answers
    // would put a round trip to it on every job's path (each publish catches its own failure).
    this.track(Promise.all(published));
    return stored as JobRow;
  }

  /** Publishes persisted log lines; a batch too big for the bus goes as its range only (readers fetch it). */
  async publishLogs(jobId: string, first: number, lines: string[]): Promise<void> {
    const event: LogEvent = { v: EVENT_VERSION, type: 'log', jobId, fromLine: first, toLine: first + lines.length - 1, lines };
    const size = Buffer.byteLength(JSON.stringify(event));
    const message = size > this.bus.maxMessageBytes - 256 ? { ...event, lines: undefined } : event;
    await this.bus.publish(topics.job(jobId), message).catch(() => {});
  }

  /** Marks a running job for cancellation; the owning manager acts on it. Returns the row. */
  async requestCancel(id: string, reason: 'user' | 'timeout' | 'client-lease'): Promise<JobRow | null> {
    const r = await queryPrepared<JobRow>(
      this.pool,
      "UPDATE sluice_jobs SET cancel_requested = coalesce(cancel_requested, $2), updated_at = now() WHERE id = $1 AND state = 'Running' RETURNING *",
      [id, reason],
    );
    return r.rows[0] ?? null;
  }

  /** Extends the client lease of an unfinished job by its lease length. Null when the job has none or ended. */
  async renewClientLease(id: string): Promise<Date | null> {
    const r = await queryPrepared<{ client_lease_until: Date }>(
      this.pool,
      `UPDATE sluice_jobs SET client_lease_until = now() + make_interval(secs => client_lease_s)
       WHERE id = $1 AND client_lease_s IS NOT NULL AND state NOT IN ('Succeed', 'Failed', 'Cancelled', 'Timeout') RETURNING client_lease_until`,
      [id],
    );
    return r.rows[0]?.client_lease_until ?? null;
  }

  /** Unfinished jobs whose client stopped renewing its lease (e.g. a CLI killed with -9). */
  async clientLeasesLapsed(): Promise<JobRow[]> {
    const r = await this.pool.query<JobRow>(
      "SELECT * FROM sluice_jobs WHERE client_lease_until < now() AND state NOT IN ('Succeed', 'Failed', 'Cancelled', 'Timeout') LIMIT 500",
    );
    return r.rows;
  }

  /**
   * Renews the leases of every job a manager runs. Returns the jobs it still holds, each with a
   * pending cancellation reason if one was requested (a safety net for a lost cancel command).
   */
  async renewLeases(managerId: string, leaseMs: number, via: Pool = this.pool): Promise<Map<string, { attempt: number; cancelRequested: string | null }>> {
    const r = await via.query<{ id: string; attempt: number; cancel_requested: string | null }>(
      `UPDATE sluice_jobs SET lease_until = now() + ($2 || ' milliseconds')::interval WHERE manager_id = $1 AND state = 'Running'
       RETURNING id, attempt, cancel_requested`,
      [managerId, String(leaseMs)],
    );
    return new Map(r.rows.map((x) => [x.id, { attempt: x.attempt, cancelRequested: x.cancel_requested }]));
  }

  /**
   * Running jobs whose lease expired and whose manager is not known to be alive: nobody holds its
   * liveness lock (its process or its connection is gone), or the lease lapsed more than `stalledMs`
   * ago (a manager alive but stalled for that long is given up on). ADR 19.
   */
  async expiredLeases(stalledMs: number): Promise<JobRow[]> {
    const r = await this.pool.query<JobRow>(
      `SELECT j.* FROM sluice_jobs j LEFT JOIN sluice_managers m ON m.id = j.manager_id
        WHERE j.state = 'Running' AND j.lease_until < now()
          AND (j.lease_until < now() - ($1 || ' milliseconds')::interval OR ${managerGoneSql('m')})
        LIMIT 500`,
      [String(stalledMs)],
    );
    return r.rows;
  }

  /** Scheduled / WaitForRetry jobs older than `ageMs`, to check they are really in the queue. */
  async queuedOlderThan(ageMs: number): Promise<JobRow[]> {
    const r = await this.pool.query<JobRow>(
      "SELECT * FROM sluice_jobs WHERE state IN ('Scheduled', 'WaitForRetry') AND updated_at < now() - ($1 || ' milliseconds')::interval LIMIT 1000",
      [String(ageMs)],
    );
    return r.rows;
  }

  /** Waiting jobs past their queue deadline. */
  async queueTimedOut(): Promise<JobRow[]> {
    const r = await this.pool.query<JobRow>(
      "SELECT * FROM sluice_jobs WHERE state IN ('Inited', 'Scheduled', 'WaitForRetry') AND created_at + make_interval(secs => queue_timeout_s) < now() LIMIT 500",
    );
    return r.rows;
  }

  /** Running jobs past their run deadline (a backstop: managers enforce it themselves). */
  async runTimedOut(graceMs: number): Promise<JobRow[]> {
    const r = await this.pool.query<JobRow>(
      `SELECT * FROM sluice_jobs WHERE state = 'Running'
         AND started_at + make_interval(secs => run_timeout_s) + ($1 || ' milliseconds')::interval < now() LIMIT 500`,
      [String(graceMs)],
    );
    return r.rows;
  }

  async list(principal: { user: string; admin: boolean }, q: JobListQuery): Promise<{ items: JobRow[]; nextCursor: string | null }> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      args.push(v);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (!principal.admin) add('username = ?', principal.user);
    else if (q.user) add('username = ?', q.user);
    if (q.state) add('state = ANY(?)', q.state);
    if (q.creator) add('creator = ?', q.creator);
    // `duckdb` matches every version; `duckdb-1.5` only that one.
    if (q.engineType) add("(engine_type = ? OR engine_type LIKE (?::text || '-%'))".replace('?::text', `$${args.length + 1}::text`), q.engineType);
    if (q.since) add('created_at >= ?', q.since);
    if (q.until) add('created_at < ?', q.until);
    if (q.cursor) add('seq < ?', q.cursor);
    args.push(q.limit + 1);
    const sql = `SELECT * FROM sluice_jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${args.length}`;
    const r = await queryPrepared<JobRow>(this.pool, sql, args);
    const items = r.rows.slice(0, q.limit);
    const nextCursor = r.rows.length > q.limit ? (items[items.length - 1]?.seq ?? null) : null;
    return { items, nextCursor };
  }

  /** Appends numbered log lines, fenced to the manager that runs the job; records the engine when given. */
  async appendLogs(jobId: string, firstLine: number, lines: string[], fence: Fence, engineId?: string): Promise<boolean> {
    const nums = lines.map((_, i) => firstLine + i);
    const r = await queryPrepared(
      this.pool,
      `WITH ok AS (SELECT id FROM sluice_jobs WHERE id = $1 AND manager_id = $4 AND attempt = $5 AND state = 'Running'),
            ins AS (INSERT INTO sluice_job_logs (job_id, line_no, text) SELECT $1, n, t FROM unnest($2::int[], $3::text[]) AS x(n, t) WHERE EXISTS (SELECT 1 FROM ok) RETURNING 1)
       UPDATE sluice_jobs SET log_lines = $6, engine_id = coalesce($7, engine_id) WHERE id IN (SELECT id FROM ok) AND EXISTS (SELECT 1 FROM ins)`,
      [jobId, nums, lines, fence.managerId, fence.attempt, firstLine + lines.length - 1, engineId ?? null],
    );
    return (r.rowCount ?? 0) > 0;
  }

  /** The last log line number written for a job (0 when none). */
  async lastLogLine(jobId: string): Promise<number> {
    const r = await queryPrepared<{ n: number | null }>(this.pool, 'SELECT max(line_no) AS n FROM sluice_job_logs WHERE job_id = $1', [jobId]);
    return r.rows[0]?.n ?? 0;
  }

  async readLogs(jobId: string, from: number, limit: number): Promise<LogLine[]> {
    const r = await queryPrepared<{ line_no: number; text: string }>(
      this.pool,
      'SELECT line_no, text FROM sluice_job_logs WHERE job_id = $1 AND line_no >= $2 ORDER BY line_no LIMIT $3',
      [jobId, from, limit],
    );
    return r.rows.map((x) => ({ n: x.line_no, text: x.text }));
  }

  async updateProgress(jobId: string, progress: number, fence: Fence): Promise<void> {
    await queryPrepared(this.pool, "UPDATE sluice_jobs SET progress = $2 WHERE id = $1 AND manager_id = $3 AND attempt = $4 AND state = 'Running'", [
      jobId,
      progress,
      fence.managerId,
      fence.attempt,
    ]);
  }

  /** Records a finished result set in the index. */
  async addResultSet(jobId: string, set: Omit<SealedResultSet, 'inline'>): Promise<void> {
    await queryPrepared(
      this.pool,
      `INSERT INTO sluice_result_sets (job_id, idx, columns, row_count, bytes, uri, truncated, inline_lines) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
       ${RESULT_SET_UPSERT}`,
      [jobId, set.index, JSON.stringify(set.columns), set.rows, set.bytes, set.uri, set.truncated, set.lines ?? null],
    );
  }

  /** Drops the result index of a job (before a retry rewrites it). */
  async clearResultSets(jobId: string): Promise<void> {
    await queryPrepared(this.pool, 'DELETE FROM sluice_result_sets WHERE job_id = $1', [jobId]);
  }

  /**
   * Publishes a committed state. `groupWaiting` (known for transitions that free a slot) tells the
   * schedulers whether the job's group has jobs waiting for admission; undefined means unknown.
   */
  private async publishStatus(row: JobRow, groupWaiting?: boolean, ended?: JobEnd): Promise<void> {
    const event: StatusEvent = { v: EVENT_VERSION, type: 'status', jobId: row.id, state: row.state, at: row.updated_at.toISOString(), error: row.error };
    // The bus is best effort: the state is already committed, and subscribers re-read it on (re)subscribe.
    // Only a state that frees a group slot concerns the scheduler's admission.
    const freesSlot = isFinalState(row.state) || row.state === 'WaitForRetry';
    await Promise.all([
      this.bus.publish(topics.job(row.id), event),
      freesSlot
        ? this.bus.publish(topics.jobStates, {
            ...event,
            group: row.group_key,
            ...(groupWaiting === undefined ? {} : { waiting: groupWaiting }),
            // Left out when large (a long error, many columns): the bus has a message size limit.
            ...(ended ? fitEnd(ended) : {}),
          })
        : undefined,
    ]).catch(() => {});
  }
}
