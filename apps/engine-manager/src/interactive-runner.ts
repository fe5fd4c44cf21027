import {
  type Column,
  type Config,
  type DataSourceConnection,
  type EngineEvent,
  type EngineTask,
  type ErrorBody,
  type EventBus,
  type InteractiveRelay,
  type InteractiveStatement,
  ManagerCommandSchema,
  offersWireRelay,
  offersWireRows,
  type Principal,
  type RelayedOutcome,
  type RelayPrepared,
  type Row,
  SluiceError,
  topics,
  toSluiceError,
  type WireRows,
  type WireRowsEvent,
} from '@sluice/core';
import type { EngineCatalog } from '@sluice/engines';
import {
  type DataSourceAccess,
  type EntranceService,
  type JobStore,
  type LineageRecorder,
  type Logger,
  type NewJob,
  newJobId,
  StatementJournal,
} from '@sluice/entrance';
import type { EnginePool, PooledEngine } from './engine-pool.ts';
import type { DataSourceResolver } from './job-runner.ts';
import { type Redactor, redactError, redactorFor } from './secret-redactor.ts';

/** How long a session trusts a data-source permission check and its published connection. */
const ACCESS_TTL_MS = 5_000;
/** Prepared submissions kept (oldest dropped first), and the largest code kept. */
const MAX_PREPARED = 2_000;
const MAX_PREPARED_CODE = 16 * 1024;
/** Log lines an interactive statement keeps (its rows go to the client, its log to the job). */
const MAX_LOG_LINES = 1_000;

function splitWire(wire: WireRows, n: number): [WireRows, WireRows] {
  const head: Buffer[] = [];
  let left = n;
  let i = 0;
  for (; i < wire.chunks.length && left > 0; i++) {
    const chunk = wire.chunks[i] as Buffer;
    let at = 0;
    while (at < chunk.length && left > 0) {
      at += 1 + chunk.readUInt32BE(at + 1);
      left--;
    }
    if (at < chunk.length) {
      head.push(chunk.subarray(0, at));
      return [
        { chunks: head, rows: n },
        { chunks: [chunk.subarray(at), ...wire.chunks.slice(i + 1)], rows: wire.rows - n },
      ];
    }
    head.push(chunk);
  }
  return [
    { chunks: head, rows: n },
    { chunks: wire.chunks.slice(i), rows: wire.rows - n },
  ];
}

interface Cached<T> {
  value: T;
  at: number;
}

/**
 * Runs the statements of interactive sessions (the PostgreSQL wire protocol) at once on pooled
 * engines, skipping admission and the queue: a session is one client waiting for each answer, so a
 * statement goes straight to the user's warm engine and its rows stream to the client as the engine
 * produces them, with the engine's own backpressure. Each statement is still a job: it is validated
 * and intercepted like any submission, and recorded with its state, log and lineage by the
 * {@link StatementJournal}: once it ends, in a batch with the others that ended meanwhile, or as
 * Running first when it runs long. Its rows are not kept in the result store: the client has them.
 */
export class InteractiveRunner {
  private readonly access = new Map<string, Cached<{ type: string; engine: string }>>();
  private readonly connections = new Map<string, Cached<DataSourceConnection>>();
  /** Prepared submissions by (principal, body), for code without variables: see {@link prepare}. */
  private readonly prepared = new Map<string, Cached<{ principal: Principal; job: NewJob }>>();
  private readonly journal: StatementJournal;
  /** Statements running here, by job id: what a cancel command stops. */
  private readonly live = new Map<string, { abort(): void }>();
  private readonly unsubscribe: Promise<() => Promise<void>> | undefined;

  constructor(
    private readonly deps: {
      config: Config;
      managerId: string;
      store: JobStore;
      entrance: EntranceService;
      catalog: EngineCatalog;
      engines: EnginePool;
      log: Logger;
      access?: DataSourceAccess;
      dataSources?: DataSourceResolver;
      lineage?: LineageRecorder;
      /** The record of the statements; by default one of the store's own. */
      journal?: StatementJournal;
      /** The bus that carries the manager's cancel commands (a REST cancel of a long statement). */
      bus?: EventBus;
    },
  ) {
    this.journal =
      deps.journal ?? new StatementJournal({ store: deps.store, log: deps.log, lineage: deps.lineage, lineageOf: deps.config.SLUICE_LINEAGE_INTERACTIVE });
    // A statement written as Running is listed by the REST API and may be cancelled there: the
    // entrance sends the cancel to the manager named in its row, which is this runner's.
    this.unsubscribe = deps.bus
      ?.subscribe(topics.manager(deps.managerId), (m) => {
        const cmd = ManagerCommandSchema.safeParse(m);
        if (cmd.success && cmd.data.type === 'cancel') this.live.get(cmd.data.jobId)?.abort();
      })
      .catch((err) => {
        deps.log.warn({ err: String(err) }, 'interactive statements cannot be cancelled through the REST API');
        return async () => {};
      });
  }

