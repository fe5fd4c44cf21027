import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKENDS, startTestStack, useStackWithDb } from './support/test-stack.ts';

/**
 * ADR 10: a job that the submitting process's engine manager can start at once is claimed in the
 * submit's own statement and runs without the queue. Everything else takes the queue as before.
 */
for (const backend of BACKENDS) {
  describe(`claim at submit on ${backend}`, () => {
    // One job per group and two run slots, so both the group cap and the manager's slots can be filled.
    const h = useStackWithDb(backend, { overrides: { SLUICE_MAX_RUNNING_PER_GROUP: '1', SLUICE_MANAGER_CONCURRENCY: '2' } });
    const row = async (id: string) =>
      (
        await h.db.query<{ state: string; claimed_at_submit: boolean; manager_id: string | null }>(
          'SELECT state, scheduled_at = started_at AS claimed_at_submit, manager_id FROM sluice_jobs WHERE id = $1',
          [id],
        )
      ).rows[0];
    const history = async (id: string) =>
      (await h.db.query<{ to_state: string }>('SELECT to_state FROM sluice_job_states WHERE job_id = $1 ORDER BY id', [id])).rows.map((r) => r.to_state);
    const queued = async (id: string) => h.ts.stack.infra.queue.has(id, 0);

    it('claims an admitted job in the submit, with its history and START event, and runs it without the queue', async () => {
      const alice = h.ts.api(h.ts.tokens.alice);
      const sub = await alice.submit({ code: 'select 42 AS answer', engineType: 'duckdb' });
      assert.equal(sub.status, 201);
      assert.equal(sub.body.state, 'Running', 'the submit answer already says Running');
      const stored = await row(sub.body.id);
      assert.equal(stored?.claimed_at_submit, true);
      assert.equal(stored?.manager_id, h.ts.stack.manager?.id);
      assert.equal(await queued(sub.body.id), false, 'never enqueued');
      const done = await alice.waitFor(sub.body.id);
      assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
      assert.deepEqual(await history(sub.body.id), ['Inited', 'Scheduled', 'Running', 'Succeed']);
      const rows = await alice.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${sub.body.id}/results/0`);
      assert.deepEqual(rows.body.rows, [[42]]);
      const events = await h.db.query<{ type: string }>("SELECT payload->>'eventType' AS type FROM sluice_lineage_outbox WHERE run_key = $1 ORDER BY seq", [
        sub.body.id,
      ]);
      assert.deepEqual(
        events.rows.map((e) => e.type),
        ['START', 'COMPLETE'],
      );
    });

    it("runs a claimed SELECT on the user's idle engine while the submit is written, and only prepares other work", async () => {
      const alice = h.ts.api(h.ts.tokens.alice);
      // The first job leaves alice a warm DuckDB engine (and claims nothing ahead: none was idle).
      const warm = await alice.submit({ code: 'select 1 AS warm', engineType: 'duckdb', creator: 'ahead' });
      assert.equal((await alice.waitFor(warm.body.id)).state, 'Succeed');
      const pool = h.ts.stack.manager?.engines.list().filter((e) => e.user === 'alice' && e.label.startsWith('duckdb')) ?? [];
      assert.equal(pool.length, 1);
      const counts = async () => {
        const detail = (await pool[0]!.engine.health()).detail ?? '';
        return { prepared: Number(/(\d+) tasks? prepared ahead/.exec(detail)?.[1]), ran: Number(/(\d+) tasks? run ahead/.exec(detail)?.[1]) };
      };
      const run = async (code: string, headers?: Record<string, string>) => {
        const sub = await alice.submit({ code, engineType: 'duckdb', creator: 'ahead' }, headers);
        assert.equal(sub.body.state, 'Running');
        assert.equal((await alice.waitFor(sub.body.id)).state, 'Succeed');
        return (await alice.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${sub.body.id}/results/0`)).body.rows;
      };
      const before = await counts();
      assert.deepEqual(await run('select 6 * 7 AS answer'), [[42]]);
      assert.deepEqual(await counts(), { prepared: before.prepared, ran: before.ran + 1 }, 'the SELECT ran ahead');
      // A submit with an Idempotency-Key may be a retry answered with another job: prepared only.
      assert.deepEqual(await run('select 6 * 8 AS answer', { 'idempotency-key': 'ahead-1' }), [[48]]);
      assert.deepEqual(await counts(), { prepared: before.prepared + 1, ran: before.ran + 1 }, 'prepared, not run');
      // Not a SELECT: prepared only, and it runs once.
      await run('CREATE TABLE ahead_t AS SELECT 1 AS x');
      assert.deepEqual(await counts(), { prepared: before.prepared + 2, ran: before.ran + 1 }, 'the CREATE was prepared, not run');
      assert.deepEqual(await run('select count(*)::INTEGER AS n FROM ahead_t'), [[1]]);
    });

    it('claims a job on a data source at submit, on the connection it resolved', async () => {
      const alice = h.ts.api(h.ts.tokens.alice);
      const server = new URL(h.env.db.url);
      const params = {
        host: server.hostname,
        port: Number(server.port || 5432),
        database: h.env.db.name,
        user: decodeURIComponent(server.username),
        password: decodeURIComponent(server.password),
      };
      assert.equal((await alice.request('POST', '/api/v1/datasources', { name: 'claim_pg', type: 'postgresql', params })).status, 201);
      assert.equal((await alice.request('POST', '/api/v1/datasources/claim_pg/versions/1/publish', {})).status, 200);
      await h.db.query('CREATE TABLE claim_items (n int); INSERT INTO claim_items VALUES (7)');
      const code = 'select n from claim_items';
      // The first job of a dialect may wait for its SQL grammar to load, past the claim's budget, and
      // so take the queue. Its lineage is then remembered by text: the same text is claimed at once.
      const first = await alice.submit({ code, dataSource: 'claim_pg', creator: 'ds' });
      assert.equal((await alice.waitFor(first.body.id)).state, 'Succeed');
      const sub = await alice.submit({ code, dataSource: 'claim_pg', creator: 'ds' });
      assert.equal(sub.status, 201, JSON.stringify(sub.body));
      assert.equal(sub.body.state, 'Running', 'claimed at submit');
      assert.equal((await row(sub.body.id))?.claimed_at_submit, true);
      assert.equal(await queued(sub.body.id), false, 'never enqueued');
      const done = await alice.waitFor(sub.body.id);
      assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
      assert.deepEqual(await history(sub.body.id), ['Inited', 'Scheduled', 'Running', 'Succeed']);
      const rows = await alice.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${sub.body.id}/results/0`);
      assert.deepEqual(rows.body.rows, [[7]]);
      const start = await h.db.query<{ input: { namespace: string; name: string } }>(
        "SELECT payload->'inputs'->0 AS input FROM sluice_lineage_outbox WHERE run_key = $1 AND payload->>'eventType' = 'START'",
        [sub.body.id],
      );
      assert.equal(start.rows[0]?.input.namespace, `postgres://${params.host}:${params.port}`, 'the START event names the data source');
      assert.match(start.rows[0]?.input.name ?? '', /claim_items$/);
    });

    it('leaves a job whose group is full to wait in Inited, and runs it through the queue later', async () => {
      const bob = h.ts.api(h.ts.tokens.bob);
      const first = await bob.submit({ code: 'sleep 1', engineType: 'shell', creator: 'full' });
      assert.equal(first.body.state, 'Running');
      const second = await bob.submit({ code: 'echo second', engineType: 'shell', creator: 'full' });
      assert.equal(second.body.state, 'Inited', 'the group holds one job: the second waits');
      const done = await bob.waitFor(second.body.id);
      assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
      assert.equal((await row(second.body.id))?.claimed_at_submit, false, 'admitted later, claimed from the queue');
      assert.deepEqual(await history(second.body.id), ['Inited', 'Scheduled', 'Running', 'Succeed']);
      assert.equal((await bob.waitFor(first.body.id)).state, 'Succeed');
    });

    it('sends an admitted job to the queue when every run slot of the manager is taken', async () => {
      const alice = h.ts.api(h.ts.tokens.alice);
      // Two groups, two slots: both jobs are claimed at submit and hold the manager's slots.
      const a = await alice.submit({ code: 'sleep 1.5', engineType: 'shell', creator: 'slot-a' });
      const b = await alice.submit({ code: 'sleep 1.5', engineType: 'shell', creator: 'slot-b' });
      assert.deepEqual([a.body.state, b.body.state], ['Running', 'Running']);
      const c = await alice.submit({ code: 'echo third', engineType: 'shell', creator: 'slot-c' });
      assert.equal(c.body.state, 'Scheduled', 'admitted, but no slot is free here: it takes the queue');
      const done = await alice.waitFor(c.body.id);
      assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
      assert.equal((await row(c.body.id))?.claimed_at_submit, false);
      // It could start only once a slot was free again.
      const ended = await Promise.all([alice.waitFor(a.body.id), alice.waitFor(b.body.id)]);
      const firstEnd = Math.min(...ended.map((j) => Date.parse(j.finishedAt as string)));
      assert.ok(Date.parse(done.startedAt as string) >= firstEnd - 5, 'the queued job started after a claimed one ended');
    });

    it('answers a retried submit with the same job, claimed once', async () => {
      const alice = h.ts.api(h.ts.tokens.alice);
      const body = { code: 'select 7', engineType: 'duckdb', creator: 'retry' };
      const first = await alice.submit(body, { 'idempotency-key': 'claim-once-1' });
      const again = await alice.submit(body, { 'idempotency-key': 'claim-once-1' });
      assert.equal(first.status, 201);
      assert.equal(again.body.id, first.body.id);
      assert.equal((await alice.waitFor(first.body.id)).state, 'Succeed');
      assert.deepEqual(await history(first.body.id), ['Inited', 'Scheduled', 'Running', 'Succeed'], 'one run');
    });

    it('takes the queue for every job with SLUICE_RUN_AT_SUBMIT=false', async () => {
      await h.ts.stop();
      h.ts = await startTestStack(h.env, { overrides: { SLUICE_RUN_AT_SUBMIT: 'false' } });
      const alice = h.ts.api(h.ts.tokens.alice);
      const sub = await alice.submit({ code: 'select 1', engineType: 'duckdb' });
      assert.equal(sub.body.state, 'Scheduled');
      assert.equal((await alice.waitFor(sub.body.id)).state, 'Succeed');
      assert.equal((await row(sub.body.id))?.claimed_at_submit, false);
    });
  });
}
