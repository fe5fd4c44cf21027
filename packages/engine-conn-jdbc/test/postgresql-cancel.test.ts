import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Engine, SluiceError } from '@sluice/core';
import { waitFor } from '@sluice/testkit';
import pg from 'pg';
import { createJdbcConnector } from '../src/index.ts';
import { freshPostgres, type TestSource } from './jdbc-servers.ts';
import { queryRows, rejectionOf, runTask, startTask } from './task-runner.ts';

/**
 * How soon a cancelled or abandoned task must end. The statements here would run for a minute
 * (`pg_sleep(60)`) or stream 100 million rows, so ending within this bound proves the statement was
 * stopped, not run out. It leaves a loaded CI host room: a bound of 3 s was once missed there.
 */
const PROMPT_MS = 30_000;

describe('postgresql cancel stops the statement on the server', () => {
  let source: TestSource & { url: string };
  let engine: Engine;
  let admin: pg.Client;
  before(async () => {
    source = await freshPostgres('jdbc_cancel');
    engine = await createJdbcConnector().launch({ engineId: 'pg-cancel', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
    admin = new pg.Client({ connectionString: source.url });
    await admin.connect();
  });
  after(async () => {
    await engine?.close();
    await admin?.end();
    await source?.drop();
  });

  /** Sessions of the test database whose last statement contains `marker`, seen from another connection. */
  async function active(marker: string): Promise<{ pid: number; state: string; sleeping: boolean }[]> {
    const r = await admin.query<{ pid: number; state: string; sleeping: boolean }>(
      `SELECT pid, state, wait_event IS NOT DISTINCT FROM 'PgSleep' AS sleeping FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE $1`,
      [`%${marker}%`],
    );
    return r.rows;
  }

  it('cancels a running pg_sleep: pg_stat_activity shows the session idle, the session lives on', async () => {
    const marker = 'cancel_marker_sleep';
    const controller = new AbortController();
    const running = runTask(engine, `SELECT pg_sleep(60) AS ${marker}`, controller.signal);
    // Sleeping, not merely parsed: the statement really executes on the server.
    const seen = await waitFor(
      async () => {
        const rows = (await active(marker)).filter((r) => r.state === 'active' && r.sleeping);
        return rows.length === 1 ? rows[0] : undefined;
      },
      { what: 'the statement to run on the server' },
    );
    const startedAt = Date.now();
    controller.abort();
    const err = await rejectionOf(running);
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_JOB_CANCELLED', String(err));
    assert.ok(Date.now() - startedAt < PROMPT_MS, 'the task ended promptly');
    const after = await active(marker);
    assert.equal(after.length, 1, 'the same backend is still connected');
    assert.equal(after[0]!.pid, seen?.pid);
    assert.notEqual(after[0]!.state, 'active', 'the backend no longer runs the statement');
    assert.deepEqual(await queryRows(engine, 'SELECT 1 AS ok'), [[1]]);
  });

  it('cancels a statement whose rows are being streamed, and closes its portal', async () => {
    const marker = 'cancel_marker_stream';
    const controller = new AbortController();
    const it = startTask(engine, `SELECT generate_series(1, 100000000) AS ${marker}`, controller.signal);
    let rows = 0;
    while (rows < 2000) {
      const next = await it.next();
      assert.equal(next.done, false);
      if (next.value.type === 'rows') rows += next.value.rows.length;
    }
    controller.abort();
    const err = await rejectionOf(it.next());
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_JOB_CANCELLED', String(err));
    await waitFor(async () => (await active(marker)).every((r) => r.state === 'idle'), { what: 'the backend to be idle', timeoutMs: 5000 });
    // The portal and its implicit transaction are gone: the session is not left "idle in transaction".
    const states = await admin.query<{ state: string; xact: boolean }>(
      "SELECT state, xact_start IS NOT NULL AS xact FROM pg_stat_activity WHERE application_name = 'sluice' AND datname = current_database()",
    );
    assert.ok(states.rows.length >= 1);
    for (const s of states.rows) assert.equal(s.xact, false, `no transaction stays open (state ${s.state})`);
    assert.deepEqual(await queryRows(engine, 'SELECT 2 AS ok'), [[2]]);
  });

  it('closes the portal when the consumer walks away between batches without cancelling', async () => {
    const marker = 'cancel_marker_walk';
    const it = startTask(engine, `SELECT generate_series(1, 100000000) AS ${marker}`, new AbortController().signal);
    for (let rows = 0; rows < 2000; ) {
      const next = await it.next();
      if (!next.done && next.value.type === 'rows') rows += next.value.rows.length;
    }
    const started = Date.now();
    await it.return?.();
    assert.ok(Date.now() - started < PROMPT_MS, 'walking away is prompt');
    const sessions = await active(marker);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.state, 'idle', 'no statement runs and no transaction stays open');
    assert.deepEqual(await queryRows(engine, 'SELECT 4 AS ok'), [[4]]);
  });

  it('leaves a user transaction to the user: a cancelled statement aborts it and ROLLBACK recovers', async () => {
    const controller = new AbortController();
    await runTask(engine, 'BEGIN; CREATE TABLE in_tx (a int)');
    const running = runTask(engine, 'SELECT pg_sleep(60)', controller.signal);
    await waitFor(async () => (await active('pg_sleep(60)')).some((r) => r.sleeping), { what: 'the sleep to run' });
    controller.abort();
    assert.equal(((await rejectionOf(running)) as SluiceError).code, 'SLUICE_JOB_CANCELLED');
    const failed = await rejectionOf(runTask(engine, 'SELECT 1'));
    assert.ok(failed instanceof SluiceError && failed.details.sqlState === '25P02', `the transaction is aborted: ${String(failed)}`);
    await runTask(engine, 'ROLLBACK');
    const tables = await admin.query("SELECT 1 FROM pg_class WHERE relname = 'in_tx'");
    assert.equal(tables.rowCount, 0, 'the rolled-back table does not exist');
    assert.deepEqual(await queryRows(engine, 'SELECT 3 AS ok'), [[3]]);
  });
});
