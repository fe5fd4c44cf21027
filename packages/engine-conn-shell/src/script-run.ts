import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { type EngineEvent, SluiceError } from '@sluice/core';
import { signalGroup, spawnGated } from '@sluice/process-watchdog';
import { LineSplitter } from './line-splitter.ts';

/** Buffered lines at which the script's output is paused until the consumer catches up. */
export const LINE_HIGH_WATER = 256;

/** Everything one script run needs. */
export interface ScriptRunSpec {
  bash: string;
  scriptFile: string;
  cwd: string;
  env: Record<string, string>;
  timeoutSeconds: number;
  signal: AbortSignal;
  /** Time between SIGTERM and SIGKILL when a run is stopped. */
  killGraceMs: number;
  /** Told the process group id as soon as bash starts, and again when it is gone. */
  onGroup?: (event: 'start' | 'end', pgid: number) => void;
  /**
   * Resolves once the process group is guarded (its watchdog knows it). The script's own code starts
   * only then; if it rejects, the group is killed before the script ran and the run fails with
   * SLUICE_ENGINE_LAUNCH_FAILED.
   */
  guard?: (pgid: number) => Promise<void>;
}

type StopReason = 'cancel' | 'timeout' | 'closed';

const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long output pipes may stay open after bash exited while nobody is behind on reading them. */
const STREAM_GRACE_MS = 2000;

/**
 * One script in its own process group. Output lines are buffered up to {@link LINE_HIGH_WATER} and
 * the pipes are paused beyond that, so a script that writes faster than the consumer pulls blocks on
 * its own output. Stopping signals the whole group: SIGTERM, then SIGKILL after the grace period.
 * A script that never ran (its group could not be guarded, or bash could not be spawned) fails with
 * SLUICE_ENGINE_LAUNCH_FAILED; one that ran and was killed with SLUICE_ENGINE_SCRIPT_FAILED.
 */
