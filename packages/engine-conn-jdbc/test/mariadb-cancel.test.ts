import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Engine, SluiceError } from '@sluice/core';
import { waitFor } from '@sluice/testkit';
import { createJdbcConnector } from '../src/index.ts';
import { freshMysql, mysqlAdmin, type TestSource } from './jdbc-servers.ts';
import { queryRows, rejectionOf, runTask, startTask } from './task-runner.ts';

/** Threads of the processlist running a statement that contains `marker` (seen from another connection). */
async function running(marker: string): Promise<{ id: string; command: string }[]> {
  const rows = await mysqlAdmin(`SELECT ID, COMMAND FROM information_schema.PROCESSLIST WHERE INFO LIKE '%${marker}%' AND INFO NOT LIKE '%PROCESSLIST%'`);
  return rows.map(([id, command]) => ({ id: id!, command: command! }));
}

describe('mariadb cancel stops the statement on the server', () => {
  let source: TestSource;
  let engine: Engine;
  before(async () => {
    source = await freshMysql();
    engine = await createJdbcConnector().launch({ engineId: 'my-cancel', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
  });
  after(async () => {
    await engine?.close();
    await source?.drop();
  });

  it('kills a running SLEEP: the processlist no longer shows it, and the session lives on', async () => {
    const [[threadBefore]] = (await queryRows(engine, 'SELECT CONNECTION_ID()')) as [[number]];
    const controller = new AbortController();
    const task = runTask(engine, 'SELECT SLEEP(60) AS cancel_marker_sleep', controller.signal);
    await waitFor(async () => (await running('cancel_marker_sleep')).length === 1, { what: 'the statement to run on the server' });
    const startedAt = Date.now();
    controller.abort();
    const err = await rejectionOf(task);
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_JOB_CANCELLED', String(err));
    // Far below the statement's own 60 s, with room for a loaded CI host.
    assert.ok(Date.now() - startedAt < 30_000);
    assert.deepEqual(await running('cancel_marker_sleep'), [], 'the statement is gone from the processlist when the task ends');
    assert.deepEqual(await queryRows(engine, 'SELECT CONNECTION_ID()'), [[threadBefore]], 'the same session goes on');
  });

  it('kills a statement whose rows are being streamed', async () => {
    const controller = new AbortController();
    const it = startTask(engine, 'SELECT seq AS cancel_marker_stream FROM seq_1_to_100000000', controller.signal);
    let rows = 0;
    while (rows < 2000) {
      const next = await it.next();
      assert.equal(next.done, false);
      if (next.value.type === 'rows') rows += next.value.rows.length;
    }
    assert.equal((await running('cancel_marker_stream')).length, 1);
    controller.abort();
    const err = await rejectionOf(it.next());
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_JOB_CANCELLED', String(err));
    await waitFor(async () => (await running('cancel_marker_stream')).length === 0, { what: 'the statement to stop', timeoutMs: 5000 });
    assert.deepEqual(await queryRows(engine, 'SELECT 2 AS ok'), [[2]]);
  });

  it('stops the statement when the consumer walks away without cancelling', async () => {
    const it = startTask(engine, 'SELECT seq AS cancel_marker_walk FROM seq_1_to_100000000', new AbortController().signal);
    for (let rows = 0; rows < 2000; ) {
      const next = await it.next();
      if (!next.done && next.value.type === 'rows') rows += next.value.rows.length;
    }
    await it.return?.();
    // A killed statement may still be listed (command 'Killed') for a moment while the server unwinds it.
    await waitFor(async () => (await running('cancel_marker_walk')).length === 0, { what: 'the statement to stop', timeoutMs: 5000 });
    assert.deepEqual(await queryRows(engine, 'SELECT 3 AS ok'), [[3]]);
  });
});
