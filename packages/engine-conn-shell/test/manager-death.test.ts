import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '@sluice/testkit';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

test('scripts die with the engine manager, even on kill -9', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shell-death-'));
  const pidFile = path.join(dir, 'sleep.pid');
  // A stand-in engine manager: a real process that runs one script through the connector.
  const manager = spawn(
    process.execPath,
    [
      '--conditions=sluice-source',
      '--import',
      'tsx',
      path.join(import.meta.dirname, 'fixtures/run-one-script.ts'),
      dir,
      `sleep 1000 & echo $! > ${pidFile}; wait`,
    ],
    { stdio: 'inherit' },
  );
  try {
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().length > 0, { timeoutMs: 20_000, what: 'the script to start' });
    const sleepPid = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(alive(sleepPid), 'the script runs');
    manager.kill('SIGKILL');
    await waitFor(() => !alive(sleepPid), { timeoutMs: 5_000, what: 'the orphaned script to be killed' });
  } finally {
    manager.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
