import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshDatabase, type TestDatabase, waitFor } from '@sluice/testkit';
import type pg from 'pg';
import { LivenessLock, MANAGER_LIVENESS_LOCK, managerGoneSql } from './liveness.ts';
import { createPool } from './pool.ts';

describe('the liveness lock of an engine manager, on a real PostgreSQL', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  before(async () => {
    db = await freshDatabase('live');
    pool = createPool(db.url, { max: 2, application: 'live-test' });
    await pool.query('CREATE TABLE m (id text, live_key int)');
    await pool.query("INSERT INTO m VALUES ('a', 41), ('b', 42), ('c', NULL)");
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  /** The managers the reconciler would take for gone, as its queries ask. */
  const gone = async () => (await pool.query<{ id: string }>(`SELECT id FROM m WHERE ${managerGoneSql('m')} ORDER BY id`)).rows.map((r) => r.id);

  it('is held by its own session until released; a manager without a key counts as gone', async () => {
    const lock = await LivenessLock.hold(pool, 41);
    try {
      assert.equal(lock.isHeld, true);
      assert.deepEqual(await gone(), ['b', 'c']);
      // The probe takes a free lock only for its own statement: b's key is free again afterwards.
      const other = await LivenessLock.hold(pool, 42);
      assert.deepEqual(await gone(), ['c']);
      await other.release();
      const sessions = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'live-test-liveness'");
      assert.equal(sessions.rows[0]?.n, 1, 'one session per held lock; a released one is closed');
    } finally {
      await lock.release();
    }
    assert.equal(lock.isHeld, false);
    assert.deepEqual(await gone(), ['a', 'b', 'c']);
  });

  it('takes the lock again on a new session when the server ends its session', async () => {
    const changes: boolean[] = [];
    const lock = await LivenessLock.hold(pool, 41, { retryMs: 100, onChange: (held) => changes.push(held) });
    try {
      const killed = await pool.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(l.pid))::int AS n FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = 41 AND l.objsubid = 2 AND l.granted`,
        [MANAGER_LIVENESS_LOCK],
      );
      assert.equal(killed.rows[0]?.n, 1, 'the lock was held by one session');
      await waitFor(() => changes.includes(false), { what: 'the lost session to be noticed' });
      await waitFor(() => lock.isHeld, { what: 'the lock to be held again' });
      assert.deepEqual(changes, [false, true]);
      assert.deepEqual(await gone(), ['b', 'c'], 'a is alive again');
    } finally {
      await lock.release();
    }
  });
});
