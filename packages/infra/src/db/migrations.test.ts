import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshDatabase, type TestDatabase } from '@sluice/testkit';
import type pg from 'pg';
import { MIGRATIONS, migrate } from './migrations.ts';
import { createPool } from './pool.ts';

let seq = 0;
function job(group: string, extra: Record<string, unknown> = {}) {
  seq += 1;
  return {
    id: `MIG${seq}`,
    username: 'u',
    creator: 'c',
    engine_type: 'duckdb',
    code_type: 'sql',
    group_key: group,
    code: 'select 1',
    submitted_code: 'select 1',
    variables: {},
    runtime_params: {},
    startup_params: {},
    labels: {},
    priority: 5,
    execute_once: false,
    data_source: null,
    queue_timeout_s: 60,
    run_timeout_s: 60,
    idempotency_key: null,
    request_hash: null,
    client_lease_s: 30,
    ...extra,
  };
}

describe('schema migrations on a real PostgreSQL', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  before(async () => {
    db = await freshDatabase('migr');
    pool = createPool(db.url, { max: 2 });
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  const submit = async (j: ReturnType<typeof job>, maxRunning: number, claim: unknown) =>
    (await pool.query<{ id: string; state: string }>('SELECT id, state FROM sluice_submit_job($1, $2, $3)', [j, maxRunning, claim])).rows[0];
  const history = async (id: string) =>
    (
      await pool.query<{ from_state: string | null; to_state: string }>('SELECT from_state, to_state FROM sluice_job_states WHERE job_id = $1 ORDER BY id', [
        id,
      ])
    ).rows;
  const foreignKeys = async () =>
    (
      await pool.query<{ conname: string }>("SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text LIKE 'sluice_%' ORDER BY 1")
    ).rows.map((r) => r.conname);

  it('upgrades a database of version 5 with its jobs, applies each migration once, and keeps the submit contract', async () => {
    assert.deepEqual(
      await migrate(
        pool,
        MIGRATIONS.filter((m) => m.version <= 5),
      ),
      [1, 2, 3, 4, 5],
    );
    const old = job('g-old');
    assert.equal((await submit(old, 4, { manager_id: 'm', lease_ms: 1000 }))?.state, 'Running');
    assert.equal((await foreignKeys()).length, 3, 'version 5 checks every child row against its job');

    assert.deepEqual(await migrate(pool), [6, 7]);
    assert.deepEqual(await migrate(pool), [], 'nothing is applied twice');
    assert.deepEqual(await foreignKeys(), [], 'the job children are no longer checked row by row');
    assert.deepEqual(
      (await history(old.id)).map((h) => h.to_state),
      ['Inited', 'Scheduled', 'Running'],
      'rows written before the upgrade stay',
    );

    // Claimed at once: three history rows, in order.
    const claimed = job('g1');
    assert.equal((await submit(claimed, 1, { manager_id: 'm', lease_ms: 1000 }))?.state, 'Running');
    assert.deepEqual(await history(claimed.id), [
      { from_state: null, to_state: 'Inited' },
      { from_state: 'Inited', to_state: 'Scheduled' },
      { from_state: 'Scheduled', to_state: 'Running' },
    ]);
    // Admitted without a claim: two. The group is then full (at most 1 running): the next one waits.
    const admitted = job('g2');
    assert.equal((await submit(admitted, 1, null))?.state, 'Scheduled');
    assert.deepEqual(
      (await history(admitted.id)).map((h) => h.to_state),
      ['Inited', 'Scheduled'],
    );
    const waiting = job('g2');
    assert.equal((await submit(waiting, 1, { manager_id: 'm', lease_ms: 1000 }))?.state, 'Inited');
    assert.deepEqual(await history(waiting.id), [{ from_state: null, to_state: 'Inited' }]);
    // The same idempotency key gives the first job back and writes nothing.
    const first = job('g3', { idempotency_key: 'k1' });
    await submit(first, 4, null);
    const again = await submit(job('g3', { idempotency_key: 'k1' }), 4, null);
    assert.equal(again?.id, first.id);
    assert.equal((await history(first.id)).length, 2);
    const jobs = await pool.query<{ n: string }>("SELECT count(*) AS n FROM sluice_jobs WHERE group_key = 'g3'");
    assert.equal(Number(jobs.rows[0]?.n), 1);
  });
});
