import { type ChildProcess, fork } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  type Engine,
  type EngineEvent,
  type EngineHealth,
  type EngineLaunchSpec,
  type EngineTask,
  type PrepareAheadEngine,
  type PrepareAheadOptions,
  SluiceError,
} from '@sluice/core';
import { resolveLaunchParams } from './launch-params.ts';
import { ChildBatchSchema, type ChildMessage, ChildMessageSchema, type ParentMessageBody, stamp, type TaskOutcome } from './protocol.ts';
import { TaskChannel } from './task-channel.ts';

/** Tunables of DuckDB engines; every field has a default. */
export interface DuckdbEngineOptions {
  /** DuckDB configuration options for every database, e.g. `{ enable_external_access: 'false' }`. */
  settings: Record<string, string>;
  launchTimeoutMs: number;
  closeGraceMs: number;
  cancelGraceMs: number;
  healthTimeoutMs: number;
  progressIntervalMs: number;
  batchRows: number;
  batchBytes: number;
}

/** Row batches the worker may send ahead of the consumer. */
export const ROW_BATCH_CREDITS = 2;

const ENGINE = 'duckdb';
const STDERR_TAIL = 2000;

/** The worker module next to this one: `.ts` from source, `.js` from built output. */
export function workerPath(moduleUrl: string = import.meta.url): string {
  const url = moduleUrl.endsWith('.js') ? new URL('./duckdb-worker.js', moduleUrl) : new URL('./duckdb-worker.ts', moduleUrl);
  return fileURLToPath(url);
}

/** Our own execArgv (e.g. `--import tsx`), minus flags that must not reach a worker. */
function workerExecArgv(): string[] {
  return process.execArgv.filter((arg) => !arg.startsWith('--test') && !arg.startsWith('--inspect') && !arg.startsWith('--watch'));
}

/** The worker's environment: nothing of the server's beyond what starting Node needs. */
function workerEnv(workDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: workDir, LANG: 'C.UTF-8' };
  if (process.env.PATH) env.PATH = process.env.PATH;
  if (process.env.NODE_OPTIONS) env.NODE_OPTIONS = process.env.NODE_OPTIONS;
  return env;
}

function cancelledError(): SluiceError {
  return new SluiceError('SLUICE_JOB_CANCELLED');
}

type TaskEventMessage = Extract<ChildMessage, { type: 'log' | 'progress' | 'resultSet' | 'rows' }>;

function isTaskEvent(message: ChildMessage): message is TaskEventMessage {
  return message.type === 'log' || message.type === 'progress' || message.type === 'resultSet' || message.type === 'rows';
}

function toEvent(message: TaskEventMessage): EngineEvent {
  switch (message.type) {
    case 'log':
      return { type: 'log', line: message.line };
    case 'progress':
      return { type: 'progress', progress: message.progress, info: message.info };
    case 'resultSet':
      return { type: 'resultSet', columns: message.columns };
    case 'rows':
      return { type: 'rows', rows: message.rows };
  }
}

function outcomeError(outcome: TaskOutcome): SluiceError | undefined {
  switch (outcome.status) {
    case 'ok':
      return undefined;
    case 'queryFailed':
      return new SluiceError('SLUICE_ENGINE_QUERY_FAILED', { engine: ENGINE, reason: outcome.reason });
    case 'cancelled':
      return cancelledError();
    case 'internal':
      return new SluiceError('SLUICE_INTERNAL', { engine: ENGINE, reason: outcome.reason }, `duckdb worker: ${outcome.reason}`);
  }
}

/**
 * One DuckDB engine: a worker child process holding one database and one connection. Tasks run one at
 * a time (a second execute() waits for the first); their results stream under credit-based flow control.
 */
export class DuckdbEngine implements Engine, PrepareAheadEngine {
  readonly id: string;
  readonly pid: number;
  /** DuckDB's version string as the worker reports it, e.g. `v1.5.6`. */
  duckdbVersion = '';

