import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type EngineEvent, SluiceError } from '@sluice/core';
import { drainLogLines } from '@sluice/testkit';
import { alive, HeldWatchdog, standInRun, standInSuite, until } from '../test/support/stand-in-spark.ts';
import { BatchRun, batchArgs, resolveBatchFile } from './batch-run.ts';
import { DriverWatchdog } from './driver-watchdog.ts';

describe('batch run parameters', () => {
  let dir: string;
  let allowed: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sluice-spark-batch-'));
    allowed = path.join(dir, 'allowed');
    await mkdir(allowed);
    await writeFile(path.join(allowed, 'job.py'), 'print(1)\n');
    await writeFile(path.join(dir, 'secret.py'), 'print(2)\n');
    await symlink(path.join(dir, 'secret.py'), path.join(allowed, 'escape.py'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('turns args into strings and refuses other shapes', () => {
    assert.deepEqual(batchArgs({}), []);
    assert.deepEqual(batchArgs({ args: ['a', 1, true] }), ['a', '1', 'true']);
    assert.throws(() => batchArgs({ args: 'a b' }), /list of strings/);
    assert.throws(() => batchArgs({ args: [{}] }), /list of strings/);
  });

  it('resolves a file only inside the allowed directories, following symbolic links', async () => {
    assert.equal(await resolveBatchFile(path.join(allowed, 'job.py'), [allowed], '.py'), path.join(allowed, 'job.py'));
    await assert.rejects(resolveBatchFile(path.join(allowed, 'escape.py'), [allowed], '.py'), /outside the directories/);
    await assert.rejects(resolveBatchFile(path.join(allowed, '..', 'secret.py'), [allowed], '.py'), /outside the directories/);
    await assert.rejects(resolveBatchFile(path.join(allowed, 'job.py'), [], '.py'), /allows no batch files/);
    await assert.rejects(resolveBatchFile(path.join(allowed, 'missing.py'), [allowed], '.py'), /cannot be read/);
    await assert.rejects(resolveBatchFile(path.join(allowed, 'job.py'), [allowed], '.jar'), /\.jar file/);
    await assert.rejects(resolveBatchFile(42, [allowed], '.py'), /must be a path/);
  });
});

describe('batch run: guarded start', () => {
  const suite = standInSuite();

  async function runOf(watchdog: DriverWatchdog): Promise<{ run: BatchRun; taskDir: string }> {
    const taskDir = await suite.tempDir('sluice-spark-batch-run-');
    const run = new BatchRun({
      taskId: 'guarded-task',
      user: 'alice',
      taskDir,
      install: suite.install(),
      settings: { master: 'local[1]', local: true, driverMemory: '512m', driverCores: 1, submitArgs: [], conf: {} },
      baseConf: {},
      ui: false,
      logLevel: 'WARN',
      watchdog,
      codeType: 'pyspark',
      code: 'print(1)\n',
      runtimeParams: { args: ['two words', '$x', ''] },
      fileRoots: [],
      signal: new AbortController().signal,
      killGraceMs: 1000,
    });
    return { run, taskDir };
  }

  const drain = (run: BatchRun) => drainLogLines(run.events() as AsyncGenerator<EngineEvent>);

  it('runs none of spark-submit before the watchdog confirms the group, then execs it with its arguments', async () => {
    const watchdog = new HeldWatchdog();
    try {
      const { run, taskDir } = await runOf(watchdog);
      const draining = drain(run);
      await until('the guard to be asked', () => watchdog.asked.length > 0);
      await sleep(300);
      assert.equal(existsSync(path.join(taskDir, 'ran')), false, 'nothing ran while the guard was pending');
      watchdog.release();
      const out = await draining;
      assert.equal(out.error, undefined);
      assert.ok(out.lines.includes('stand-in application ran'), out.lines.join('\n'));
      const ran = standInRun(taskDir);
      assert.ok(ran, 'spark-submit ran');
      assert.equal(ran.pid, watchdog.asked[0], 'spark-submit runs in the gate’s process (exec)');
      assert.equal(ran.stdin, '/dev/null');
      assert.deepEqual(ran.args.slice(-4), [path.join(taskDir, 'main.py'), 'two words', '$x', '']);
      assert.deepEqual(watchdog.watched, []);
    } finally {
      watchdog.close();
    }
  });

  it('logs "spark-submit started" only once the guard succeeded and the gate opened', async () => {
    const watchdog = new HeldWatchdog();
    let events: AsyncGenerator<EngineEvent, void, undefined> | undefined;
    try {
      const { run } = await runOf(watchdog);
      events = run.events();
      const first = events.next();
      let settled = false;
      first.then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      await until('the guard to be asked', () => watchdog.asked.length > 0);
      await sleep(300);
      assert.equal(settled, false, 'nothing is logged while the gate is closed');
      watchdog.release();
      const r = await first;
      const pgid = watchdog.asked[0] as number;
      assert.ok(!r.done && r.value.type === 'log', JSON.stringify(r));
      assert.equal(r.value.line, `spark-submit started (pid ${pgid}, master local[1])`);
      assert.deepEqual(watchdog.confirmed, [pgid], 'logged after the watchdog confirmed the group');
      const rest = await drainLogLines(events);
      assert.equal(rest.error, undefined);
      assert.ok(rest.lines.includes('stand-in application ran'), rest.lines.join('\n'));
      assert.ok(!rest.lines.some((l) => l.startsWith('spark-submit started')), 'logged once');
    } finally {
      // A failed assertion must not leave the gate waiting: open it, and stop the run.
      watchdog.release();
      await events?.return(undefined);
      watchdog.close();
    }
  });

  it('fails as a launch failure, without spawning spark-submit, when the watchdog cannot start', async () => {
    const watchdog = new UnstartableWatchdog();
    const { run, taskDir } = await runOf(watchdog);
    const out = await drain(run);
    assert.ok(out.error instanceof SluiceError && out.error.code === 'SLUICE_ENGINE_LAUNCH_FAILED', String(out.error));
    assert.equal(out.error.details.reason, 'spark-submit was not started: the watchdog could not start (cannot fork)');
    assert.ok(!out.lines.some((l) => l.startsWith('spark-submit started')), `no start is logged: ${out.lines.join(' | ')}`);
    await sleep(100);
    assert.equal(existsSync(path.join(taskDir, 'ran')), false);
  });

  it('kills the group without running spark-submit when the guard fails, and the run fails as a launch failure', async () => {
    const watchdog = new HeldWatchdog(new Error('no watchdog here'));
    try {
      const { run, taskDir } = await runOf(watchdog);
      const out = await drain(run);
      assert.ok(out.error instanceof SluiceError && out.error.code === 'SLUICE_ENGINE_LAUNCH_FAILED', String(out.error));
      assert.equal(out.error.details.engine, 'spark');
      assert.equal(out.error.details.reason, 'spark-submit was not started: the watchdog could not guard its process group (no watchdog here)');
      assert.equal(out.error.retryable, true);
      assert.ok(!out.lines.some((l) => l.startsWith('spark-submit started')), `no start is logged: ${out.lines.join(' | ')}`);
      const pgid = watchdog.asked[0] as number;
      assert.ok(pgid > 1);
      assert.equal(alive(pgid), false, 'the group is gone');
      await sleep(100);
      assert.equal(existsSync(path.join(taskDir, 'ran')), false);
    } finally {
      watchdog.close();
    }
  });
});

/** A watchdog that cannot start (a real one cannot be made to fail this way on demand). */
class UnstartableWatchdog extends DriverWatchdog {
  override start(): Promise<void> {
    return Promise.reject(new Error('cannot fork'));
  }
}
