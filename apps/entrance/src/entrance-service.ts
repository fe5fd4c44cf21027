import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  type Config,
  EVENT_VERSION,
  type EventBus,
  type InlineResult,
  isFinalState,
  type JobListQuery,
  type JobOutcome,
  type JobQueue,
  type JobView,
  type LogLine,
  type ManagerCommand,
  type Principal,
  type ReadOptions,
  type ResultSetView,
  type ResultStore,
  type Row,
  SluiceError,
  SubmitJobSchema,
  topics,
} from '@sluice/core';
import type { EngineCatalog } from '@sluice/engines';
import { streamResultAs, streamRowsAs } from '@sluice/infra';
import type { Admission } from './admission.ts';
import { newJobId } from './ids.ts';
import { runInterceptors } from './interceptors/index.ts';
import { type JobBrief, type JobEnd, type JobRow, type JobStore, type NewJob, type SubmitClaim, toJobView } from './job-store.ts';

/** What the entrance needs from the data-source service: may this user run jobs on it, and on which engine. */
export interface DataSourceAccess {
  checkUse(principal: Principal, name: string): Promise<{ type: string; engine: string }>;
}

/**
 * An engine manager of the submitting process that can start a job at once (ADR 10): the submit
 * claims an admitted job for it in the same statement, and it runs without the queue hop.
 */
export interface DirectRunner {
  /** A run slot for a job submitted now, or undefined when the manager has none free (or is stopping). */
  reserve(): DirectSlot | undefined;
}

/** A reserved run slot: used by {@link DirectSlot.start}, or given back by {@link DirectSlot.release}. */
export interface DirectSlot {
  /**
   * What the submit statement records to claim `job` for this manager (its lease, its START event);
   * undefined when the job must take the queue after all: its data source cannot be used now, or the
   * claim was not ready within the runner's budget.
   */
  claim(job: NewJob): Promise<SubmitClaim | undefined>;
  /** Runs the job the submit claimed; the slot goes with it. */
  start(row: JobRow): void;
  /** Gives the slot back unused. */
  release(): void;
}

/** Result of a log read: the lines, where to continue, and whether the log can still grow. */
export interface LogPage {
  jobId: string;
  lines: LogLine[];
  nextFrom: number;
  complete: boolean;
}

/**
 * The entrance calls every front door uses: REST, WebSocket, the Linkis adapter, pgwire and the CLI
 * all turn their protocol into these. It validates, runs the interceptors, persists, admits and
 * enforces who may see what.
 */
export interface EntranceApi {
  submit(principal: Principal, body: unknown, idempotencyKey?: string): Promise<{ job: JobView; created: boolean }>;
  get(principal: Principal, jobId: string): Promise<JobView>;
  /**
   * The job and, when it has ended, up to `rowsPerSet` first rows of each result set: what a caller
   * that waited for the job gets back in one response. `known`: the job's end as its final status
   * event told it; with its result index, nothing is read from the database.
   */
  outcome(principal: Principal, jobId: string, rowsPerSet: number, known?: JobEnd): Promise<JobOutcome>;
  list(principal: Principal, query: JobListQuery): Promise<{ items: JobView[]; nextCursor: string | null }>;
  log(principal: Principal, jobId: string, from: number, limit: number): Promise<LogPage>;
  resultSets(principal: Principal, jobId: string): Promise<ResultSetView[]>;
  readRows(principal: Principal, jobId: string, index: number, offset: number, limit: number): Promise<{ resultSet: ResultSetView; rows: Row[] }>;
  /** `follow`: stream a set the job is still writing (see {@link EntranceService.download}). */
  download(principal: Principal, jobId: string, index: number, format: 'csv' | 'jsonl', follow?: boolean): Promise<Readable>;
  cancel(principal: Principal, jobId: string): Promise<JobView>;
  renewLease(principal: Principal, jobId: string): Promise<{ jobId: string; leaseUntil: string | null }>;
  /** Ends of jobs as this process commits them (see {@link JobStore.onEnded}); returns the unsubscribe. */
  onJobEnded?(listener: (jobId: string, end: JobEnd) => void): () => void;
}

