import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Stack } from '@sluice/standalone';
import { startStack } from '@sluice/standalone';
import pg from 'pg';
import { type ApiClient, BACKENDS, startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';
import { WsTestClient } from './support/ws-client.ts';

for (const backend of BACKENDS) {
  describe(`several instances side by side on ${backend}`, () => {
    let env: TestEnv;
    let first: TestStack;
    let extra: Stack[] = [];
    let alice: ApiClient;

    before(async () => {
      env = await testEnv(backend);
      // Instance 1: everything. Instance 2: a second engine manager. Instance 3: a second gateway.
      first = await startTestStack(env);
      extra = [await startStack(env.config(), { roles: ['engine-manager'] }), await startStack(env.config(), { roles: ['gateway'] })];
      alice = first.api(first.tokens.alice);
    });
    after(async () => {
      for (const s of extra) await s.stop();
      await first?.stop();
      await env?.cleanup();
    });

    it('two engine managers share the work and never run a job twice', async () => {
      const file = path.join(env.home, 'runs.txt');
      const ids: string[] = [];
      for (let i = 0; i < 120; i += 20) {
        const batch = await Promise.all(
          Array.from({ length: 20 }, (_, k) => alice.submit({ code: `echo run-${i + k} >> ${file}`, engineType: 'shell', creator: `c${(i + k) % 6}` })),
        );
        ids.push(...batch.map((r) => r.body.id));
      }
      for (const id of ids) assert.equal((await alice.waitFor(id)).state, 'Succeed');
      const runs = readFileSync(file, 'utf8').trim().split('\n');
      const db = new pg.Client({ connectionString: env.db.url });
      await db.connect();
      try {
        // A job that ran twice: its state history says why.
        const twiceRun = [...new Set(runs.filter((r, i) => runs.indexOf(r) !== i))].map((r) => ids[Number(r.slice('run-'.length))]);
        const why = await db.query<{ job_id: string; h: string }>(
          "SELECT job_id, string_agg(to_state || '/' || attempt || coalesce(' ' || reason::text, ''), ', ' ORDER BY id) AS h FROM sluice_job_states WHERE job_id = ANY($1) GROUP BY job_id",
          [twiceRun],
        );
        assert.deepEqual(why.rows, [], 'no job ran twice');
        assert.equal(runs.length, 120, 'each job ran exactly once');
        assert.equal(new Set(runs).size, 120);
        const twice = await db.query(
          "SELECT job_id FROM sluice_job_states WHERE to_state = 'Running' AND job_id = ANY($1) GROUP BY job_id HAVING count(*) <> 1",
          [ids],
        );
        assert.equal(twice.rowCount, 0, 'every job was claimed once');
        const managers = await db.query('SELECT DISTINCT manager_id FROM sluice_jobs WHERE id = ANY($1)', [ids]);
        assert.equal(managers.rowCount, 2, 'both managers ran jobs');
      } finally {
        await db.end();
      }
    });

    it('a job submitted through one gateway is read and streamed through another', async () => {
      const second = extra[1]?.url as string;
      assert.ok(second && second !== first.url);
      const sub = await alice.submit({ code: 'for i in 1 2 3; do echo tick-$i; sleep 0.2; done', engineType: 'shell' });
      const ws = await WsTestClient.connect(second, first.tokens.alice);
      ws.send({ type: 'subscribe', jobId: sub.body.id });
      await ws.until((fs) => fs.find((f) => f.type === 'status' && f.state === 'Succeed'), 20_000, 'final status via the second gateway');
      assert.deepEqual(
        [...ws.logLines(sub.body.id).values()].filter((l) => l.startsWith('tick')),
        ['tick-1', 'tick-2', 'tick-3'],
      );
      const viaSecond = await fetch(`${second}/api/v1/jobs/${sub.body.id}`, { headers: { authorization: `Bearer ${first.tokens.alice}` } });
      assert.equal(viaSecond.status, 200);
      assert.equal(((await viaSecond.json()) as { state: string }).state, 'Succeed');
      ws.close();
    });
  });
}

describe('the per-user engine cap holds across engine managers', () => {
  let env: TestEnv;
  let first: TestStack;
  let second: Stack;

  before(async () => {
    // Every job takes the queue, so both managers get jobs: with claim at submit (ADR 10) the first
    // stack's own manager would take them all at submit while it has free slots.
    env = await testEnv('redis', { SLUICE_MAX_ENGINES_PER_USER: '1', SLUICE_RUN_AT_SUBMIT: 'false' });
    first = await startTestStack(env);
    second = await startStack(env.config(), { roles: ['engine-manager'] });
  });
  after(async () => {
    await second?.stop();
    await first?.stop();
    await env?.cleanup();
  });

  it('never exceeds the cap, and a manager reclaims an idle engine held by the other', async () => {
    const alice = first.api(first.tokens.alice);
    const db = new pg.Client({ connectionString: env.db.url });
    await db.connect();
    let maxLive = 0;
    const sample = setInterval(() => {
      db.query<{ n: string }>("SELECT count(*) AS n FROM sluice_engines WHERE username = 'alice' AND ended_at IS NULL").then(
        (r) => {
          maxLive = Math.max(maxLive, Number(r.rows[0]?.n ?? 0));
        },
        () => {},
      );
    }, 20);
    try {
      const ids = (await Promise.all(Array.from({ length: 30 }, (_, i) => alice.submit({ code: `echo ${i}`, engineType: 'shell', creator: `k${i % 3}` })))).map(
        (r) => r.body.id,
      );
      for (const id of ids) assert.equal((await alice.waitFor(id, undefined, 60_000)).state, 'Succeed');
      const managers = await db.query('SELECT DISTINCT manager_id FROM sluice_jobs WHERE id = ANY($1)', [ids]);
      assert.equal(managers.rowCount, 2, 'both managers ran jobs, so the engine moved between them');
      const reclaimed = await db.query("SELECT 1 FROM sluice_engines WHERE end_reason = 'reclaimed for another engine manager'");
      assert.ok((reclaimed.rowCount ?? 0) >= 1, 'an idle engine was reclaimed for the other manager');
    } finally {
      clearInterval(sample);
      await db.end();
    }
    assert.equal(maxLive, 1, 'alice never held more than one engine');
  });
});
