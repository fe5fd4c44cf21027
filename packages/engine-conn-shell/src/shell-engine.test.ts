import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Engine, type EngineTask, SluiceError } from '@sluice/core';
import type { ProcessWatchdog } from '@sluice/process-watchdog';
import { processAlive as isProcessAlive } from '@sluice/testkit';
import { GroupWatchdog } from './group-watchdog.ts';
import { LINE_HIGH_WATER } from './script-run.ts';
import { createShellConnector, type ShellConnectorOptions } from './shell-connector.ts';
import { ShellEngine, taskDirName } from './shell-engine.ts';

const dirs: string[] = [];
const engines: Engine[] = [];
const strays: number[] = [];

after(async () => {
  await Promise.allSettled(engines.map((e) => e.close()));
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function launch(options: ShellConnectorOptions = {}): Promise<{ engine: Engine; workDir: string }> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'sluice-shell-test-'));
  dirs.push(workDir);
  const engine = await createShellConnector(options).launch({ engineId: `s${engines.length + 1}`, user: 'test', version: '1', workDir, params: {} });
  engines.push(engine);
  return { engine, workDir };
}

let seq = 0;
function task(code: string, extra: Partial<EngineTask> = {}): EngineTask {
  seq += 1;
  return { taskId: `task-${seq}`, code, codeType: 'bash', runtimeParams: {}, signal: new AbortController().signal, ...extra };
}

async function lines(engine: Engine, t: EngineTask): Promise<string[]> {
  const out: string[] = [];
  for await (const event of engine.execute(t)) {
    assert.equal(event.type, 'log');
    if (event.type === 'log') out.push(event.line);
  }
  return out;
}

