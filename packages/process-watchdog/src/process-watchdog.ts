import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Path of the watchdog entry point beside this module (`.ts` from source, `.js` when built). */
function watchdogPath(): string {
  const ext = import.meta.url.endsWith('.js') ? 'js' : 'ts';
  return fileURLToPath(new URL(`./watchdog-process.${ext}`, import.meta.url));
}

/** Loader flags of this process (e.g. `--import tsx`) the watchdog needs, without one-off flags such as `-e`. */
function loaderArgs(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (/^--(import|require|loader|experimental-loader|conditions)=/.test(a)) out.push(a);
    else if (/^--(import|require|loader|experimental-loader|conditions)$/.test(a) && i + 1 < argv.length) out.push(a, argv[++i] as string);
  }
  return out;
}

/** Options of a {@link ProcessWatchdog}. */
export interface ProcessWatchdogOptions {
  /** Named in error messages, e.g. `Spark driver` (default `process`). */
  name?: string;
  /** How long the watchdog process may take to start (default 30 s). */
  readyTimeoutMs?: number;
}

/**
 * The parent-side handle of a watchdog process (watchdog-process.ts) that kills the watched process
 * groups if this process dies. It is restarted on demand if it ever dies, and told every group still
 * watched, so protection never lapses for long. It does not keep this process alive.
 */
export class ProcessWatchdog {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private readonly groups = new Set<number>();
  /** Callers of {@link guard} waiting for the watchdog to confirm a group. */
  private readonly confirming = new Map<number, Set<{ resolve: () => void; reject: (err: Error) => void }>>();
  private closed = false;
  private readonly name: string;
  private readonly readyTimeoutMs: number;

  constructor(options: ProcessWatchdogOptions = {}) {
    this.name = options.name ?? 'process';
    this.readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  }

  private ensure(): ChildProcess | undefined {
    if (this.closed) return undefined;
    if (this.child?.connected) return this.child;
    const child = fork(watchdogPath(), [], { execArgv: loaderArgs(), stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { PATH: process.env.PATH ?? '' } });
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    child.on('message', (m: { type?: string; pgid?: number }) => {
      if (m?.type !== 'watching' || typeof m.pgid !== 'number') return;
      const waiting = this.confirming.get(m.pgid);
      this.confirming.delete(m.pgid);
      for (const w of waiting ?? []) w.resolve();
    });
    child.on('error', () => {});
    // This process may exit normally while the watchdog runs.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    this.child = child;
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the ${this.name} watchdog did not start within ${this.readyTimeoutMs} ms`)), this.readyTimeoutMs);
      child.on('message', (m: { type?: string }) => {
        if (m?.type !== 'ready') return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`the ${this.name} watchdog exited`));
      });
    });
    this.ready.catch(() => {});
    for (const pgid of this.groups) child.send({ v: 1, type: 'watch', pgid }, () => {});
    return child;
  }

  /** Starts the watchdog if needed; resolves once it listens, so nothing runs unguarded. */
  async start(): Promise<void> {
    if (this.closed) throw new Error(`the ${this.name} watchdog is closed`);
    this.ensure();
    await this.ready;
  }

  /** Kill this process group if this process dies. */
  watch(pgid: number): void {
    this.groups.add(pgid);
    this.ensure()?.send({ v: 1, type: 'watch', pgid }, () => {});
  }

  /**
   * Like {@link watch}, and resolves once the watchdog has confirmed the group, so the caller can hold
   * the group's work back until then: a process that starts before its group is known could outlive
   * a `kill -9` of this process that comes in between. Rejects when no confirmation comes in time.
   */
  guard(pgid: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`the ${this.name} watchdog is closed`));
    const confirmed = new Promise<void>((resolve, reject) => {
      const waiting = this.confirming.get(pgid) ?? new Set();
      this.confirming.set(pgid, waiting);
      const timer = setTimeout(() => {
        waiting.delete(entry);
        if (waiting.size === 0 && this.confirming.get(pgid) === waiting) this.confirming.delete(pgid);
        reject(new Error(`the ${this.name} watchdog did not confirm process group ${pgid} within ${this.readyTimeoutMs} ms`));
      }, this.readyTimeoutMs);
      const entry = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err: Error) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      waiting.add(entry);
    });
    this.watch(pgid);
    return confirmed;
  }

  /** The group is gone (or was stopped): forget it. */
  unwatch(pgid: number): void {
    this.groups.delete(pgid);
    if (this.child?.connected) this.child.send({ v: 1, type: 'unwatch', pgid }, () => {});
  }

  /** Process groups watched now. */
  get watched(): number[] {
    return [...this.groups];
  }

  /** Pid of the watchdog process, while it runs. */
  get pid(): number | undefined {
    return this.child?.connected ? this.child.pid : undefined;
  }

  /**
   * Stops the watchdog. Groups still watched are killed, as if this process had died: call it after
   * stopping them yourself.
   */
  close(): void {
    this.closed = true;
    for (const waiting of this.confirming.values()) for (const w of waiting) w.reject(new Error(`the ${this.name} watchdog is closed`));
    this.confirming.clear();
    if (this.child?.connected) this.child.disconnect();
    this.child = undefined;
  }
}
