import type { ChildProcess } from 'node:child_process';
import { access, constants, mkdir, realpath, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { type EngineEvent, SluiceError } from '@sluice/core';
import { signalGroup, spawnGated } from '@sluice/process-watchdog';
import type { DriverWatchdog } from './driver-watchdog.ts';
import type { DriverSettings } from './launch-params.ts';
import { LineQueue } from './line-queue.ts';
import type { SparkInstall } from './spark-install.ts';
import { taskConf } from './sql-task.ts';
import { confArgs, localDriverConf, prepareDirs, submitEnv } from './submit-env.ts';

/** Code types that run as a spark-submit batch application. */
export const PYTHON_CODE_TYPES = ['pyspark', 'py', 'python'] as const;
/** The code type of a jar application. */
export const JAR_CODE_TYPE = 'jar';

/** Everything one batch run needs. */
export interface BatchSpec {
  taskId: string;
  user: string;
  /** The task's own directory. */
  taskDir: string;
  install: SparkInstall;
  settings: DriverSettings;
  baseConf: Record<string, string>;
  ui: boolean;
  logLevel: string;
  watchdog: DriverWatchdog;
  codeType: string;
  code: string;
  runtimeParams: Record<string, unknown>;
  /** Directories a `runtimeParams.file` may be in; none means files cannot be named. */
  fileRoots: readonly string[];
  signal: AbortSignal;
  killGraceMs: number;
}

type StopReason = 'cancel' | 'closed';

function invalid(summary: string): SluiceError {
  return new SluiceError('SLUICE_REQUEST_INVALID', { summary });
}

/** `runtimeParams.args`: a list of strings (numbers and booleans are turned into text). */
export function batchArgs(runtimeParams: Record<string, unknown>): string[] {
  const raw = runtimeParams.args;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.some((a) => !['string', 'number', 'boolean'].includes(typeof a))) {
    throw invalid('runtimeParams.args must be a list of strings');
  }
  return raw.map(String);
}

/** Resolves `runtimeParams.file` inside the allowed roots (symbolic links followed), or refuses it. */
export async function resolveBatchFile(file: unknown, roots: readonly string[], ext: string): Promise<string> {
  if (typeof file !== 'string' || !file) throw invalid('runtimeParams.file must be a path');
  if (!file.endsWith(ext)) throw invalid(`runtimeParams.file must name a ${ext} file`);
  if (roots.length === 0) throw invalid('this deployment allows no batch files on the engine host: send the script as the code');
  let real: string;
  try {
    real = await realpath(path.resolve(file));
    await access(real, constants.R_OK);
  } catch {
    throw invalid(`runtimeParams.file ${file} cannot be read`);
  }
  for (const root of roots) {
    const base = await realpath(path.resolve(root)).catch(() => path.resolve(root));
    const rel = path.relative(base, real);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return real;
  }
  throw invalid(`runtimeParams.file ${file} is outside the directories batch files may come from`);
}

/**
 * One batch application: spark-submit of a Python script or a jar, in its own process group (watched
 * by the connector's watchdog, and started only once the watchdog has confirmed the group), its
 * driver's stdout and stderr streamed as log lines, its exit code the outcome. Cancel sends SIGTERM
 * to the group, then SIGKILL after the grace period. A run whose group the watchdog could not guard,
 * or whose process could not be spawned, never ran: it fails with SLUICE_ENGINE_LAUNCH_FAILED.
 */
export class BatchRun {
  private child: ChildProcess | undefined;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Resolves once the gate opened: spark-submit starts then. Never resolves if it does not. */
  private opened: Promise<void> = new Promise(() => {});
  /** Why the run stopped; `launch`: spark-submit never ran (see {@link launchError}). The first reason wins. */
  private stopReason: StopReason | 'launch' | undefined;
  /** Why spark-submit could not be started: its group could not be guarded, or the spawn failed. */
  private launchError: string | undefined;
  private readonly lines = new LineQueue();
  private killTimer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.stop('cancel');

  constructor(private readonly spec: BatchSpec) {}

  /** Builds the spark-submit command line: options, then the resource and its arguments. */
  private async command(): Promise<{ args: string[]; dirs: Awaited<ReturnType<typeof prepareDirs>> }> {
    const { spec } = this;
    const args = batchArgs(spec.runtimeParams);
    const conf = taskConf(spec.runtimeParams);
    const dirs = await prepareDirs(spec.taskDir, spec.logLevel);
    let resource: string;
    const submit: string[] = [];
    if (spec.codeType === JAR_CODE_TYPE) {
      const named = spec.runtimeParams.file ?? (/^\S+\.jar$/.test(spec.code.trim()) ? spec.code.trim() : undefined);
      resource = await resolveBatchFile(named, spec.fileRoots, '.jar');
      const mainClass = spec.runtimeParams.mainClass;
      if (mainClass !== undefined) {
        if (typeof mainClass !== 'string' || !/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(mainClass))
          throw invalid('runtimeParams.mainClass must be a Java class name');
        submit.push('--class', mainClass);
      }
    } else if (spec.runtimeParams.file !== undefined) {
      resource = await resolveBatchFile(spec.runtimeParams.file, spec.fileRoots, '.py');
    } else {
      if (!spec.code.trim()) throw invalid('the PySpark script is empty');
      resource = path.join(spec.taskDir, 'main.py');
      await writeFile(resource, spec.code, { mode: 0o600 });
    }
    const { settings } = spec;
    const merged = { ...spec.baseConf, ...settings.conf, ...conf };
    const allConf = { ...merged, ...(settings.local ? localDriverConf(dirs, spec.ui, merged) : { 'spark.ui.enabled': String(spec.ui) }) };
    return {
      dirs,
      args: [
        '--master',
        settings.master,
        '--name',
        `sluice-${spec.user}-${spec.taskId}`.slice(0, 120),
        '--driver-memory',
        settings.driverMemory,
        ...settings.submitArgs,
        ...confArgs(allConf),
        ...submit,
        resource,
        ...args,
      ],
    };
  }