async function failure(promise: Promise<unknown>): Promise<SluiceError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SluiceError, `expected a SluiceError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a failure');
}

async function waitUntilDead(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await sleep(25);
  }
  return !isProcessAlive(pid);
}

/** Starts a task and resolves its first log line (a pid the script echoes), leaving the task running. */
async function startAndReadPid(engine: Engine, t: EngineTask): Promise<{ pid: number; rest: Promise<string[]> }> {
  const iterator = engine.execute(t)[Symbol.asyncIterator]();
  const first = await iterator.next();
  assert.ok(!first.done && first.value.type === 'log');
  const pid = Number(first.value.type === 'log' ? first.value.line : Number.NaN);
  assert.ok(Number.isInteger(pid) && pid > 0, `expected a pid, got ${JSON.stringify(first.value)}`);
  strays.push(pid);
  const rest = (async () => {
    const out: string[] = [];
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) if (r.value.type === 'log') out.push(r.value.line);
    return out;
  })();
  rest.catch(() => {});
  return { pid, rest };
}

describe('shell engine', () => {
  it('runs the script with a minimal environment, not the server one', async () => {
    process.env.SLUICE_TEST_SECRET = 'do-not-leak';
    try {
      const { engine, workDir } = await launch();
      const env = await lines(
        engine,
        task('env', { taskId: 'env-task', runtimeParams: { env: { FOO: 'bar', COUNT: 3, LANG: 'en_US.UTF-8', SLUICE_TASK_ID: 'spoofed' } } }),
      );
      const names = env.map((line) => line.slice(0, line.indexOf('='))).sort();
      // bash itself adds PWD, SHLVL and _.
      assert.deepEqual(names, ['FOO', 'HOME', 'LANG', 'PATH', 'PWD', 'SHLVL', 'SLUICE_TASK_ID', '_']);
      assert.ok(env.includes('FOO=bar'));
      assert.ok(env.includes('LANG=en_US.UTF-8'), 'runtimeParams.env may override LANG');
      assert.ok(env.includes('SLUICE_TASK_ID=env-task'), 'SLUICE_TASK_ID cannot be overridden');
      assert.ok(env.includes(`HOME=${workDir}`));
      assert.ok(!env.some((line) => line.includes('do-not-leak')));
    } finally {
      delete process.env.SLUICE_TEST_SECRET;
    }
  });

  it('runs each task in its own directory under the engine workDir', async () => {
    const { engine, workDir } = await launch();
    const [cwd] = await lines(engine, task('pwd; echo made > here.txt', { taskId: 'job/42 attempt 1' }));
    assert.equal(cwd, path.join(workDir, 'tasks', 'job_42_attempt_1'));
    assert.equal(await readFile(path.join(workDir, 'tasks', 'job_42_attempt_1', 'here.txt'), 'utf8'), 'made\n');
    assert.equal(taskDirName('..'), 'task_2');
    assert.equal(taskDirName('../../etc'), '.._.._etc');
  });

  it('turns stdout and stderr into log lines, in order per stream, keeping empty lines and UTF-8', async () => {
    const { engine } = await launch();
    const out = await lines(engine, task('for i in $(seq 1 500); do echo "out $i"; echo "err $i" >&2; done; echo; printf "h\\u00e9llo \\u2713\\r\\nlast"'));
    const stdout = out.filter((l) => l.startsWith('out '));
    const stderr = out.filter((l) => l.startsWith('err '));
    assert.deepEqual(
      stdout,
      Array.from({ length: 500 }, (_, i) => `out ${i + 1}`),
    );
    assert.deepEqual(
      stderr,
      Array.from({ length: 500 }, (_, i) => `err ${i + 1}`),
    );
    // Across the two streams the order is not defined; within stdout it is.
    assert.deepEqual(out.filter((l) => !l.startsWith('err ')).slice(-3), ['', 'héllo ✓', 'last']);
  });

  it('maps exit codes: 0 succeeds, others fail with SLUICE_ENGINE_SCRIPT_FAILED', async () => {
    const { engine } = await launch();
    assert.deepEqual(await lines(engine, task('true')), []);
    const three = await failure(lines(engine, task('echo partial; exit 3')));
    assert.equal(three.code, 'SLUICE_ENGINE_SCRIPT_FAILED');
    assert.deepEqual(three.details, { exitCode: 3 });
    assert.equal(three.category, 'user');
    const last = await failure(lines(engine, task('false')));
    assert.deepEqual(last.details, { exitCode: 1 });
    const killed = await failure(lines(engine, task('kill -9 $$')));
    assert.deepEqual(killed.details, { exitCode: 137, signal: 'SIGKILL' });
  });

  it('accepts the sh and bash code types and refuses others', async () => {
    const { engine } = await launch();
    assert.deepEqual(await lines(engine, task('echo $0 | grep -c script.sh', { codeType: 'sh' })), ['1']);
    const err = await failure(lines(engine, task('SELECT 1', { codeType: 'sql' })));
    assert.equal(err.code, 'SLUICE_JOB_CODE_TYPE_UNSUPPORTED');
  });

  it('cancel kills the whole process group, grandchildren included', async () => {
    const { engine } = await launch();
    const controller = new AbortController();
    const { pid, rest } = await startAndReadPid(engine, task('sleep 1000 & echo $!; wait', { signal: controller.signal }));
    assert.ok(isProcessAlive(pid), 'the grandchild runs');
    const abortedAt = Date.now();
    controller.abort();
    const err = await failure(rest);
    assert.equal(err.code, 'SLUICE_JOB_CANCELLED');
    // Far below the script's own 1000 s, with room for a loaded CI host.
    assert.ok(Date.now() - abortedAt < 30_000);
    assert.ok(await waitUntilDead(pid, 2000), `grandchild ${pid} is dead`);
  });

  it('cancel escalates to SIGKILL when the script ignores SIGTERM', async () => {
    const { engine } = await launch({ killGraceMs: 300 });
    const controller = new AbortController();
    const { pid, rest } = await startAndReadPid(engine, task("trap '' TERM; sleep 1000 & echo $!; wait; wait", { signal: controller.signal }));
    controller.abort();
    const abortedAt = Date.now();
    const err = await failure(rest);
    assert.equal(err.code, 'SLUICE_JOB_CANCELLED');
    const took = Date.now() - abortedAt;
    assert.ok(took >= 250 && took < 3000, `stopped after the grace period, took ${took} ms`);
    assert.ok(await waitUntilDead(pid, 2000), `grandchild ${pid} is dead`);
  });

  it('the time limit kills the process group and fails with SLUICE_JOB_RUN_TIMEOUT', async () => {
    const { engine } = await launch();
    const startedAt = Date.now();
    const { pid, rest } = await startAndReadPid(engine, task('sleep 1000 & echo $!; wait', { runtimeParams: { timeoutSeconds: 1 } }));
    const err = await failure(rest);
    assert.equal(err.code, 'SLUICE_JOB_RUN_TIMEOUT');
    assert.deepEqual(err.details, { seconds: 1 });
    const took = Date.now() - startedAt;
    assert.ok(took >= 900 && took < 4000, `timed out after ${took} ms`);
    assert.ok(await waitUntilDead(pid, 2000), `grandchild ${pid} is dead`);
  });

  it('takes the default time limit from the connector options and refuses a bad one', async () => {
    const { engine } = await launch({ timeoutSeconds: 0.5 });
    const err = await failure(lines(engine, task('sleep 5')));
    assert.equal(err.code, 'SLUICE_JOB_RUN_TIMEOUT');
    assert.deepEqual(err.details, { seconds: 0.5 });
    const bad = await failure(lines(engine, task('true', { runtimeParams: { timeoutSeconds: -1 } })));
    assert.equal(bad.code, 'SLUICE_REQUEST_INVALID');
    assert.throws(() => createShellConnector({ timeoutSeconds: 0 }), RangeError);
  });

  it('kills background processes a finished script left behind', async () => {
    const { engine } = await launch();
    const startedAt = Date.now();
    const out = await lines(engine, task('sleep 1000 & echo $!'));
    assert.ok(Date.now() - startedAt < 1500, 'the task ends when the script does, although sleep holds stdout');
    const pid = Number(out[0]);
    strays.push(pid);
    assert.ok(await waitUntilDead(pid, 2000), `background process ${pid} is dead`);
  });

  it('does not hang on a process that escaped the group but holds the output pipe', async () => {
    const { engine } = await launch();
    const startedAt = Date.now();
    // Give setsid time to leave the group before bash exits (and the group is killed).
    const out = await lines(engine, task('setsid sleep 1000 & pid=$!; sleep 0.3; echo $pid'));
    const pid = Number(out[0]);
    strays.push(pid);
    const took = Date.now() - startedAt;
    assert.ok(isProcessAlive(pid), 'the escaped process is still running (it left the group)');
    assert.ok(took >= 1500 && took < 5000, `ended after ${took} ms`);
  });

  it('pauses a script that writes faster than the consumer pulls', async () => {
    const { engine } = await launch();
    const events = engine.execute(task('seq 1 200000; echo done > marker; echo finished'));
    const iterator = events[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.deepEqual(first.value, { type: 'log', line: '1' });
    await sleep(400);
    const runs = dirs.at(-1)!;
    const marker = path.join(runs, 'tasks', `task-${seq}`, 'marker');
    assert.equal(existsSync(marker), false, 'the script is blocked on its output while nobody pulls');
    let count = 1;
    let last = '';
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
      count += 1;
      if (r.value.type === 'log') last = r.value.line;
    }
    assert.equal(count, 200_001);
    assert.equal(last, 'finished');
    assert.equal(existsSync(marker), true);
    assert.ok(LINE_HIGH_WATER < 200_000);
  });

  it('stops the script when the consumer leaves early', async () => {
    const { engine } = await launch();
    const { pid } = await (async () => {
      for await (const event of engine.execute(task('sleep 1000 & echo $!; wait'))) {
        if (event.type === 'log') return { pid: Number(event.line) };
      }
      return { pid: 0 };
    })();
    strays.push(pid);
    assert.ok(await waitUntilDead(pid, 3000), `grandchild ${pid} is dead after the consumer left`);
  });

  it('close() kills running scripts and refuses new tasks', async () => {
    const { engine } = await launch();
    const { pid, rest } = await startAndReadPid(engine, task('sleep 1000 & echo $!; wait'));
    await engine.close();
    const err = await failure(rest);
    assert.equal(err.code, 'SLUICE_ENGINE_CRASHED');
    assert.ok(await waitUntilDead(pid, 2000));
    assert.equal((await engine.health()).ok, false);
    assert.equal((await failure(lines(engine, task('true')))).code, 'SLUICE_ENGINE_CRASHED');
  });

  it('runs several tasks of one engine at the same time', async () => {
    const { engine } = await launch();
    const startedAt = Date.now();
    const results = await Promise.all([1, 2, 3].map((n) => lines(engine, task(`sleep 0.5; echo ${n}`))));
    assert.deepEqual(results, [['1'], ['2'], ['3']]);
    assert.ok(Date.now() - startedAt < 1400, 'they ran in parallel');
  });
});

/** A real watchdog whose guard() fails after 300 ms (long enough for an ungated script to have run). */
class RefusingWatchdog extends GroupWatchdog {
  readonly asked: number[] = [];

  override guard(pgid: number): Promise<void> {
    this.asked.push(pgid);
    return sleep(300).then(() => Promise.reject(new Error('no watchdog here')));
  }
}

/** A shell engine built directly, whose watchdogs come from `newWatchdog` (not started: execute() starts them). */
async function engineWithWatchdogs(id: string, newWatchdog: () => ProcessWatchdog): Promise<{ engine: ShellEngine; workDir: string }> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'sluice-shell-test-'));
  dirs.push(workDir);
  const settings = {
    bash: 'bash',
    workDir,
    baseEnv: { PATH: process.env.PATH ?? '', HOME: workDir, LANG: 'C.UTF-8' },
    timeoutSeconds: 30,
    killGraceMs: 1000,
  };
  const engine = new ShellEngine(id, settings, newWatchdog);
  engines.push(engine);
  return { engine, workDir };
}

describe('shell engine: a failed guard', () => {
  it('fails the task with SLUICE_ENGINE_LAUNCH_FAILED without running it, and the next task gets a new watchdog', async () => {
    const made: ProcessWatchdog[] = [];
    const { engine, workDir } = await engineWithWatchdogs('refused', () => {
      const watchdog = made.length === 0 ? new RefusingWatchdog() : new GroupWatchdog();
      made.push(watchdog);
      return watchdog;
    });
    await engine.start();
    const refused = made[0] as RefusingWatchdog;

    const first = task('touch ran; echo ran');
    const output: string[] = [];
    const err = await failure(
      (async () => {
        for await (const event of engine.execute(first)) if (event.type === 'log') output.push(event.line);
      })(),
    );
    assert.equal(err.code, 'SLUICE_ENGINE_LAUNCH_FAILED');
    assert.equal(err.details.reason, 'the script was not started: the watchdog could not guard its process group (no watchdog here)');
    assert.equal(err.retryable, true);
    assert.deepEqual(output, []);
    const pgid = refused.asked[0] as number;
    assert.ok(pgid > 1);
    assert.equal(isProcessAlive(pgid), false, 'the group is gone');
    await sleep(100);
    assert.equal(existsSync(path.join(workDir, 'tasks', taskDirName(first.taskId), 'ran')), false, 'the script never ran');

    // The engine stays usable: its suspect watchdog was closed and the next task is guarded by a new one.
    assert.equal(made.length, 2);
    assert.equal(refused.pid, undefined, 'the refusing watchdog was closed');
    assert.deepEqual(await lines(engine, task('echo ok')), ['ok']);
    assert.ok((made[1] as ProcessWatchdog).pid !== undefined, 'the new watchdog runs');
    assert.equal((await engine.health()).ok, true);
  });

  it('fails the task with SLUICE_ENGINE_LAUNCH_FAILED, without running it, when the watchdog cannot start', async () => {
    const { engine, workDir } = await engineWithWatchdogs('no-watchdog', () => new UnstartableWatchdog());
    const t = task('touch ran; echo ran');
    const err = await failure(lines(engine, t));
    assert.equal(err.code, 'SLUICE_ENGINE_LAUNCH_FAILED');
    assert.equal(err.details.reason, 'the script was not started: its watchdog could not start (cannot fork)');
    assert.equal(err.retryable, true);
    await sleep(100);
    assert.equal(existsSync(path.join(workDir, 'tasks', taskDirName(t.taskId), 'ran')), false, 'the script never ran');
  });
});

/** A watchdog that cannot start (a real one cannot be made to fail this way on demand). */
class UnstartableWatchdog extends GroupWatchdog {
  override start(): Promise<void> {
    return Promise.reject(new Error('cannot fork'));
  }
}
