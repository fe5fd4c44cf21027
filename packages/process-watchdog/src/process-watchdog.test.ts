import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processAlive as alive, until } from '@sluice/testkit';
import { ProcessWatchdog } from './process-watchdog.ts';

const fixture = fileURLToPath(new URL('../test/fixtures/guarded-parent.ts', import.meta.url));

function sleeper(): number {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid as number;
}

describe('process watchdog', () => {
  it('guard() resolves once the watchdog has confirmed the group, and rejects once it is closed', async () => {
    const dog = new ProcessWatchdog({ name: 'test', readyTimeoutMs: 20_000 });
    const pid = sleeper();
    try {
      await dog.start();
      await dog.guard(pid);
      assert.deepEqual(dog.watched, [pid]);
      dog.unwatch(pid);
      dog.close();
      await assert.rejects(dog.guard(pid), /closed/);
    } finally {
      dog.close();
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  it('kills the watched groups when its parent is killed with SIGKILL, and only those', async () => {
    const parent = spawn(process.execPath, [...process.execArgv, fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout.setEncoding('utf8');
    parent.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    await until('the fixture to report its pids', () => out.includes('\n'), 60_000);
    const pids = JSON.parse(out) as { watched: number; forgotten: number; watchdog: number };
    try {
      assert.ok(alive(pids.watched) && alive(pids.forgotten) && alive(pids.watchdog));
      parent.kill('SIGKILL');
      await once(parent, 'exit');
      await until('the watched group to die', () => !alive(pids.watched));
      await until('the watchdog to exit', () => !alive(pids.watchdog));
      assert.ok(alive(pids.forgotten), 'an unwatched group is left alone');
    } finally {
      for (const pid of [pids.watched, pids.forgotten]) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });

  it('comes back after its process dies, still watching every group, and close() kills them', async () => {
    const watchdog = new ProcessWatchdog({ name: 'test' });
    await watchdog.start();
    const first = watchdog.pid as number;
    const pid = sleeper();
    watchdog.watch(pid);
    process.kill(first, 'SIGKILL');
    await until('the first watchdog to exit', () => !alive(first));
    await until('the handle to notice', () => watchdog.pid === undefined);
    await watchdog.start();
    assert.ok(watchdog.pid && watchdog.pid !== first, 'a new watchdog process');
    assert.deepEqual(watchdog.watched, [pid]);
    assert.ok(alive(pid), 'the death of a watchdog kills nothing');
    const second = watchdog.pid as number;
    watchdog.close();
    await until('the re-sent group to be killed on close', () => !alive(pid));
    await until('the second watchdog to exit', () => !alive(second));
    await assert.rejects(watchdog.start(), /the test watchdog is closed/);
  });
});

describe('process watchdog and group signals', () => {
  it('outlives a SIGTERM sent to its whole process group and still kills the watched groups when the parent dies', async () => {
    // The stand-in manager leads a group of its own, which its watchdog joins (as under a shell or `timeout`).
    const parent = spawn(process.execPath, [...process.execArgv, fixture], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    let out = '';
    parent.stdout.setEncoding('utf8');
    parent.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    await until('the fixture to report its pids', () => out.includes('\n'), 60_000);
    const pids = JSON.parse(out) as { watched: number; forgotten: number; watchdog: number };
    try {
      process.kill(-(parent.pid as number), 'SIGTERM');
      await once(parent, 'exit');
      await until('the watched group to die', () => !alive(pids.watched));
      await until('the watchdog to exit', () => !alive(pids.watchdog));
      assert.ok(alive(pids.forgotten));
    } finally {
      for (const pid of [pids.watched, pids.forgotten]) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });
});
