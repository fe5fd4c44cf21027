import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type ApiClient, startTestStack, type TestEnv, type TestStack, testEnv } from '../../../test/support/test-stack.ts';
import { type CliEnv, cliSandbox, runCli, sh, startCli, submittedJob } from './cli-process.ts';

describe('stopping the CLI stops the job', () => {
  let env: TestEnv;
  let ts: TestStack;
  let alice: ApiClient;
  let asAlice: CliEnv;
  let box: ReturnType<typeof cliSandbox>;

  before(async () => {
    env = await testEnv('postgres');
    ts = await startTestStack(env);
    alice = ts.api(ts.tokens.alice);
    box = cliSandbox();
    asAlice = { ...box, url: ts.url, token: ts.tokens.alice };
  });
  after(async () => {
    await ts?.stop();
    await env?.cleanup();
    rmSync(box.root, { recursive: true, force: true });
  });

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} cancels the remote job before the CLI exits ${code}`, async () => {
      const cli = startCli(`exec sluice --engine shell --code ${sh('echo started; sleep 120')}`, asAlice);
      const { id } = await submittedJob(cli);
      await cli.waitFor(/^started$/m);
      assert.equal((await alice.job(id)).body.state, 'Running');
      cli.child.kill(signal);
      const r = await cli.done;
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, new RegExp(`${signal}: cancelling job \\d+`));
      // The cancel request was answered before the CLI exited: the server has it already.
      const right = (await alice.job(id)).body;
      assert.ok(right.state === 'Cancelled' || right.state === 'Running', right.state);
      // Well within the 30 s default lease, so the CLI's cancel did it, not a lapsed lease.
      const done = await alice.waitFor(id, undefined, 10_000);
      assert.equal(done.state, 'Cancelled');
      assert.equal(done.error?.code, 'SLUICE_JOB_CANCELLED');
      assert.notEqual(done.error?.details.reason, 'client lease lapsed');
    });
  }

  it('kill -9 of the whole process tree cancels the job once its client lease lapses', async () => {
    // setsid: the shell and the CLI get their own process group, as a DolphinScheduler task's tree.
    const cli = startCli(`sluice --lease-seconds 5 --engine shell --code ${sh('echo started; sleep 120')}; echo "not reached"`, asAlice, { setsid: true });
    const { id } = await submittedJob(cli);
    await cli.waitFor(/^started$/m);
    const running = (await alice.job(id)).body;
    assert.equal(running.state, 'Running');
    assert.ok(running.clientLeaseUntil, 'a synchronous run holds a client lease');
    const pgid = cli.child.pid as number;
    process.kill(-pgid, 'SIGKILL');
    const r = await cli.done;
    assert.equal(r.signal, 'SIGKILL');
    const killedAt = Date.now();
    assert.equal((await alice.job(id)).body.state, 'Running', 'nobody cancelled it yet: kill -9 cannot be caught');
    const done = await alice.waitFor(id, undefined, 30_000);
    assert.equal(done.state, 'Cancelled');
    assert.equal(done.error?.details.reason, 'client lease lapsed');
    assert.ok(Date.now() - killedAt < 20_000, 'cancelled within a few seconds of the 5 s lease');
  });

  it('keeps renewing the lease: a job that outlives several leases still succeeds', async () => {
    const r = await runCli(`sluice --lease-seconds 5 --engine shell --code ${sh('echo begin; sleep 12; echo finished')}`, asAlice);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^begin$/m);
    assert.match(r.stdout, /^finished$/m);
  });

  it('an --async job carries no lease and keeps running after the CLI exits', async () => {
    const r = await runCli(`sluice --async true --engine shell --code ${sh('sleep 8; echo done')}`, asAlice);
    assert.equal(r.code, 0, r.stderr);
    const id = /ExecId:([0-9A-Z]{26})/.exec(r.stdout)?.[1] as string;
    assert.ok(id, r.stdout);
    assert.equal((await alice.job(id)).body.clientLeaseUntil, null);
    assert.equal((await alice.waitFor(id, undefined, 30_000)).state, 'Succeed');
  });
});
