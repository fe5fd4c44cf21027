import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiClient, startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';

describe('client leases of synchronous submissions', () => {
  let env: TestEnv;
  let ts: TestStack;
  let alice: ApiClient;

  before(async () => {
    env = await testEnv('postgres');
    ts = await startTestStack(env);
    alice = ts.api(ts.tokens.alice);
  });
  after(async () => {
    await ts?.stop();
    await env?.cleanup();
  });

  it('keeps a renewed job running and cancels it once the client stops renewing', async () => {
    const sub = await alice.submit({ code: 'echo up; sleep 60', engineType: 'shell', clientLeaseSeconds: 5 });
    assert.equal(sub.status, 201);
    assert.ok(sub.body.clientLeaseUntil);
    await alice.waitFor(sub.body.id, ['Running']);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      const renew = await alice.request<{ leaseUntil: string | null }>('POST', `/api/v1/jobs/${sub.body.id}/lease`);
      assert.equal(renew.status, 200);
      assert.ok(renew.body.leaseUntil && Date.parse(renew.body.leaseUntil) > Date.now() + 3000);
    }
    assert.equal((await alice.job(sub.body.id)).body.state, 'Running', 'renewed for 8 s past a 5 s lease: still running');
    const t0 = Date.now();
    const done = await alice.waitFor(sub.body.id, undefined, 20_000);
    assert.equal(done.state, 'Cancelled');
    assert.equal(done.error?.details.reason, 'client lease lapsed');
    assert.ok(Date.now() - t0 >= 2000, 'not before the lease ran out');
    const bob = ts.api(ts.tokens.bob);
    assert.equal((await bob.request('POST', `/api/v1/jobs/${sub.body.id}/lease`)).status, 403);
  });

  it('leaves jobs without a lease alone', async () => {
    const sub = await alice.submit({ code: 'sleep 7; echo done', engineType: 'shell' });
    assert.equal(sub.body.clientLeaseUntil, null);
    assert.equal((await alice.waitFor(sub.body.id, undefined, 20_000)).state, 'Succeed');
  });
});
