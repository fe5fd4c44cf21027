import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshDatabase, type TestDatabase } from '@sluice/testkit';
import type pg from 'pg';
import { createPool, queryPrepared } from './pool.ts';

describe('queryPrepared on a real PostgreSQL', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  before(async () => {
    db = await freshDatabase('prep');
    pool = createPool(db.url, { max: 1 });
    await pool.query('CREATE TABLE t (id int PRIMARY KEY, a text)');
    await pool.query("INSERT INTO t VALUES (1, 'one'), (2, 'two')");
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('prepares a statement once per connection and answers every call', async () => {
    for (const id of [1, 2, 1]) {
      const r = await queryPrepared<{ a: string }>(pool, 'SELECT a FROM t WHERE id = $1', [id]);
      assert.equal(r.rows[0]?.a, id === 1 ? 'one' : 'two');
    }
    const prepared = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = 'SELECT a FROM t WHERE id = $1'");
    assert.equal(prepared.rows[0]?.n, 1, 'the one connection holds the statement, prepared once');
  });

  it('survives a table that changes shape under a prepared SELECT * (a migration by another instance)', async () => {
    const sql = 'SELECT * FROM t WHERE id = $1';
    assert.deepEqual((await queryPrepared(pool, sql, [1])).rows, [{ id: 1, a: 'one' }]);
    const other = createPool(db.url, { max: 1 });
    try {
      await other.query("ALTER TABLE t ADD COLUMN b text NOT NULL DEFAULT 'new'");
    } finally {
      await other.end();
    }
    assert.deepEqual((await queryPrepared(pool, sql, [1])).rows, [{ id: 1, a: 'one', b: 'new' }]);
    assert.deepEqual((await queryPrepared(pool, sql, [2])).rows, [{ id: 2, a: 'two', b: 'new' }]);
  });

  it('passes a real error through', async () => {
    await assert.rejects(queryPrepared(pool, 'SELECT * FROM no_such_table WHERE id = $1', [1]), /no_such_table/);
  });
});