/** A set of a job's result index as the entrance reads it: its rows come with the end (`inline`) or the index (`lines`). */
type ReadableSet = ResultSetView & { inline?: Row[]; lines?: string };

/** What the index tells the result store about a set: its size, and its rows when it keeps them. */
function readHints(set: { bytes: number; lines?: string }): ReadOptions {
  return { sizeHint: set.bytes, lines: set.lines };
}

function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/** The entrance's implementation of {@link EntranceApi} on PostgreSQL, the queue and the result store. */
export class EntranceService implements EntranceApi {
  private direct: DirectRunner | undefined;

  constructor(
    private readonly config: Config,
    readonly store: JobStore,
    private readonly queue: JobQueue,
    private readonly bus: EventBus,
    private readonly results: ResultStore,
    private readonly catalog: EngineCatalog,
    private readonly admission: Admission,
    private readonly dataSources?: DataSourceAccess,
  ) {}

  /**
   * Validates a submission and runs the interceptors: the job as it would be stored, and the principal
   * that owns it (a proxy user's, for an admin's `executeUser`). Nothing is written. `use` is the
   * caller's fresh answer of the data-source check, when it has one (an interactive session keeps it).
   */
  async prepare(
    principal: Principal,
    body: unknown,
    opts: { idempotencyKey?: string; use?: { type: string; engine: string } } = {},
  ): Promise<{ principal: Principal; job: NewJob }> {
    const parsed = SubmitJobSchema.safeParse(body);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; '), issues });
    }
    const req = parsed.data;
    const idempotencyKey = opts.idempotencyKey;
    // A proxy user: an admin token submits on behalf of another user, who then owns the job.
    if (req.executeUser && req.executeUser !== principal.user) {
      if (!principal.admin) throw new SluiceError('SLUICE_AUTH_FORBIDDEN', { action: `submit jobs as ${req.executeUser}`, executeUser: req.executeUser });
      principal = { user: req.executeUser, admin: false };
    }
    const size = Buffer.byteLength(req.code, 'utf8');
    if (size > this.config.SLUICE_MAX_CODE_BYTES) throw new SluiceError('SLUICE_JOB_CODE_TOO_LARGE', { size, limit: this.config.SLUICE_MAX_CODE_BYTES });
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,128}$/.test(idempotencyKey)) {
      throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'Idempotency-Key must be 1–128 visible ASCII characters' });
    }
    // A job on a data source runs on that source's engine; the user must be allowed to use it.
    let engineType = req.engineType;
    if (req.dataSource) {
      if (!this.dataSources) throw new SluiceError('SLUICE_DATASOURCE_NOT_FOUND', { name: req.dataSource });
      const use = opts.use ?? (await this.dataSources.checkUse(principal, req.dataSource));
      if (engineType && this.catalog.resolve(engineType).connector.name !== use.engine) {
        throw new SluiceError('SLUICE_REQUEST_INVALID', {
          summary: `engineType: ${req.dataSource} is a ${use.type} data source, run by the ${use.engine} engine`,
        });
      }
      engineType ??= use.engine;
    }
    const engine = this.catalog.resolve(engineType);
    const codeType = (req.codeType ?? engine.connector.codeTypes[0] ?? 'sql').toLowerCase();
    if (!engine.connector.codeTypes.includes(codeType)) {
      throw new SluiceError('SLUICE_JOB_CODE_TYPE_UNSUPPORTED', { engine: engine.label, codeType, supported: engine.connector.codeTypes });
    }
    const requestHash = idempotencyKey ? createHash('sha256').update(canonicalJson(req)).digest('hex') : null;
    const intercepted = runInterceptors(
      { code: req.code, codeType, user: principal.user, variables: req.variables ?? {}, now: new Date() },
      { rowLimit: this.config.SLUICE_SELECT_ROW_LIMIT, denyPatterns: this.config.SLUICE_DENY_PATTERNS },
    );
    const job: NewJob = {
      id: newJobId(),
      user: principal.user,
      creator: req.creator ?? 'api',
      engineType: engine.label,
      codeType,
      code: intercepted.code,
      submittedCode: req.code,
      variables: intercepted.variables,
      runtimeParams: req.runtimeParams ?? {},
      startupParams: req.startupParams ?? {},
      labels: req.labels ?? {},
      priority: req.priority ?? 5,
      executeOnce: req.executeOnce ?? false,
      dataSource: req.dataSource ?? null,
      queueTimeoutS: req.queueTimeoutSeconds ?? this.config.SLUICE_QUEUE_TIMEOUT_SECONDS,
      runTimeoutS: req.runTimeoutSeconds ?? this.config.SLUICE_RUN_TIMEOUT_SECONDS,
      idempotencyKey: idempotencyKey ?? null,
      requestHash,
      clientLeaseS: req.clientLeaseSeconds ?? null,
    };
    return { principal, job };
  }

  async submit(principal: Principal, body: unknown, idempotencyKey?: string): Promise<{ job: JobView; created: boolean }> {
    const prepared = await this.prepare(principal, body, { idempotencyKey });
    const job = prepared.job;
    if (idempotencyKey) {
      const existing = await this.store.findByIdempotencyKey(job.user, idempotencyKey);
      if (existing) return { job: this.checkReplay(existing, job.requestHash, idempotencyKey), created: false };
    }
    let slot = this.direct?.reserve();
    try {
      const out = await this.store.insert(job, slot ? await slot.claim(job) : undefined);
      if (out.duplicate) return { job: this.checkReplay(out.row, job.requestHash, idempotencyKey ?? ''), created: false };
      if (out.claimed && slot) {
        slot.start(out.row);
        slot = undefined;
      } else if (out.enqueue) await this.admission.enqueue({ jobId: out.row.id, attempt: 0, priority: out.row.priority });
      return { job: toJobView(out.row), created: true };
    } finally {
      slot?.release();
    }
  }

  /** Lets jobs submitted here be claimed at submit for this process's engine manager (ADR 10). */
  runHere(runner: DirectRunner): void {
    this.direct = runner;
  }

  private checkReplay(row: JobRow, requestHash: string | null, key: string): JobView {
    if (row.request_hash !== requestHash) throw new SluiceError('SLUICE_JOB_IDEMPOTENCY_CONFLICT', { key });
    return toJobView(row);
  }

  /**
   * Loads a job the principal may see, or throws NOT_FOUND / FORBIDDEN. A job is named by its id or by
   * its numeric sequence (the Linkis taskID that schedulers and the CLI print).
   */
  async authorize(principal: Principal, jobId: string): Promise<JobBrief> {
    return this.load(
      principal,
      jobId,
      (ref, bySeq) => this.store.getBrief(ref, bySeq),
      (row) => row,
    );
  }

  /**
   * Reads a job named by its id or its numeric sequence with `read`, and checks the principal may see
   * it (the owner, or an admin): NOT_FOUND / FORBIDDEN otherwise.
   */
  private async load<T>(
    principal: Principal,
    ref: string,
    read: (ref: string, bySeq: boolean) => Promise<T | null>,
    rowOf: (found: T) => JobBrief,
  ): Promise<T> {
    const found = /^[0-9A-Z]{26}$/.test(ref) ? await read(ref, false) : /^[1-9][0-9]{0,17}$/.test(ref) ? await read(ref, true) : null;
    if (!found) throw new SluiceError('SLUICE_JOB_NOT_FOUND', { jobId: ref });
    if (rowOf(found).username !== principal.user && !principal.admin)
      throw new SluiceError('SLUICE_AUTH_FORBIDDEN', { action: `access job ${ref}`, jobId: ref });
    return found;
  }

  async get(principal: Principal, jobId: string): Promise<JobView> {
    return toJobView(await this.authorize(principal, jobId));
  }

  onJobEnded(listener: (jobId: string, end: JobEnd) => void): () => void {
    return this.store.onEnded(listener);
  }

  async outcome(principal: Principal, ref: string, rowsPerSet: number, known?: JobEnd): Promise<JobOutcome> {
    let job: JobView;
    let sets: ReadableSet[];
    if (known?.sets && known.job.id === ref && isFinalState(known.job.state)) {
      if (known.job.user !== principal.user && !principal.admin) throw new SluiceError('SLUICE_AUTH_FORBIDDEN', { action: `access job ${ref}`, jobId: ref });
      job = known.job;
      sets = known.sets;
    } else {
      const found = await this.authorizeWithResults(principal, ref, rowsPerSet > 0 ? 'all' : 'none');
      job = toJobView(found.row);
      sets = found.sets;
    }
    if (!isFinalState(job.state)) return job;
    const results: InlineResult[] = [];
    for (const { inline, lines, ...set } of sets) {
      let rows: Row[] = [];
      // A small set came with the job's end: nothing to read.
      if (inline && inline.length === set.rows) rows = inline.slice(0, rowsPerSet);
      else if (rowsPerSet > 0 && set.rows > 0)
        for await (const batch of this.results.readBatches(job.id, set.index, { offset: 0, limit: rowsPerSet, ...readHints({ ...set, lines }) }))
          rows.push(...batch);
      results.push({ resultSet: set, rows, complete: rows.length >= set.rows });
    }
    return { ...job, results };
  }

  async list(principal: Principal, query: JobListQuery): Promise<{ items: JobView[]; nextCursor: string | null }> {
    if (query.cursor !== undefined && !/^\d{1,19}$/.test(query.cursor))
      throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'cursor: not a cursor this API returned' });
    const page = await this.store.list(principal, query);
    return { items: page.items.map(toJobView), nextCursor: page.nextCursor };
  }

  async log(principal: Principal, ref: string, from: number, limit: number): Promise<LogPage> {
    const row = await this.authorize(principal, ref);
    const lines = await this.store.readLogs(row.id, Math.max(1, from), Math.min(Math.max(1, limit), 10_000));
    const last = lines[lines.length - 1];
    const nextFrom = last ? last.n + 1 : Math.max(1, from);
    return { jobId: row.id, lines, nextFrom, complete: isFinalState(row.state) && nextFrom > row.log_lines };
  }

  /**
   * Like {@link authorize}, with the job's result index read in the same round trip, and the inline
   * lines of the sets named by `lines` (see {@link JobStore.getWithResultSets}).
   */
  private async authorizeWithResults(
    principal: Principal,
    ref: string,
    lines: 'all' | 'none' | number = 'all',
  ): Promise<{ row: JobBrief; sets: ReadableSet[] }> {
    const found = await this.load(
      principal,
      ref,
      (r, bySeq) => this.store.getWithResultSets(r, bySeq, lines),
      (f) => f.row,
    );
    return { row: found.row, sets: found.sets.map(({ uri: _uri, ...set }) => set) };
  }

  async resultSets(principal: Principal, ref: string): Promise<ResultSetView[]> {
    return (await this.authorizeWithResults(principal, ref, 'none')).sets.map(({ lines: _lines, ...view }) => view);
  }

  private async resultSet(principal: Principal, ref: string, index: number): Promise<{ jobId: string; set: ReadableSet }> {
    const { row, sets } = await this.authorizeWithResults(principal, ref, index);
    const set = sets.find((s) => s.index === index);
    if (!set) throw new SluiceError('SLUICE_RESULT_NOT_FOUND', { jobId: row.id, index });
    return { jobId: row.id, set };
  }

  async readRows(principal: Principal, ref: string, index: number, offset: number, limit: number): Promise<{ resultSet: ResultSetView; rows: Row[] }> {
    const { jobId, set } = await this.resultSet(principal, ref, index);
    const { lines: _lines, ...resultSet } = set;
    const rows: Row[] = [];
    for await (const batch of this.results.readBatches(jobId, index, { offset, limit, ...readHints(set) })) rows.push(...batch);
    return { resultSet, rows };
  }

  /**
   * A result set as a CSV or JSONL byte stream. With `follow`, a set the job has not sealed yet is
   * streamed as it is written: the answer waits until the set begins (or the job ends without it:
   * SLUICE_RESULT_NOT_FOUND), and the stream ends when the set is sealed, or is destroyed with
   * SLUICE_RESULT_INCOMPLETE when the job fails or is cancelled before that.
   */
  async download(principal: Principal, ref: string, index: number, format: 'csv' | 'jsonl', follow = false): Promise<Readable> {
    const { row, sets } = await this.authorizeWithResults(principal, ref, index);
    const set = sets.find((s) => s.index === index);
    if (set) return streamResultAs(this.results, row.id, index, set.columns, format, readHints(set));
    if (!follow || isFinalState(row.state)) throw new SluiceError('SLUICE_RESULT_NOT_FOUND', { jobId: row.id, index });
    const jobId = row.id;
    // Somebody still writes the set while the job has not ended and has not indexed it as sealed.
    const stillWriting = async () => {
      const now = await this.store.getWithResultSets(jobId, false, 'none');
      return !!now && !isFinalState(now.row.state) && !now.sets.some((s) => s.index === index);
    };
    // A set kept inline never begins in the store: when this process ends the job, the wait ends
    // at once and the index decides (elsewhere `stillWriting` sees the end within a second).
    const ended = new AbortController();
    const unsubscribe = this.store.onEnded((id) => {
      if (id === jobId) ended.abort();
    });
    let followed: Awaited<ReturnType<ResultStore['follow']>>;
    try {
      followed = await this.results.follow(jobId, index, { stillWriting, signal: ended.signal });
    } finally {
      unsubscribe();
    }
    if (followed) return streamRowsAs(followed.batches, followed.columns, format);
    // Sealed and indexed meanwhile, or never coming: the index decides.
    return this.download(principal, jobId, index, format, false);
  }

  async renewLease(principal: Principal, ref: string): Promise<{ jobId: string; leaseUntil: string | null }> {
    const row = await this.authorize(principal, ref);
    if (row.username !== principal.user)
      throw new SluiceError('SLUICE_AUTH_FORBIDDEN', { action: `renew the lease of another user's job ${row.id}`, jobId: row.id });
    const until = await this.store.renewClientLease(row.id);
    return { jobId: row.id, leaseUntil: until ? until.toISOString() : null };
  }

  async cancel(principal: Principal, ref: string): Promise<JobView> {
    const row = await this.authorize(principal, ref);
    const jobId = row.id;
    if (isFinalState(row.state)) throw new SluiceError('SLUICE_JOB_ALREADY_FINAL', { jobId, state: row.state });
    const cancelled = await this.store.transition(jobId, ['Inited', 'Scheduled', 'WaitForRetry'], 'Cancelled', {
      error: new SluiceError('SLUICE_JOB_CANCELLED', { by: principal.user }).toBody(),
    });
    if (cancelled) {
      await this.queue.remove(jobId, cancelled.attempt).catch(() => {});
      if (row.state !== 'Inited') await this.admission.admitGroup(cancelled.group_key);
      return toJobView(cancelled);
    }
    const running = await this.store.requestCancel(jobId, 'user');
    if (running?.manager_id) {
      const command: ManagerCommand = { v: EVENT_VERSION, type: 'cancel', jobId, reason: 'user' };
      await this.bus.publish(topics.manager(running.manager_id), command);
      return toJobView(running);
    }
    // It finished (or moved) between our read and our update: report what it is now.
    return this.get(principal, jobId);
  }
}
