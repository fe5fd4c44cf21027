import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LineageRecorder } from '@sluice/entrance';
import { BACKENDS, useStackWithDb } from './support/test-stack.ts';

/**
 * A job taken from the queue is claimed with its START event, whose SQL parse can take seconds (the
 * first load of a grammar on a busy machine). Its lease must count from the claim's write: a lease
 * reckoned from before that wait was already over when written, and the reconciler retried a healthy
 * job ("lease expired") 0.2 s after it started, so its statements ran twice.
 */
for (const backend of BACKENDS) {
  describe(`the lease of a job claimed from the queue, on ${backend}`, () => {
    // Every job takes the queue; the shortest lease there is, renewed five times within it.
    const h = useStackWithDb(backend, { overrides: { SLUICE_RUN_AT_SUBMIT: 'false', SLUICE_LEASE_MS: '1000', SLUICE_HEARTBEAT_MS: '200' } });

    it('starts when the claim is written, however long its START event took to build', async () => {
      // The runner's own recorder (private): the test slows its START event down.
      const lineage = (h.ts.stack.manager?.runner as unknown as { lineage?: LineageRecorder } | undefined)?.lineage;
      assert.ok(lineage, 'the stack records lineage');
      const started = lineage.started.bind(lineage);
      // A slow parse, longer than the lease: what a cold grammar does on a loaded machine.
      lineage.started = async (...args) => {
        await sleep(2_500);
        return started(...args);
      };
      try {
        const alice = h.ts.api(h.ts.tokens.alice);
        const sub = await alice.submit({ code: 'select 42 AS answer', engineType: 'duckdb' });
        assert.equal(sub.status, 201);
        const done = await alice.waitFor(sub.body.id);
        assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
        const history = await h.db.query<{ to_state: string; attempt: number }>(
          'SELECT to_state, attempt FROM sluice_job_states WHERE job_id = $1 ORDER BY id',
          [sub.body.id],
        );
        assert.deepEqual(
          history.rows.map((r) => `${r.to_state}/${r.attempt}`),
          ['Inited/0', 'Scheduled/0', 'Running/0', 'Succeed/0'],
          'claimed once, never retried',
        );
      } finally {
        lineage.started = started;
      }
    });
  });
}
