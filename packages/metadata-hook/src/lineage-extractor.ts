import { Worker } from 'node:worker_threads';
import type { Dialect } from './dialect.ts';
import { dtSupports } from './dt-front-end.ts';
import { cachedLineage, cacheLineage, type ExtractOptions, extractUncached, failedLineage, lineageCacheKey } from './extract-lineage.ts';
import type { ExtractionContext, FrontEndChoice, LineageResult } from './lineage-types.ts';
import { isWorkerReply, type WorkerRequest } from './lineage-worker-protocol.ts';
import { startWithoutMemoryReducer } from './no-memory-reducer.ts';

/** Options of a {@link LineageExtractor}. */
export interface LineageExtractorOptions {
  /** Worker threads (`SLUICE_LINEAGE_WORKERS`); 0 parses inline on the caller's thread, for debugging. Default 1. */
  workers?: number;
  /** Time one script may take in a worker before the worker is replaced (`SLUICE_LINEAGE_EXTRACT_TIMEOUT_MS`). Default 10 s. */
  timeoutMs?: number;
  /**
   * Extra time for a worker's first script of a dialect, or before the worker has started: loading a
   * grammar costs hundreds of milliseconds on a quiet machine and seconds under load. Default 60 s.
   */
  coldStartMs?: number;
  /** Scripts waiting for a worker; beyond this an extraction fails at once instead of queueing. Default 1000. */
  maxQueue?: number;
  /**
   * Built-in-parser work (DuckDB, `frontEnd: 'built-in'`) runs inline up to this many characters: measured
   * at 0.3–12 ms for 5 KB once warm, but 150–450 ms for 50 KB, which goes to a worker. Default 8 KiB.
   */
  inlineMaxChars?: number;
  /**
   * A worker with nothing to do for this long is stopped, giving back the memory of its grammars
   * (hundreds of MiB once warm); the next script starts a new one, which then loads only the grammar
   * it needs (`SLUICE_LINEAGE_WORKER_IDLE_MS`). 0 keeps workers for good. Default 0.
   */
  idleMs?: number;
  /** Told about crashes, time-outs, a full queue and warm-up; the pool itself never logs. */
  onEvent?: (event: LineageExtractorEvent) => void;
  /** The worker's entry module; tests point it at a fake that can hang or crash. */
  workerEntry?: URL;
}

/** Something the pool did that an operator may want to see. */
export type LineageExtractorEvent =
  | { type: 'worker-crashed'; reason: string }
  | { type: 'timed-out'; dialect: Dialect; ms: number }
  | { type: 'queue-full'; limit: number }
  | { type: 'unavailable'; reason: string }
  | { type: 'warmed'; dialect: Dialect; ms: number }
  | { type: 'idle-stopped'; idleMs: number };

interface ExtractTask {
  kind: 'extract';
  id: number;
  sql: string;
  dialect: Dialect;
  ctx: ExtractionContext;
  frontEnd: FrontEndChoice;
  /** `answered`: the worker answered (so the result may be cached), rather than a time-out or crash. */
  done(result: LineageResult, answered?: boolean): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Dialects whose grammar this worker has loaded. */
  warmed: Set<Dialect>;
  /** Dialects still to load ahead of jobs. */
  toWarm: Dialect[];
  busy?: { task: ExtractTask | { kind: 'warm'; id: number; dialect: Dialect }; timer: NodeJS.Timeout; startedAt: number };
  /** Set once the pool gave up on this worker (time-out, idle, close): its exit is not a crash. */
  retired: boolean;
  /** Runs while the worker has nothing to do; stops it when it fires. */
  idleTimer?: NodeJS.Timeout;
  lastError?: string;
}

const BOOT = new URL('./lineage-worker-boot.mjs', import.meta.url);
// Run from source, the entry is TypeScript; from a build, JavaScript.
const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './lineage-worker.ts' : './lineage-worker.js', import.meta.url);
/**
 * A worker's young generation, in MiB. V8's default (semi-spaces of up to 16 MiB on 64-bit Node 20)
 * is sized for a busy main thread; a worker that parses one statement at a time keeps tens of MiB of
 * nursery it does not need. Measured with the Trino grammar warm and 50 statements parsed: ~70 MiB of
 * RSS per worker with the default, ~51 MiB with 4 MiB, no slower to warm up or parse.
 */
const WORKER_YOUNG_GENERATION_MB = 4;
/** Workers that die before they start, in a row, before the pool gives up. */
const MAX_BOOT_FAILURES = 3;

/**
 * Extracts lineage off the event loop. dt-sql-parser's grammars cost hundreds of milliseconds to load
 * and up to tens of milliseconds per statement, all synchronous; on the job path that would stall the
 * heartbeats, lease renewals, WebSocket pushes and HTTP requests of the whole process. Scripts go to a
 * small pool of worker threads through a bounded queue; results are cached in this thread, so a
 * repeated script never crosses over. A script that takes longer than the time limit, or a worker that
 * dies, gives an extraction-error result (the job runs on, its event carries the `extractionError`
 * facet) and the worker is replaced. Built-in-parser work (DuckDB) is cheap and stays inline.
 * `extract` never rejects.
 */