  /** Writes the records of finished statements still in memory; statements started later are written as they start. */
  async close(): Promise<void> {
    await (await this.unsubscribe)?.().catch(() => {});
    await this.journal.close();
  }

  private async cached<T>(map: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit && Date.now() - hit.at < ACCESS_TTL_MS) return hit.value;
    const value = await load();
    if (map.size > 10_000) map.clear();
    map.set(key, { value, at: Date.now() });
    return value;
  }

  /**
   * Validates and intercepts a submission as the entrance does. A session sends the same texts again
   * and again (a dashboard's, a driver's), so the result is kept for the same time as the access
   * check it rests on, for code that names no variable (whose interception is then a pure function of
   * the text, the principal and the configuration): a hit only gives the job a new id. A refused
   * submission is not kept, so it is checked (and refused) each time.
   */
  private async prepare(principal: Principal, body: Record<string, unknown>, use: { type: string; engine: string } | undefined) {
    const labels = { ...((body.labels as Record<string, string> | undefined) ?? {}), 'sluice.interactive': 'true' };
    const code = body.code;
    const key =
      typeof code === 'string' && !code.includes('${') && body.variables === undefined && code.length <= MAX_PREPARED_CODE
        ? `${principal.user}\u001f${principal.admin ? 1 : 0}\u001f${use?.engine ?? ''}\u001f${JSON.stringify(body)}`
        : undefined;
    const hit = key === undefined ? undefined : this.prepared.get(key);
    if (hit && Date.now() - hit.at < ACCESS_TTL_MS) return { principal: hit.value.principal, job: { ...hit.value.job, id: newJobId() } };
    const prepared = await this.deps.entrance.prepare(principal, { ...body, labels }, { use });
    if (key !== undefined) {
      if (this.prepared.size >= MAX_PREPARED) this.prepared.delete(this.prepared.keys().next().value as string);
      this.prepared.set(key, { value: prepared, at: Date.now() });
    }
    return prepared;
  }

  /**
   * Starts `body` (a job submission) for `principal` and returns once its columns are known (or it
   * ended). Throws a SluiceError when the statement is refused or fails before its first result set.
   */
  async start(
    principal: Principal,
    body: Record<string, unknown>,
    signal: AbortSignal,
    options: { wireRows?: (columns: Column[]) => boolean } = {},
  ): Promise<InteractiveStatement> {
    const { config, catalog, engines } = this.deps;
    const dsName = typeof body.dataSource === 'string' ? body.dataSource : undefined;
    const use =
      dsName && this.deps.access
        ? await this.cached(this.access, `${principal.user}\u001f${dsName}`, () => this.deps.access!.checkUse(principal, dsName))
        : undefined;
    const prepared = await this.prepare(principal, body, use);
    const job = prepared.job;
    const owner = prepared.principal;
    let dataSource: DataSourceConnection | undefined;
    if (job.dataSource) {
      const name = job.dataSource;
      if (!this.deps.dataSources) throw new SluiceError('SLUICE_DATASOURCE_NOT_FOUND', { name });
      dataSource = await this.cached(this.connections, `${owner.user}\u001f${name}`, () =>
        (this.deps.dataSources as DataSourceResolver).connectionForJob({ user: owner.user, admin: false }, name),
      );
    }
    const resolved = catalog.resolve(job.engineType);
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    // A cancel that came while the statement was being prepared must not be lost.
    if (signal.aborted) throw new SluiceError('SLUICE_JOB_CANCELLED', {});
    signal.addEventListener('abort', onAbort, { once: true });
    const pooled = await engines
      .acquire(owner.user, resolved, {
        executeOnce: job.executeOnce,
        startupParams: job.startupParams,
        signal: controller.signal,
        dataSource,
        labels: { ...job.labels, creator: job.creator, jobId: job.id },
      })
      .catch((e) => {
        signal.removeEventListener('abort', onAbort);
        throw e;
      });
    // The statement's record: kept in memory while it is short, written with its batch once it ends
    // (or as Running if it runs long), off the client's path.
    const entry = this.journal.begin(job, { managerId: this.deps.managerId, engineId: pooled.id, leaseMs: config.SLUICE_LEASE_MS }, dataSource);
    this.live.set(job.id, controller);
    const statement = new LiveStatement(job.id, pooled, controller, job.runTimeoutS * 1000, dataSource ? redactorFor(dataSource) : (t) => t, {
      code: job.code,
      codeType: job.codeType,
      runtimeParams: job.runtimeParams,
      end: (outcome) => {
        signal.removeEventListener('abort', onAbort);
        this.live.delete(job.id);
        const lines = [`Job ${job.id} runs on ${job.engineType} engine ${pooled.id} for ${job.user} (interactive)`, ...outcome.logLines];
        if (outcome.state === 'Succeed') lines.push(`${outcome.rows} row(s) streamed to the client`);
        if (outcome.error) lines.push(`ERROR ${outcome.error.code}: ${outcome.error.message}`);
        entry.end({ state: outcome.state, error: outcome.error, logLines: lines });
        return this.deps.engines.release(pooled, { broken: outcome.broken }).catch((e) => this.deps.log.warn({ err: String(e) }, 'engine release failed'));
      },
      wireRows: options.wireRows,
    });
    try {
      await statement.begin();
    } catch (e) {
      await statement.close();
      throw toSluiceError(e);
    }
    return statement;
  }

  /**
   * Opens a relay (ADR 17): a fresh engine on the data source `body.dataSource`, held by one client
   * connection until it closes, whose PostgreSQL session the connection drives byte for byte. Each
   * statement is still checked, intercepted and recorded as a job. Undefined when the data source's
   * engine cannot relay (it is not PostgreSQL). `body` is the connection's submission without code.
   */
  async relay(principal: Principal, body: Record<string, unknown>, signal: AbortSignal): Promise<InteractiveRelay | undefined> {
    const { config, catalog, engines } = this.deps;
    const dsName = typeof body.dataSource === 'string' ? body.dataSource : undefined;
    if (!dsName || !this.deps.dataSources) return undefined;
    // The connection's own checks: its access is checked at the start and again once ACCESS_TTL_MS
    // old, and a text prepared within that time is not prepared again (when it names no variable),
    // so a statement sent again costs no await on its way to the server.
    const checkUse = async () => (this.deps.access ? this.deps.access.checkUse(principal, dsName) : undefined);
    let use = await checkUse();
    let accessAt = Date.now();
    // The connection's first submission shape: which engine, whose quota, which start-up parameters.
    const relayLabels = { ...((body.labels as Record<string, string> | undefined) ?? {}), 'sluice.interactive': 'true' };
    const probe = await this.prepare(principal, { ...body, code: 'SELECT 1' }, use);
    const owner = probe.principal;
    const dataSource = await this.cached(this.connections, `${owner.user}\u001f${dsName}`, () =>
      (this.deps.dataSources as DataSourceResolver).connectionForJob({ user: owner.user, admin: false }, dsName),
    );
    const pooled = await engines.acquire(owner.user, catalog.resolve(probe.job.engineType), {
      executeOnce: true,
      startupParams: probe.job.startupParams,
      signal,
      dataSource,
      labels: { ...probe.job.labels, creator: probe.job.creator, jobId: probe.job.id },
    });
    const relay = offersWireRelay(pooled.engine)
      ? await pooled.engine.openRelay(signal).catch(async (e) => {
          await engines.release(pooled, { broken: true });
          throw toSluiceError(e);
        })
      : undefined;
    if (!relay) {
      await engines.release(pooled);
      return undefined;
    }
    const redact = redactorFor(dataSource);
    const run = { managerId: this.deps.managerId, engineId: pooled.id, leaseMs: config.SLUICE_LEASE_MS };
    /** Statements begun and not ended: what a REST cancel, the run timeout and close() stop. */
    const open = new Set<{ deadline: number; timedOut: boolean; cancelled: boolean; abort(): void; end(o: RelayedOutcome): void }>();
    // One sweep per relay enforces the run timeout, instead of a timer per statement.
    const sweep = setInterval(() => {
      const now = Date.now();
      for (const st of open) {
        if (st.deadline > now || st.timedOut) continue;
        st.timedOut = true;
        st.abort();
      }
    }, 1000);
    sweep.unref();
    const byText = new Map<string, { prepared: RelayPrepared; at: number }>();
    const relayPrepared = (job: NewJob): RelayPrepared => ({
      code: job.code,
      begin: () => {
        const id = newJobId();
        const entry = this.journal.begin({ ...job, id }, run, dataSource);
        const st = {
          deadline: Date.now() + job.runTimeoutS * 1000,
          timedOut: false,
          cancelled: false,
          // A REST cancel of a long statement, and its run timeout, cancel it on the server.
          abort: () => {
            st.cancelled = true;
            void relay.cancel();
          },
          end: (outcome: RelayedOutcome) => {
            if (!open.delete(st)) return;
            this.live.delete(id);
            const lines = [`Job ${id} runs on ${job.engineType} engine ${pooled.id} for ${job.user} (interactive, relayed)`];
            let state: RelayedOutcome['state'] | 'Timeout' = outcome.state;
            let error: ErrorBody | undefined;
            if (outcome.state === 'Succeed') {
              if (outcome.tag) lines.push(outcome.tag);
              lines.push(`${outcome.rows} row(s) streamed to the client`);
            } else if (outcome.state === 'Cancelled' || (st.cancelled && outcome.error?.sqlState === '57014')) {
              state = st.timedOut ? 'Timeout' : 'Cancelled';
              error = new SluiceError(st.timedOut ? 'SLUICE_JOB_RUN_TIMEOUT' : 'SLUICE_JOB_CANCELLED', {}).toBody();
            } else if (outcome.error) {
              error = new SluiceError('SLUICE_ENGINE_QUERY_FAILED', {
                engine: dataSource.type,
                reason: redact(outcome.error.message),
                dataSource: dsName,
                sqlState: outcome.error.sqlState,
              }).toBody();
            }
            if (error) lines.push(`ERROR ${error.code}: ${error.message}`);
            entry.end({ state, error, logLines: lines });
          },
        };
        open.add(st);
        this.live.set(id, st);
        return { jobId: id, end: st.end };
      },
    });
    let closed: Promise<void> | undefined;
    return {
      wire: relay,
      prepare: (sql) => {
        const now = Date.now();
        const hit = now - accessAt < ACCESS_TTL_MS ? byText.get(sql) : undefined;
        if (hit && now - hit.at < ACCESS_TTL_MS) return hit.prepared;
        return (async () => {
          if (Date.now() - accessAt >= ACCESS_TTL_MS) {
            use = await checkUse();
            accessAt = Date.now();
          }
          const prepared = relayPrepared((await this.deps.entrance.prepare(principal, { ...body, code: sql, labels: relayLabels }, { use })).job);
          if (!sql.includes('${') && sql.length <= MAX_PREPARED_CODE) {
            if (byText.size >= MAX_PREPARED) byText.delete(byText.keys().next().value as string);
            byText.set(sql, { prepared, at: Date.now() });
          }
          return prepared;
        })();
      },
      close: () => {
        closed ??= (async () => {
          clearInterval(sweep);
          for (const st of [...open]) st.end({ state: 'Cancelled', rows: 0 });
          await relay.close().catch(() => {});
          await engines.release(pooled).catch((e) => this.deps.log.warn({ err: String(e) }, 'engine release failed'));
        })();
        return closed;
      },
    };
  }
}

