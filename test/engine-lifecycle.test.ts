import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { waitFor } from '@sluice/testkit';
import type pg from 'pg';
import { type ApiClient, type TestEnv, type TestStack, useStackWithDb } from './support/test-stack.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

type EngineRow = { state: string; pid: number | null; ended_at: Date | null; end_reason: string | null };
const engineRow = async (db: pg.Client, id: string) => (await db.query<EngineRow>('SELECT * FROM sluice_engines WHERE id = $1', [id])).rows[0];

describe('engine reuse, executeOnce, quotas and idle reclaim', () => {
  const stack = useStackWithDb('redis', { overrides: { SLUICE_ENGINE_IDLE_SECONDS: '2', SLUICE_MAX_ENGINES_PER_USER: '2' } });
  let ts: TestStack;
  let alice: ApiClient;
  const engine = (id: string) => engineRow(stack.db, id);

  before(() => {
    ts = stack.ts;
    alice = ts.api(ts.tokens.alice);
  });

  it("reuses one engine per (user, engineType), gives another user their own, and keeps the engine's state", async () => {
    const a1 = await alice.waitFor((await alice.submit({ code: 'create temp table t as select 7 as x' })).body.id);
    const a2 = await alice.waitFor((await alice.submit({ code: 'select x from t' })).body.id);
    assert.equal(a2.state, 'Succeed', JSON.stringify(a2.error));
    assert.equal(a1.engineId, a2.engineId, 'the second job ran on the warm engine');
    const bob = ts.api(ts.tokens.bob);
    const b1 = await bob.waitFor((await bob.submit({ code: 'select 1' })).body.id);
    assert.notEqual(b1.engineId, a1.engineId);
    const b2 = await bob.waitFor((await bob.submit({ code: 'select x from t' })).body.id);
    assert.equal(b2.state, 'Failed', "bob cannot see alice's engine state");
    // Idle now, or already reclaimed by the 2 s idle timeout when the machine is slow (a stop in
    // progress, ShuttingDown without an end yet, is waited out: it must then end for that reason).
    const row = await waitFor(
      async () => {
        const r = await engine(a1.engineId as string);
        return r && (r.state !== 'ShuttingDown' || r.ended_at) ? r : undefined;
      },
      { timeoutMs: 15_000, what: 'the engine to be idle, busy or stopped' },
    );
    assert.ok(['Idle', 'Busy'].includes(row.state) || row.end_reason === 'idle timeout', JSON.stringify(row));
  });

  it('runs executeOnce jobs on fresh engines that stop afterwards', async () => {
    const j1 = await alice.waitFor((await alice.submit({ code: 'select 1', executeOnce: true })).body.id);
    const j2 = await alice.waitFor((await alice.submit({ code: 'select 2', executeOnce: true })).body.id);
    assert.notEqual(j1.engineId, j2.engineId);
    for (const j of [j1, j2]) {
      const e = await waitFor(async () => {
        const r = await engine(j.engineId as string);
        return r?.ended_at ? r : undefined;
      });
      assert.equal(e?.end_reason, 'execute once');
      assert.ok(e?.pid && !alive(e.pid), 'the engine process is gone');
    }
  });

  it('stops idle engines after the idle timeout and frees the process', async () => {
    const j = await alice.waitFor((await alice.submit({ code: 'select 1', creator: 'idle' })).body.id);
    const e = await waitFor(
      async () => {
        const r = await engine(j.engineId as string);
        return r?.ended_at ? r : undefined;
      },
      { timeoutMs: 15_000, what: 'idle reclaim' },
    );
    assert.equal(e?.end_reason, 'idle timeout');
    assert.ok(e?.pid && !alive(e.pid));
  });
});

// Its own stack with a long idle timeout: eviction and crashes must not race the idle reaper on a slow machine.
describe('the per-user engine cap, and an engine that dies', () => {
  const stack = useStackWithDb('redis', { overrides: { SLUICE_ENGINE_IDLE_SECONDS: '600', SLUICE_MAX_ENGINES_PER_USER: '2' } });
  let env: TestEnv;
  let ts: TestStack;
  let alice: ApiClient;
  const engine = (id: string) => engineRow(stack.db, id);

  before(() => {
    ({ env, ts } = stack);
    alice = ts.api(ts.tokens.alice);
  });

  it('an engine process that dies is recorded Failed and its work directory removed', async () => {
    const j = await alice.waitFor((await alice.submit({ code: 'select 1', creator: 'crash' })).body.id);
    const id = j.engineId as string;
    const dir = path.join(env.home, 'engines', id);
    assert.ok(existsSync(dir), 'a live engine has its work directory');
    const pid = (await engine(id))?.pid;
    assert.ok(pid && alive(pid));
    process.kill(pid, 'SIGKILL');
    const e = await waitFor(
      async () => {
        const r = await engine(id);
        return r?.state === 'Failed' && !existsSync(dir) ? r : undefined;
      },
      { timeoutMs: 15_000, what: 'the dead engine recorded and its directory removed' },
    );
    assert.ok(e?.ended_at);
    // The next job of the group gets a new engine.
    const next = await alice.waitFor((await alice.submit({ code: 'select 2', creator: 'crash' })).body.id);
    assert.equal(next.state, 'Succeed', JSON.stringify(next.error));
    assert.notEqual(next.engineId, id);
  });

  it('caps engines per user: an idle engine of another type makes room', async () => {
    const d = await alice.waitFor((await alice.submit({ code: 'select 1' })).body.id);
    const s = await alice.waitFor((await alice.submit({ code: 'echo hi', engineType: 'shell' })).body.id);
    const live = await stack.db.query<{ n: string }>("SELECT count(*) AS n FROM sluice_engines WHERE username = 'alice' AND ended_at IS NULL");
    assert.ok(Number(live.rows[0]?.n) <= 2);
    assert.equal(s.state, 'Succeed');
    assert.equal(d.state, 'Succeed');
    // A third engine type for alice would exceed 2 engines; the cap holds because one idle engine is evicted.
    const once = await alice.waitFor((await alice.submit({ code: 'select 3', executeOnce: true })).body.id);
    assert.equal(once.state, 'Succeed');
    const after = await stack.db.query<{ n: string }>("SELECT count(*) AS n FROM sluice_engines WHERE username = 'alice' AND ended_at IS NULL");
    assert.ok(Number(after.rows[0]?.n) <= 2);
    const evicted = await stack.db.query("SELECT 1 FROM sluice_engines WHERE username = 'alice' AND end_reason = 'evicted for another engine type'");
    assert.ok((evicted.rowCount ?? 0) >= 1, 'an idle engine was evicted to stay within the cap');
  });
});
