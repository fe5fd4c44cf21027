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
});
