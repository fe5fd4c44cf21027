import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Engine, type EngineEvent, type EngineHealth, type EngineTask, SluiceError } from '@sluice/core';
import type { ProcessWatchdog } from '@sluice/process-watchdog';
import { GroupWatchdog } from './group-watchdog.ts';
import { ScriptRun } from './script-run.ts';
import { type BaseEnv, buildTaskEnv, taskTimeoutSeconds } from './task-env.ts';

/** Code types the shell engine runs; all of them with bash. */
export const SHELL_CODE_TYPES = ['shell', 'sh', 'bash'] as const;

/** Settings one shell engine runs its tasks with. */
export interface ShellEngineSettings {
  bash: string;
  workDir: string;
  baseEnv: BaseEnv;
  timeoutSeconds: number;
  killGraceMs: number;
}

/** A directory name for a task id: safe characters only, never `.` or `..`. */
export function taskDirName(taskId: string): string {
  const name = taskId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 200);
  return /^\.*$/.test(name) ? `task_${name.length}` : name;
}

/**
 * A shell engine: a directory and a small watchdog process. Each task is a bash script run in its
 * own process group, in its own directory under `<workDir>/tasks/`, with a minimal environment. The
 * watchdog kills the groups if the engine manager dies, so scripts never outlive their manager.
 *
 * A script whose group the watchdog could not guard never runs and fails with the retryable
 * SLUICE_ENGINE_LAUNCH_FAILED, which leaves the engine in its pool. Its watchdog is suspect then, so
 * once no script runs it is replaced by a new one: the retry does not meet the same watchdog.
 */
export class ShellEngine implements Engine {
  readonly id: string;
  private closed = false;
  private readonly runs = new Set<ScriptRun>();
  private watchdog: ProcessWatchdog;
  /** A script's group could not be guarded: the watchdog is replaced once no script runs. */
  private watchdogFailed = false;

  constructor(
    id: string,
    private readonly settings: ShellEngineSettings,
    private readonly newWatchdog: () => ProcessWatchdog = () => new GroupWatchdog(),
  ) {
    this.id = id;
    this.watchdog = newWatchdog();
  }

  /** Resolves once the watchdog runs; launch() waits for it before handing the engine out. */
  async start(): Promise<void> {
    await this.watchdog.start();
  }

  /** Scripts running right now. */
  get running(): number {
    return this.runs.size;
  }

  async *execute(task: EngineTask): AsyncGenerator<EngineEvent, void, undefined> {
    if (!(SHELL_CODE_TYPES as readonly string[]).includes(task.codeType)) {
      throw new SluiceError('SLUICE_JOB_CODE_TYPE_UNSUPPORTED', { engine: 'shell', codeType: task.codeType });
    }
    if (this.closed) throw new SluiceError('SLUICE_ENGINE_CRASHED', { engine: 'shell', reason: 'the engine was closed' });
    if (task.signal.aborted) throw new SluiceError('SLUICE_JOB_CANCELLED');
    const timeoutSeconds = taskTimeoutSeconds(task.runtimeParams.timeoutSeconds, this.settings.timeoutSeconds);
    const env = buildTaskEnv(this.settings.baseEnv, task.taskId, task.runtimeParams.env);
    const taskDir = path.join(this.settings.workDir, 'tasks', taskDirName(task.taskId));
    await mkdir(taskDir, { recursive: true });
    const scriptFile = path.join(taskDir, 'script.sh');
    await writeFile(scriptFile, task.code, { mode: 0o700 });
    if (this.closed) throw new SluiceError('SLUICE_ENGINE_CRASHED', { engine: 'shell', reason: 'the engine was closed' });
    try {
      await this.watchdog.start(); // restarts it if it died since the last task
    } catch (err) {
      // Nothing ran; a retry may find it able to start again.
      throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', {
        engine: 'shell',
        reason: `the script was not started: its watchdog could not start (${err instanceof Error ? err.message : String(err)})`,
      });
    }
    if (this.closed) throw new SluiceError('SLUICE_ENGINE_CRASHED', { engine: 'shell', reason: 'the engine was closed' });
    // The run keeps the watchdog that guards its group, even if the engine replaces it meanwhile.
    const watchdog = this.watchdog;
    const run = new ScriptRun({
      bash: this.settings.bash,
      scriptFile,
      cwd: taskDir,
      env,
      timeoutSeconds,
      signal: task.signal,
      killGraceMs: this.settings.killGraceMs,
      // The script starts only once the watchdog has confirmed its group: a `kill -9` of this process
      // between the spawn and the watchdog learning of the group would otherwise leave it running.
      guard: (pgid) => watchdog.guard(pgid),
      onGroup: (event, pgid) => (event === 'end' ? watchdog.unwatch(pgid) : undefined),
    });
    this.runs.add(run);
    try {
      yield* run.events();
    } finally {
      this.runs.delete(run);
      if (run.guardFailed && watchdog === this.watchdog) this.watchdogFailed = true;
      this.replaceFailedWatchdog();
    }
  }

  /**
   * After a failed guard, and once no script runs (the old watchdog then holds no group, so closing it
   * kills nothing), the next script gets a new watchdog process.
   */
  private replaceFailedWatchdog(): void {
    if (!this.watchdogFailed || this.closed || this.runs.size > 0) return;
    this.watchdogFailed = false;
    this.watchdog.close();
    this.watchdog = this.newWatchdog();
  }

  async health(): Promise<EngineHealth> {
    if (this.closed) return { ok: false, detail: 'the engine was closed' };
    return { ok: true, detail: `${this.runs.size} script(s) running` };
  }

  async close(): Promise<void> {
    this.closed = true;
    const runs = [...this.runs];
    for (const run of runs) run.stop('closed');
    await Promise.all(runs.map((run) => run.whenExited()));
    this.watchdog.close();
  }

  /** A shell engine has no process of its own that could die, so listeners are never called. */
  onExit(_listener: (reason: string) => void): void {}
}
