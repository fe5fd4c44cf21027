import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { type Engine, type EngineEvent, type EngineHealth, type EngineTask, SluiceError } from '@sluice/core';
import { BatchRun, JAR_CODE_TYPE, PYTHON_CODE_TYPES } from './batch-run.ts';
import type { ConnectClient } from './connect-client.ts';
import type { DriverProcess } from './driver-process.ts';
import type { DriverWatchdog } from './driver-watchdog.ts';
import type { DriverSettings } from './launch-params.ts';
import type { SparkInstall } from './spark-install.ts';
import { runSqlTask } from './sql-task.ts';

/** Code types a Spark engine runs: SQL over Spark Connect, and batch applications through spark-submit. */
export const SPARK_CODE_TYPES = ['sql', ...PYTHON_CODE_TYPES, JAR_CODE_TYPE] as const;

/** What a Spark engine runs batch applications with; absent for an engine on a remote Connect server. */
export interface BatchSupport {
  install: SparkInstall;
  settings: DriverSettings;
  baseConf: Record<string, string>;
  watchdog: DriverWatchdog;
  fileRoots: readonly string[];
}

/** Tunables of one engine. */
export interface SparkEngineSettings {
  workDir: string;
  /** Whom the engine runs as: the user, or the service identity of a shared engine. */
  user: string;
  /**
   * Whether the engine serves more than one user (GROUP and SERVER share levels): each submitting
   * user then gets a Spark Connect session of their own on it.
   */
  shared?: boolean;
  ui: boolean;
  logLevel: string;
  batchRows: number;
  cancelGraceMs: number;
  closeGraceMs: number;
  healthTimeoutMs: number;
  /** Spark version, for health details. */
  sparkVersion: string;
}

function taskDirName(taskId: string): string {
  const name = taskId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 200);
  return /^\.*$/.test(name) ? `task_${name.length}` : name;
}

/**
 * One Spark engine: a Spark Connect session on a driver this manager launched (or on a remote Connect
 * server a data source names). SQL tasks run on the session, so temporary views and settings persist
 * from one job of the user to the next; on a shared engine each submitting user has a session of
 * their own. Batch tasks run as their own spark-submit applications with the engine's launch
 * settings. Tasks may run concurrently. A driver that dies fails its running tasks with
 * SLUICE_ENGINE_CRASHED and is reported once through onExit.
 */
export class SparkEngine implements Engine {
  readonly id: string;
  readonly pid: number | undefined;
  private closing: Promise<void> | undefined;
  private exitReason: string | undefined;
  private readonly exitListeners: ((reason: string) => void)[] = [];
  private readonly batches = new Set<BatchRun>();
  private readonly tasks = new Set<AbortController>();
  /** Sessions of the submitting users of a shared engine. */
  private readonly sessions = new Map<string, ConnectClient>();

  constructor(
    id: string,
    private readonly client: ConnectClient,
    private readonly driver: DriverProcess | undefined,
    private readonly batch: BatchSupport | undefined,
    private readonly settings: SparkEngineSettings,
  ) {
    this.id = id;
    this.pid = driver?.pid;
    driver?.onExit((reason) => {
      this.exitReason = reason;
      for (const run of this.batches) run.stop('closed');
      // Nothing listens on the port any more: let the channel go (the pool may never call close()).
      this.client.close();
      if (this.closing) return;
      for (const listener of this.exitListeners.splice(0)) listener(reason);
    });
  }

  /** `host:port` of the Connect server of a driver this engine launched; undefined for a remote one. */
  get endpoint(): string | undefined {
    return this.driver?.endpoint;
  }

  /** The Spark Connect session id of this engine. */
  get sessionId(): string {
    return this.client.sessionId;
  }

  /** The session a task of `user` runs in: the engine's own, or on a shared engine the user's. */
  private sessionFor(user: string | undefined): ConnectClient {
    if (!this.settings.shared || user === undefined || user === this.settings.user) return this.client;
    let session = this.sessions.get(user);
    if (!session) {
      session = this.client.forUser(user);
      this.sessions.set(user, session);
    }
    return session;
  }

  private goneError(): SluiceError | undefined {
    if (this.closing) return new SluiceError('SLUICE_ENGINE_CRASHED', { engine: 'spark', reason: 'the engine was closed' });
    if (this.exitReason !== undefined) return new SluiceError('SLUICE_ENGINE_CRASHED', { engine: 'spark', reason: `the Spark driver ${this.exitReason}` });
    return undefined;
  }

  /** After a failed call: was it the engine going away? Waits briefly for a dying driver's exit. */
  private async engineGone(failure?: unknown): Promise<SluiceError | undefined> {
    const now = this.goneError();
    if (now || !this.driver || failure === undefined) return now;
    const code = (failure as { code?: number }).code;
    if (code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.CANCELLED || code === GrpcStatus.UNKNOWN || code === GrpcStatus.INTERNAL) {
      await Promise.race([this.driver.exited, sleep(code === GrpcStatus.INTERNAL ? 300 : 2000)]);
    }
    return this.goneError();
  }

