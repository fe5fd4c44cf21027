import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Engine, SluiceError } from '@sluice/core';
import { waitFor } from '@sluice/testkit';
import { createJdbcConnector } from '../src/index.ts';
import { clickhouseAdmin, freshClickhouse, type TestSource } from './jdbc-servers.ts';
import { queryRows, rejectionOf, runTask, startTask } from './task-runner.ts';

/** Queries running on the server whose text contains `marker` (system.processes), minus this probe. */
async function running(marker: string): Promise<string[]> {
  const body = await clickhouseAdmin(`SELECT query_id FROM system.processes WHERE query LIKE '%${marker}%' AND query NOT LIKE '%system.processes%' FORMAT TSV`);
  return body.split('\n').filter(Boolean);
}

describe('clickhouse cancel stops the query on the server', () => {
  let source: TestSource;
  let engine: Engine;
  before(async () => {
    source = await freshClickhouse();
    engine = await createJdbcConnector().launch({ engineId: 'ch-cancel', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
  });
  after(async () => {
    await engine?.close();
    await source?.drop();
  });

  it('kills a running aggregation by its query_id: system.processes no longer lists it', async () => {
    const controller = new AbortController();
    const task = runTask(engine, 'SELECT count() AS cancel_marker_count FROM system.numbers', controller.signal);
    const ids = await waitFor(
      async () => {
        const ids = await running('cancel_marker_count');
        return ids.length === 1 ? ids : undefined;
      },
      { what: 'the query to run on the server' },
    );
    assert.match(ids?.[0] ?? '', /^sluice-[0-9a-f]+-\d+$/, 'the engine sets its own query_id');
    controller.abort();
    const err = await rejectionOf(task);
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_JOB_CANCELLED', String(err));
    assert.deepEqual(await running('cancel_marker_count'), [], 'the query is gone from system.processes when the task ends');
    assert.deepEqual(await queryRows(engine, 'SELECT 1 AS ok'), [[1]]);
  });

  it('kills a query whose rows are being streamed', async () => {
    const controller = new AbortController();
    const it = startTask(engine, 'SELECT number AS cancel_marker_stream FROM system.numbers', controller.signal);
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
    await waitFor(async () => (await running('cancel_marker_stream')).length === 0, { what: 'the query to stop', timeoutMs: 5000 });
    assert.deepEqual(await queryRows(engine, 'SELECT 2 AS ok'), [[2]]);
  });

  it('kills the query when the consumer walks away between batches without cancelling', async () => {
    const it = startTask(engine, 'SELECT number AS cancel_marker_walk FROM system.numbers', new AbortController().signal);
    for (let rows = 0; rows < 2000; ) {
      const next = await it.next();
      if (!next.done && next.value.type === 'rows') rows += next.value.rows.length;
    }
    await it.return?.();
    assert.deepEqual(await running('cancel_marker_walk'), [], 'the query is gone when the iteration ends');
    assert.deepEqual(await queryRows(engine, 'SELECT 3 AS ok'), [[3]]);
  });

  it('keeps the session (SET, temporary tables) through a cancel', async () => {
    await runTask(engine, 'CREATE TEMPORARY TABLE kept (v UInt8) ENGINE = Memory; INSERT INTO kept VALUES (5)');
    const controller = new AbortController();
    const task = runTask(engine, 'SELECT count() AS cancel_marker_kept FROM system.numbers', controller.signal);
    await waitFor(async () => (await running('cancel_marker_kept')).length === 1, { what: 'the query to run' });
    controller.abort();
    assert.equal(((await rejectionOf(task)) as SluiceError).code, 'SLUICE_JOB_CANCELLED');
    assert.deepEqual(await queryRows(engine, 'SELECT v FROM kept'), [[5]]);
  });
});