  private readonly child: ChildProcess;
  private readonly options: DuckdbEngineOptions;
  private readonly exited: Promise<void>;
  private exitReason: string | undefined;
  private killReason: string | undefined;
  private closing: Promise<void> | undefined;
  private ready = false;
  private readonly exitListeners: ((reason: string) => void)[] = [];
  private exitReported = false;
  private channel: TaskChannel | undefined;
  private taskLock: Promise<void> = Promise.resolve();
  private readonly pings = new Map<number, (pong: { rss: number; preparedAhead: number; ranAhead: number } | undefined) => void>();
  /** A task the worker ran ahead and reported whole before its execute (ADR 16); at most one. */
  private ranAhead: { taskId: string; code: string; events: EngineEvent[]; outcome: TaskOutcome } | undefined;
  /** Tasks answered from {@link ranAhead} without a round trip to the worker. */
  private ranAheadServed = 0;
  private nextPing = 1;
  private stderrTail = '';
  private onReady: ((error?: Error) => void) | undefined;

  private constructor(id: string, child: ChildProcess, options: DuckdbEngineOptions) {
    this.id = id;
    this.child = child;
    this.pid = child.pid ?? -1;
    this.options = options;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL);
    });
    child.stdout?.resume();
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.handleExit(code, signal);
        resolve();
      });
    });
    child.on('error', (err) => {
      // Spawn failures never emit 'exit'; later errors (a send on a closed channel) are followed by one.
      if (child.pid === undefined) {
        this.handleExit(null, null, err.message);
      }
    });
    child.on('message', (raw) => this.handleMessage(raw));
  }

  /** Starts a worker and waits until its database is open. */
  static async launch(spec: EngineLaunchSpec, options: DuckdbEngineOptions): Promise<DuckdbEngine> {
    const db = resolveLaunchParams(spec.workDir, spec.params, options.settings);
    let child: ChildProcess;
    try {
      await mkdir(spec.workDir, { recursive: true });
      child = fork(workerPath(), [], {
        serialization: 'advanced',
        execArgv: workerExecArgv(),
        env: workerEnv(spec.workDir),
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
    } catch (err) {
      throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: ENGINE, reason: err instanceof Error ? err.message : String(err) });
    }
    const engine = new DuckdbEngine(spec.engineId, child, options);
    try {
      await engine.start(spec.workDir, db.database, db.settings);
    } catch (err) {
      await engine.close();
      throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: ENGINE, reason: err instanceof Error ? err.message : String(err) });
    }
    return engine;
  }

  private start(workDir: string, database: string, settings: Record<string, string>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => this.onReady?.(new Error(`the worker did not start within ${this.options.launchTimeoutMs} ms`)),
        this.options.launchTimeoutMs,
      );
      this.onReady = (error) => {
        clearTimeout(timer);
        this.onReady = undefined;
        if (error) reject(error);
        else resolve();
      };
      const { progressIntervalMs, batchRows, batchBytes } = this.options;
      this.send({ type: 'init', workDir, database, settings, progressIntervalMs, batchRows, batchBytes });
    });
  }

  /** Row batches received from the worker and not yet taken by the consumer (for tests and metrics). */
  get bufferedBatches(): number {
    return this.channel?.bufferedBatches ?? 0;
  }

  private get gone(): boolean {
    return this.exitReason !== undefined || this.closing !== undefined;
  }

  private goneError(): SluiceError {
    const reason = this.closing ? 'the engine was closed' : (this.exitReason ?? 'the engine is gone');
    return new SluiceError('SLUICE_ENGINE_CRASHED', { engine: ENGINE, reason });
  }

  private goneDetail(): string {
    return this.closing ? 'the engine was closed' : `the engine stopped: ${this.exitReason}`;
  }

  private send(body: ParentMessageBody): boolean {
    if (!this.child.connected) return false;
    try {
      this.child.send(stamp(body), (err) => {
        if (err) this.stderrTail = `${this.stderrTail}\n(send failed: ${err.message})`.slice(-STDERR_TAIL);
      });
      return true;
    } catch {
      return false;
    }
  }

  private handleMessage(raw: unknown): void {
    if ((raw as { type?: unknown } | null)?.type === 'batch') {
      const batch = ChildBatchSchema.safeParse(raw);
      if (!batch.success) {
        this.kill(`protocol violation: ${batch.error.issues[0]?.message ?? 'invalid batch'}`);
        return;
      }
      for (const inner of batch.data.messages) {
        if ((inner as { type?: unknown } | null)?.type === 'batch') {
          this.kill('protocol violation: a batch inside a batch');
          return;
        }
        this.handleMessage(inner);
      }
      return;
    }
    const parsed = ChildMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.kill(`protocol violation: ${parsed.error.issues[0]?.message ?? 'invalid message'}`);
      return;
    }
    const message: ChildMessage = parsed.data;
    switch (message.type) {
      case 'ready':
        this.duckdbVersion = message.duckdbVersion;
        this.ready = true;
        this.onReady?.();
        return;
      case 'initFailed':
        this.onReady?.(new Error(message.reason));
        return;
      case 'pong':
        this.pings.get(message.id)?.(message);
        return;
      default:
        break;
    }
    if (message.type === 'ranAhead') {
      this.keepRanAhead(message);
      return;
    }
    const channel = this.channel;
    if (!channel || channel.taskId !== message.taskId) return;
    if (message.type === 'done') channel.end(outcomeError(message.outcome));
    else channel.push(toEvent(message));
  }

  /**
   * Keeps what the worker ran ahead, only while no task is running here. If that task is its own, the
   * worker answers its execute from the same messages. If it is another, the worker dropped the run
   * when that task came, and what it reported predates whatever the other task changes.
   */
  private keepRanAhead(message: Extract<ChildMessage, { type: 'ranAhead' }>): void {
    if (this.channel) return;
    const events: EngineEvent[] = [];
    for (const raw of message.messages) {
      const inner = ChildMessageSchema.safeParse(raw);
      const data = inner.success ? inner.data : undefined;
      if (!data || !isTaskEvent(data) || data.taskId !== message.taskId) {
        this.kill('protocol violation: an invalid message in a task run ahead');
        return;
      }
      events.push(toEvent(data));
    }
    this.ranAhead = { taskId: message.taskId, code: message.code, events, outcome: message.outcome };
  }

  private handleExit(code: number | null, signal: NodeJS.Signals | null, error?: string): void {
    if (this.exitReason !== undefined) return;
    const how = error ?? (signal ? `killed by ${signal}` : `exited with code ${code}`);
    const stderr = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
    this.exitReason = this.killReason ?? (stderr ? `${how}: ${stderr}` : how);
    this.onReady?.(new Error(`the worker ${this.exitReason}`));
    for (const resolve of this.pings.values()) resolve(undefined);
    this.pings.clear();
    this.channel?.end(this.goneError());
    if (this.ready && !this.closing) {
      this.exitReported = true;
      for (const listener of this.exitListeners.splice(0)) listener(this.exitReason);
    }
  }

  /** Kills a worker that misbehaves; this counts as the engine dying on its own. */
  private kill(reason: string): void {
    if (this.exitReason !== undefined) return;
    this.killReason ??= reason;
    this.child.kill('SIGKILL');
  }

  private async acquire(signal: AbortSignal): Promise<() => void> {
    const previous = this.taskLock;
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.taskLock = previous.then(() => mine);
    if (signal.aborted) {
      release();
      throw cancelledError();
    }
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => resolve('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const won = await Promise.race([previous.then(() => 'free' as const), aborted]);
    signal.removeEventListener('abort', onAbort!);
    if (won === 'aborted') {
      release();
      throw cancelledError();
    }
    return release;
  }

  private cancel(channel: TaskChannel): void {
    if (channel.ended || channel.cancelling) return;
    channel.cancel(cancelledError());
    this.send({ type: 'cancel', taskId: channel.taskId });
    const timer = setTimeout(() => {
      if (channel.ended) return;
      channel.end();
      this.kill(`the worker did not stop within ${this.options.cancelGraceMs} ms of a cancel`);
    }, this.options.cancelGraceMs);
    timer.unref();
    channel.onEnd(() => clearTimeout(timer));
  }

  async *execute(task: EngineTask): AsyncGenerator<EngineEvent, void, undefined> {
    if (task.codeType !== 'sql') throw new SluiceError('SLUICE_JOB_CODE_TYPE_UNSUPPORTED', { engine: ENGINE, codeType: task.codeType });
    const release = await this.acquire(task.signal);
    const early = this.ranAhead;
    this.ranAhead = undefined;
    if (early && early.taskId === task.taskId && early.code === task.code && !this.gone && !task.signal.aborted) {
      // The worker ran this task ahead and reported all of it: answer from that, without a round trip.
      // The worker keeps its copy until its next task or hint, and runs nothing for this one.
      try {
        this.ranAheadServed += 1;
        yield* early.events;
        const error = outcomeError(early.outcome);
        if (error) throw error;
        return;
      } finally {
        release();
      }
    }
    const channel = new TaskChannel(task.taskId);
    const onAbort = () => this.cancel(channel);
    try {
      if (task.signal.aborted) throw cancelledError();
      if (this.gone) throw this.goneError();
      this.channel = channel;
      if (!this.send({ type: 'execute', taskId: task.taskId, code: task.code, credits: ROW_BATCH_CREDITS })) throw this.goneError();
      task.signal.addEventListener('abort', onAbort, { once: true });
      for (;;) {
        const item = await channel.next();
        if (item.kind === 'end') {
          if (item.error) throw item.error;
          return;
        }
        yield item.event;
        // The consumer pulled again: the batch it was given is consumed, so the worker may send one more
        // (not needed once the task has ended: a short query's rows and end arrive together).
        if (item.event.type === 'rows' && !channel.ended) this.send({ type: 'credit', taskId: task.taskId, batches: 1 });
      }
    } finally {
      task.signal.removeEventListener('abort', onAbort);
      if (this.channel === channel && !channel.ended) {
        // The consumer stopped early: stop the worker too before the next task may start.
        this.cancel(channel);
        while ((await channel.next()).kind !== 'end') {
          // discarded events do not arrive; this waits for the end only
        }
      }
      if (this.channel === channel) this.channel = undefined;
      release();
    }
  }

  /**
   * Lets the worker prepare the statement of the task expected next while the engine is idle (see
   * `PrepareAheadEngine`). Ignored while a task runs: the worker would drop it anyway.
   */
  prepareAhead(task: Pick<EngineTask, 'taskId' | 'code' | 'codeType'>, opts: PrepareAheadOptions = {}): void {
    if (task.codeType !== 'sql' || !this.ready || this.gone || this.channel) return;
    if (this.ranAhead?.taskId !== task.taskId) this.ranAhead = undefined;
    this.send({ type: 'prepare', taskId: task.taskId, code: task.code, ...(opts.mayRun ? { credits: ROW_BATCH_CREDITS } : {}) });
  }

  async health(): Promise<EngineHealth> {
    if (this.gone) return { ok: false, detail: this.goneDetail() };
    const id = this.nextPing++;
    const pong = await new Promise<{ rss: number; preparedAhead: number; ranAhead: number } | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.pings.delete(id);
        resolve(undefined);
      }, this.options.healthTimeoutMs);
      this.pings.set(id, (value) => {
        clearTimeout(timer);
        this.pings.delete(id);
        resolve(value);
      });
      if (!this.send({ type: 'ping', id })) this.pings.get(id)?.(undefined);
    });
    if (pong === undefined) {
      return { ok: false, detail: this.gone ? this.goneDetail() : `the worker did not answer a ping within ${this.options.healthTimeoutMs} ms` };
    }
    const tasks = (n: number) => `${n} ${n === 1 ? 'task' : 'tasks'}`;
    const ran = pong.ranAhead + this.ranAheadServed;
    const ahead = `${tasks(pong.preparedAhead)} prepared ahead, ${tasks(ran)} run ahead (${this.ranAheadServed} answered without a round trip)`;
    return { ok: true, detail: `DuckDB ${this.duckdbVersion}, pid ${this.pid}, rss ${Math.round(pong.rss / 1048576)} MiB, ${ahead}` };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.channel?.end(new SluiceError('SLUICE_ENGINE_CRASHED', { engine: ENGINE, reason: 'the engine was closed' }));
      if (this.exitReason === undefined) {
        this.send({ type: 'shutdown' });
        const timer = setTimeout(() => this.child.kill('SIGKILL'), this.options.closeGraceMs);
        await this.exited;
        clearTimeout(timer);
      }
    })();
    return this.closing;
  }

  onExit(listener: (reason: string) => void): void {
    if (this.exitReported && this.exitReason !== undefined) {
      const reason = this.exitReason;
      queueMicrotask(() => listener(reason));
      return;
    }
    this.exitListeners.push(listener);
  }
}
