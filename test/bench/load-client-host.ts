import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { OpenLoopResult, PhaseResult } from './load-patterns.ts';
import type { JobSample, LoadCommand, LoadReply, LoadTarget } from './load-protocol.ts';

/** The bench's handle on the forked load-client process (see load-client.ts). */
export class LoadClientHost {
  private queue: Promise<unknown> = Promise.resolve();
  private completedBatch: string[] = [];

  private constructor(readonly child: ChildProcess) {}

  /** Forks the load client with this process's Node flags (tsx, source conditions). */
  static start(): LoadClientHost {
    const child = fork(fileURLToPath(new URL('./load-client.ts', import.meta.url)), [], {
      execArgv: process.execArgv.filter((a) => !a.startsWith('--cpu-prof') && !a.startsWith('--inspect')),
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new LoadClientHost(child);
  }

  /** The client's process id, for CPU accounting. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  private call<T extends LoadReply['type']>(cmd: LoadCommand, expect: T, timeoutMs: number): Promise<Extract<LoadReply, { type: T }>> {
    const run = () =>
      new Promise<Extract<LoadReply, { type: T }>>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`load client: no answer to ${cmd.type} within ${timeoutMs} ms`)), timeoutMs);
        const onMessage = (m: LoadReply) => {
          if (m.type === 'failed') done(new Error(`load client failed: ${m.error}`));
          else if (m.type === expect) done(undefined, m as Extract<LoadReply, { type: T }>);
        };
        const onExit = (code: number | null) => done(new Error(`load client exited (${code}) during ${cmd.type}`));
        const done = (err?: Error, value?: Extract<LoadReply, { type: T }>) => {
          clearTimeout(timer);
          this.child.off('message', onMessage);
          this.child.off('exit', onExit);
          if (err) reject(err);
          else resolve(value as Extract<LoadReply, { type: T }>);
        };
        this.child.on('message', onMessage);
        this.child.once('exit', onExit);
        this.child.send(cmd);
      });
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  /** Opens the target in the client: the Sluice clients' WebSockets, or the baseline Queue. */
  async init(target: LoadTarget, timeoutMs = 30_000): Promise<void> {
    await this.call({ type: 'init', target }, 'ready', timeoutMs);
  }

  /**
   * Tells the client that baseline jobs completed. Ids are batched per event-loop turn into one
   * IPC message, one hop from the Worker to the producer.
   */
  completed(jobId: string): void {
    this.completedBatch.push(jobId);
    if (this.completedBatch.length > 1) return;
    setImmediate(() => {
      const ids = this.completedBatch;
      this.completedBatch = [];
      if (this.child.connected) this.child.send({ type: 'completed', ids } satisfies LoadCommand);
    });
  }

  /** Closes the target's connections (before its database is dropped); the process stays. */
  async release(): Promise<void> {
    await this.call({ type: 'release' }, 'released', 15_000);
  }

  /** Closed loop; see {@link closedLoop}. */
  async closed(total: number, concurrency: number, deadlineMs: number): Promise<PhaseResult<JobSample>> {
    return (await this.call({ type: 'closed', total, concurrency, deadlineMs }, 'closed', deadlineMs + 60_000)).result;
  }

  /** Open loop; see {@link openLoop}. */
  async open(total: number, ratePerSec: number, maxInFlight: number, deadlineMs: number): Promise<OpenLoopResult<JobSample>> {
    return (await this.call({ type: 'open', total, ratePerSec, maxInFlight, deadlineMs }, 'open', deadlineMs + 60_000)).result;
  }

  /** Closes the target's connections and lets the process exit; kills it if it does not. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    await this.call({ type: 'close' }, 'closed-down', 10_000).catch(() => {});
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }
}
