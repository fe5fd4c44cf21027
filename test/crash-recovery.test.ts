import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@sluice/testkit';
import pg from 'pg';
import { managerCount, startManagerProcess } from './support/manager-process.ts';
import { ApiClient, BACKENDS, startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';

/** A TCP port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof addr === 'object' && addr ? addr.port : 0;
}

for (const backend of BACKENDS) {
  describe(`kill -9 of the engine manager during a job, on ${backend}`, () => {
    let env: TestEnv;
    let ts: TestStack | undefined;
    let db: pg.Client;
    const children: ChildProcess[] = [];

    before(async () => {
      env = await testEnv(backend);
      ts = await startTestStack(env, { roles: ['gateway', 'entrance'] });
      db = new pg.Client({ connectionString: env.db.url });
      await db.connect();
    });
    after(async () => {
      for (const c of children) c.kill('SIGKILL');
      await db?.end();
      await ts?.stop();
      await env?.cleanup();
    });

    it('retries the job on another manager, runs it to completion once, and keeps history across a full restart', async () => {
      const first = startManagerProcess(env.env);
      children.push(first);
      // A child process compiles the whole app through tsx first: on a loaded CI host that alone took over 30 s once.
      await waitFor(async () => (await managerCount(db)) === 1, { timeoutMs: 90_000, what: 'first manager' });

      const mark = path.join(env.home, 'mark.txt');
      const api = ts!.api(ts!.tokens.alice);
      const sub = await api.submit({ code: `echo start >> ${mark}; echo started; sleep 4; echo done >> ${mark}; echo finished`, engineType: 'shell' });
      assert.equal(sub.status, 201);
      await waitFor(() => existsSync(mark) && readFileSync(mark, 'utf8').includes('start'), { timeoutMs: 20_000, what: 'the job to start' });
      assert.equal((await api.job(sub.body.id)).body.state, 'Running');

      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      const second = startManagerProcess(env.env);
      children.push(second);

      const done = await api.waitFor(sub.body.id, undefined, 40_000);
      assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
      assert.equal(done.attempt, 1, 'one retry after the engine manager died');
      // Let any orphan of the killed manager finish its sleep, had it survived.
      await new Promise((r) => setTimeout(r, 4500));
      const lines = readFileSync(mark, 'utf8').trim().split('\n');
      assert.deepEqual(lines, ['start', 'start', 'done'], 'the killed attempt never completed; the retry completed once');

      const history = await db.query<{ to_state: string }>('SELECT to_state FROM sluice_job_states WHERE job_id = $1 ORDER BY id', [sub.body.id]);
      assert.deepEqual(
        history.rows.map((r) => r.to_state),
        ['Inited', 'Scheduled', 'Running', 'WaitForRetry', 'Running', 'Succeed'],
      );
      const log = await api.request<{ lines: { text: string }[] }>('GET', `/api/v1/jobs/${sub.body.id}/log`);
      assert.ok(log.body.lines.some((l) => /Retrying: attempt 2/.test(l.text)));

      // A restart of the whole stack keeps the job and its history.
      second.kill('SIGTERM');
      await new Promise((r) => second.once('exit', r));
      await ts!.stop();
      ts = await startTestStack(env);
      const again = await ts.api(ts.tokens.admin).job(sub.body.id);
      assert.equal(again.status, 200);
      assert.equal(again.body.state, 'Succeed');
      assert.equal(again.body.logLines, done.logLines);
      const after = await ts.api(ts.tokens.admin).submit({ code: 'select 1' });
      assert.equal((await ts.api(ts.tokens.admin).waitFor(after.body.id)).state, 'Succeed', 'the restarted stack runs new jobs');
    });

    it('recovers a job claimed at submit when the whole process that took it is killed', async () => {
      // One process with every role: its engine manager claims the job in the submit's own statement
      // (ADR 10), so the job never went through the queue. Its recovery is the lease, as for any job.
      const port = await freePort();
      // It is killed as soon as the script has started: this is also what showed that a script could
      // start before its watchdog knew its process group, and outlive the kill.
      const whole = startManagerProcess({ ...env.env, SLUICE_PORT: String(port) }, ['gateway', 'entrance', 'engine-manager']);
      children.push(whole);
      const api = new ApiClient(`http://127.0.0.1:${port}`, ts!.tokens.alice);
      await waitFor(async () => (await fetch(`${api.url}/healthz`).catch(() => undefined))?.ok === true, { timeoutMs: 90_000, what: 'the whole stack' });

      const mark = path.join(env.home, 'mark-claimed.txt');
      const sub = await api.submit({ code: `echo start >> ${mark}; echo started; sleep 6; echo done >> ${mark}`, engineType: 'shell' });
      assert.equal(sub.status, 201);
      assert.equal(sub.body.state, 'Running', 'claimed at submit: the answer already says Running');
      const row = await db.query<{ same: boolean; manager_id: string }>('SELECT scheduled_at = started_at AS same, manager_id FROM sluice_jobs WHERE id = $1', [
        sub.body.id,
      ]);
      assert.equal(row.rows[0]?.same, true, 'admitted and claimed in one transaction');
      const t0 = Date.now();
      await waitFor(() => existsSync(mark) && readFileSync(mark, 'utf8').includes('start'), { timeoutMs: 20_000, what: 'the job to start' });
      const seen = Date.now() - t0;
      const before = readFileSync(mark, 'utf8');
      whole.kill('SIGKILL');
      await new Promise((r) => whole.once('exit', r));
      assert.equal(before.trim(), 'start', `the job was still running when its process was killed (start seen after ${seen} ms)`);
      const mgr = startManagerProcess(env.env);
      children.push(mgr);
      try {
        const done = await ts!.api(ts!.tokens.alice).waitFor(sub.body.id, undefined, 40_000);
        assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
        assert.equal(done.attempt, 1, 'one retry after the process died');
        await new Promise((r) => setTimeout(r, 6500));
        assert.deepEqual(readFileSync(mark, 'utf8').trim().split('\n'), ['start', 'start', 'done'], 'the killed attempt never completed');
        const history = await db.query<{ to_state: string }>('SELECT to_state FROM sluice_job_states WHERE job_id = $1 ORDER BY id', [sub.body.id]);
        assert.deepEqual(
          history.rows.map((r) => r.to_state),
          ['Inited', 'Scheduled', 'Running', 'WaitForRetry', 'Running', 'Succeed'],
        );
      } finally {
        mgr.kill('SIGTERM');
        await new Promise((r) => mgr.once('exit', r));
      }
    });

    it('fails the job with a clear error when its retries are used up', async () => {
      await ts!.stop();
      ts = await startTestStack(env, { roles: ['gateway', 'entrance'], overrides: { SLUICE_MAX_RETRIES: '0' } });
      const mgr = startManagerProcess({ ...env.env, SLUICE_MAX_RETRIES: '0' });
      children.push(mgr);
      await waitFor(async () => (await managerCount(db)) >= 1, { timeoutMs: 90_000, what: 'manager' });
      const api = ts.api(ts.tokens.alice);
      const sub = await api.submit({ code: 'echo started; sleep 30', engineType: 'shell' });
      await api.waitFor(sub.body.id, ['Running']);
      await waitFor(async () => ((await api.job(sub.body.id)).body.logLines as number) >= 2, { what: 'log' });
      mgr.kill('SIGKILL');
      const done = await api.waitFor(sub.body.id, undefined, 30_000);
      assert.equal(done.state, 'Failed');
      assert.equal(done.error?.code, 'SLUICE_JOB_RETRIES_EXHAUSTED');
      assert.equal(done.error?.details.attempts, 1);
    });
  });
}
