import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/sluice.mjs', import.meta.url));

/**
 * A directory with `sluice` in it (a link to bin/sluice.mjs, as npm links a package's bin) and an
 * empty HOME, so a CLI under test finds `sluice` on PATH and reads no user's ~/.sluice/config.json.
 */
export function cliSandbox(): { binDir: string; home: string; root: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-test-'));
  const binDir = path.join(root, 'bin');
  const home = path.join(root, 'home');
  mkdirSync(binDir);
  mkdirSync(home);
  symlinkSync(BIN, path.join(binDir, 'sluice'));
  return { binDir, home, root };
}

/** The output and outcome of a CLI run. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A CLI started under a shell, still running. */
export interface RunningCli {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Waits until stdout+stderr match `pattern`; returns the match. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the shell has exited. */
  done: Promise<CliRun>;
}

/** Where and as whom the CLI runs. */
export interface CliEnv {
  binDir: string;
  home: string;
  url: string;
  token: string;
  extra?: Record<string, string>;
}

function childEnv(e: CliEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SLUICE_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, HOME: e.home, PATH: `${e.binDir}:${process.env.PATH}`, SLUICE_URL: e.url, SLUICE_TOKEN: e.token, ...e.extra };
}

/**
 * Starts `script` under `bash -c`, the way a DolphinScheduler shell task runs its script, with
 * SLUICE_URL/SLUICE_TOKEN in the environment. `setsid` puts it in its own process group (its pid is
 * the group id) so a test can kill the whole tree.
 */
export function startCli(script: string, e: CliEnv, opts: { setsid?: boolean } = {}): RunningCli {
  const child = opts.setsid
    ? spawn('setsid', ['bash', '-c', script], { env: childEnv(e), stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('bash', ['-c', script], { env: childEnv(e), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    wake();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    wake();
  });
  const done = new Promise<CliRun>((resolve) => {
    child.on('close', (code, signal) => {
      wake();
      const run = { code, signal, stdout, stderr };
      assertNoToken(run, e.token);
      resolve(run);
    });
  });
  let exited = false;
  void done.then(() => {
    exited = true;
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    done,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = `${stdout}\n${stderr}`.match(pattern);
          if (m) {
            cleanup();
            resolve(m);
          } else if (exited) {
            cleanup();
            reject(new Error(`the CLI exited before printing ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs `script` under `bash -c` to the end. */
export function runCli(script: string, e: CliEnv, timeoutMs = 60_000): Promise<CliRun> {
  const cli = startCli(script, e);
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), timeoutMs);
  return cli.done.finally(() => clearTimeout(timer));
}

/** The token must never appear in anything the CLI prints. */
export function assertNoToken(run: Pick<CliRun, 'stdout' | 'stderr'>, token: string): void {
  assert.ok(!run.stdout.includes(token) && !run.stderr.includes(token), 'the CLI printed its token');
}

/** Quotes a value for bash. */
export function sh(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The job id a synchronous run printed on stderr (`[sluice] job 42 submitted (id 01J…`). */
export async function submittedJob(cli: RunningCli): Promise<{ seq: string; id: string }> {
  const m = await cli.waitFor(/job (\d+) submitted \(id ([0-9A-Z]{26})/);
  return { seq: m[1] as string, id: m[2] as string };
}
