import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type EngineEvent, SluiceError } from '@sluice/core';
import { drainLogLines, processAlive } from '@sluice/testkit';
import { ScriptRun } from './script-run.ts';

const dirs: string[] = [];
after(async () => {
  await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function script(body: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sluice-script-run-'));
  dirs.push(dir);
  const file = path.join(dir, 'script.sh');
  await writeFile(file, body, { mode: 0o700 });
  return { dir, file };
}

function runOf(dir: string, file: string, guard: (pgid: number) => Promise<void>, bash = 'bash'): ScriptRun {
  return new ScriptRun({
    bash,
    scriptFile: file,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
    timeoutSeconds: 30,
    signal: new AbortController().signal,
    killGraceMs: 1000,
    guard,
  });
}

const drain = (run: ScriptRun) => drainLogLines(run.events() as AsyncGenerator<EngineEvent>);

describe('script run: guarded start', () => {
  it('runs none of the script before its guard resolves, then all of it', async () => {
    const { dir, file } = await script('touch ran; echo "args: $#, stdin: $(cat | wc -c)"\n');
    let release!: () => void;
    const guarded = new Promise<void>((resolve) => {
      release = resolve;
    });
    let guardedPgid: number | undefined;
    const run = runOf(dir, file, (pgid) => {
      guardedPgid = pgid;
      return guarded;
    });
    assert.equal(guardedPgid, run.pid, 'the guard is asked for the group of the spawned bash');
    await sleep(300);
    assert.equal(existsSync(path.join(dir, 'ran')), false, 'nothing ran while the guard was pending');
    release();
    const out = await drain(run);
    assert.equal(out.error, undefined);
    assert.equal(existsSync(path.join(dir, 'ran')), true);
    // The script runs as before: no arguments, and stdin at end of file.
    assert.deepEqual(out.lines, ['args: 0, stdin: 0']);
  });

  it('kills the group without running the script when the guard fails, and the run fails as a launch failure', async () => {
    const { dir, file } = await script('touch ran\n');
    let pgid: number | undefined;
    const run = runOf(dir, file, async (p) => {
      pgid = p;
      // Long enough for an ungated script to have run.
      await sleep(300);
      throw new Error('no watchdog');
    });
    const out = await drain(run);
    assert.ok(out.error instanceof SluiceError && out.error.code === 'SLUICE_ENGINE_LAUNCH_FAILED', String(out.error));
    assert.equal(out.error.details.engine, 'shell');
    assert.equal(out.error.details.reason, 'the script was not started: the watchdog could not guard its process group (no watchdog)');
    assert.equal(out.error.retryable, true);
    assert.deepEqual(out.lines, []);
    assert.equal(run.guardFailed, true);
    assert.ok(pgid !== undefined && !processAlive(pgid), 'the group is gone');
    await sleep(100);
    assert.equal(existsSync(path.join(dir, 'ran')), false);
  });

  it('keeps the reason of a run stopped before its guard failed', async () => {
    const { dir, file } = await script('touch ran\n');
    const controller = new AbortController();
    // Cancelled at construction, before the rejected guard is seen (a microtask later).
    controller.abort();
    const run = new ScriptRun({
      bash: 'bash',
      scriptFile: file,
      cwd: dir,
      env: { PATH: process.env.PATH ?? '' },
      timeoutSeconds: 30,
      signal: controller.signal,
      killGraceMs: 1000,
      guard: () => Promise.reject(new Error('no watchdog')),
    });
    const out = await drain(run);
    assert.ok(out.error instanceof SluiceError && out.error.code === 'SLUICE_JOB_CANCELLED', String(out.error));
    assert.equal(run.guardFailed, false);
    assert.equal(existsSync(path.join(dir, 'ran')), false);
  });

  it('fails as a launch failure when bash cannot be started at all', async () => {
    const { dir, file } = await script('touch ran\n');
    const run = runOf(dir, file, () => Promise.resolve(), path.join(dir, 'no-such-bash'));
    const out = await drain(run);
    assert.ok(out.error instanceof SluiceError && out.error.code === 'SLUICE_ENGINE_LAUNCH_FAILED', String(out.error));
    assert.match(String(out.error.details.reason), /^could not start bash: .*ENOENT/);
    assert.equal(run.guardFailed, false);
    assert.equal(existsSync(path.join(dir, 'ran')), false);
  });

  it('fails with SLUICE_ENGINE_SCRIPT_FAILED, not as a launch failure, when the script ran and was killed', async () => {
    const { dir, file } = await script('touch ran; kill -9 $$\n');
    const out = await drain(runOf(dir, file, () => Promise.resolve()));
    assert.ok(out.error instanceof SluiceError && out.error.code === 'SLUICE_ENGINE_SCRIPT_FAILED', String(out.error));
    assert.equal(out.error.details.signal, 'SIGKILL');
    assert.equal(existsSync(path.join(dir, 'ran')), true);
  });
});