/** A statement running on its engine: pulls the engine's events as the client reads rows. */
class LiveStatement implements InteractiveStatement {
  readonly logLines: string[] = [];
  columns: Column[] | undefined;
  private readonly events: AsyncIterator<EngineEvent | WireRowsEvent>;
  /** Batches the engine yielded and the client has not taken yet. */
  private batches: (Row[] | WireRows)[] = [];
  private sets = 0;
  private rows = 0;
  private ended = false;
  private timedOut = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly jobId: string,
    pooled: PooledEngine,
    private readonly controller: AbortController,
    runMs: number,
    private readonly redact: Redactor,
    private readonly task: {
      code: string;
      codeType: string;
      runtimeParams: Record<string, unknown>;
      end: (outcome: {
        state: 'Succeed' | 'Failed' | 'Cancelled' | 'Timeout';
        error?: ErrorBody;
        logLines: string[];
        rows: number;
        broken: boolean;
      }) => Promise<void>;
      wireRows?: (columns: Column[]) => boolean;
    },
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      controller.abort();
    }, runMs);
    this.timer.unref();
    const engineTask: EngineTask = {
      taskId: `${jobId}.0`,
      code: task.code,
      codeType: task.codeType,
      runtimeParams: task.runtimeParams,
      signal: controller.signal,
    };
    const engine = pooled.engine;
    const events: AsyncIterable<EngineEvent | WireRowsEvent> =
      task.wireRows && offersWireRows(engine) ? engine.executeWire(engineTask, task.wireRows) : engine.execute(engineTask);
    this.events = events[Symbol.asyncIterator]();
  }

  get done(): boolean {
    return this.ended && this.batches.length === 0;
  }

  /** Reads until the first result set is announced or the statement ends. */
  async begin(): Promise<void> {
    while (!this.ended && this.columns === undefined) await this.pull();
  }

  /** Takes one event; ends the statement when the engine is through or fails. */
  private async pull(): Promise<void> {
    let r: IteratorResult<EngineEvent | WireRowsEvent>;
    try {
      r = await this.events.next();
    } catch (thrown) {
      await this.finish(thrown);
      return;
    }
    if (r.done) {
      await this.finish(undefined);
      return;
    }
    const ev = r.value;
    if (ev.type === 'resultSet') {
      this.sets++;
      if (this.sets === 1) this.columns = ev.columns;
    } else if (ev.type === 'rows') {
      // Rows of later result sets are not part of a wire-protocol statement's answer.
      if (this.sets === 1 && ev.rows.length > 0) {
        this.batches.push(ev.rows);
        this.rows += ev.rows.length;
      }
    } else if (ev.type === 'wireRows') {
      if (this.sets === 1 && ev.wire.rows > 0) {
        this.batches.push(ev.wire);
        this.rows += ev.wire.rows;
      }
    } else if (ev.type === 'log' && this.logLines.length < MAX_LOG_LINES) this.logLines.push(this.redact(ev.line));
  }

  async next(limit: number): Promise<Row[] | WireRows> {
    // A batch goes to the client as it comes, not gathered into pages: the client's socket then
    // carries one batch while the engine fetches the next.
    while (this.batches.length === 0 && !this.ended) await this.pull();
    const first = this.batches[0];
    if (!first) return [];
    const count = Array.isArray(first) ? first.length : first.rows;
    if (count <= limit) {
      this.batches.shift();
      return first;
    }
    if (Array.isArray(first)) {
      this.batches[0] = first.slice(limit);
      return first.slice(0, limit);
    }
    const [head, rest] = splitWire(first, limit);
    this.batches[0] = rest;
    return head;
  }

  private async finish(thrown: unknown): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    let state: 'Succeed' | 'Failed' | 'Cancelled' | 'Timeout' = 'Succeed';
    let error: SluiceError | undefined;
    if (thrown !== undefined || this.controller.signal.aborted) {
      error = redactError(toSluiceError(thrown ?? new SluiceError('SLUICE_JOB_CANCELLED', {})), this.redact);
      state = this.timedOut ? 'Timeout' : this.controller.signal.aborted ? 'Cancelled' : 'Failed';
      if (state === 'Timeout') error = new SluiceError('SLUICE_JOB_RUN_TIMEOUT', {});
      if (state === 'Cancelled') error = new SluiceError('SLUICE_JOB_CANCELLED', {});
    }
    const outcome = { state, error: error?.toBody(), logLines: this.logLines, rows: this.rows, broken: error?.code === 'SLUICE_ENGINE_CRASHED' };
    // The end is recorded in the background: the client's answer does not wait for it.
    void this.task.end(outcome);
    if (error) {
      this.batches = [];
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.controller.abort();
    try {
      await this.events.return?.();
    } catch {
      // the engine reports the cancellation; the outcome is recorded below
    }
    await this.finish(undefined).catch(() => {});
  }
}
