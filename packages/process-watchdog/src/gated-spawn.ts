import { type ChildProcess, spawn } from 'node:child_process';
import { signalGroup } from './process-group.ts';

/**
 * What bash runs first: it waits for one line on stdin, then execs the program with its arguments and
 * stdin from /dev/null. End of input without the line (the parent died) means exit without running it.
 */
const GATE = 'IFS= read -r _ || exit 0; exec "$0" "$@" </dev/null';

/** How to start one gated program. */
export interface GatedSpawnOptions {
  /** The bash that runs the gate (default: `bash` on the PATH). */
  bash?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Resolves once the watchdog watches the new process group; the program starts only then. */
  guard: (pgid: number) => Promise<void>;
  /** Called (never synchronously) when `guard` rejects, after the group was killed; the program never ran. */
  onGuardFailed: (err: Error) => void;
  /**
   * Called (never synchronously) once `guard` resolved and the gate was told to open: the program
   * starts now. Not called when the gate was gone by then (stopped meanwhile), nor when `guard` rejects.
   */
  onOpened?: () => void;
}

/**
 * Spawns `program args` in a process group of its own, held behind a bash gate until `guard(pgid)`
 * resolves, so nothing of it runs before the watchdog knows the group: a `kill -9` of this process in
 * between leaves nothing behind. The gate execs the program, so the child's pid stays the program's.
 * stdout and stderr are pipes; the program's stdin is /dev/null.
 */
export function spawnGated(program: string, args: readonly string[], options: GatedSpawnOptions): ChildProcess {
  // `--norc`: bash reads ~/.bashrc when its stdin is a socket, which Node's stdio pipes are.
  const child = spawn(options.bash ?? 'bash', ['--norc', '-c', GATE, program, ...args], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const pgid = child.pid;
  const stdin = child.stdin;
  // The gate may be gone (stopped, killed) before the line is written: its exit tells the story.
  stdin?.on('error', () => {});
  if (pgid === undefined) {
    stdin?.destroy();
    return child;
  }
  options.guard(pgid).then(
    () => {
      const gateRuns = child.exitCode === null && child.signalCode === null;
      stdin?.end('\n');
      if (gateRuns) options.onOpened?.();
    },
    (err: unknown) => {
      // A gate already gone (stopped meanwhile) has no group left, and its id may be reused.
      if (child.exitCode === null && child.signalCode === null) signalGroup(pgid, 'SIGKILL');
      stdin?.destroy();
      options.onGuardFailed(err instanceof Error ? err : new Error(String(err)));
    },
  );
  return child;
}