export class LineageExtractor {
  private readonly workers: number;
  private readonly timeoutMs: number;
  private readonly coldStartMs: number;
  private readonly maxQueue: number;
  private readonly inlineMaxChars: number;
  private readonly idleMs: number;
  private readonly slots: Slot[] = [];
  private readonly queue: ExtractTask[] = [];
  private warmList: Dialect[] = [];
  private nextId = 1;
  private bootFailures = 0;
  private unavailable: string | undefined;
  private closed = false;

  constructor(private readonly opts: LineageExtractorOptions = {}) {
    this.workers = Math.max(0, Math.floor(opts.workers ?? 1));
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.coldStartMs = opts.coldStartMs ?? 60_000;
    this.maxQueue = opts.maxQueue ?? 1000;
    this.inlineMaxChars = opts.inlineMaxChars ?? 8 * 1024;
    this.idleMs = Math.max(0, opts.idleMs ?? 0);
  }

  /**
   * Inputs, outputs and column lineage of a script, as {@link extractLineage} finds them, computed in
   * a worker thread. Never rejects: failures are extraction errors in the result.
   */
  async extract(sql: string, dialect: Dialect, ctx: ExtractionContext, options: ExtractOptions = {}): Promise<LineageResult> {
    const frontEnd = options.frontEnd ?? 'auto';
    const key = lineageCacheKey(sql, dialect, ctx, frontEnd);
    if (!options.noCache) {
      const hit = cachedLineage(key);
      if (hit) return hit;
    }
    const usesGrammar = frontEnd !== 'built-in' && dtSupports(dialect);
    if (this.workers === 0 || (!usesGrammar && sql.length <= this.inlineMaxChars)) {
      const result = extractUncached(sql, dialect, ctx, frontEnd);
      if (!options.noCache) cacheLineage(key, result);
      return result;
    }
    const failedFrontEnd = usesGrammar ? 'dt-sql-parser' : 'built-in';
    if (this.closed) return failedLineage(sql, 'lineage extraction stopped: the extractor is closed', failedFrontEnd);
    if (this.unavailable) return failedLineage(sql, this.unavailable, failedFrontEnd);
    if (this.queue.length >= this.maxQueue) {
      this.opts.onEvent?.({ type: 'queue-full', limit: this.maxQueue });
      return failedLineage(sql, `lineage extraction skipped: ${this.maxQueue} scripts are already waiting`, failedFrontEnd);
    }
    return new Promise<LineageResult>((resolve) => {
      const done = (result: LineageResult, answered = false) => {
        // Only real answers are cached: a time-out or a crash may not happen next time.
        if (answered && !options.noCache) cacheLineage(key, result);
        resolve(result);
      };
      this.queue.push({ kind: 'extract', id: this.nextId++, sql, dialect, ctx, frontEnd, done });
      this.ensureWorkers();
      this.dispatch();
    });
  }

  /**
   * Starts the workers and has each load the grammars of `dialects` in the background, after any job
   * work, so the first job of a dialect does not pay for loading its grammar. Returns at once.
   */
  warmUp(dialects: readonly Dialect[]): void {
    if (this.workers === 0 || this.closed) return;
    this.warmList = [...new Set(dialects.filter((d) => dtSupports(d)))];
    this.ensureWorkers();
    for (const s of this.slots) s.toWarm = this.warmList.filter((d) => !s.warmed.has(d));
    this.dispatch();
  }

  /** Stops the workers; scripts still waiting get an extraction-error result. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.queue.splice(0)) t.done(failedLineage(t.sql, 'lineage extraction stopped: the extractor is closed', 'dt-sql-parser'));
    await Promise.all(
      this.slots.splice(0).map((s) => {
        s.retired = true;
        clearTimeout(s.idleTimer);
        if (s.busy) {
          clearTimeout(s.busy.timer);
          if (s.busy.task.kind === 'extract')
            s.busy.task.done(failedLineage(s.busy.task.sql, 'lineage extraction stopped: the extractor is closed', 'dt-sql-parser'));
        }
        return s.worker.terminate().catch(() => 0);
      }),
    );
  }

  /** Workers alive now (for tests and metrics). */
  get size(): number {
    return this.slots.length;
  }

  /** Scripts waiting for a worker. */
  get waiting(): number {
    return this.queue.length;
  }

  private ensureWorkers(): void {
    while (!this.closed && !this.unavailable && this.slots.length < this.workers) this.spawn();
  }

  private spawn(): void {
    const worker = startWithoutMemoryReducer(
      () =>
        new Worker(BOOT, {
          workerData: { entry: (this.opts.workerEntry ?? ENTRY).href },
          resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
        }),
    );
    // An idle worker must not keep the process alive; a busy one does, so an awaited extraction finishes.
    worker.unref();
    const slot: Slot = { worker, ready: false, warmed: new Set(), toWarm: [...this.warmList], retired: false };
    this.slots.push(slot);
    worker.on('message', (m: unknown) => this.onMessage(slot, m));
    worker.on('error', (err) => {
      slot.lastError = err instanceof Error ? err.message : String(err);
    });
    worker.on('exit', (code) => this.onExit(slot, code));
  }

