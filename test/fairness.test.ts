import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type ApiClient, BACKENDS, startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';

for (const backend of BACKENDS) {
  describe(`admission fairness and priority on ${backend}`, () => {
    let env: TestEnv;
    let ts: TestStack;
    let alice: ApiClient;
    let bob: ApiClient;

    before(async () => {
      env = await testEnv(backend);
      ts = await startTestStack(env, { overrides: { SLUICE_MAX_RUNNING_PER_GROUP: '2' } });
      alice = ts.api(ts.tokens.alice);
      bob = ts.api(ts.tokens.bob);
    });
    after(async () => {
      await ts?.stop();
      await env?.cleanup();
    });

    it("one user's 1,000 queued jobs do not starve another user's job", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 1000; i += 50) {
        const batch = await Promise.all(Array.from({ length: 50 }, () => alice.submit({ code: 'sleep 0.2', engineType: 'shell', creator: 'flood' })));
        for (const r of batch) {
          assert.equal(r.status, 201);
          ids.push(r.body.id);
        }
      }
      const t0 = Date.now();
      const mine = await bob.submit({ code: 'echo hello from bob', engineType: 'shell', creator: 'flood' });
      const done = await bob.waitFor(mine.body.id, undefined, 20_000);
      const waited = Date.now() - t0;
      assert.equal(done.state, 'Succeed');
      const db = new pg.Client({ connectionString: env.db.url });
      await db.connect();
      try {
        const r = await db.query<{ state: string; n: string }>("SELECT state, count(*) AS n FROM sluice_jobs WHERE username = 'alice' GROUP BY state");
        const by = Object.fromEntries(r.rows.map((x) => [x.state, Number(x.n)]));
        assert.ok((by.Inited ?? 0) > 800, `alice still has most jobs waiting (${JSON.stringify(by)}) when bob's job is done`);
        assert.ok((by.Scheduled ?? 0) + (by.Running ?? 0) <= 2, `alice never has more than 2 admitted jobs (${JSON.stringify(by)})`);
      } finally {
        await db.end();
      }
      assert.ok(waited < 15_000, `bob waited ${waited} ms`);
    });

    it('runs higher-priority jobs of a group first, FIFO within a priority', async () => {
      const blockers = [
        await bob.submit({ code: 'sleep 1', engineType: 'shell', creator: 'prio' }),
        await bob.submit({ code: 'sleep 1', engineType: 'shell', creator: 'prio' }),
      ];
      const low1 = await bob.submit({ code: 'echo low1', engineType: 'shell', creator: 'prio', priority: 1 });
      const low2 = await bob.submit({ code: 'echo low2', engineType: 'shell', creator: 'prio', priority: 1 });
      const high = await bob.submit({ code: 'echo high', engineType: 'shell', creator: 'prio', priority: 9 });
      for (const j of [low1, low2, high]) assert.equal(j.body.state, 'Inited');
      const started = async (id: string) => Date.parse((await bob.waitFor(id)).scheduledAt as string);
      const [tHigh, tLow1, tLow2] = [await started(high.body.id), await started(low1.body.id), await started(low2.body.id)];
      assert.ok(tHigh <= tLow1, 'high priority admitted before the earlier low-priority job');
      assert.ok(tLow1 <= tLow2, 'FIFO within a priority');
      for (const b of blockers) assert.equal((await bob.waitFor(b.body.id)).state, 'Succeed');
    });
  });
}
