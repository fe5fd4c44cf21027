import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@sluice/testkit';
import pg from 'pg';
import { managerCount, startManagerProcess } from './support/manager-process.ts';
import { startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';

/**
 * An engine manager that stops renewing its leases while its process and database session live on (a
 * stall: here a real SIGSTOP of its process) keeps its jobs for SLUICE_STALLED_MANAGER_MS: its
 * liveness lock says it is alive, so a lapsed lease alone does not make the job run again (ADR 19).
 * Past that time the job is retried, and the manager, once it runs again, stops its old attempt.
 * A manager that dies loses its jobs as soon as their lease lapses (crash-recovery.test.ts).
 */
describe('an engine manager that stalls with its jobs', () => {
  let env: TestEnv;
  let ts: TestStack | undefined;
  let db: pg.Client;
  let manager: ChildProcess;

  before(async () => {
    env = await testEnv('redis');
    ts = await startTestStack(env, { roles: ['gateway', 'entrance'] });
    db = new pg.Client({ connectionString: env.db.url });
    await db.connect();
    manager = startManagerProcess(env.env);
    // A child process compiles the whole app through tsx first, which is slow on a loaded CI host.
    await waitFor(async () => (await managerCount(db)) === 1, { timeoutMs: 90_000, what: 'the engine manager' });
  });
  after(async () => {
    manager?.kill('SIGCONT');
    manager?.kill('SIGKILL');
    await db?.end();
    await ts?.stop();
    await env?.cleanup();
  });

  const history = async (id: string) =>
    (await db.query<{ to_state: string; attempt: number }>('SELECT to_state, attempt FROM sluice_job_states WHERE job_id = $1 ORDER BY id', [id])).rows.map(
      (r) => `${r.to_state}/${r.attempt}`,
    );

  /** Submits a script that marks its start and end with its task id, and waits until it has started. */
  const startScript = async (name: string, seconds: number) => {
    const mark = path.join(env.home, `${name}.txt`);
    const api = ts!.api(ts!.tokens.alice);
    const sub = await api.submit({
      code: `echo start-$SLUICE_TASK_ID >> ${mark}; sleep ${seconds}; echo done-$SLUICE_TASK_ID >> ${mark}`,
      engineType: 'shell',
    });
    assert.equal(sub.status, 201);
    await waitFor(() => existsSync(mark) && readFileSync(mark, 'utf8').includes('start'), { timeoutMs: 30_000, what: 'the script to start' });
    return { id: sub.body.id as string, mark, api };
  };

  it('keeps its job through a stall longer than the lease, and the job runs once', async () => {
    const { id, mark, api } = await startScript('short-stall', 5);
    manager.kill('SIGSTOP');
    try {
      // Twice the lease (3 s in tests) and more: the lease has lapsed for a few reconciler passes.
      await sleep(7_000);
      const row = await db.query<{ state: string; lapsed: boolean }>('SELECT state, lease_until < now() AS lapsed FROM sluice_jobs WHERE id = $1', [id]);
      assert.equal(row.rows[0]?.lapsed, true, 'the lease lapsed during the stall');
      assert.equal(row.rows[0]?.state, 'Running', 'the job stays with its live manager');
    } finally {
      manager.kill('SIGCONT');
    }
    const done = await api.waitFor(id, undefined, 30_000);
    assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
    assert.deepEqual(await history(id), ['Inited/0', 'Scheduled/0', 'Running/0', 'Succeed/0'], 'never retried');
    const lines = readFileSync(mark, 'utf8').trim().split('\n');
    assert.equal(lines.length, 2, lines.join(', '));
    assert.match(lines[0] ?? '', /^start-.*\.0$/);
    assert.match(lines[1] ?? '', /^done-.*\.0$/);
  });

  it('gives its job to a retry once stalled past SLUICE_STALLED_MANAGER_MS, and stops the old attempt when it runs again', async () => {
    // The reconciler (the entrance) decides: restart it with a short limit.
    await ts!.stop();
    ts = await startTestStack(env, { roles: ['gateway', 'entrance'], overrides: { SLUICE_STALLED_MANAGER_MS: '1000' } });
    const { id, mark, api } = await startScript('long-stall', 20);
    manager.kill('SIGSTOP');
    try {
      const retried = await waitFor(
        async () => {
          const r = await db.query<{ state: string; attempt: number }>('SELECT state, attempt FROM sluice_jobs WHERE id = $1', [id]);
          return r.rows[0]?.state === 'WaitForRetry' ? r.rows[0] : undefined;
        },
        { timeoutMs: 20_000, what: 'the retry of the stalled job' },
      );
      assert.equal(retried.attempt, 1);
    } finally {
      manager.kill('SIGCONT');
    }
    // The only manager runs again: it finds its attempt taken from it, stops that script and runs the retry.
    const done = await api.waitFor(id, undefined, 60_000);
    assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
    assert.equal(done.attempt, 1);
    const lines = readFileSync(mark, 'utf8').trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.replace(/-.*\.(\d+)$/, '-$1')),
      ['start-0', 'start-1', 'done-1'],
      'the stalled attempt was stopped before its end; the retry ran to its end once',
    );
    const log = await api.request<{ lines: { text: string }[] }>('GET', `/api/v1/jobs/${id}/log`);
    assert.ok(
      log.body.lines.some((l) => /Retrying: attempt 2/.test(l.text)),
      JSON.stringify(log.body.lines),
    );
  });
});