  private onMessage(slot: Slot, m: unknown): void {
    if (slot.retired) return;
    if (!isWorkerReply(m)) {
      slot.lastError = 'unexpected message from the lineage worker';
      this.retire(slot);
      return;
    }
    if (m.type === 'ready') {
      slot.ready = true;
      this.bootFailures = 0;
      return;
    }
    const busy = slot.busy;
    if (!busy || busy.task.id !== m.id) return;
    clearTimeout(busy.timer);
    slot.busy = undefined;
    slot.worker.unref();
    if (m.type === 'result' && busy.task.kind === 'extract') {
      slot.warmed.add(busy.task.dialect);
      busy.task.done(m.result, true);
    } else if (m.type === 'warmed' && busy.task.kind === 'warm') {
      slot.warmed.add(busy.task.dialect);
      this.opts.onEvent?.({ type: 'warmed', dialect: busy.task.dialect, ms: m.ms });
    }
    this.dispatch();
  }

  private onExit(slot: Slot, code: number): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (slot.retired || this.closed) return;
    const reason = `lineage worker exited (code ${code})${slot.lastError ? `: ${slot.lastError}` : ''}`;
    this.opts.onEvent?.({ type: 'worker-crashed', reason });
    if (slot.busy) {
      clearTimeout(slot.busy.timer);
      const t = slot.busy.task;
      if (t.kind === 'extract') t.done(failedLineage(t.sql, `lineage extraction failed: ${reason}`, 'dt-sql-parser'));
      // A grammar whose warm-up killed the worker is not warmed up again.
      else this.warmList = this.warmList.filter((d) => d !== t.dialect);
    }
    if (!slot.ready && ++this.bootFailures >= MAX_BOOT_FAILURES) {
      this.unavailable = `lineage extraction unavailable: ${MAX_BOOT_FAILURES} workers in a row failed to start (${reason})`;
      this.opts.onEvent?.({ type: 'unavailable', reason: this.unavailable });
      for (const t of this.queue.splice(0)) t.done(failedLineage(t.sql, this.unavailable, 'dt-sql-parser'));
      return;
    }
    this.ensureWorkers();
    this.dispatch();
  }

  /** Gives up on a worker: its exit is expected, and a fresh one takes its place. */
  private retire(slot: Slot): void {
    slot.retired = true;
    clearTimeout(slot.idleTimer);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.worker.terminate().catch(() => 0);
    this.ensureWorkers();
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy || slot.retired) continue;
      const job = this.queue.shift();
      if (job) {
        this.send(slot, job, this.timeoutMs + (slot.ready && slot.warmed.has(job.dialect) ? 0 : this.coldStartMs));
        continue;
      }
      const dialect = slot.toWarm.shift();
      if (dialect && !slot.warmed.has(dialect)) this.send(slot, { kind: 'warm', id: this.nextId++, dialect }, this.timeoutMs + this.coldStartMs);
      else this.idle(slot);
    }
  }

  /** Starts the idle clock of a worker with nothing to do (when the pool has an idle limit). */
  private idle(slot: Slot): void {
    if (this.idleMs === 0 || slot.idleTimer) return;
    slot.idleTimer = setTimeout(() => {
      slot.idleTimer = undefined;
      if (slot.busy || slot.retired || this.closed) return;
      slot.retired = true;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      // From now on grammars load when a script needs them, not all ahead of time.
      this.warmList = [];
      this.opts.onEvent?.({ type: 'idle-stopped', idleMs: this.idleMs });
      slot.worker.terminate().catch(() => 0);
    }, this.idleMs);
    slot.idleTimer.unref();
  }

  private send(slot: Slot, task: ExtractTask | { kind: 'warm'; id: number; dialect: Dialect }, limitMs: number): void {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    const timer = setTimeout(() => this.onTimeout(slot, limitMs), limitMs);
    // Warm-up alone must not keep the process alive.
    if (task.kind === 'warm') timer.unref();
    else slot.worker.ref();
    slot.busy = { task, timer, startedAt: Date.now() };
    const req: WorkerRequest =
      task.kind === 'warm'
        ? { v: 1, type: 'warm', id: task.id, dialect: task.dialect }
        : { v: 1, type: 'extract', id: task.id, sql: task.sql, dialect: task.dialect, ctx: task.ctx, frontEnd: task.frontEnd };
    slot.worker.postMessage(req);
  }

  private onTimeout(slot: Slot, limitMs: number): void {
    const busy = slot.busy;
    if (!busy || slot.retired) return;
    slot.busy = undefined;
    const t = busy.task;
    this.opts.onEvent?.({ type: 'timed-out', dialect: t.dialect, ms: limitMs });
    if (t.kind === 'extract') t.done(failedLineage(t.sql, `lineage extraction timed out after ${limitMs} ms`, 'dt-sql-parser'));
    else this.warmList = this.warmList.filter((d) => d !== t.dialect);
    this.retire(slot);
  }
}
