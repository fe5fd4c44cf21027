import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function watchdogPath(): string {
  const ext = import.meta.url.endsWith('.js') ? 'js' : 'ts';
  return fileURLToPath(new URL(`./driver-watchdog-process.${ext}`, import.meta.url));
}

/** Loader flags of this process (e.g. `--import tsx`), which the watchdog needs to load TypeScript. */
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

/**
 * The manager-side handle of the watchdog process (driver-watchdog-process.ts) that kills the process
 * groups of Spark drivers if the manager dies. One per connector; restarted on demand if it dies.
 */
export class DriverWatchdog {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private readonly groups = new Set<number>();

  private ensure(): ChildProcess {
    if (this.child?.connected) return this.child;
    const child = fork(watchdogPath(), [], { execArgv: loaderArgs(), stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { PATH: process.env.PATH ?? '' } });
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    child.on('error', () => {});
    // The manager may exit normally while the watchdog runs.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    this.child = child;
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the Spark driver watchdog did not start within 30 s')), 30_000);
      child.on('message', (m: { type?: string }) => {
        if (m?.type !== 'ready') return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error('the Spark driver watchdog exited'));
      });
    });
    this.ready.catch(() => {});
    for (const pgid of this.groups) child.send({ v: 1, type: 'watch', pgid }, () => {});
    return child;
  }

  /** Starts the watchdog if needed; resolves once it listens, so no driver runs unguarded. */
  async start(): Promise<void> {
    this.ensure();
    await this.ready;
  }

  /** Kill this process group if the manager dies. */
  watch(pgid: number): void {
    this.groups.add(pgid);
    this.ensure().send({ v: 1, type: 'watch', pgid }, () => {});
  }

  /** The group is gone (or was stopped): forget it. */
  unwatch(pgid: number): void {
    this.groups.delete(pgid);
    if (this.child?.connected) this.child.send({ v: 1, type: 'unwatch', pgid }, () => {});
  }

  /** Process groups watched now (for tests). */
  get watched(): number[] {
    return [...this.groups];
  }
}