export class ScriptRun {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private readonly streams: Readable[] = [];
  private readonly endedStreams = new Set<Readable>();
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private spawnError: Error | undefined;
  /** Why the watchdog could not guard the group (which was then killed before the script ran). */
  private guardError: Error | undefined;
  private stopReason: StopReason | undefined;
  private wake: (() => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly exited: Promise<void>;
  private readonly onAbort = () => this.stop('cancel');

  constructor(private readonly spec: ScriptRunSpec) {
    const options = { cwd: spec.cwd, env: spec.env };
    // Guarded: bash waits behind the gate until the watchdog knows its group, then becomes the script.
    this.child = spec.guard
      ? spawnGated(spec.bash, [spec.scriptFile], {
          ...options,
          bash: spec.bash,
          guard: spec.guard,
          onGuardFailed: (err) => {
            // A run stopped before (cancel, time limit, engine closed) keeps that reason.
            if (!this.stopReason) this.guardError ??= err;
          },
        })
      : spawn(spec.bash, [spec.scriptFile], { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.child.pid !== undefined) spec.onGroup?.('start', this.child.pid);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        // Background processes the script left behind go with it.
        if (this.child.pid !== undefined) {
          signalGroup(this.child.pid, 'SIGKILL');
          spec.onGroup?.('end', this.child.pid);
        }
        this.guardStreams();
        this.notify();
        resolve();
      });
      this.child.once('error', (err) => {
        if (this.child.pid !== undefined) return;
        this.spawnError = err;
        for (const stream of this.streams) this.endedStreams.add(stream);
        this.notify();
        resolve();
      });
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      this.streams.push(stream);
      const splitter = new LineSplitter();
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => this.take(splitter.push(text)));
      stream.once('end', () => {
        this.take(splitter.end());
        this.endedStreams.add(stream);
        this.notify();
      });
      stream.once('close', () => {
        this.endedStreams.add(stream);
        this.notify();
      });
    }
    const timeoutMs = Math.min(spec.timeoutSeconds * 1000, MAX_TIMER_MS);
    this.timers.push(setTimeout(() => this.stop('timeout'), timeoutMs));
    if (spec.signal.aborted) this.stop('cancel');
    else spec.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The OS process id of the script's bash (also its process group id). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  private get streamsOpen(): boolean {
    return this.endedStreams.size < this.streams.length;
  }

  /**
   * After bash exits its process group is killed, which closes the pipes. A process that left the
   * group (setsid) may still hold them: once the consumer has drained everything, stop waiting.
   */
  private guardStreams(): void {
    const timer = setTimeout(() => {
      if (!this.streamsOpen) return;
      if (this.lines.length > 0 || this.streams.some((stream) => stream.isPaused() && !this.stopReason)) {
        this.guardStreams();
        return;
      }
      for (const stream of this.streams) {
        stream.destroy();
        this.endedStreams.add(stream);
      }
      this.notify();
    }, STREAM_GRACE_MS);
    timer.unref();
    this.timers.push(timer);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private take(lines: string[]): void {
    if (this.stopReason) return;
    for (const line of lines) this.lines.push(line);
    if (this.lines.length >= LINE_HIGH_WATER) for (const stream of this.streams) stream.pause();
    if (lines.length > 0) this.notify();
  }

  /** Stops the script and everything it started. Idempotent; the first reason wins. */
  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.lines.length = 0;
    // Drain (and drop) whatever is still written so nothing blocks on a full pipe while dying.
    for (const stream of this.streams) stream.resume();
    const pgid = this.child.pid;
    if (pgid !== undefined) {
      signalGroup(pgid, reason === 'closed' ? 'SIGKILL' : 'SIGTERM');
      this.timers.push(setTimeout(() => signalGroup(pgid, 'SIGKILL'), this.spec.killGraceMs));
    }
    this.notify();
  }

  /** Resolves once bash has exited. */
  whenExited(): Promise<void> {
    return this.exited;
  }

  /** True when the watchdog could not guard the script's group, so the script never ran. */
  get guardFailed(): boolean {
    return this.guardError !== undefined;
  }

  private failure(): SluiceError | undefined {
    if (this.guardError) {
      return new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', {
        engine: 'shell',
        reason: `the script was not started: the watchdog could not guard its process group (${this.guardError.message})`,
      });
    }
    switch (this.stopReason) {
      case 'cancel':
        return new SluiceError('SLUICE_JOB_CANCELLED');
      case 'timeout':
        return new SluiceError('SLUICE_JOB_RUN_TIMEOUT', { seconds: this.spec.timeoutSeconds });
      case 'closed':
        return new SluiceError('SLUICE_ENGINE_CRASHED', { engine: 'shell', reason: 'the engine was closed' });
      default:
        break;
    }
    if (this.spawnError) return new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: 'shell', reason: `could not start bash: ${this.spawnError.message}` });
    const { code, signal } = this.exit!;
    if (code === 0) return undefined;
    if (signal) {
      const exitCode = 128 + (constants.signals[signal] ?? 0);
      return new SluiceError('SLUICE_ENGINE_SCRIPT_FAILED', { exitCode, signal }, `The script was killed by ${signal}`);
    }
    return new SluiceError('SLUICE_ENGINE_SCRIPT_FAILED', { exitCode: code });
  }

  /** Log events of the run; ends when the script exits 0, else throws the matching SluiceError. */
  async *events(): AsyncGenerator<EngineEvent, void, undefined> {
    try {
      for (;;) {
        if (this.stopReason) {
          if (!this.exit && !this.spawnError) await this.exited;
          throw this.failure();
        }
        const line = this.lines.shift();
        if (line !== undefined) {
          if (this.lines.length === 0) for (const stream of this.streams) stream.resume();
          yield { type: 'log', line };
          continue;
        }
        if ((this.exit || this.spawnError) && !this.streamsOpen) {
          const error = this.failure();
          if (error) throw error;
          return;
        }
        for (const stream of this.streams) stream.resume();
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      if (!this.exit && !this.spawnError) {
        // The consumer stopped early: the script must not outlive its task.
        this.stop('cancel');
        await this.exited;
      }
      for (const timer of this.timers) clearTimeout(timer);
      this.spec.signal.removeEventListener('abort', this.onAbort);
      for (const stream of this.streams) stream.destroy();
    }
  }
}