  async *execute(task: EngineTask): AsyncGenerator<EngineEvent, void, undefined> {
    const codeType = task.codeType.toLowerCase();
    if (!(SPARK_CODE_TYPES as readonly string[]).includes(codeType)) {
      throw new SluiceError('SLUICE_JOB_CODE_TYPE_UNSUPPORTED', { engine: 'spark', codeType: task.codeType });
    }
    const gone = this.goneError();
    if (gone) throw gone;
    if (task.signal.aborted) throw new SluiceError('SLUICE_JOB_CANCELLED');
    if (codeType === 'sql') {
      // The engine's own controller lets close() end the task's calls even if the caller never aborts.
      const local = new AbortController();
      const forward = () => local.abort();
      task.signal.addEventListener('abort', forward, { once: true });
      this.tasks.add(local);
      try {
        // A user's session on a shared engine may have been dropped by the server for idleness
        // (spark.connect.session.manager.defaultSessionTimeout): before any result, the task runs
        // once more in a new session.
        for (let attempt = 0; ; attempt++) {
          const client = this.sessionFor(task.user);
          let results = false;
          try {
            for await (const ev of runSqlTask(
              { client, batchRows: this.settings.batchRows, cancelGraceMs: this.settings.cancelGraceMs, engineGone: (f) => this.engineGone(f) },
              task.code,
              task.runtimeParams,
              local.signal,
              task.taskId,
            )) {
              if (ev.type === 'resultSet' || ev.type === 'rows') results = true;
              yield ev;
            }
            return;
          } catch (err) {
            const errorClass = String((err as SluiceError).details?.errorClass ?? '');
            if (client === this.client || !errorClass.startsWith('INVALID_HANDLE.SESSION')) throw err;
            this.sessions.delete(task.user as string);
            if (results || attempt > 0) throw err;
            yield { type: 'log', line: `The Spark Connect session of ${task.user} had expired (${errorClass}); running in a new session` };
          }
        }
      } finally {
        task.signal.removeEventListener('abort', forward);
        this.tasks.delete(local);
      }
      return;
    }
    if (!this.batch) {
      throw new SluiceError('SLUICE_JOB_CODE_TYPE_UNSUPPORTED', {
        engine: 'spark',
        codeType: task.codeType,
        reason: 'batch applications need a Spark master, not a remote Connect server',
      });
    }
    const run = new BatchRun({
      taskId: task.taskId,
      // A batch application is the job's alone: on a shared engine it runs as the submitting user.
      user: this.settings.shared && task.user ? task.user : this.settings.user,
      taskDir: path.join(this.settings.workDir, 'tasks', taskDirName(task.taskId)),
      install: this.batch.install,
      settings: this.batch.settings,
      baseConf: this.batch.baseConf,
      ui: this.settings.ui,
      logLevel: this.settings.logLevel,
      watchdog: this.batch.watchdog,
      codeType,
      code: task.code,
      runtimeParams: task.runtimeParams,
      fileRoots: this.batch.fileRoots,
      signal: task.signal,
      killGraceMs: this.settings.cancelGraceMs,
    });
    this.batches.add(run);
    try {
      yield* run.events();
    } finally {
      this.batches.delete(run);
    }
  }

  async health(): Promise<EngineHealth> {
    const gone = this.goneError();
    if (gone) return { ok: false, detail: gone.message };
    try {
      const conf = await this.client.getConf(['spark.app.id', 'spark.master'], this.settings.healthTimeoutMs);
      const where = this.driver ? `pid ${this.driver.pid}` : 'remote';
      return { ok: true, detail: `Spark ${this.settings.sparkVersion}, ${conf['spark.master'] ?? '?'}, app ${conf['spark.app.id'] ?? '?'}, ${where}` };
    } catch (err) {
      return { ok: false, detail: this.goneError()?.message ?? (err as Error).message };
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const run of this.batches) run.stop('closed');
      // Running SQL tasks see the engine closing and fail with SLUICE_ENGINE_CRASHED.
      for (const task of this.tasks) task.abort();
      if (this.exitReason === undefined) {
        const grace = Math.min(3000, this.settings.closeGraceMs);
        await Promise.all([this.client, ...this.sessions.values()].map((session) => session.releaseSession(grace).catch(() => {})));
      }
      this.client.close();
      await Promise.all([...this.batches].map((run) => run.whenExited()));
      await this.driver?.stop(this.settings.closeGraceMs);
    })();
    return this.closing;
  }

  onExit(listener: (reason: string) => void): void {
    if (this.exitReason !== undefined && !this.closing) {
      const reason = this.exitReason;
      queueMicrotask(() => listener(reason));
      return;
    }
    this.exitListeners.push(listener);
  }
}
