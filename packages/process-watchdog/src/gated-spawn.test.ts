import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { processAlive as alive, until } from '@sluice/testkit';
import { spawnGated } from './gated-spawn.ts';

const fixture = fileURLToPath(new URL('../test/fixtures/gated-parent.ts', import.meta.url));

describe('gated spawn', () => {
  it('runs nothing when its parent is killed (kill -9) before the guard settles', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sluice-gate-'));
    const parent = spawn(process.execPath, [...process.execArgv, fixture, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout.setEncoding('utf8');
    parent.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    let pid: number | undefined;
    try {
      await until('the fixture to report the gate', () => out.includes('\n'), 60_000);
      pid = (JSON.parse(out) as { pid: number }).pid;
      await sleep(300);
      assert.ok(alive(pid), 'the gate waits');
      assert.equal(existsSync(path.join(dir, 'ran')), false, 'nothing ran while the guard was pending');
      parent.kill('SIGKILL');
      await once(parent, 'exit');
      await until('the gate to exit', () => !alive(pid as number));
      await sleep(100);
      assert.equal(existsSync(path.join(dir, 'ran')), false, 'the gate exited without running the program');
    } finally {
      parent.kill('SIGKILL');
      if (pid !== undefined) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('calls onOpened only once the guard resolved, never when it rejects or the gate is gone', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sluice-gate-'));
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const gated = (name: string, guard: () => Promise<void>, calls: string[]) =>
      spawnGated('bash', ['-c', `touch ${name}`], {
        cwd: dir,
        env,
        guard,
        onGuardFailed: (err) => calls.push(`failed: ${err.message}`),
        // Whether the program already ran when this is called is a race (the gate may exec it before
        // this process's next turn on a loaded machine), so only the call itself is recorded.
        onOpened: () => calls.push('opened'),
      });
    const held = () => {
      let release!: () => void;
      const guarded = new Promise<void>((resolve) => {
        release = resolve;
      });
      return { guarded, release };
    };
    try {
      // Guard resolves: opened once, and the program runs.
      const ok = held();
      const okCalls: string[] = [];
      const child = gated('ran', () => ok.guarded, okCalls);
      const exited = once(child, 'exit');
      await sleep(200);
      assert.deepEqual(okCalls, [], 'nothing while the guard is pending');
      assert.equal(existsSync(path.join(dir, 'ran')), false, 'the program waits for the guard');
      ok.release();
      await exited;
      assert.deepEqual(okCalls, ['opened']);
      assert.equal(existsSync(path.join(dir, 'ran')), true);

      // Guard rejects: the group is killed, onGuardFailed only.
      const refusedCalls: string[] = [];
      const refused = gated('refused', () => Promise.reject(new Error('no watchdog')), refusedCalls);
      await once(refused, 'exit');
      assert.deepEqual(refusedCalls, ['failed: no watchdog']);
      assert.equal(existsSync(path.join(dir, 'refused')), false);

      // Gate gone before the guard resolves (stopped meanwhile): not opened.
      const late = held();
      const goneCalls: string[] = [];
      const gone = gated('gone', () => late.guarded, goneCalls);
      const goneExit = once(gone, 'exit');
      gone.kill('SIGKILL');
      await goneExit;
      late.release();
      await sleep(50);
      assert.deepEqual(goneCalls, []);
      assert.equal(existsSync(path.join(dir, 'gone')), false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