  private async start(): Promise<void> {
    const { spec } = this;
    await mkdir(spec.taskDir, { recursive: true });
    const { args, dirs } = await this.command();
    try {
      await spec.watchdog.start();
    } catch (err) {
      this.launchFailed(`spark-submit was not started: the watchdog could not start (${err instanceof Error ? err.message : String(err)})`);
      return;
    }
    if (this.stopReason) return;
    let open!: () => void;
    this.opened = new Promise((resolve) => {
      open = resolve;
    });
    const child = spawnGated(path.join(spec.install.sparkHome, 'bin', 'spark-submit'), args, {
      cwd: dirs.root,
      env: submitEnv(spec.install, dirs, spec.user),
      guard: (pgid) => spec.watchdog.guard(pgid),
      onOpened: open,
      // The group was killed before spark-submit ran.
      onGuardFailed: (err) => this.launchFailed(`spark-submit was not started: the watchdog could not guard its process group (${err.message})`),
    });
    this.child = child;
    const pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        if (pid !== undefined) {
          signalGroup(pid, 'SIGKILL');
          spec.watchdog.unwatch(pid);
        }
        resolve();
      });
      child.once('error', (err) => {
        if (child.pid !== undefined) return;
        this.exit = { code: null, signal: null };
        this.launchFailed(`could not start spark-submit: ${err.message}`);
        resolve();
      });
    });
    if (child.stdout) this.lines.add(child.stdout);
    if (child.stderr) this.lines.add(child.stderr);
  }

  /** spark-submit never ran: the run fails with SLUICE_ENGINE_LAUNCH_FAILED, unless it was stopped before. */
  private launchFailed(reason: string): void {
    if (this.stopReason) return;
    this.stopReason = 'launch';
    this.launchError = reason;
  }

  /** Stops the application and everything it started. Idempotent; the first reason wins. */
  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.lines.drain();
    const pid = this.child?.pid;
    if (pid === undefined || this.exit) return;
    signalGroup(pid, reason === 'closed' ? 'SIGKILL' : 'SIGTERM');
    this.killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), this.spec.killGraceMs);
  }

  /** Resolves once the application has exited (at once if it never started). */
  whenExited(): Promise<void> {
    return this.exited;
  }

  private failure(): SluiceError | undefined {
    if (this.stopReason === 'cancel') return new SluiceError('SLUICE_JOB_CANCELLED');
    if (this.stopReason === 'launch') return new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: 'spark', reason: this.launchError });
    if (this.stopReason === 'closed') return new SluiceError('SLUICE_ENGINE_CRASHED', { engine: 'spark', reason: 'the engine was closed' });
    const exit = this.exit;
    if (!exit || exit.code === 0) return undefined;
    if (exit.signal) {
      return new SluiceError(
        'SLUICE_ENGINE_SCRIPT_FAILED',
        { exitCode: 128 + (osConstants.signals[exit.signal] ?? 0), signal: exit.signal },
        `The Spark application was killed by ${exit.signal}`,
      );
    }
    return new SluiceError('SLUICE_ENGINE_SCRIPT_FAILED', { exitCode: exit.code, engine: 'spark' }, `The Spark application exited with code ${exit.code}`);
  }

  /** Log events of the run; ends when the application exits 0, else throws the matching SluiceError. */
  async *events(): AsyncGenerator<EngineEvent, void, undefined> {
    const { signal } = this.spec;
    if (signal.aborted) throw new SluiceError('SLUICE_JOB_CANCELLED');
    signal.addEventListener('abort', this.onAbort, { once: true });
    try {
      await this.start();
      // Logged once the gate opened, i.e. once spark-submit really starts: not while the watchdog has
      // yet to confirm the group, and never when the guard failed or the process could not be spawned.
      const started = this.child ? await Promise.race([this.opened.then(() => true), this.exited.then(() => false)]) : false;
      if (started && !this.stopReason) yield { type: 'log', line: `spark-submit started (pid ${this.child?.pid}, master ${this.spec.settings.master})` };
      for (;;) {
        const line = this.stopReason ? undefined : await this.lines.next();
        if (line === undefined) break;
        yield { type: 'log', line };
      }
      await this.exited;
      const error = this.failure();
      if (error) throw error;
      yield { type: 'log', line: 'The Spark application exited with code 0' };
    } finally {
      signal.removeEventListener('abort', this.onAbort);
      if (!this.exit && this.child) {
        // The consumer stopped early: the application must not outlive its task.
        this.stop('cancel');
        await this.exited;
      }
      if (this.killTimer) clearTimeout(this.killTimer);
    }
  }
}
