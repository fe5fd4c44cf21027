import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Path of the watchdog entry point beside this module (`.ts` from source, `.js` when built). */
function watchdogPath(): string {
  const ext = import.meta.url.endsWith('.js') ? 'js' : 'ts';
  return fileURLToPath(new URL(`./group-watchdog-process.${ext}`, import.meta.url));
}

/** Loader flags of this process (e.g. `--import tsx`) without flags that only make sense once, like `-e`. */
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
 * The manager-side handle of a shell engine's watchdog process (see group-watchdog-process.ts).
 * It is restarted on demand if it ever dies, so protection never silently lapses for long.
 */
export class GroupWatchdog {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private readonly groups = new Set<number>();
  private closed = false;

  private ensure(): ChildProcess | undefined {
    if (this.closed) return undefined;
    if (this.child?.connected) return this.child;
    const child = fork(watchdogPath(), [], { execArgv: loaderArgs(), stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { PATH: process.env.PATH ?? '' } });
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    child.on('error', () => {});
    // Let the manager exit normally even while the watchdog runs.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    this.child = child;
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the shell watchdog did not start within 15 s')), 15_000);
      child.on('message', (m: { type?: string }) => {
        if (m?.type !== 'ready') return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error('the shell watchdog exited'));
      });
    });
    this.ready.catch(() => {});
    for (const pgid of this.groups) child.send({ v: 1, type: 'watch', pgid });
    return child;
  }

  /** Starts the watchdog process; resolves once it listens, so no script runs unguarded. */
  async start(): Promise<void> {
    this.ensure();
    await this.ready;
  }

  watch(pgid: number): void {
    this.groups.add(pgid);
    this.ensure()?.send({ v: 1, type: 'watch', pgid }, () => {});
  }

  unwatch(pgid: number): void {
    this.groups.delete(pgid);
    if (this.child?.connected) this.child.send({ v: 1, type: 'unwatch', pgid }, () => {});
  }

  /** Stops the watchdog (after the engine stopped its scripts itself). */
  close(): void {
    this.closed = true;
    if (this.child?.connected) this.child.disconnect();
    this.child = undefined;
  }
}
